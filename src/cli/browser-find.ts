import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { InputError } from '../core/errors.ts';
import { fontDir } from './fonts.ts';
import { packageDir } from './packages.ts';

// Which Chromium renders. In order: CHROMIUM_PATH; an installed Chrome / Chromium / Edge;
// the headless Chromium packed inside the optional npm package @sparticuz/chromium (Linux
// x64), unpacked once into a private cache. NNVIS_BROWSER=system or =bundled limits the
// search to one of the two (tests use it to prove the fallback).

export interface BrowserChoice {
  executablePath: string;
  /** How it was found, for --verbose: "CHROMIUM_PATH", "installed", "bundled (@sparticuz/chromium 153.0.0)". */
  source: string;
  /** Environment for the browser process (fonts). */
  env: Record<string, string>;
}

export const BROWSER_HELP =
  'Browser: $CHROMIUM_PATH if set; else an installed Chrome, Chromium or Edge; else the headless ' +
  'Chromium shipped in the npm package @sparticuz/chromium (Linux x64; unpacked once under ' +
  'node_modules/.cache/nnvis). NNVIS_BROWSER=system|bundled limits the search to one kind. ' +
  'Text is drawn with the DejaVu fonts of the npm package dejavu-fonts-ttf.';

function installedCandidates(): string[] {
  if (process.platform === 'darwin') {
    return [
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
      '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
      join(homedir(), 'Applications/Google Chrome.app/Contents/MacOS/Google Chrome'),
    ];
  }
  if (process.platform === 'win32') {
    const roots = [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA].filter((r): r is string => !!r);
    return roots.flatMap((r) => [
      join(r, 'Google', 'Chrome', 'Application', 'chrome.exe'),
      join(r, 'Chromium', 'Application', 'chrome.exe'),
      join(r, 'Microsoft', 'Edge', 'Application', 'msedge.exe'),
    ]);
  }
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
    '/usr/bin/microsoft-edge',
    '/snap/bin/chromium',
  ];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds a browser (see the comment above); unpacks the bundled one on first use. */
export function findBrowser(): BrowserChoice {
  const env = fontEnv();
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new InputError(`CHROMIUM_PATH=${fromEnv}: no executable there; point it at a Chrome or Chromium binary, or unset it`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH', env };
  }
  const only = process.env.NNVIS_BROWSER ?? '';
  if (!['', 'system', 'bundled'].includes(only)) throw new InputError(`NNVIS_BROWSER=${only}: allowed are system or bundled (or unset for both)`);
  if (only !== 'bundled') {
    const installed = installedCandidates().find(isExecutable);
    if (installed) return { executablePath: installed, source: 'installed', env };
  }
  if (only !== 'system') {
    const bundled = bundledBrowser();
    if (bundled) return { ...bundled, env };
  }
  throw new InputError(
    only === 'system'
      ? 'no installed Chrome, Chromium or Edge found (NNVIS_BROWSER=system); install one, set CHROMIUM_PATH, or unset NNVIS_BROWSER'
      : 'no browser found: install Chrome or Chromium, set CHROMIUM_PATH, or run npm install (the optional package @sparticuz/chromium ships one for Linux x64)',
  );
}

/** A writable cache folder: node_modules/.cache/nnvis beside the package, else ~/.cache/nnvis. */
function cacheRoot(pkgDir: string): string {
  const nodeModules = pkgDir.slice(0, pkgDir.lastIndexOf('node_modules') + 'node_modules'.length);
  for (const root of [join(nodeModules, '.cache', 'nnvis'), join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nnvis')]) {
    try {
      mkdirSync(root, { recursive: true, mode: 0o700 });
      accessSync(root, constants.W_OK);
      return root;
    } catch {
      // try the next one
    }
  }
  throw new InputError(`cannot unpack the bundled Chromium: neither ${join(nodeModules, '.cache')} nor ~/.cache is writable; set CHROMIUM_PATH instead`);
}

/**
 * The Chromium of @sparticuz/chromium, unpacked (brotli, tar) into the cache on first use:
 * into a temp folder renamed into place, so concurrent first runs never see half a binary.
 */
function bundledBrowser(): Omit<BrowserChoice, 'env'> | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const pkgDir = packageDir('@sparticuz/chromium');
  if (!pkgDir) return undefined;
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const source = `bundled (@sparticuz/chromium ${version})`;
  const dir = join(cacheRoot(pkgDir), `chromium-${version}`);
  const executablePath = join(dir, 'chromium');
  if (isExecutable(executablePath)) return { executablePath, source };
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    writeFileSync(join(tmp, 'chromium'), brotliDecompressSync(readFileSync(join(pkgDir, 'bin', 'chromium.br'))), { mode: 0o700 });
    // SwiftShader (software WebGL) must lie beside the binary.
    for (const [name, bytes] of untar(brotliDecompressSync(readFileSync(join(pkgDir, 'bin', 'swiftshader.tar.br'))))) {
      writeFileSync(join(tmp, name), bytes, { mode: 0o700 });
    }
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process unpacked it first: use theirs.
      if (!isExecutable(executablePath)) throw err;
    }
  } catch (err) {
    throw new InputError(`cannot unpack the bundled Chromium into ${dir}: ${(err as Error).message.split('\n')[0]}; set CHROMIUM_PATH instead`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { executablePath, source };
}

/** Regular files of a ustar archive with plain names (no folders, no links, no paths). */
function untar(tar: Uint8Array): [string, Uint8Array][] {
  const files: [string, Uint8Array][] = [];
  const text = (a: number, b: number) => new TextDecoder().decode(tar.subarray(a, b)).replace(/\0.*$/s, '').trim();
  for (let at = 0; at + 512 <= tar.length; ) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    const name = text(at, at + 100);
    const size = parseInt(text(at + 124, at + 136) || '0', 8);
    const type = String.fromCharCode(tar[at + 156]);
    if (!Number.isFinite(size) || at + 512 + size > tar.length) throw new Error('the packed SwiftShader archive is damaged');
    if ((type === '0' || type === '\0') && /^[\w.-]+$/.test(name)) files.push([name, tar.slice(at + 512, at + 512 + size)]);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * Fontconfig pointed at the DejaVu fonts of the npm package only, so labels look the same on
 * every machine and need no system fonts (Linux browsers read FONTCONFIG_FILE).
 */
function fontEnv(): Record<string, string> {
  if (process.platform !== 'linux') return {};
  const fonts = fontDir();
  const root = cacheRoot(fonts);
  const conf = `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${fonts}</dir>\n  <cachedir>${join(root, 'fontconfig')}</cachedir>\n</fontconfig>\n`;
  const file = join(root, `fonts-${createHash('sha1').update(conf).digest('hex').slice(0, 12)}.conf`);
  if (!existsSync(file)) {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, conf);
    renameSync(tmp, file);
  }
  return { FONTCONFIG_FILE: file };
}
