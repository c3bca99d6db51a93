// `npm run bench:render`: how interactive the viewer is without a GPU. Headless Chromium with
// SwiftShader (software WebGL2) opens the interactive viewer (panels and all, as a user sees
// it) at 1280×720 on the processed 784-81-49-10 of `npm start` (demo/processed.nnvis; else
// a random 784-81-49-10 bundled by `nnvis process --seed 1`; or FILE=…), then measures each
// target of the progressive view: time to the first picture, frame rate, gaps and long tasks
// while a scripted mouse drag orbits and the wheel zooms, time to a visible change after a
// class, parameter or camera change, time to the full picture after the last input and
// whether it equals a one-shot render, and the whole `nnvis render` command at 1600×1000.
// Prints the table and writes it to the "## Rendering" section of docs/PERFORMANCE.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { decodeImage } from './decode-image.ts';
import { launchBrowser } from '../src/cli/browser.ts';
import { writeFileAtomic } from '../src/cli/fs.ts';
import { readNetworkFile } from '../src/cli/network-file.ts';
import { REPO_ROOT } from '../src/cli/options.ts';
import { serveStatic } from '../src/cli/server.ts';
import { ensureViewerBuilt } from '../src/cli/viewer-build.ts';

const WIDTH = 1280;
const HEIGHT = 720;
const DRAG_S = 6;

