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
    // The threaded build cannot start in Node (its pthreads are Workers made from a blob: URL,
    // which Node refuses: ERR_WORKER_PATH); importance spreads its classes over worker threads instead.
    setWasmPaths(join(dist, '/'));
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('could not start the TensorFlow.js WebAssembly backend');
    await tf.ready();
    if (!process.env.NNVIS_SLOW_MATMUL) fastTransposedMatMul(); // TEMP
    return tf;
  })();
  return ready;
}

/**
 * The wasm BatchMatMul runs XNNPACK only for untransposed operands; with transposeA or
 * transposeB (as in every matMul gradient: dy·bᵀ and aᵀ·dy) it falls back to a naive loop,
 * about 10× slower (128×81 · (784×81)ᵀ: 14 ms against 1.5 ms). This wrapper transposes
 * 2-D operands explicitly first, so those products run on XNNPACK too. Same products, other
 * summation order: results differ in float rounding only, and stay deterministic.
 */
function fastTransposedMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original as { fastTransposed?: boolean }).fastTransposed) return;
  const matMul = original.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if ((!transposeA && !transposeB) || a.shape.length !== 2 || b.shape.length !== 2) return matMul(args);
    const backend = args.backend as { disposeData(id: object): void };
    const made: tf.TensorInfo[] = [];
    const t = (x: tf.TensorInfo): tf.TensorInfo => {
      const y = transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm: [1, 0] } }) as tf.TensorInfo;
      made.push(y);
      return y;
    };
    const out = matMul({ ...args, inputs: { a: transposeA ? t(a) : a, b: transposeB ? t(b) : b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    for (const y of made) backend.disposeData(y.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc, fastTransposed: true } as tf.KernelConfig);
}

export { tf };
