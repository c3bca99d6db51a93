// Side-by-side comparison (issue 6): several networks in one canvas, one viewport each, one
// linked camera. Small generated networks (a few thousand instances per panel) in headless
// Chromium with SwiftShader, as in viewer.test.ts.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildViewer, encode, importanceNetwork, launchBrowser, openViewer, pictureStatsOf, processedNetwork, removeDir, serve, type StaticServer } from './harness.ts';
import { decodeImage } from '../../bench/decode-image.ts';

let dir: string;
let server: StaticServer;
let browser: Browser;
let headless: Page;
let headlessErrors: string[];

const W = 480;
const H = 240;

beforeAll(async () => {
  dir = await buildViewer();
  server = await serve(dir);
  server.files.set('a.nnvis', encode(processedNetwork([36, 16, 10], 5)));
  server.files.set('b.nnvis', encode(importanceNetwork([20, 12, 6, 4], 3)));
  const corrupted = encode(importanceNetwork([12, 6, 3], 6)).slice();
  corrupted[20] ^= 0xff; // inside the JSON header
  server.files.set('corrupted.nnvis', corrupted);
  browser = await launchBrowser();
  ({ page: headless, errors: headlessErrors } = await openViewer(browser, server.url, `headless=1&width=${W}&height=${H}&file=files/a.nnvis&file=files/b.nnvis`));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) removeDir(dir);
});

interface Halves {
  /** Non-white pixels of the left and right half. */
  nonWhite: [number, number];
  /** Pixels differing between the left and the right half (same place in each). */
  leftVsRight: number;
  /** Pixels of each half that differ from the `before` image (0 without one). */
  changed: [number, number];
}

/** Pixel statistics of the two halves of a screenshot, optionally against an earlier one. */
async function halves(page: Page, url: string, before?: string): Promise<Halves> {
  const { rgba: d, width: w, height: h } = await decodeImage(page, url);
  const prev = before ? (await decodeImage(page, before)).rgba : null;
  const half = Math.floor(w / 2);
  const nonWhite: [number, number] = [0, 0];
  const changed: [number, number] = [0, 0];
  let leftVsRight = 0;
  const differs = (a: Buffer, i: number, b: Buffer, j: number): boolean =>
    Math.abs(a[i] - b[j]) + Math.abs(a[i + 1] - b[j + 1]) + Math.abs(a[i + 2] - b[j + 2]) > 12;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const side = x < half ? 0 : 1;
      if (Math.min(d[i], d[i + 1], d[i + 2]) < 247) nonWhite[side]++;
      if (prev && differs(d, i, prev, i)) changed[side]++;
      if (x < half && differs(d, i, d, i + half * 4)) leftVsRight++;
    }
  }
  return { nonWhite, leftVsRight, changed };
}

const shot = (page: Page): Promise<string> => page.evaluate(() => window.nnvis.screenshot());

