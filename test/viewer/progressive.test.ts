// Progressive drawing. The scheduler (src/viewer/progressive.ts) without a browser: every
// instance drawn, opaque ones in one-shot order before any transparent one. Then the
// interactive viewer in headless Chromium (SwiftShader): a scene too large for one frame's
// budget is drawn over many animation frames, and the converged picture equals a one-shot
// render, in every edge mode and side by side.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accumulation, dampingFactor, easeOutFactor, easeOutLeft, MIN_EASE_SPEED, type Chunk, type DrawItem } from '../../src/viewer/progressive.ts';
import { allocBuffers, fillColors, fillDrawList, fillEdges, MAX_SPAN, toScene } from '../../src/viewer/scene-data.ts';
import { buildViewer, encode, imageStats, launchBrowser, openViewer, processedNetwork, removeDir, serve, type StaticServer } from './harness.ts';

/** Draws an accumulation to the end with the given budget; every chunk in order. */
function drain(acc: Accumulation, budget: number): Chunk[][] {
  const frames: Chunk[][] = [];
  while (!acc.done) frames.push(acc.next(budget));
  return frames;
}

/** Instance indices a chunk covers. */
function instances(c: Chunk): number[] {
  return Array.from({ length: c.count }, (_, j) => (c.first + j) * c.stride + c.phase);
}

describe('progressive scheduling', () => {
  const items: DrawItem[] = [
    { count: 1000, cost: 6, opaque: false }, // edges
    { count: 20, cost: 6, opaque: false }, // nodes: small, drawn whole in the first pass
    { count: 1, cost: 50, opaque: false }, // density grid
  ];

  it('draws every transparent instance exactly once, in frames of about the budget', () => {
    const acc = new Accumulation(items, 600);
    const frames = drain(acc, 600);
    expect(frames.length).toBeGreaterThan(5);
    for (const [i, item] of items.entries()) {
      const seen = frames.flat().filter((c) => c.item === i).flatMap(instances);
      expect(seen.length).toBe(item.count);
      expect(new Set(seen).size).toBe(item.count);
      expect(Math.max(...seen)).toBe(item.count - 1);
    }
    for (const f of frames.slice(0, -1)) {
      const cost = f.reduce((a, c) => a + c.count * items[c.item].cost, 0);
      expect(cost).toBeGreaterThanOrEqual(600 - 50);
      expect(cost).toBeLessThanOrEqual(600 + 50);
    }
    expect(acc.progress).toBe(1);
  });

  it('starts with a uniform subset of each item: the coarse picture', () => {
    const acc = new Accumulation(items, 600);
    const frame = acc.next(600);
    const first = frame.filter((c) => c.item === 0).flatMap(instances);
    expect(first.length).toBeGreaterThan(50);
    // spread over the whole item, not its first instances
    expect(Math.max(...first)).toBeGreaterThan(900);
    expect(frame.filter((c) => c.item === 1).flatMap(instances)).toHaveLength(20);
  });

  it('draws opaque items completely and in one-shot order before any transparent chunk', () => {
    const mixed: DrawItem[] = [
      { count: 500, cost: 48, opaque: true },
      { count: 400, cost: 6, opaque: false },
    ];
    const chunks = drain(new Accumulation(mixed, 2000), 2000).flat();
    const firstTransparent = chunks.findIndex((c) => c.item === 1);
    const opaque = chunks.slice(0, firstTransparent);
    expect(chunks.slice(firstTransparent).every((c) => c.item === 1)).toBe(true);
    // after the strided preview, a sequential pass over everything in index order
    const sequential = opaque.filter((c) => c.stride === 1).flatMap(instances);
    expect(sequential).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(opaque[0].stride).toBeGreaterThan(1);
  });

  it('draws everything in one frame with an unlimited budget', () => {
    const acc = new Accumulation(items, Infinity);
    const frames = drain(acc, Infinity);
    expect(frames.length).toBe(1);
    expect(frames[0].every((c) => c.stride === 1)).toBe(true);
  });
});

