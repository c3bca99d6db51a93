// The built viewer in headless Chromium (SwiftShader WebGL2): loading every kind of file,
// every render mode, class colouring, screenshots, errors and the legend. Scenes stay
// small (a few thousand instances) because software rendering costs ~µs per instance.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/core/config.ts';
import { hexHue } from '../../bench/picture-stats.ts';
import { PALETTES } from '../../src/viewer/palette.ts';
import { decodeImage } from '../../bench/decode-image.ts';
import { buildViewer, encode, imageStats, importanceNetwork, launchBrowser, openViewer, pictureStatsOf, plainNetwork, processedNetwork, removeDir, serve, type StaticServer } from './harness.ts';

const LAYERS = [36, 16, 10];
const EDGES = 36 * 16 + 16 * 10;
// Every 7th edge of the processed file is pruned (owns no samples).
const prunedProcessed = processedNetwork(LAYERS, 5, (e) => e % 7 === 0);
const PRUNED = Math.ceil(EDGES / 7);
// The same shape as a conv network: a 6×6 image, 16 channels (3×3 same, max-pool 2×2), dense 10.
const convProcessed = {
  ...processedNetwork(LAYERS, 5),
  inputShape: [6, 6, 1] as [number, number, number],
  ops: [{ kind: 'conv' as const, kernel: [3, 3] as [number, number], strides: [1, 1] as [number, number], padding: 'same' as const, pool: { kind: 'max' as const, size: [2, 2] as [number, number], strides: [2, 2] as [number, number], padding: 'valid' as const } }, { kind: 'dense' as const }],
  activations: ['relu' as const, 'softmax' as const],
  weights: Float32Array.from({ length: 144 + 1440 }, (_, i) => Math.sin(i * 1.7)),
  biases: new Float32Array(26),
};

let dir: string;
let server: StaticServer;
let browser: Browser;
let headless: Page;
let headlessErrors: string[];

