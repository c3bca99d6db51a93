// TensorFlow.js on the WebAssembly backend, with the .wasm files read from node_modules
// (never fetched). Import `tf` from here so every caller gets the same initialised backend.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let ready: Promise<typeof tf> | undefined;

export function initTf(): Promise<typeof tf> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    // Node's worker-based threaded build is not used: each importance class already runs in its own thread.
    setWasmPaths(join(dist, '/'));
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('could not start the TensorFlow.js WebAssembly backend');
    await tf.ready();
    return tf;
  })();
  return ready;
}

export { tf };