describe('side by side', () => {
  it('shows two different networks in the two halves of the canvas', async () => {
    const panels = await headless.evaluate(() => window.nnvis.panelStats());
    expect(panels.map((p) => p.file)).toEqual(['a.nnvis', 'b.nnvis']);
    expect(panels.map((p) => p.kind)).toEqual(['processed', 'importance']);
    expect(panels[1].edges).toBe(20 * 12 + 12 * 6 + 6 * 4);
    expect(panels[0].drawnInstances + panels[1].drawnInstances).toBeLessThan(50_000);
    // stats() stays the first panel's
    expect(await headless.evaluate(() => window.nnvis.stats().file)).toBe('a.nnvis');

    const h = await halves(headless, await shot(headless));
    expect(h.nonWhite[0]).toBeGreaterThan(500);
    expect(h.nonWhite[1]).toBeGreaterThan(500);
    expect(h.leftVsRight).toBeGreaterThan(500);
    expect(headlessErrors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  it('puts a label per panel in the page', async () => {
    await expect.poll(() => headless.locator('.nv-pane-label').allTextContents()).toEqual(['a.nnvis', 'b.nnvis']);
    await headless.evaluate(() => window.nnvis.loadSideBySide(['files/a.nnvis', 'files/b.nnvis', 'files/a.nnvis'], ['before', 'after', 'again']));
    expect(await headless.locator('.nv-pane-label').allTextContents()).toEqual(['before', 'after', 'again']);
    expect(await headless.evaluate(() => window.nnvis.panelStats().map((p) => p.file))).toEqual(['before', 'after', 'again']);
    await headless.evaluate(() => window.nnvis.loadSideBySide(['files/a.nnvis', 'files/b.nnvis']));
    expect(await headless.locator('.nv-pane-label').allTextContents()).toEqual(['a.nnvis', 'b.nnvis']);
  });

  it('changes both halves with a camera preset', async () => {
    await headless.evaluate(() => window.nnvis.setCamera(8));
    const before = await shot(headless);
    await headless.evaluate(() => window.nnvis.setCamera(1));
    const h = await halves(headless, await shot(headless), before);
    expect(h.changed[0]).toBeGreaterThan(300);
    expect(h.changed[1]).toBeGreaterThan(300);
    // Back: the very same image (the camera is shared, nothing else moved).
    await headless.evaluate(() => window.nnvis.setCamera(8));
    expect((await halves(headless, await shot(headless), before)).changed).toEqual([0, 0]);
  });

  it('orbits both panels with one mouse drag (linked camera)', async () => {
    await headless.evaluate(() => window.nnvis.setCamera(8));
    const before = await shot(headless);
    // Drag inside the left panel: the shared OrbitControls turn the right one too.
    await headless.mouse.move(W / 4, H / 2);
    await headless.mouse.down();
    for (let i = 1; i <= 5; i++) await headless.mouse.move(W / 4 + i * 16, H / 2 + i * 4);
    await headless.mouse.up();
    const h = await halves(headless, await shot(headless), before);
    expect(h.changed[0]).toBeGreaterThan(300);
    expect(h.changed[1]).toBeGreaterThan(300);
    await headless.evaluate(() => window.nnvis.setCamera(8));
  });

  it('applies render settings and class visibility to every panel', async () => {
    const drawn = () => headless.evaluate(() => window.nnvis.panelStats().map((p) => p.drawnInstances));
    const all = await drawn();
    await headless.evaluate(() => window.nnvis.setRendering({ 'edges.render_mode': 'none', 'nodes.render_mode': 'none' }));
    expect(await drawn()).toEqual([0, 0]);
    expect((await halves(headless, await shot(headless))).nonWhite).toEqual([0, 0]);
    await headless.evaluate(() => window.nnvis.setRendering({ 'edges.render_mode': 'transparent_ellipsoid', 'nodes.render_mode': 'transparent_sphere' }));
    await headless.evaluate(() => window.nnvis.setClassVisibility(2));
    const one = await drawn();
    expect(one[0]).toBeLessThan(all[0]);
    expect(one[1]).toBeLessThan(all[1]);
    await headless.evaluate(() => window.nnvis.setClassVisibility('independent'));
  });

  it('goes back to one network on a single load', async () => {
    await headless.evaluate(() => window.nnvis.load('files/b.nnvis'));
    expect(await headless.evaluate(() => window.nnvis.panelStats().map((p) => p.file))).toEqual(['b.nnvis']);
    expect(await headless.locator('.nv-pane-label').count()).toBe(0);
    const h = await halves(headless, await shot(headless));
    expect(h.nonWhite[0] + h.nonWhite[1]).toBeGreaterThan(500);
  });
});

describe('interactive comparison', () => {
  let page: Page;

  beforeAll(async () => {
    ({ page } = await openViewer(browser, server.url, 'file=files/a.nnvis', { width: 900, height: 500 }));
  });

  it('keeps the scene and shows the banner when a second file is corrupted', async () => {
    const before = await page.evaluate(() => window.nnvis.panelStats());
    const msgs = await page.evaluate(async () => {
      const out: string[] = [];
      for (const run of [() => window.nnvis.loadSideBySide(['files/a.nnvis', 'files/corrupted.nnvis']), () => window.nnvis.compareWith('files/corrupted.nnvis')]) {
        try {
          await run();
          out.push('loaded');
        } catch (err) {
          out.push((err as Error).message);
        }
      }
      return out;
    });
    expect(msgs[0]).toMatch(/^corrupted\.nnvis: /);
    expect(msgs[1]).toBe(msgs[0]);
    await expect.poll(() => page.locator('.nv-error').isVisible()).toBe(true);
    expect(await page.locator('.nv-error-text').textContent()).toBe(msgs[0]);
    const after = await page.evaluate(() => window.nnvis.panelStats());
    expect(after.map((s) => ({ ...s, fps: 0 }))).toEqual(before.map((s) => ({ ...s, fps: 0 })));
    expect(await page.locator('.nv-pane-label').count()).toBe(0);
  });

  it('compares with a file from the File menu and leaves the comparison', async () => {
    const leave = page.getByText('Leave comparison');
    expect(await leave.isVisible()).toBe(false);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByText('Compare with… (file)').click()]);
    await chooser.setFiles({ name: 'other.nnvis', mimeType: 'application/octet-stream', buffer: Buffer.from(encode(importanceNetwork([16, 8, 3], 4))) });
    await expect.poll(() => page.locator('.nv-pane-label').allTextContents()).toEqual(['a.nnvis', 'other.nnvis']);
    expect(await page.locator('.nv-error').isVisible()).toBe(false);
    // Both networks beside the panels: the right one not under the control panel, the left one not under the statistics.
    const layout = () =>
      page.evaluate(() => {
        const r = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
        return { gui: r('.nv-gui').left, stats: r('.nv-stats').right, panels: window.nnvis.layout().panels };
      });
    // The statistics grow a 'panel' row; the layout follows within half a second.
    await expect.poll(async () => {
      const l = await layout();
      return l.panels[0].x >= l.stats;
    }).toBe(true);
    const l = await layout();
    expect(l.panels).toHaveLength(2);
    expect(l.panels[1].x + l.panels[1].width).toBeLessThanOrEqual(l.gui + 1);
    const labels = await page.locator('.nv-pane').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left));
    expect(labels[0]).toBeCloseTo(l.panels[0].x, 0);
    const [x0, , x1] = (await pictureStatsOf(page, await shot(page))).box!;
    expect(x0).toBeGreaterThanOrEqual(l.panels[0].x - 2);
    expect(x1).toBeLessThanOrEqual(l.panels[1].x + l.panels[1].width + 2);
    // Statistics follow the panel under the mouse.
    await page.mouse.move(520, 300); // right panel, left of the control panel
    await expect.poll(() => page.locator('.nv-stats-body').textContent()).toContain('other.nnvis');
    await page.mouse.move(200, 250);
    await expect.poll(() => page.locator('.nv-stats-body').textContent()).toContain('a.nnvis');
    await expect.poll(() => leave.isVisible()).toBe(true);
    await leave.click();
    await expect.poll(() => page.locator('.nv-pane-label').count()).toBe(0);
    expect(await page.evaluate(() => window.nnvis.panelStats().map((p) => p.file))).toEqual(['a.nnvis']);
    expect(await leave.isVisible()).toBe(false);
  });
});