beforeAll(async () => {
  dir = await buildViewer();
  server = await serve(dir);
  server.files.set('processed.nnvis', encode(prunedProcessed));
  server.files.set('conv.nnvis', encode(convProcessed));
  server.files.set('importance.nnvis', encode(importanceNetwork(LAYERS, 5)));
  server.files.set('plain.nnvis', encode(plainNetwork(LAYERS, 5)));
  server.files.set('big.nnvis', encode(importanceNetwork([400, 60, 10], 5)));
  const good = encode(importanceNetwork(LAYERS, 6));
  const corrupted = good.slice();
  corrupted[20] ^= 0xff; // inside the JSON header
  server.files.set('corrupted.nnvis', corrupted);
  browser = await launchBrowser();
  ({ page: headless, errors: headlessErrors } = await openViewer(browser, server.url, 'headless=1&width=320&height=240&file=files/processed.nnvis'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) removeDir(dir);
});

/** Renders with the given settings and returns the image statistics. */
/** Front view, then down the centre column until a node's tooltip shows (the middle layer's plane projects there); whether one did. */
async function hoverMiddleLayer(page: Page): Promise<boolean> {
  await page.keyboard.press('0');
  await page.waitForTimeout(900);
  const { frame } = await page.evaluate(() => window.nnvis.layout());
  const [cx, cy] = [frame.x + frame.width / 2, frame.y + frame.height / 2];
  for (let dy = -80; dy <= 80; dy += 4) {
    await page.mouse.move(cx, cy + dy);
    await page.waitForTimeout(40);
    if (await page.locator('.nv-tooltip').isVisible()) return true;
  }
  return false;
}

async function renderWith(page: Page, rendering: Record<string, string | number>, cls: 'independent' | 'all' | number = 'all') {
  const { url, drawn } = await page.evaluate(
    async ([rendering, cls]) => {
      window.nnvis.setRendering(rendering);
      window.nnvis.setClassVisibility(cls);
      window.nnvis.setCamera(8);
      await window.nnvis.frame();
      return { url: await window.nnvis.screenshot(), drawn: window.nnvis.stats().drawnInstances };
    },
    [rendering, cls] as const,
  );
  return { ...(await imageStats(page, url)), drawn, url };
}

describe('loading', () => {
  it('loads a processed file from ?file= with matching statistics', async () => {
    const s = await headless.evaluate(() => window.nnvis.stats());
    expect(s).toMatchObject({ kind: 'processed', file: 'processed.nnvis', edges: EDGES, prunedEdges: PRUNED, samples: prunedProcessed.edgeSamples!.length / 3, gridCells: 0 });
    expect(s.drawnInstances).toBeGreaterThan(0);
    expect(s.gpuMemoryBytes).toBeGreaterThan(s.samples * 16);
    expect(headlessErrors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  it('loads an importance file (straight edges) and a plain network (uniform grey)', async () => {
    const imp = await headless.evaluate(async () => {
      await window.nnvis.load('files/importance.nnvis');
      return window.nnvis.stats();
    });
    expect(imp).toMatchObject({ kind: 'importance', edges: EDGES, prunedEdges: 0, file: 'importance.nnvis' });
    // Straight edges sampled at layer_width / sampling_rate = 1/15: at least both ends each.
    expect(imp.samples).toBeGreaterThan(2 * EDGES);

    const plain = await headless.evaluate(async () => {
      await window.nnvis.load('files/plain.nnvis');
      return window.nnvis.stats();
    });
    expect(plain).toMatchObject({ kind: 'network', edges: EDGES, samples: imp.samples });
    const img = await renderWith(headless, { 'edges.render_mode': 'transparent_ellipsoid', 'nodes.render_mode': 'transparent_sphere' }, 'all');
    expect(img.nonWhite).toBeGreaterThan(500);
    expect(img.hues.length).toBe(0); // no class colours without importance: grey only
  });

  it('rejects a bad file with a one-line message and keeps the scene', async () => {
    await headless.evaluate(() => window.nnvis.load('files/processed.nnvis'));
    const before = await headless.evaluate(() => window.nnvis.stats());
    const result = await headless.evaluate(async () => {
      const out: string[] = [];
      for (const src of ['files/corrupted.nnvis', 'files/missing.nnvis']) {
        try {
          await window.nnvis.load(src);
          out.push('loaded');
        } catch (err) {
          out.push((err as Error).message);
        }
      }
      out.push(window.nnvis.lastError() ?? '');
      return out;
    });
    expect(result[0]).toMatch(/^corrupted\.nnvis: /);
    expect(result[1]).toMatch(/^missing\.nnvis: HTTP 404/);
    expect(result.every((m) => !m.includes('\n'))).toBe(true);
    expect(result[2]).toBe(result[1]);
    expect(await headless.evaluate(() => window.nnvis.stats())).toEqual(before);
  });

  it('rejects invalid rendering values with the key and the allowed range', async () => {
    const msg = await headless.evaluate(() => {
      try {
        window.nnvis.setRendering({ 'edges.size': 3 });
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(msg).toMatch(/edges\.size.*\[0, 1\]/);
  });
});

describe('rendering', () => {
  beforeAll(async () => {
    await headless.evaluate(() => window.nnvis.load('files/processed.nnvis'));
  });

  const EDGE_MODES = ['sphere', 'transparent_sphere', 'transparent_ellipsoid', 'line', 'point'];
  const NODE_MODES = ['sphere', 'transparent_sphere', 'point'];

  it('draws nothing with both modes none', async () => {
    const img = await renderWith(headless, { 'edges.render_mode': 'none', 'nodes.render_mode': 'none' });
    expect(img.nonWhite).toBe(0);
    expect(img.drawn).toBe(0);
  });

  it.each(EDGE_MODES)('edge mode %s gives a non-blank image', async (mode) => {
    const img = await renderWith(headless, { 'edges.render_mode': mode, 'nodes.render_mode': 'none' });
    expect(img.nonWhite).toBeGreaterThan(300);
    expect(img.drawn).toBeGreaterThan(0);
  });

  it.each(NODE_MODES)('node mode %s gives a non-blank image', async (mode) => {
    const img = await renderWith(headless, { 'edges.render_mode': 'none', 'nodes.render_mode': mode, 'nodes.size': 0.08 });
    expect(img.nonWhite).toBeGreaterThan(100);
    expect(img.drawn).toBeLessThanOrEqual(LAYERS.reduce((a, b) => a + b));
  });

  it('shows only the chosen class hue in one-class mode, several hues with all classes', async () => {
    const base = { 'edges.render_mode': 'transparent_ellipsoid', 'nodes.render_mode': 'transparent_sphere', 'nodes.size': 0.04 };
    const hueOf = (h: number, target: number): number => Math.min(Math.abs(h - target), 360 - Math.abs(h - target));
    const one = await renderWith(headless, base, 3); // #d62728, hue 359.7°
    expect(one.hues.length).toBeGreaterThan(50);
    const off = one.hues.filter((h) => hueOf(h, 359.7) > 12).length;
    expect(off / one.hues.length).toBeLessThan(0.01);

    const all = await renderWith(headless, base, 'all');
    const far = all.hues.filter((h) => hueOf(h, 359.7) > 40).length;
    expect(far / all.hues.length).toBeGreaterThan(0.3);
    expect(all.drawn).toBeGreaterThan(one.drawn); // one class culls what is unimportant for it
  });

  it('culls everything below the importance threshold', async () => {
    const img = await renderWith(headless, { 'edges.render_mode': 'transparent_ellipsoid', 'nodes.render_mode': 'sphere', 'edges.importance_threshold': 1, 'nodes.importance_threshold': 1 });
    await headless.evaluate(() => window.nnvis.setRendering({ 'edges.importance_threshold': 0.01, 'nodes.importance_threshold': 0.01 }));
    // Only nodes with overall importance exactly 1 (the largest) survive.
    expect(img.drawn).toBeLessThan(5);
  });

  it('renders the requested canvas size and times frames', async () => {
    const r = await headless.evaluate(async () => {
      window.nnvis.setSize(200, 120);
      const ms = await window.nnvis.frame();
      const url = await window.nnvis.screenshot();
      window.nnvis.setSize(320, 240);
      return { ms, url };
    });
    const img = await imageStats(headless, r.url);
    expect(img.pixels).toBe(200 * 120);
    expect(r.ms).toBeGreaterThan(0);
  });

  it('antialiasing: auto is fxaa on SwiftShader; FXAA softens the hard edges of an aliased frame, as multisampling does', async () => {
    expect((await headless.evaluate(() => window.nnvis.stats())).antialias).toBe('fxaa');
    const frames: Record<string, Buffer> = {};
    for (const mode of ['msaa', 'none', 'fxaa']) {
      const { page } = await openViewer(browser, server.url, `headless=1&width=240&height=160&antialias=${mode}&file=files/processed.nnvis`);
      expect((await page.evaluate(() => window.nnvis.stats())).antialias).toBe(mode);
      const url = await page.evaluate(async () => {
        window.nnvis.setRendering({ 'edges.render_mode': 'none', 'nodes.render_mode': 'sphere', 'nodes.size': 0.1 });
        window.nnvis.setCamera(8);
        await window.nnvis.frame();
        return window.nnvis.screenshot();
      });
      frames[mode] = (await decodeImage(page, url)).rgba;
      await page.close();
    }
    // Hard steps between neighbouring pixels (summed over the frame): aliasing makes them, smoothing softens them.
    const steps = (rgba: Buffer): number => {
      let sum = 0;
      for (let y = 0; y < 159; y++) {
        for (let x = 0; x < 239; x++) {
          const i = (y * 240 + x) * 4;
          for (let c = 0; c < 3; c++) sum += Math.abs(rgba[i + c] - rgba[i + 4 + c]) + Math.abs(rgba[i + c] - rgba[i + 240 * 4 + c]);
        }
      }
      return sum;
    };
    expect(steps(frames.msaa)).toBeLessThan(steps(frames.none));
    expect(steps(frames.fxaa)).toBeLessThan(0.97 * steps(frames.none));
  });

  it('names a bad antialias URL value and falls back to auto', async () => {
    const { page } = await openViewer(browser, server.url, 'headless=1&width=64&height=48&antialias=%3Cb%3Esuper%3C%2Fb%3E');
    const [message, mode] = await page.evaluate(() => [window.nnvis.lastError(), window.nnvis.stats().antialias]);
    expect(message).toBe('URL parameter antialias=<b>super</b>: allowed are auto, msaa, fxaa, none; using auto (fxaa)');
    expect(mode).toBe('fxaa');
    await page.close();
  });
});

describe('density grid', () => {
  beforeAll(async () => {
    await headless.evaluate(() => window.nnvis.load('files/processed.nnvis'));
  });

  const grid = async (mode: string, edges = 'none', cls: 'independent' | 'all' | number = 'all') => {
    const img = await renderWith(headless, { 'grid.render_mode': mode, 'edges.render_mode': edges, 'nodes.render_mode': 'none' }, cls);
    const cells = await headless.evaluate(() => window.nnvis.stats().densityCells);
    return { ...img, cells };
  };

  it('draws the worker-computed grid as cubes and as points, and removes it with none', async () => {
    const none = await grid('none');
    expect(none.nonWhite).toBe(0);
    expect(none.cells).toBe(0);
    const cube = await grid('cube');
    expect(cube.cells).toBeGreaterThan(20);
    expect(cube.cells).toBeLessThanOrEqual(50_000);
    expect(cube.nonWhite).toBeGreaterThan(1000);
    expect(cube.hues.length).toBeGreaterThan(100); // dominant-class colours
    const point = await grid('point');
    expect(point.cells).toBe(cube.cells);
    expect(point.nonWhite).toBeGreaterThan(100);
    expect(point.url).not.toBe(cube.url);
    const off = await grid('none');
    expect(off.nonWhite).toBe(0);
    expect(off.cells).toBe(0);
    expect(await headless.evaluate(() => window.nnvis.stats().gridCells)).toBe(0); // density-grid size recorded in meta: none in this file
  });

  it('changes the image over the edges, grey in independent mode, one class alone', async () => {
    const edges = await grid('none', 'line');
    const withGrid = await grid('cube', 'line');
    expect(withGrid.url).not.toBe(edges.url);
    expect(withGrid.nonWhite).toBeGreaterThan(edges.nonWhite);
    const grey = await grid('cube', 'none', 'independent');
    expect(grey.nonWhite).toBeGreaterThan(1000);
    expect(grey.hues.length).toBe(0);
    const all = await grid('cube', 'none', 'all');
    const one = await grid('cube', 'none', 3);
    expect(one.cells).toBeLessThan(all.cells);
    await grid('none');
  });
});

describe('framing and colour', () => {
  beforeAll(async () => {
    await headless.evaluate(() => {
      window.nnvis.setRendering({ 'edges.render_mode': 'transparent_ellipsoid', 'nodes.render_mode': 'transparent_sphere', palette: 'vivid' });
      return window.nnvis.load('files/processed.nnvis');
    });
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])('frames the whole network, filling the canvas, for camera preset %i', async (preset) => {
    const url = await headless.evaluate(async (preset) => {
      window.nnvis.setClassVisibility('all');
      window.nnvis.setCamera(preset);
      return window.nnvis.screenshot();
    }, preset);
    const s = await pictureStatsOf(headless, url);
    const [x0, y0, x1, y1] = s.box!;
    // Nothing cut off at the edges, and the binding direction is (nearly) filled.
    expect(Math.min(x0, y0, s.width - 1 - x1, s.height - 1 - y1)).toBeGreaterThan(0);
    expect(Math.max(s.boxWidth, s.boxHeight)).toBeGreaterThan(0.85);
    expect(await headless.evaluate(() => window.nnvis.layout().preset)).toBe(preset);
  });

  it('opens a file with importance in all class colours, one without in grey', async () => {
    const { page } = await openViewer(browser, server.url, 'headless=1&width=320&height=240&file=files/processed.nnvis');
    const coloured = await imageStats(page, await page.evaluate(() => window.nnvis.screenshot()));
    expect(coloured.hues.length).toBeGreaterThan(200);
    await page.evaluate(() => window.nnvis.load('files/plain.nnvis'));
    expect((await imageStats(page, await page.evaluate(() => window.nnvis.screenshot()))).hues.length).toBe(0);
    await page.close();
  });

  it('colours classes with the chosen palette', async () => {
    const hueOf = async (palette: string): Promise<number[]> => {
      const url = await headless.evaluate(async (palette) => {
        window.nnvis.setRendering({ palette });
        window.nnvis.setClassVisibility(3);
        window.nnvis.setCamera(8);
        return window.nnvis.screenshot();
      }, palette);
      return (await imageStats(headless, url)).hues;
    };
    const near = (hues: number[], target: number) => hues.filter((h) => Math.min(Math.abs(h - target), 360 - Math.abs(h - target)) <= 25).length / hues.length;
    for (const palette of ['vivid', 'reference', 'tab10'] as const) {
      const hues = await hueOf(palette);
      expect(hues.length).toBeGreaterThan(50);
      expect(near(hues, hexHue(PALETTES[palette][3]))).toBeGreaterThan(0.9);
    }
    // vivid's red (350°) and the reference's orange-red (16°) are told apart.
    expect(near(await hueOf('reference'), hexHue(PALETTES.vivid[3]))).toBeLessThan(0.5);
    const msg = await headless.evaluate(() => {
      try {
        window.nnvis.setRendering({ palette: 'rainbow' });
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(msg).toContain('vivid, reference, tab10');
    await headless.evaluate(() => window.nnvis.setRendering({ palette: 'vivid' }));
  });

  it('inks a one-class picture in that class hue', async () => {
    const url = await headless.evaluate(async () => {
      window.nnvis.setClassVisibility(3);
      window.nnvis.setCamera(8);
      return window.nnvis.screenshot();
    });
    const s = await pictureStatsOf(headless, url, { hue: hexHue(PALETTES.vivid[3]) });
    expect(s.inkShare).toBeGreaterThan(0.03);
    expect(s.hueShare).toBeGreaterThan(0.9);
  });
});

describe('interactive viewer', () => {
  let page: Page;

  beforeAll(async () => {
    ({ page } = await openViewer(browser, server.url, 'file=files/processed.nnvis', { width: 1000, height: 640 }));
  });

  it('frames the network in the area the panels leave free, for every preset', async () => {
    const rects = await page.evaluate(() => {
      const r = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
      return { gui: r('.nv-gui').left, stats: r('.nv-stats').right, legend: r('.nv-legend').right, layout: window.nnvis.layout() };
    });
    const { frame } = rects.layout;
    expect(frame.x).toBeGreaterThanOrEqual(Math.max(rects.stats, rects.legend));
    expect(frame.x + frame.width).toBeLessThanOrEqual(rects.gui);
    for (let preset = 0; preset <= 9; preset++) {
      const url = await page.evaluate((preset) => {
        window.nnvis.setCamera(preset);
        return window.nnvis.screenshot();
      }, preset);
      const [x0, y0, x1, y1] = (await pictureStatsOf(page, url)).box!;
      expect(x0).toBeGreaterThanOrEqual(frame.x - 2);
      expect(x1).toBeLessThanOrEqual(frame.x + frame.width + 2);
      expect(y0).toBeGreaterThanOrEqual(frame.y - 2);
      expect(y1).toBeLessThanOrEqual(frame.y + frame.height + 2);
      expect(Math.max((x1 - x0) / frame.width, (y1 - y0) / frame.height)).toBeGreaterThan(0.8);
    }
  });

  it('moves the camera-preset dropdown with the 0–9 keys', async () => {
    const select = page.locator('.lil-controller').filter({ hasText: 'camera preset' }).locator('select');
    await page.keyboard.press('3');
    await expect.poll(() => select.inputValue()).toMatch(/^3 /);
    await page.keyboard.press('9');
    await expect.poll(() => select.inputValue()).toMatch(/^9 /);
    expect(await page.evaluate(() => window.nnvis.layout().preset)).toBe(9);
    await page.keyboard.press('8');
  });

  it('keeps every panel section reachable: the control panel scrolls inside the window', async () => {
    for (const folder of ['Generate network', 'Nodes', 'Grid', 'Processing']) await page.getByText(folder, { exact: true }).first().click();
    const box = await page.evaluate(() => {
      const root = document.querySelector('.nv-gui')!;
      const children = root.querySelector(':scope > .lil-children')!;
      return { bottom: root.getBoundingClientRect().bottom, scrolls: children.scrollHeight > children.clientHeight, h: innerHeight };
    });
    expect(box.bottom).toBeLessThanOrEqual(box.h);
    expect(box.scrolls).toBe(true);
    const process = page.getByText('▶ Process (full run)');
    await process.scrollIntoViewIfNeeded();
    const b = (await process.boundingBox())!;
    expect(b.y + b.height).toBeLessThanOrEqual(box.h);
    for (const folder of ['Generate network', 'Nodes', 'Grid', 'Processing']) await page.getByText(folder, { exact: true }).first().click();
  });

  it('explains legend clicks, hover inspection and drag-and-drop in the help', async () => {
    await page.keyboard.press('?');
    const text = await page.locator('.nv-help').textContent();
    await page.keyboard.press('?');
    expect(text).toContain('legend click');
    expect(text).toContain('hover a node');
    expect(text).toContain('drop a file');
  });

  it('saves a PNG screenshot on K', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('k')]);
    expect(download.suggestedFilename()).toBe('processed.png');
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(path);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('saves a rendering.json the config parser accepts', async () => {
    await page.evaluate(() => window.nnvis.setRendering({ 'edges.size': 0.05, 'nodes.render_mode': 'point' }));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('Save rendering.json').click()]);
    const { readFileSync } = await import('node:fs');
    const config = parseConfigText('rendering', readFileSync(await download.path(), 'utf8'), 'rendering.json');
    expect(config['edges.size']).toBe(0.05);
    expect(config['nodes.render_mode']).toBe('point');
  });

  it('switches class visibility from the legend and back', async () => {
    const before = await page.evaluate(() => window.nnvis.stats().drawnInstances);
    await page.locator('.nv-legend-row[data-class="2"]').click();
    await expect.poll(() => page.locator('.nv-legend-row.nv-active').getAttribute('data-class')).toBe('2');
    const one = await page.evaluate(() => window.nnvis.stats().drawnInstances);
    expect(one).toBeLessThan(before);
    await page.locator('.nv-legend-row[data-class="2"]').click();
    await expect.poll(() => page.locator('.nv-legend-row.nv-active').getAttribute('data-class')).toBe('all');
  });

  it('cycles class visibility with C and toggles the help overlay with ?', async () => {
    await page.locator('.nv-legend-row[data-class="independent"]').click();
    await page.keyboard.press('c');
    await expect.poll(() => page.locator('.nv-legend-row.nv-active').getAttribute('data-class')).toBe('all');
    await page.keyboard.press('c');
    await expect.poll(() => page.locator('.nv-legend-row.nv-active').getAttribute('data-class')).toBe('0');
    await page.keyboard.press('?');
    await expect.poll(() => page.locator('.nv-help').isVisible()).toBe(true);
    await page.keyboard.press('?');
    await expect.poll(() => page.locator('.nv-help').isVisible()).toBe(false);
  });

  it('generates a random network from the layer editor', async () => {
    await page.getByText('Generate network').click();
    const layer = (name: string) => page.locator('.lil-controller').filter({ hasText: name }).locator('input').first();
    await layer('input layer').fill('16');
    await layer('hidden 1').fill('8');
    await layer('classes').fill('3');
    await page.getByText('− remove hidden layer').click(); // drops hidden 2
    await page.locator('.lil-controller').filter({ hasText: 'seed' }).locator('input').first().fill('4');
    await page.getByText('Generate', { exact: true }).click();
    await expect.poll(() => page.evaluate(() => window.nnvis.stats().file)).toBe('random-16-8-3-seed4.nnvis');
    expect(await page.evaluate(() => window.nnvis.stats())).toMatchObject({ kind: 'importance', edges: 16 * 8 + 8 * 3 });
    expect(await page.locator('.nv-legend-row[data-class]').count()).toBe(2 + 3);
    await page.getByText('Generate network').click();
    await page.evaluate(() => window.nnvis.load('files/processed.nnvis'));
  });

  it('shows a corrupted file as an error banner and keeps the scene', async () => {
    const before = await page.evaluate(() => window.nnvis.stats());
    const bytes = encode(importanceNetwork(LAYERS, 9));
    bytes[0] = 0x00; // bad magic
    const msg = await page.evaluate(async (b) => {
      try {
        await window.nnvis.load(new Uint8Array(b).buffer, 'broken.nnvis');
        return 'loaded';
      } catch (err) {
        return (err as Error).message;
      }
    }, [...bytes]);
    expect(msg).toBe('broken.nnvis: not an nnvis file (bad magic)');
    await expect.poll(() => page.locator('.nv-error').isVisible()).toBe(true);
    expect(await page.locator('.nv-error-text').textContent()).toBe(msg);
    const after = await page.evaluate(() => window.nnvis.stats());
    expect({ ...after, fps: 0 }).toEqual({ ...before, fps: 0 });
  });

  it('shows a tooltip with the class bars when hovering a node', async () => {
    expect(await hoverMiddleLayer(page)).toBe(true);
    expect(await page.locator('.nv-tooltip .nv-bar').count()).toBe(10);
    expect(await page.locator('.nv-tooltip-title').textContent()).toMatch(/^layer 1 · node \d+$/);
  });

  it('shows the layer ops of a conv network in the statistics, and the op, map and filter of a channel in its tooltip', async () => {
    await page.evaluate(() => window.nnvis.load('files/conv.nnvis'));
    await expect.poll(() => page.locator('.nv-stats-body').textContent()).toContain('conv 3×3 same, max-pool 2×2 · 16 → dense 10');
    expect(await hoverMiddleLayer(page)).toBe(true);
    expect(await page.locator('.nv-tooltip').textContent()).toMatch(/channel \d+ of 16 · conv 3×3 same, max-pool 2×2 · 3×3 map/);
    // the first conv layer's channel shows its 3×3 filter
    expect(await page.locator('.nv-tooltip canvas.nv-thumb').evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([3, 3]);
    await page.mouse.move(5, 5);
    await page.evaluate(() => window.nnvis.load('files/processed.nnvis'));
  });
});

describe('live processing', () => {
  let page: Page;

  beforeAll(async () => {
    ({ page } = await openViewer(browser, server.url, 'file=files/importance.nnvis', { width: 1000, height: 640 }));
    await page.getByText('Processing', { exact: true }).click();
  });

  const label = (): Promise<string | null> => page.locator('.nv-progress-label').textContent();
  const shot = (): Promise<string> => page.evaluate(() => window.nnvis.screenshot());

  it('runs a full processing in the worker and updates the scene from its snapshots', async () => {
    const before = await shot();
    await page.getByText('▶ Process (full run)').click();
    await expect.poll(label, { timeout: 5_000 }).not.toBe('idle');
    await expect.poll(label, { timeout: 90_000, interval: 250 }).toBe('idle');
    const after = await shot();
    expect(after).not.toBe(before);
    const s = await page.evaluate(() => window.nnvis.stats());
    expect(s.edges).toBe(EDGES);
    expect(s.kind).toBe('processed');
    expect(await page.locator('.nv-stats-body').textContent()).toContain('processed');
    expect(await page.locator('.nv-error').isVisible()).toBe(false);
    // Re-framed after processing: inside the free area.
    await page.waitForTimeout(1000);
    const { frame } = await page.evaluate(() => window.nnvis.layout());
    const [x0, y0, x1, y1] = (await pictureStatsOf(page, await shot())).box!;
    expect(x0).toBeGreaterThanOrEqual(frame.x - 2);
    expect(x1).toBeLessThanOrEqual(frame.x + frame.width + 2);
    expect(y0).toBeGreaterThanOrEqual(frame.y - 2);
    expect(y1).toBeLessThanOrEqual(frame.y + frame.height + 2);
    // The browser runs the WebAssembly SIMD kernels too.
    expect(await page.locator('.nv-progress-report').textContent()).toMatch(/· WebAssembly kernels$/);
  });

  it('stops a running action', async () => {
    // 24,600 edges: 50 iterations take many seconds even with the WebAssembly kernels; no
    // edges drawn, so frames stay cheap on SwiftShader.
    await page.evaluate(async () => {
      window.nnvis.setRendering({ 'edges.render_mode': 'none' });
      await window.nnvis.load('files/big.nnvis');
    });
    const report = (): Promise<string | null> => page.locator('.nv-progress-report').textContent();
    await page.getByText('iterations per step').locator('..').locator('input').first().fill('50');
    await page.getByText('Edge advect').click();
    await expect.poll(report, { timeout: 10_000, interval: 20 }).toMatch(/^edges · iteration \d+/);
    const iteration = async (): Promise<number> => Number((await report())!.match(/iteration (\d+)/)![1]);
    const startedAt = await iteration();
    await page.getByText('■ Stop').click();
    await expect.poll(label, { timeout: 10_000, interval: 50 }).toBe('idle');
    const stoppedAt = await iteration();
    // It stopped well before the 50 requested iterations, and nothing moves afterwards.
    expect(stoppedAt - startedAt).toBeLessThan(45);
    await page.waitForTimeout(500);
    expect(await iteration()).toBe(stoppedAt);
  });
});
