import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * VR controller models (src/viewer/xr.ts): the profiles of @webxr-input-profiles/assets that
 * the viewer ships, copied into webxr-profiles/ of the bundle so nothing comes from a CDN.
 * Only these (each its profile.json and the left/right GLBs it names) and a profilesList.json
 * listing only them: any other controller falls back to the box drawn in xr.ts.
 */
const XR_PROFILES = ['meta-quest-touch-plus', 'oculus-touch-v3', 'generic-trigger-squeeze-thumbstick'];
const XR_PROFILES_DIR = 'webxr-profiles';

function xrProfileFiles(): Map<string, Uint8Array> {
  const root = join(dirname(createRequire(import.meta.url).resolve('@webxr-input-profiles/assets/package.json')), 'dist/profiles');
  const files = new Map<string, Uint8Array>();
  const list: Record<string, { path: string }> = {};
  for (const id of XR_PROFILES) {
    const json = readFileSync(join(root, id, 'profile.json'));
    const profile = JSON.parse(json.toString('utf8')) as { layouts: Record<string, { assetPath?: string }> };
    files.set(`${id}/profile.json`, json);
    for (const hand of ['left', 'right']) {
      const asset = profile.layouts[hand]?.assetPath;
      if (asset) files.set(`${id}/${asset}`, readFileSync(join(root, id, asset)));
    }
    list[id] = { path: `${id}/profile.json` };
  }
  files.set('profilesList.json', new TextEncoder().encode(JSON.stringify(list)));
  return files;
}

function xrProfiles(): Plugin {
  let files: Map<string, Uint8Array> | null = null;
  const load = () => (files ??= xrProfileFiles());
  return {
    name: 'nnvis-xr-profiles',
    generateBundle() {
      for (const [name, source] of load()) this.emitFile({ type: 'asset', fileName: `${XR_PROFILES_DIR}/${name}`, source });
    },
    configureServer(server) {
      server.middlewares.use(`/${XR_PROFILES_DIR}/`, (req, res, next) => {
        const body = load().get(decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\//, '')));
        if (!body) return next();
        res.setHeader('content-type', req.url?.endsWith('.json') ? 'application/json' : 'model/gltf-binary');
        res.end(body);
      });
    },
  };
}

// The browser viewer: a static bundle in dist/viewer with relative URLs, so it can be
// served from any directory (nnvis view, tests) and opened without network access.
export default defineConfig({
  root: fileURLToPath(new URL('./src/viewer', import.meta.url)),
  base: './',
  publicDir: false,
  plugins: [xrProfiles()],
  build: {
    outDir: fileURLToPath(new URL('./dist/viewer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
});
