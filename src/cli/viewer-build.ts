import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './options.ts';

export const VIEWER_DIR = resolve(REPO_ROOT, 'dist/viewer');
// Everything the bundle is made of; a newer file here means the bundle is stale.
const SOURCES = ['src/viewer', 'src/core', 'vite.config.ts'].map((p) => resolve(REPO_ROOT, p));

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file still bumps its directory
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isFresh(): boolean {
  const index = join(VIEWER_DIR, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return SOURCES.every((s) => newestMtime(s) <= built);
}

/**
 * The directory of the built viewer, building it first (vite, vite.config.ts) when it is
 * missing or older than its sources, so `nnvis view` works on a fresh clone after
 * `npm install`. Builds into a temp directory and renames it into place, so an interrupted
 * build never leaves a half-written viewer behind.
 */
export async function ensureViewerBuilt(): Promise<string> {
  if (isFresh()) return VIEWER_DIR;
  console.error('building the viewer… (once)');
  const { build } = await import('vite');
  const tmp = `${VIEWER_DIR}.tmp-${process.pid}`;
  const old = `${VIEWER_DIR}.old-${process.pid}`;
  try {
    await build({
      configFile: resolve(REPO_ROOT, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: tmp, emptyOutDir: true },
    });
    if (existsSync(VIEWER_DIR)) renameSync(VIEWER_DIR, old);
    renameSync(tmp, VIEWER_DIR);
  } catch (err) {
    // Another nnvis may have finished the same build first; its result is as good as ours.
    if (!isFresh()) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
  return VIEWER_DIR;
}
