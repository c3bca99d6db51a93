// VR in the built viewer: headless Chromium with an emulated Meta Quest 3 (the `iwer` WebXR
// runtime, injected before the page's scripts). Enters the immersive session with the Enter
// VR button, drives the emulated Touch controllers and checks the model's scale, parent,
// rotation, render mode and class highlight as docs/METHOD.md §5.5 describes.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { XRDevice } from 'iwer';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseXrBudget } from '../../src/viewer/xr-controls.ts';
import { buildViewer, encode, imageStats, launchBrowser, openViewer, processedNetwork, removeDir, serve, type StaticServer } from './harness.ts';

const LAYERS = [24, 12, 4];

type Handed = 'left' | 'right';
interface XrWindow {
  xrDevice: XRDevice;
}

let dir: string;
let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];
let home: [number, number, number];
let context: BrowserContext;
/** Every URL the pages asked for, and the responses (status) of the controller profiles. */
const requests: string[] = [];
const profileResponses = new Map<string, number>();

beforeAll(async () => {
  dir = await buildViewer();
  server = await serve(dir);
  server.files.set('net.nnvis', encode(processedNetwork(LAYERS, 3)));
  browser = await launchBrowser();
  const iwer = readFileSync(createRequire(import.meta.url).resolve('iwer/build/iwer.min.js'), 'utf8');
  context = await browser.newContext({ viewport: { width: 960, height: 540 }, deviceScaleFactor: 1 });
  context.on('request', (r) => void requests.push(r.url()));
  context.on('response', (r) => {
    if (r.url().includes('/webxr-profiles/')) profileResponses.set(new URL(r.url()).pathname, r.status());
  });
  // The UMD build defines window.IWER; the device replaces navigator.xr before main.ts runs.
  await context.addInitScript({
    content: `${iwer}
      ;(() => {
        const device = new IWER.XRDevice(IWER.metaQuest3);
        device.installRuntime({ forceInstall: true });
        window.xrDevice = device;
      })();`,
  });
  // openViewer opens its page with browser.newPage: give it one of this context instead.
  const shim = { newPage: () => context.newPage() } as unknown as Browser;
  ({ page, errors } = await openViewer(shim, server.url, 'file=files/net.nnvis&class=independent'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) removeDir(dir);
});

const state = () => page.evaluate(() => window.nnvis.xr.state());

/** Waits (polling in the page, XR frames keep running) until `predicate(state)` holds. */
async function until(predicate: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(`(() => { const s = window.nnvis.xr.state(); return ${predicate}; })()`, undefined, { timeout, polling: 50 });
}

async function button(hand: Handed, id: string, value: number): Promise<void> {
  await page.evaluate(([hand, id, value]) => (window as unknown as XrWindow).xrDevice.controllers[hand as Handed]!.updateButtonValue(id, value), [hand, id, value] as const);
}

async function stick(hand: Handed, x: number, y: number): Promise<void> {
  await page.evaluate(([hand, x, y]) => (window as unknown as XrWindow).xrDevice.controllers[hand as Handed]!.updateAxes('thumbstick', x, y), [hand, x, y] as const);
}

async function moveHand(hand: Handed, dx: number, dy: number): Promise<void> {
  await page.evaluate(
    ([hand, dx, dy]) => {
      const p = (window as unknown as XrWindow).xrDevice.controllers[hand as Handed]!.position;
      p.x += dx;
      p.y += dy;
    },
    [hand, dx, dy] as const,
  );
}

/** Non-white pixels of the emulated headset view (the canvas area left of the control panel, above the legend). */
async function inked(): Promise<number> {
  await page.waitForTimeout(300); // a few XR frames
  const png = await page.screenshot({ clip: { x: 200, y: 0, width: 440, height: 480 } });
  return (await imageStats(page, `data:image/png;base64,${png.toString('base64')}`)).nonWhite;
}

describe('VR with an emulated Quest 3', () => {
  it('offers Enter VR and starts an immersive session at arm\u2019s length', async () => {
    const vr = page.locator('.nv-vr-button');
    await expect.poll(() => vr.isEnabled()).toBe(true);
    expect(await vr.textContent()).toBe('Enter VR');
    expect((await state()).presenting).toBe(false);
    await vr.click();
    // the scene is placed in the session's first frame, which can come after presenting turns true
    await until('s.presenting && s.position.some((v) => v !== 0)');
    const s = await state();
    expect(s).toMatchObject({ presenting: true, scale: 1, parent: 'scene', renderMode: 'ellipsoid', classVisibility: 'independent' });
    expect(s.rotation.every((r) => Math.abs(r) < 1e-6)).toBe(true);
    // The emulated head is at 1.6 m looking down −z: 0.6 m ahead, 0.35 m lower (chest).
    expect(s.position[0]).toBeCloseTo(0, 3);
    expect(s.position[1]).toBeCloseTo(1.25, 3);
    expect(s.position[2]).toBeCloseTo(-0.6, 3);
    home = s.position;
    const stats = await page.evaluate(() => window.nnvis.stats());
    expect(stats.drawnInstances).toBeGreaterThan(0);
    expect(stats.drawnInstances).toBeLessThan(50_000);
    expect(stats.xrMode).toBe('full');
    await expect.poll(() => page.locator('.nv-stats-body').textContent()).toMatch(/VR\s*full/);
    await expect.poll(() => vr.textContent()).toBe('Exit VR');
    // Frames are being drawn by the XR loop.
    await expect.poll(() => page.evaluate(() => window.nnvis.stats().fps), { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('draws the Quest Touch Plus models from the bundled profiles, not the boxes', async () => {
    await until('s.controllers.every((c) => c.model)');
    const { controllers } = await state();
    expect(controllers.map((c) => c.hand).sort()).toEqual(['left', 'right']);
    for (const c of controllers) expect(c.meshes).toBeGreaterThan(3); // body, buttons, stick, trigger…
    // The emulated Quest 3 reports meta-quest-touch-plus first: its GLBs came from the local server.
    for (const hand of ['left', 'right']) expect(profileResponses.get(`/webxr-profiles/meta-quest-touch-plus/${hand}.glb`)).toBe(200);
    expect(profileResponses.get('/webxr-profiles/profilesList.json')).toBe(200);
  });

  it('right trigger grows, left trigger shrinks the model', async () => {
    const small = await inked();
    expect(small).toBeGreaterThan(500); // the network is drawn in the headset's view
    await button('right', 'trigger', 1);
    await until('s.scale > 1.2');
    await button('right', 'trigger', 0);
    const grown = (await state()).scale;
    expect(await inked()).toBeGreaterThan(small * 1.2);
    await button('left', 'trigger', 1);
    await until(`s.scale < ${grown} * 0.7`);
    await button('left', 'trigger', 0);
    const shrunk = (await state()).scale;
    expect(shrunk).toBeLessThan(grown);
    // Released: the scale stays.
    await page.waitForTimeout(300);
    expect((await state()).scale).toBeCloseTo(shrunk, 6);
  });

  it('grip attaches the model to that hand; the thumbstick rotates it while held; release returns it', async () => {
    // Not held: the stick does nothing.
    const free = await state();
    await stick('right', 1, 0);
    await page.waitForTimeout(400);
    expect((await state()).rotation).toEqual(free.rotation);
    await stick('right', 0, 0);

    await button('right', 'squeeze', 1);
    await until(`s.parent === 'right'`);
    const held = await state();
    // Attaching keeps the model where it was in the room; then it follows the hand.
    held.position.forEach((v, i) => expect(v).toBeCloseTo(free.position[i], 4));
    await moveHand('right', 0.1, 0.05);
    await until(`Math.abs(s.position[0] - ${held.position[0] + 0.1}) < 1e-3 && Math.abs(s.position[1] - ${held.position[1] + 0.05}) < 1e-3`);
    await stick('right', 1, 0); // yaw
    await until(`Math.abs(s.rotation[1] - ${held.rotation[1]}) > 0.2 || Math.abs(s.rotation[0] - ${held.rotation[0]}) > 0.2 || Math.abs(s.rotation[2] - ${held.rotation[2]}) > 0.2`);
    await stick('right', 0, 0);
    const yawed = await state();
    await stick('right', 0, -1); // pitch
    await until(`s.rotation.some((r, i) => Math.abs(r - ${JSON.stringify(yawed.rotation)}[i]) > 0.2)`);
    await stick('right', 0, 0);

    const moved = await state();
    await button('right', 'squeeze', 0);
    await until(`s.parent === 'scene'`);
    // Let go: it stays where the hand left it.
    (await state()).position.forEach((v, i) => expect(v).toBeCloseTo(moved.position[i], 4));
    await moveHand('right', -0.1, -0.05);
    await page.waitForTimeout(200);
    (await state()).position.forEach((v, i) => expect(v).toBeCloseTo(moved.position[i], 4));
    // The left hand takes it too.
    await button('left', 'squeeze', 1);
    await until(`s.parent === 'left'`);
    await button('left', 'squeeze', 0);
    await until(`s.parent === 'scene'`);
  });

  it('thumbstick press resets position, orientation and scale', async () => {
    await button('right', 'trigger', 1);
    await until('s.scale > 1.5');
    await button('right', 'trigger', 0);
    await button('left', 'squeeze', 1);
    await until(`s.parent === 'left'`);
    await button('left', 'thumbstick', 1);
    await until(`s.scale === 1 && s.parent === 'scene'`);
    await button('left', 'thumbstick', 0);
    await button('left', 'squeeze', 0);
    const s = await state();
    expect(s.rotation.every((r) => Math.abs(r) < 1e-6)).toBe(true);
    s.position.forEach((v, i) => expect(v).toBeCloseTo(home[i], 4));
    // Squeeze released after the reset: it must not grab again.
    await page.waitForTimeout(200);
    expect((await state()).parent).toBe('scene');
  });

  it('A / X cycles render modes, B / Y class highlighting', async () => {
    const modes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const before = (await state()).renderMode;
      await button(i % 2 ? 'left' : 'right', i % 2 ? 'x-button' : 'a-button', 1);
      await until(`s.renderMode !== ${JSON.stringify(before)}`);
      await button(i % 2 ? 'left' : 'right', i % 2 ? 'x-button' : 'a-button', 0);
      modes.push((await state()).renderMode);
    }
    expect(modes).toEqual(['sphere', 'line', 'point', 'ellipsoid']);
    const edgeMode = await page.evaluate(() => window.nnvis.stats().drawnInstances);
    expect(edgeMode).toBeGreaterThan(0);

    const classes: string[] = [];
    for (let i = 0; i < LAYERS[2] + 2; i++) {
      const before = (await state()).classVisibility;
      await button(i % 2 ? 'left' : 'right', i % 2 ? 'y-button' : 'b-button', 1);
      await until(`s.classVisibility !== ${JSON.stringify(before)}`);
      await button(i % 2 ? 'left' : 'right', i % 2 ? 'y-button' : 'b-button', 0);
      classes.push((await state()).classVisibility);
    }
    expect(classes).toEqual(['all', 'class_0', 'class_1', 'class_2', 'class_3', 'independent']);
  });

  it('exit ends the session and the desktop view resumes', async () => {
    await page.evaluate(() => window.nnvis.xr.exit());
    const s = await state();
    expect(s.presenting).toBe(false);
    expect(await page.evaluate(() => window.nnvis.stats().xrMode)).toBe('off');
    expect(await page.locator('.nv-vr-button').textContent()).toBe('Enter VR');
    // Entering again through the API works and starts from the defaults.
    await page.evaluate(() => window.nnvis.xr.enter());
    await until('s.presenting && s.scale === 1 && s.parent === "scene"');
    await page.evaluate(() => window.nnvis.xr.exit());
    expect((await state()).presenting).toBe(false);
  });

  it('a scene over the VR frame budget is drawn with lines (and thinned), restored on exit', async () => {
    const drawn = await page.evaluate(() => window.nnvis.stats().drawnInstances);
    expect((await state()).renderMode).toBe('ellipsoid');
    for (const budget of [Math.floor(drawn / 2), Math.floor(drawn / 10)]) {
      const expected = chooseXrBudget(drawn, 'transparent_ellipsoid', true, budget, 4 * budget);
      expect(expected.edges).toBe('line');
      await page.evaluate((instanceBudget) => window.nnvis.xr.enter({ instanceBudget }), budget);
      await until('s.presenting');
      expect(await page.evaluate(() => window.nnvis.stats().xrMode)).toBe(expected.label);
      expect((await state()).renderMode).toBe('line');
      await page.evaluate(() => window.nnvis.xr.exit());
      expect((await state()).renderMode).toBe('ellipsoid');
      expect(await page.evaluate(() => window.nnvis.stats().xrMode)).toBe('off');
    }
    expect(chooseXrBudget(drawn, 'transparent_ellipsoid', true, Math.floor(drawn / 10), 4 * Math.floor(drawn / 10)).lod).toBeGreaterThan(1);
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]); // favicon.ico
  });

  it('keeps the boxes when the controller models cannot be loaded', async () => {
    // A fresh page (the factory caches loaded models) on which every GLB request fails.
    const failed: string[] = [];
    const newPage = async (): Promise<Page> => {
      const p = await context.newPage();
      await p.route('**/webxr-profiles/**/*.glb', (route) => route.abort());
      p.on('requestfailed', (r) => void failed.push(r.url()));
      return p;
    };
    const opened = await openViewer({ newPage } as unknown as Browser, server.url, 'file=files/net.nnvis&class=independent');
    try {
      await opened.page.evaluate(() => window.nnvis.xr.enter());
      await expect.poll(() => failed.filter((u) => u.endsWith('.glb')).length, { timeout: 20_000 }).toBe(2);
      await opened.page.waitForTimeout(200); // XR frames after the failures
      const { controllers } = await opened.page.evaluate(() => window.nnvis.xr.state());
      expect(controllers.map((c) => [c.hand !== null, c.model])).toEqual([
        [true, false],
        [true, false],
      ]);
      // Only the browser's own report of the aborted requests: no uncaught error from the loader.
      expect(opened.errors.filter((e) => !e.includes('404') && !e.includes('net::ERR_FAILED'))).toEqual([]);
      await opened.page.evaluate(() => window.nnvis.xr.exit());
    } finally {
      await opened.page.close();
    }
  });

  it('fetches nothing but from the local server', () => {
    const local = new URL(server.url).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(`${local}/`) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
  });
});