const loadBefore = loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'nnvis-bench-'));
const nnvis = (...args: string[]) => execFileSync(process.execPath, [resolve(REPO_ROOT, 'bin/nnvis.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let file = process.env.FILE ?? resolve(REPO_ROOT, 'demo/processed.nnvis');
let source = process.env.FILE ? file : 'demo/processed.nnvis (`npm start`)';
if (!existsSync(file)) {
  const random = join(dir, 'random.nnvis');
  file = join(dir, 'processed.nnvis');
  console.log('no demo/processed.nnvis: generating and processing a random 784-81-49-10…');
  nnvis('generate', '--layers', '784,81,49,10', '--seed', '1', '-o', random);
  nnvis('process', random, '--seed', '1', '-o', file);
  source = 'a random 784-81-49-10 (`nnvis generate --seed 1`, `nnvis process --seed 1`)';
}
const samples = readNetworkFile(file).edgeSamples!.length / 3;

interface Row {
  target: string;
  goal: string;
  measured: string;
  met: boolean;
}
const rows: Row[] = [];
const row = (target: string, goal: string, measured: string, met: boolean): void => {
  rows.push({ target, goal, measured, met });
  console.log(`${target}: ${measured} (${goal}) ${met ? 'met' : 'MISSED'}`);
};

/** Waits in the page until the picture of a newer generation than `generation` shows its first frame; ms since `t0`. */
function firstFrameAfter(page: Page, generation: number, t0: number): Promise<number> {
  return page.evaluate(
    async ([generation, t0]) => {
      for (;;) {
        const p = window.nnvis.progress();
        if (p.generation > generation && p.frames >= 1) return performance.now() - t0;
        await new Promise((ok) => requestAnimationFrame(ok));
      }
    },
    [generation, t0] as const,
  );
}

// In-page code as text: tsx would wrap the named inner functions in a helper the page lacks.
const WATCH = `(() => {
  const w = { frames: 0, maxGap: 0, last: performance.now(), start: performance.now(), longest: 0, on: true };
  window.watch = w;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (w.on) w.longest = Math.max(w.longest, e.duration);
  }).observe({ type: 'longtask' });
  const tick = (now) => {
    if (!w.on) return;
    w.frames++;
    w.maxGap = Math.max(w.maxGap, now - w.last);
    w.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

/** Starts counting animation frames, their gaps and long main-thread tasks in the page. */
async function startWatch(page: Page): Promise<void> {
  await page.evaluate(WATCH);
}

function stopWatch(page: Page): Promise<{ fps: number; maxGap: number; longest: number }> {
  return page.evaluate(() => {
    const w = (window as unknown as { watch: { frames: number; maxGap: number; start: number; longest: number; on: boolean } }).watch;
    w.on = false;
    return { fps: (w.frames / (performance.now() - w.start)) * 1000, maxGap: w.maxGap, longest: w.longest };
  });
}

/** Pixels that differ between two PNG data URLs (decoded in the page). */
async function differingPixels(page: Page, a: string, b: string): Promise<number> {
  const [pa, pb] = await Promise.all([decodeImage(page, a), decodeImage(page, b)]);
  if (pa.rgba.length !== pb.rgba.length) return Infinity;
  let n = 0;
  for (let i = 0; i < pa.rgba.length; i += 4) if (pa.rgba[i] !== pb.rgba[i] || pa.rgba[i + 1] !== pb.rgba[i + 1] || pa.rgba[i + 2] !== pb.rgba[i + 2]) n++;
  return n;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const info = { chromium: 'Chromium', drawn: 0, antialias: '' };
try {
  const root = await ensureViewerBuilt();
  const served = await serveStatic({ root, files: [file] });
  const browser = await launchBrowser();
  try {
    info.chromium = `Chromium ${browser.version()}`;
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 1 });
    await page.goto(served.url);
    await page.waitForFunction(() => typeof window.nnvis === 'object', undefined, { timeout: 60_000 });
    await page.evaluate(() => window.nnvis.ready);
    const fileUrl = new URL(served.filePaths[0], served.url).href;

    // Opening the file: from the load call to the first (coarse) picture, then the full one.
    const open = await page.evaluate(async (url) => {
      const generation = window.nnvis.progress().generation;
      const t0 = performance.now();
      await window.nnvis.load(url, 'processed.nnvis');
      const loaded = performance.now() - t0;
      for (;;) {
        const p = window.nnvis.progress();
        if (p.generation > generation && p.frames >= 1) break;
        await new Promise((ok) => requestAnimationFrame(ok));
      }
      const first = performance.now() - t0;
      const p = await window.nnvis.settled();
      return { loaded, first, full: performance.now() - t0, frames: p.frames };
    }, fileUrl);
    ({ drawnInstances: info.drawn, antialias: info.antialias } = await page.evaluate(() => window.nnvis.stats()));
    row('first picture after opening the file', '≤ 10 s', `${s(open.first)} (decoded and uploaded in ${s(open.loaded)}; full picture after ${s(open.full)}, ${open.frames} frames)`, open.first <= 10_000);

    // Orbit: a scripted drag across the canvas for DRAG_S seconds, 20 mouse moves a second.
    const box = { x: WIDTH * 0.45, y: HEIGHT * 0.5 };
    await startWatch(page);
    await page.mouse.move(box.x, box.y);
    await page.mouse.down();
    const moves = DRAG_S * 20;
    for (let i = 1; i <= moves; i++) {
      await page.mouse.move(box.x + 300 * Math.sin((i / moves) * Math.PI * 2), box.y + 60 * Math.sin((i / moves) * Math.PI * 4));
      await new Promise((ok) => setTimeout(ok, 50));
    }
    await page.mouse.up();
    const orbit = await stopWatch(page);
    const afterOrbit = await page.evaluate(async () => {
      const t0 = performance.now();
      await window.nnvis.settled();
      return performance.now() - t0;
    });
    // Zoom: wheel steps for 3 s.
    await startWatch(page);
    for (let i = 0; i < 30; i++) {
      await page.mouse.wheel(0, i < 15 ? -60 : 60);
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const zoom = await stopWatch(page);
    const afterZoom = await page.evaluate(async () => {
      const t0 = performance.now();
      await window.nnvis.settled();
      return performance.now() - t0;
    });
    const fps = Math.min(orbit.fps, zoom.fps);
    const gap = Math.max(orbit.maxGap, zoom.maxGap);
    const task = Math.max(orbit.longest, zoom.longest);
    row('frame rate while orbiting / zooming', '≥ 5 /s', `${orbit.fps.toFixed(1)} / ${zoom.fps.toFixed(1)} frames/s`, fps >= 5);
    row('longest gap between animation frames', '≤ 300 ms', `${Math.round(orbit.maxGap)} / ${Math.round(zoom.maxGap)} ms`, gap <= 300);
    row('longest main-thread task while moving', '≤ 200 ms', `${Math.round(orbit.longest)} / ${Math.round(zoom.longest)} ms`, task <= 200);

    // Changes: from the call (what a legend click, key or panel control calls) to the first frame showing it.
    // The preset change comes while the edges are thicker (a heavier picture than the default).
    const changes = ['class 3 alone (legend click)', 'all classes again', 'edges.size 0.03', 'camera preset 2 (key 2)', 'edges.size 0.02 again'];
    const visible: string[] = [];
    const converged: number[] = [afterOrbit, afterZoom];
    let worstVisible = 0;
    for (const [i, name] of changes.entries()) {
      const generation = (await page.evaluate(() => window.nnvis.progress())).generation;
      const t0 = await page.evaluate((i) => {
        const t0 = performance.now();
        const v = window.nnvis;
        [() => v.setClassVisibility(3), () => v.setClassVisibility('all'), () => v.setRendering({ 'edges.size': 0.03 }), () => v.setCamera(2), () => v.setRendering({ 'edges.size': 0.02 })][i]();
        return t0;
      }, i);
      const ms = await firstFrameAfter(page, generation, t0);
      const full = await page.evaluate(async (t0) => {
        await window.nnvis.settled();
        return performance.now() - t0;
      }, t0);
      worstVisible = Math.max(worstVisible, ms);
      converged.push(full);
      visible.push(`${name} ${Math.round(ms)} ms`);
      console.log(`${name}: visible after ${Math.round(ms)} ms, full after ${s(full)}`);
    }
    row('a class, parameter or camera change visible (coarse)', '≤ 0.5 s', visible.join(', '), worstVisible <= 500);
    const worstFull = Math.max(...converged);
    row(
      'full picture after the last input',
      '≤ 5 s',
      `after the orbit ${s(afterOrbit)}, the zoom ${s(afterZoom)}, the changes above ${converged.slice(2).map(s).join(', ')}`,
      worstFull <= 5000,
    );

    // The converged picture against a one-shot render of the same view.
    const progressive = await page.evaluate(() => window.nnvis.canvasImage());
    const oneShotMs = await page.evaluate(() => window.nnvis.frame());
    const oneShot = await page.evaluate(() => window.nnvis.canvasImage());
    const diff = await differingPixels(page, progressive, oneShot);
    row('converged picture = one-shot render', 'identical', `${diff} of ${WIDTH * HEIGHT} pixels differ (one-shot frame ${s(oneShotMs)})`, diff === 0);
  } finally {
    await browser.close();
    await served.close();
  }

  // The whole `nnvis render` command of the `npm start` step (viewer already built above).
  const png = join(dir, 'render.png');
  const t0 = performance.now();
  const out = nnvis('render', file, '--class', 'all', '--camera', '8', '--width', '1600', '--height', '1000', '-o', png);
  const renderMs = performance.now() - t0;
  row('`nnvis render --width 1600 --height 1000`, whole command', '< 10 s', `${s(renderMs)} (${out.trim().replace(/^wrote \S+ /, '')})`, renderMs < 10_000);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const header = ['target', 'goal', 'measured', 'met'];
const cells = rows.map((r) => [r.target, r.goal, r.measured, r.met ? 'met' : '**missed**']);
const table = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join('\n');
const loadAfter = loadavg()[0];
const machine = `Machine: ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores (nproc), Node ${process.version}, ${info.chromium}.`;
const section = [
  '## Rendering',
  '',
  `\`npm run bench:render\` (\`bench/render.ts\`): the interactive viewer (panels shown) in headless ${info.chromium} with`,
  `SwiftShader (software WebGL2, no GPU), ${WIDTH}×${HEIGHT}, default rendering config (all classes, transparent`,
  `ellipsoids, antialiasing auto: ${info.antialias}), on ${source}: ${samples.toLocaleString('en')} samples, ${info.drawn.toLocaleString('en')} drawn instances. Orbit: a scripted`,
  `mouse drag for ${DRAG_S} s (20 moves a second); zoom: 30 wheel steps over 3 s; frame rate and gaps from a`,
  'requestAnimationFrame counter, tasks from a PerformanceObserver for long tasks. A change is timed from the call',
  'the GUI makes to the first frame that shows it. ' +
    `${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end${Math.max(loadBefore, loadAfter) > availableParallelism() ? ' (a busy machine: other work slowed these numbers)' : ''}.`,
  '',
  table,
  '',
].join('\n');
console.log(`\n${machine}\n${table}\n`);

// Only the measured part of this section is ours to rewrite; the notes after the table stay.
const doc = resolve(REPO_ROOT, 'docs/PERFORMANCE.md');
const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Performance\n\n${machine}\n\n`;
const at = text.indexOf('## Rendering');
const notes = at < 0 ? -1 : text.indexOf('\n### ', at);
const next = at < 0 ? -1 : text.indexOf('\n## ', at + 1);
const end = notes >= 0 && (next < 0 || notes < next) ? notes + 1 : next;
const updated = at < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, at)}${section}${end < 0 ? '' : `\n${text.slice(end)}`}`;
writeFileAtomic(doc, updated);
console.log(`updated ${doc}`);