describe('camera damping by frame interval', () => {
  it('keeps the 60 Hz ease-out in time at any frame rate', () => {
    expect(dampingFactor(1000 / 60)).toBeCloseTo(0.05, 12);
    // What is left of the motion after 200 ms: the same at 15 and at 60 frames a second.
    const left = (ms: number) => (1 - dampingFactor(ms)) ** (200 / ms);
    expect(left(200 / 3)).toBeCloseTo(left(1000 / 60), 12);
    expect(left(50)).toBeCloseTo(0.95 ** 12, 12);
    expect(dampingFactor(1e6)).toBe(dampingFactor(200)); // a stalled frame does not stop the camera dead
    expect(dampingFactor(0)).toBe(dampingFactor(1));
  });

  /** Steps (px) of an ease-out of `leftPx` at frames `ms` apart, the left distance estimated from each step as the viewer does. */
  function easeOut(leftPx: number, ms: number, factor: (left: number) => number): number[] {
    const steps: number[] = [];
    let left = leftPx;
    let estimate = Infinity; // the first frame after letting go knows nothing yet: plain damping
    while (left > 1e-3 && steps.length < 1000) {
      const f = factor(estimate);
      const step = f * left;
      left -= step;
      estimate = easeOutLeft(step, f);
      expect(estimate).toBeCloseTo(left, 6);
      steps.push(step);
    }
    return steps;
  }

  it('ends the ease-out after a drag within about a second (plain damping: seconds), without a jump', () => {
    const ms = 1000 / 15;
    const steps = easeOut(250, ms, (left) => easeOutFactor(ms, left));
    const plain = easeOut(250, ms, () => dampingFactor(ms));
    expect(steps.reduce((a, b) => a + b, 0)).toBeCloseTo(250, 6); // lands where the plain ease-out would
    expect(steps.length * ms).toBeLessThan(1500);
    // The plain one still moves by more than a tenth of a pixel a frame after 1.9 s.
    expect(plain.findIndex((s) => s < 0.1) * ms).toBeGreaterThan(1900);
    // The same start (exponential while fast), never a step larger than the one before, and
    // none smaller than the slowest speed allows, but the last.
    expect(steps[0]).toBeCloseTo(plain[0], 9);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeLessThanOrEqual(steps[i - 1] + 1e-9);
    for (const s of steps.slice(0, -1)) expect(s).toBeGreaterThanOrEqual((MIN_EASE_SPEED * ms) / 1000 - 1e-9);
    expect(easeOutFactor(ms, 0)).toBe(dampingFactor(ms)); // nothing left: plain damping for the next drag
    expect(easeOutFactor(ms, 1e-3)).toBe(1);
  });
});

describe('draw list', () => {
  const scene = toScene(processedNetwork([30, 12, 10], 2));
  const buf = allocBuffers(scene.edgeSamples.length / 3);
  fillEdges(buf, scene);
  fillColors(buf, -1);
  const list = new Float32Array(buf.capacity * 2);
  const threshold = 0.01;

  it('culls below the threshold and the edge ends on the CPU', () => {
    const { entries, drawn } = fillDrawList(buf, list, threshold, true, 0);
    expect(drawn).toBeGreaterThan(100);
    expect(drawn).toBeLessThan(buf.count);
    expect(entries).toBe(drawn);
    for (let e = 0; e < entries; e++) {
      expect(list[e * 2 + 1]).toBe(list[e * 2] + 1);
      expect(buf.end[list[e * 2]]).toBe(0);
    }
  });

  it('merges straight runs of one edge into spans that cover every drawn sample', () => {
    const { drawn } = fillDrawList(buf, list, threshold, true, 0);
    const merged = fillDrawList(buf, list, threshold, true, 0.002);
    expect(merged.drawn).toBe(drawn);
    expect(merged.entries).toBeLessThan(drawn); // straight edges: runs merge where importance and colour change little
    const covered = new Set<number>();
    for (let e = 0; e < merged.entries; e++) {
      const [a, b] = [list[e * 2], list[e * 2 + 1]];
      expect(b - a).toBeGreaterThanOrEqual(1);
      expect(b - a).toBeLessThanOrEqual(MAX_SPAN);
      for (let k = a; k < b; k++) {
        expect(buf.end[k]).toBe(0); // never across an edge's end
        covered.add(k);
      }
    }
    const plain = fillDrawList(buf, list, threshold, true, 0);
    for (let e = 0; e < plain.entries; e++) expect(covered.has(list[e * 2])).toBe(true);
  });
});

