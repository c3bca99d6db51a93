import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser viewer: a static bundle in dist/viewer with relative URLs, so it can be
// served from any directory (nnvis view, tests) and opened without network access.
export default defineConfig({
  root: fileURLToPath(new URL('./src/viewer', import.meta.url)),
  base: './',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('./dist/viewer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
});
