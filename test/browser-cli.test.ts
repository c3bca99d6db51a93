import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serveStatic, type Served } from '../src/cli/server.ts';
import { ensureViewerBuilt } from '../src/cli/viewer-build.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';
import { decodePng, lumaStdDev } from './png.ts';

/** GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

const dir = tempDir();
const net = join(dir, 'net.nnvis');
const processed = join(dir, 'processed.nnvis');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  expect(runCli(['generate', '--layers', '30,12,6,4', '--seed', '5', '-o', net]).code).toBe(0);
  expect(runCli(['process', net, '-o', processed]).code).toBe(0);
});

describe('static server', () => {
  let served: Served;
  const root = join(dir, 'root');
  const secret = join(dir, 'secret.txt');

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>viewer</title>');
    writeFileSync(join(root, 'assets', 'app.js'), 'export {};');
    writeFileSync(join(root, 'assets', 'core.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    writeFileSync(join(root, 'assets', 'edge.glsl'), 'void main() {}');
    writeFileSync(secret, 'SECRET');
    symlinkSync(secret, join(root, 'assets', 'link.txt'));
    served = await serveStatic({ root, files: [net] });
  });
  afterAll(() => served.close());

  it('binds 127.0.0.1 only', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (lan) await expect(rawGet(served.url.replace('127.0.0.1', lan.address), '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serves the viewer with the right content types, and no listings', async () => {
    expect(await rawGet(served.url, '/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await rawGet(served.url, '/assets/app.js')).type).toBe('text/javascript; charset=utf-8');
    expect((await rawGet(served.url, '/assets/core.wasm')).type).toBe('application/wasm');
    expect((await rawGet(served.url, '/assets/edge.glsl')).type).toBe('text/plain; charset=utf-8');
    expect((await rawGet(served.url, '/assets/')).status).toBe(404);
    expect((await rawGet(served.url, '/assets')).status).toBe(404);
  });

  it('serves exactly the given files', async () => {
    const r = await rawGet(served.url, served.filePaths[0]);
    expect(served.filePaths[0]).toBe('/files/0/net.nnvis');
    expect(r.status).toBe(200);
    expect(r.body.equals(readFileSync(net))).toBe(true);
    for (const path of ['/files/1/net.nnvis', '/files/0/other.nnvis', '/files/0/net.nnvis/x', '/files/', '/files/x/net.nnvis']) {
      expect((await rawGet(served.url, path)).status, path).toBe(404);
    }
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E%2Fpackage.json',
    '/files/0/../../x',
    '/files/0/%2e%2e/%2e%2e/secret.txt',
    '/assets/..%5c..%5csecret.txt',
    `/${dir}/secret.txt`,
    `/%2F${encodeURIComponent(secret.slice(1))}`,
    '//etc/passwd',
    '/assets/link.txt',
    'http://127.0.0.1/etc/passwd',
  ])('refuses %s', async (path) => {
    const r = await rawGet(served.url, path);
    expect([400, 403, 404]).toContain(r.status);
    expect(r.body.toString()).not.toMatch(/SECRET|root:|"name"/);
  });
});

describe('viewer build', () => {
  it('builds when missing or stale, atomically, and only then', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'src/viewer'), { recursive: true });
    mkdirSync(join(repo, 'src/core'), { recursive: true });
    writeFileSync(join(repo, 'vite.config.ts'), "export default { root: new URL('./src/viewer', import.meta.url).pathname, base: './', logLevel: 'silent' };\n");
    writeFileSync(join(repo, 'src/viewer/index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(repo, 'src/viewer/main.js'), "document.title = 'built';");
    writeFileSync(join(repo, 'src/core/x.ts'), 'export {};');
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const out = await ensureViewerBuilt(repo);
      expect(out).toBe(join(repo, 'dist/viewer'));
      expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/src="\.\/assets\/[\w-]+\.js"/);
      expect(log.mock.calls).toEqual([['building the viewer… (once)']]);
      const built = statSync(join(out, 'index.html')).mtimeMs;

      await ensureViewerBuilt(repo);
      expect(log).toHaveBeenCalledTimes(1);
      expect(statSync(join(out, 'index.html')).mtimeMs).toBe(built);

      const later = new Date(Date.now() + 5000);
      utimesSync(join(repo, 'src/core/x.ts'), later, later);
      await ensureViewerBuilt(repo);
      expect(log).toHaveBeenCalledTimes(2);
      expect(readdirSync(join(repo, 'dist'))).toEqual(['viewer']);
    } finally {
      log.mockRestore();
    }
  });
});

describe('nnvis render / compare / view', () => {
  it('renders a PNG of the requested size that is not blank', () => {
    const out = join(dir, 'one.png');
    const r = runCli(['render', net, '-o', out, '--width', '320', '--height', '200', '--camera', '1', '--class', 'all']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*one\.png \(320×200, \d+ kB\) in [\d.]+ s, frame \d+ ms$/m);
    const png = decodePng(readFileSync(out));
    expect([png.width, png.height]).toEqual([320, 200]);
    expect(lumaStdDev(png)).toBeGreaterThan(5);
  });

  it('--antialias reaches the viewer (auto: fxaa on SwiftShader), and the images differ', () => {
    const images = ['auto', 'msaa'].map((mode) => {
      const out = join(dir, `aa-${mode}.png`);
      const r = runCli(['render', net, '-o', out, '--width', '160', '--height', '100', '--antialias', mode, '--verbose']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`antialiasing: ${mode === 'auto' ? 'fxaa' : mode}`);
      return readFileSync(out);
    });
    expect(images[0].equals(images[1])).toBe(false);
  });

  it('--cameras writes one different image per camera (of a processed file)', () => {
    const out = join(dir, 'views.png');
    const r = runCli(['render', processed, '-o', out, '--cameras', '0,1', '--width', '240', '--height', '160']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/^rendering /gm)).toHaveLength(2);
    const [a, b] = ['views-cam0.png', 'views-cam1.png'].map((f) => decodePng(readFileSync(join(dir, f))));
    expect([a.width, a.height, b.width, b.height]).toEqual([240, 160, 240, 160]);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('compare puts the panels side by side with labels underneath', () => {
    const out = join(dir, 'compare.png');
    const r = runCli(['compare', net, processed, net, '--labels', 'untrained,trained,L1', '--width', '200', '--height', '150', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const png = decodePng(readFileSync(out));
    expect(png.width).toBe(600);
    expect(png.height).toBeGreaterThan(150);
    // the label strip holds text: not one flat colour
    const strip = { ...png, height: png.height - 150, pixels: png.pixels.subarray(150 * png.width * png.channels) };
    expect(lumaStdDev(strip)).toBeGreaterThan(1);
  });

  it('view prints a URL and serves the viewer and the file', async () => {
    const child = spawn(process.execPath, ['bin/nnvis.js', 'view', net, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /nnvis viewer: (http:\/\/127\.0\.0\.1:\d+\/\?file=\S+)/.exec(out);
          if (m) ok(m[1]);
        });
        child.on('exit', (code) => fail(new Error(`view exited with ${code}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain('<script type="module"');
      const file = await fetch(new URL(new URL(url).searchParams.get('file')!, url));
      expect(Buffer.from(await file.arrayBuffer()).equals(readFileSync(net))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((ok) => child.on('exit', ok));
    expect(code).toBe(0);
  });

  it('view --side-by-side prints one URL with a file= parameter per file', async () => {
    const child = spawn(process.execPath, ['bin/nnvis.js', 'view', net, processed, '--side-by-side', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    try {
      const url = await new Promise<string>((ok, fail) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /nnvis viewer: (\S+)\n[^]*press Ctrl-C/.exec(out);
          if (m) ok(m[1]);
        });
        child.on('exit', (code) => fail(new Error(`view exited with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?file=\/files\/0\/net\.nnvis&file=\/files\/1\/processed\.nnvis$/);
      expect(out.match(/http:\/\//g)).toHaveLength(1);
      const files = new URL(url).searchParams.getAll('file');
      const second = await fetch(new URL(files[1], url));
      expect(Buffer.from(await second.arrayBuffer()).equals(readFileSync(processed))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await new Promise((ok) => child.on('exit', ok))).toBe(0);
  });

  it('fails cleanly when CHROMIUM_PATH points nowhere', () => {
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    try {
      const line = expectOneLineError(runCli(['render', net, '-o', join(dir, 'x.png')]));
      expect(line).toContain('CHROMIUM_PATH=/nonexistent/chromium: no executable there');
    } finally {
      delete process.env.CHROMIUM_PATH;
    }
  });

  const corrupt = join(dir, 'corrupt.nnvis');
  it.each([
    [['render', 'missing.nnvis', '-o', 'OUT'], 'missing.nnvis: file not found'],
    [['render', corrupt, '-o', 'OUT'], corrupt],
    [['render', net, '-o', 'OUT', '--camera', '12'], '--camera must be an integer in [0, 9]'],
    [['render', net, '-o', 'OUT', '--cameras', '0,10'], '--cameras must be distinct camera presets 0-9'],
    [['render', net, '-o', 'OUT', '--class', '99'], '--class 99: the network has 4 classes; allowed: all, independent or 0-3'],
    [['render', net, '-o', 'OUT', '--class', 'some'], "--class must be 'all'"],
    [['render', net, '-o', 'OUT', '--edges', 'lines'], '--edges must be one of none, sphere, transparent_sphere, transparent_ellipsoid, line, point'],
    [['render', net, '-o', 'OUT', '--nodes', 'cube'], '--nodes must be one of none, sphere, transparent_sphere, point'],
    [['render', net, '-o', 'OUT', '--antialias', 'ssaa'], "--antialias must be one of auto, msaa, fxaa, none; got 'ssaa'"],
    [['compare', net, net, '-o', 'OUT', '--antialias', 'on'], "--antialias must be one of auto, msaa, fxaa, none; got 'on'"],
    [['render', net, '-o', 'OUT', '--width', '0'], '--width must be an integer in [16, 8192]'],
    [['render', net, '-o', 'OUT', '--height', '9000'], '--height must be an integer in [16, 8192]'],
    [['render', net, '-o', 'OUT', '--set', 'edges.size=2'], "'edges.size' = 2 is invalid; allowed: a number in [0, 1]"],
    [['render', net, '-o', 'OUT', '--set', 'class_visibility=class_7'], "rendering key 'class_visibility' = class_7: the network has 4 classes"],
    [['render', net, '-o', join('DIR', 'x.jpg')], 'the output must be a .png file'],
    [['compare', net, '-o', 'OUT'], 'compare needs at least two .nnvis files'],
    [['compare', net, net, '--labels', 'a,b,c', '-o', 'OUT'], '--labels: 3 labels for 2 files'],
    [['view', 'missing.nnvis'], 'missing.nnvis: file not found'],
    [['view', net, '--port', '70000'], '--port must be an integer in [0, 65535]'],
  ])('fails cleanly: %j', (args, text) => {
    const out = mkdtempSync(join(dir, 'out-'));
    const bytes = readFileSync(net);
    writeFileSync(corrupt, bytes.subarray(0, bytes.length - 8));
    const line = expectOneLineError(runCli(args.map((a) => a.replace('OUT', join(out, 'out.png')).replace('DIR', out))));
    expect(line).toContain(text);
    expect(readdirSync(out)).toEqual([]);
  });
});
