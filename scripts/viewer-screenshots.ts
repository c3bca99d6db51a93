// Renders the viewer's main modes into docs/images/viewer-*.png and prints the frame time
// of each (headless Chromium, SwiftShader unless a GPU is present), then the interactive
// viewer with its panels (viewer-gui.png) and its first progressive pass at 1/16 (viewer-coarse-pass.png).
//
//   [GUI_ONLY=1] node bin/run-ts.js scripts/viewer-screenshots.ts [FILE.nnvis]   (GUI_ONLY: only viewer-gui.png)
//
// Without FILE: the trained demo network demo/processed.nnvis (`npm start -- --no-serve`)
// when it exists, else a random 784-81-49-10 network (seed 7), bundled by the processing
// engine with 95 % of the edges pruned so that a software-rendered frame stays in the seconds.
// Then `npm run bench:picture` prints the colour and framing statistics of the pictures.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultConfig } from '../src/core/config.ts';
import { encodeNetwork } from '../src/core/container.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { processNetwork } from '../src/core/process/run.ts';
import { buildViewer, launchBrowser, openViewer, removeDir, serve } from '../test/viewer/harness.ts';

const OUT = resolve(import.meta.dirname, '../docs/images');
const WIDTH = 1280;
const HEIGHT = 720;

interface Shot {
  name: string;
  rendering: Record<string, string | number>;
  classes: 'independent' | 'all' | number;
  camera: number;
}

const SHOTS: Shot[] = [
  { name: 'ellipsoid-all', rendering: {}, classes: 'all', camera: 8 },
  { name: 'independent', rendering: {}, classes: 'independent', camera: 8 },
  { name: 'one-class', rendering: {}, classes: 3, camera: 8 },
  { name: 'axis-all', rendering: {}, classes: 'all', camera: 1 },
  { name: 'sphere', rendering: { 'edges.render_mode': 'sphere', 'nodes.render_mode': 'sphere' }, classes: 'all', camera: 8 },
  { name: 'line', rendering: { 'edges.render_mode': 'line' }, classes: 'all', camera: 8 },
];

function sourceFile(): { bytes: Uint8Array; label: string } {
  const demo = resolve(import.meta.dirname, '../demo/processed.nnvis');
  const file = process.argv[2] ?? (existsSync(demo) ? demo : undefined);
  if (file) return { bytes: readFileSync(file), label: file };
  const net = generateNetwork({ layers: [784, 81, 49, 10], seed: 7, layerDistance: 0.5, layerWidth: 1 });
  const t0 = performance.now();
  const { network, stats } = processNetwork(net, { ...defaultConfig('processing'), prune_percentage: 0.95 }, { seed: 1 });
  console.log(`processed 784-81-49-10 (95 % pruned): ${stats.edges} edges, ${stats.samples} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { bytes: encodeNetwork(network), label: 'random 784-81-49-10, seed 7, 95 % pruned, bundled' };
}

const { bytes, label } = sourceFile();
const dir = await buildViewer();
const server = await serve(dir);
server.files.set('network.nnvis', bytes);
const browser = await launchBrowser();
try {
  const { page } = await openViewer(browser, server.url, `headless=1&width=${WIDTH}&height=${HEIGHT}&file=files/network.nnvis`, { width: WIDTH, height: HEIGHT });
  const error = await page.evaluate(() => window.nnvis.lastError());
  if (error) throw new Error(error);
  console.log(`${label}: ${JSON.stringify(await page.evaluate(() => window.nnvis.stats()))}`);
  for (const shot of process.env.GUI_ONLY ? [] : SHOTS) {
    const r = await page.evaluate(async (s) => {
      const v = window.nnvis;
      v.setRendering({ 'edges.render_mode': 'transparent_ellipsoid', 'nodes.render_mode': 'transparent_sphere', ...s.rendering });
      v.setClassVisibility(s.classes);
      v.setCamera(s.camera);
      await v.frame(); // first frame compiles the shaders
      const ms = await v.frame();
      return { ms, url: await v.screenshot(), drawn: v.stats().drawnInstances };
    }, shot);
    writeFileSync(resolve(OUT, `viewer-${shot.name}.png`), Buffer.from(r.url.slice(r.url.indexOf(',') + 1), 'base64'));
    console.log(`viewer-${shot.name}.png  ${WIDTH}×${HEIGHT}  ${r.drawn} instances  ${r.ms.toFixed(0)} ms/frame`);
  }
  // Frees the software GPU for the next page (a 2 M-sample scene kept it busy past the 30 s start-up wait).
  await page.close();
  // The interactive viewer with its panels.
  const { page: gui } = await openViewer(browser, server.url, 'file=files/network.nnvis&class=all', { width: WIDTH, height: HEIGHT });
  // The view draws progressively: wait until the full picture is on the canvas.
  await gui.evaluate(() => window.nnvis.settled());
  await gui.screenshot({ path: resolve(OUT, 'viewer-gui.png'), timeout: 120_000 });
  console.log('viewer-gui.png');
  // The first pass of the progressive view at 1/16 of the scene (every 16th run of primitives).
  const coarse = await gui.evaluate(async () => {
    const v = window.nnvis;
    const generation = v.progress().generation;
    v.setDrawing(16);
    for (;;) {
      const p = v.progress();
      if (p.generation > generation && p.frames >= 1) break;
      await new Promise((ok) => requestAnimationFrame(ok));
    }
    const url = v.canvasImage();
    v.setDrawing('auto');
    return url;
  });
  writeFileSync(resolve(OUT, 'viewer-coarse-pass.png'), Buffer.from(coarse.slice(coarse.indexOf(',') + 1), 'base64'));
  console.log('viewer-coarse-pass.png');
} finally {
  await browser.close();
  await server.close();
  removeDir(dir);
}
