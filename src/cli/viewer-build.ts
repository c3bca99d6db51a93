import { existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './options.ts';

// Everything the bundle is made of; a newer file here means the bundle is stale.
const SOURCES = ['src/viewer', 'src/core', 'vite.config.ts'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file still bumps its directory
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isFresh(repo: string, out: string): boolean {
  const index = join(out, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return SOURCES.every((s) => newestMtime(resolve(repo, s)) <= built);
}

/**
 * The directory of the built viewer, building it first (vite, vite.config.ts) when it is
 * missing or older than its sources, so `nnvis view` works on a fresh clone after
 * `npm install`. Builds into a temp directory and renames it into place, so an interrupted
 * build never leaves a half-written viewer behind.
 */
export async function ensureViewerBuilt(repo = REPO_ROOT): Promise<string> {
  const out = resolve(repo, 'dist/viewer');
  if (isFresh(repo, out)) return out;
  console.error('building the viewer… (once)');
  const { build } = await import('vite');
  const tmp = `${out}.tmp-${process.pid}`;
  const old = `${out}.old-${process.pid}`;
  const started = new Date();
  try {
    await build({
      configFile: resolve(repo, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: tmp, emptyOutDir: true },
    });
    // Stamped with the start: a source saved during the build makes the next run rebuild.
    utimesSync(join(tmp, 'index.html'), started, started);
    if (existsSync(out)) renameSync(out, old);
    renameSync(tmp, out);
  } catch (err) {
    // Another nnvis may have finished the same build first; its result is as good as ours.
    if (!isFresh(repo, out)) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
  return out;
}
