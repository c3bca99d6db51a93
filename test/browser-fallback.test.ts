import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import { lineChart } from '../src/cli/plot.ts';
import { runCli, tempDir } from './helpers.ts';
import { decodePng, lumaStdDev } from './png.ts';

// The two commands must be the whole set-up: no system browser, no system fonts. Where this
// machine lets us (root or user namespaces), the render runs in a private mount namespace
// with the system fonts and every installed browser hidden; NNVIS_BROWSER=bundled limits
// discovery to the npm-shipped Chromium in any case.

const SYSTEM_BROWSERS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/opt/google/chrome/chrome', '/usr/bin/microsoft-edge', '/snap/bin/chromium'];
const SYSTEM_FONTS = ['/usr/share/fonts', '/usr/local/share/fonts'];

/** A shell prefix hiding fonts and browsers, or undefined where mount namespaces are not allowed. */
function hidingShell(): string | undefined {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return undefined;
  const hide = [
    ...SYSTEM_FONTS.filter(existsSync).map((d) => `mount -t tmpfs none ${d}`),
    ...SYSTEM_BROWSERS.filter(existsSync).map((b) => `mount --bind /dev/null ${b}`),
  ];
  return [...hide, 'exec "$@"'].join(' && ');
}

describe('without a system browser or system fonts', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('nnvis render draws through the npm-shipped Chromium', () => {
    const net = join(dir, 'net.nnvis');
    const png = join(dir, 'net.png');
    expect(runCli(['generate', '--layers', '12,8,4', '--seed', '3', '-o', net]).code).toBe(0);
    const args = ['bin/nnvis.js', 'render', net, '--width', '320', '--height', '200', '--class', 'all', '--verbose', '-o', png];
    const shell = hidingShell();
    const env = { ...process.env, NNVIS_BROWSER: 'bundled', CHROMIUM_PATH: '' };
    const r = shell
      ? spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', shell, 'sh', process.execPath, ...args], { encoding: 'utf8', env, timeout: 300_000 })
      : spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/browser: \S+ \(bundled \(@sparticuz\/chromium [\d.]+\)\)/);
    expect(r.stderr).toMatch(/WebGL: .*SwiftShader/);
    const image = decodePng(readFileSync(png));
    expect([image.width, image.height]).toEqual([320, 200]);
    expect(lumaStdDev(image)).toBeGreaterThan(3);
  });

  it('says in one line what to change when the browser dies during a render', async () => {
    const net = join(dir, 'dies.nnvis');
    expect(runCli(['generate', '--layers', '6,4,3', '--seed', '1', '-o', net]).code).toBe(0);
    const { withViewer } = await import('../src/cli/browser.ts');
    const rendered = withViewer([net], 160, 100, async (viewer, [url]) => {
      await viewer.load(url, net);
      // What an out-of-memory kill looks like from here: the browser is gone mid-command.
      await (viewer as unknown as { page: Page }).page.context().browser()!.close();
      return viewer.frame();
    });
    await expect(rendered).rejects.toThrow(InputError);
    await expect(rendered).rejects.toThrow(/^rendering failed: the browser closed \(crashed or ran out of memory\); draw fewer samples/);
  });

  it('plots set their text in the npm-shipped DejaVu', async () => {
    const chart = (title: string) => lineChart({ title, xTitle: '', yTitle: '', series: [{ name: 'a', x: [0, 1], y: [0, 1] }], width: 300, height: 120 });
    const ink = (png: Uint8Array) => {
      // Dark pixels in the title band (2× PNG: the top 40 px).
      const img = decodePng(Buffer.from(png));
      let dark = 0;
      for (let i = 0; i < img.width * 40; i++) if (img.pixels[i * img.channels] < 128) dark++;
      return dark;
    };
    const withTitle = ink((await chart('Accuracy of the pruned network')).png);
    const without = ink((await chart('')).png);
    expect(withTitle - without).toBeGreaterThan(300);
  });
});