// Enough edges that a 20 ms budget takes several frames on SwiftShader even for points and lines.
const LAYERS = [300, 40, 10];

let dir: string;
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  dir = await buildViewer();
  server = await serve(dir);
  server.files.set('big.nnvis', encode(processedNetwork(LAYERS, 3)));
  server.files.set('other.nnvis', encode(processedNetwork(LAYERS, 4)));
  browser = await launchBrowser();
  ({ page, errors } = await openViewer(browser, server.url, 'file=files/big.nnvis', { width: 640, height: 400 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) removeDir(dir);
});

/** Applies settings in the interactive page, waits until the picture converged; the converged and a one-shot PNG. */
async function convergeWith(rendering: Record<string, string | number>) {
  return page.evaluate(async (rendering) => {
    const v = window.nnvis;
    v.setDrawing('auto', 20);
    v.setRendering(rendering);
    v.setCamera(3);
    const before = v.progress().generation;
    const progress = await v.settled();
    const converged = v.canvasImage();
    await v.frame(); // one-shot: everything in one draw per layer
    return { progress, before, converged, oneShot: v.canvasImage(), drawn: v.stats().drawnInstances };
  }, rendering);
}

describe('progressive drawing in the interactive viewer', () => {
  // One after the other, so each mode's frames must be sized by its own drawing speed: sized by
  // the sphere's (cheap, mostly culled bead vertices), lines drew everything in one frame.
  for (const mode of ['transparent_ellipsoid', 'sphere', 'line', 'point', 'transparent_sphere']) {
    it(`splits a large ${mode} scene across frames and converges to the one-shot picture`, async () => {
      const r = await convergeWith({ 'edges.render_mode': mode, 'nodes.render_mode': 'transparent_sphere' });
      expect(r.drawn).toBeGreaterThan(10_000);
      expect(r.progress.generation).toBeGreaterThan(r.before);
      expect(r.progress.done).toBe(true);
      expect(r.progress.frames).toBeGreaterThan(3);
      expect(r.progress.largestFrameShare).toBeLessThan(0.5);
      expect(r.converged).toBe(r.oneShot);
      expect((await imageStats(page, r.converged)).nonWhite).toBeGreaterThan(1000);
    }, 120_000);
  }

  it('draws everything in one frame when told to', async () => {
    const p = await page.evaluate(async () => {
      window.nnvis.setDrawing(1);
      window.nnvis.setCamera(5);
      const p = await window.nnvis.settled();
      window.nnvis.setDrawing('auto');
      return p;
    });
    expect(p.frames).toBe(1);
    expect(p.largestFrameShare).toBe(1);
  }, 120_000);

  it('converges side by side to the one-shot picture of both panels', async () => {
    await page.evaluate(() => window.nnvis.loadSideBySide(['files/big.nnvis', 'files/other.nnvis']));
    const r = await convergeWith({ 'edges.render_mode': 'transparent_ellipsoid' });
    await page.evaluate(() => window.nnvis.leaveSideBySide());
    expect(r.progress.frames).toBeGreaterThan(3);
    expect(r.converged).toBe(r.oneShot);
    expect(errors).toEqual([]);
  }, 120_000);
});
