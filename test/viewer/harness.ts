// Test-local plumbing for the browser viewer: build it with vite, serve it (and in-memory
// files) on 127.0.0.1, and drive Debian's Chromium with software WebGL (SwiftShader) through
// the CLI's launcher (src/cli/browser.ts), so tests and `nnvis render` run the same browser.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser as launchCliBrowser } from '../../src/cli/browser.ts';
import { encodeNetwork } from '../../src/core/container.ts';
import { generateNetwork } from '../../src/core/generate.ts';
import type { Network } from '../../src/core/network.ts';
import { straightSamples } from '../../src/viewer/scene-data.ts';
import { decodeImage } from '../../bench/decode-image.ts';
import { pictureStats, type PictureStats } from '../../bench/picture-stats.ts';

const REPO = resolve(import.meta.dirname, '../..');

/** Builds the viewer into a fresh temp directory; returns it (remove it when done). */
export async function buildViewer(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'nnvis-viewer-'));
  const { build } = await import('vite');
  await build({ configFile: join(REPO, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.nnvis': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  /** Files served under /files/NAME. */
  files: Map<string, Uint8Array>;
  close(): Promise<void>;
}

/** Serves `root` and the in-memory `files` (under /files/) on an ephemeral 127.0.0.1 port. */
export async function serve(root: string): Promise<StaticServer> {
  const files = new Map<string, Uint8Array>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.startsWith('/files/')) {
      const body = files.get(path.slice('/files/'.length));
      res.writeHead(body ? 200 : 404, { 'content-type': TYPES['.nnvis'] });
      res.end(body ?? 'not found');
      return;
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    files,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

/** The browser `nnvis render` finds (browser-find.ts), launched exactly as it does. */
export function launchBrowser(): Promise<Browser> {
  return launchCliBrowser();
}

/** Opens the viewer with the given query and waits for `nnvis.ready`; collects page errors. */
export async function openViewer(browser: Browser, base: string, query: string, size = { width: 480, height: 320 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: size, deviceScaleFactor: 1, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}?${query}`);
  // generous: a software GPU still busy with a big scene of an earlier page delays the start
  await page.waitForFunction(() => typeof window.nnvis === 'object', undefined, { timeout: 120_000 });
  await page.evaluate(() => window.nnvis.ready);
  return { page, errors };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A generated network with importance (random, seeded). */
export function importanceNetwork(layers: number[], seed = 1): Network {
  return generateNetwork({ layers, seed, layerDistance: 0.5, layerWidth: 1 });
}

/** The same network with straight edge samples, as a processed file; `prune` edges get none. */
export function processedNetwork(layers: number[], seed = 1, prune: (e: number) => boolean = () => false): Network {
  const net = importanceNetwork(layers, seed);
  const { offsets, samples } = straightSamples(layers, net.nodePositions!, 1 / 8);
  const keptOffsets = new Uint32Array(offsets.length);
  const kept: number[] = [];
  for (let e = 0; e + 1 < offsets.length; e++) {
    if (!prune(e)) for (let s = offsets[e]; s < offsets[e + 1]; s++) kept.push(samples[s * 3], samples[s * 3 + 1], samples[s * 3 + 2]);
    keptOffsets[e + 1] = kept.length / 3;
  }
  return { ...net, edgeSampleOffsets: keptOffsets, edgeSamples: new Float32Array(kept) };
}

/** A plain network (weights, no importance). */
export function plainNetwork(layers: number[], seed = 1): Network {
  const net = importanceNetwork(layers, seed);
  const E = net.edgeImportance!.length;
  const weights = new Float32Array(E).map((_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const biases = new Float32Array(layers.reduce((a, b) => a + b, 0) - layers[0]);
  return {
    layers: net.layers,
    classNames: net.classNames,
    activations: layers.slice(1).map((_, k) => (k === layers.length - 2 ? 'softmax' : 'relu')),
    weights,
    biases,
    meta: {},
  };
}

export function encode(net: Network): Uint8Array {
  return encodeNetwork(net);
}

/** PNG data URL → counts of pixels that are not white (decoded in the page's 2D canvas). */
export async function imageStats(page: Page, dataUrl: string): Promise<{ nonWhite: number; pixels: number; hues: number[] }> {
  const { rgba: d, width, height } = await decodeImage(page, dataUrl);
  let nonWhite = 0;
  const hues: number[] = [];
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i] / 255;
    const g = d[i + 1] / 255;
    const b = d[i + 2] / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    if (min < 0.97) nonWhite++;
    // Hue of clearly coloured pixels only (pale anti-aliased fringes are too quantised).
    if (max - min > 0.15) {
      const h = max === r ? ((g - b) / (max - min) + 6) % 6 : max === g ? (b - r) / (max - min) + 2 : (r - g) / (max - min) + 4;
      hues.push(h * 60);
    }
  }
  return { nonWhite, pixels: width * height, hues };
}

/** bench/picture-stats.ts statistics of a PNG data URL (decoded in the page's 2D canvas). */
export async function pictureStatsOf(page: Page, dataUrl: string, options: { hue?: number } = {}): Promise<PictureStats> {
  const { rgba, width, height } = await decodeImage(page, dataUrl);
  return pictureStats(rgba, width, height, options);
}
