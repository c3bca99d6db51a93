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
    fastTransposedMatMul();
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

/**
 * A float32 tensor whose values are rewritten in place, for inputs uploaded anew every step:
 * on the WebAssembly backend they are written straight into the tensor's memory (an upload
 * costs a malloc and a copy, about as much as the product it feeds). Only for tensors read as
 * plain inputs: kernels that cache by tensor (XNNPACK's packed weights) would not see the change.
 * Elsewhere, or without the backend's internals, `fill` makes a new tensor.
 */
export class StagedTensor {
  private current: tf.Tensor;
  private readonly values: Float32Array;

  constructor(
    private readonly tfjs: typeof tf,
    readonly shape: number[],
  ) {
    this.current = tfjs.zeros(shape);
    this.values = new Float32Array(this.current.size);
  }

  get tensor(): tf.Tensor {
    return this.current;
  }

  /** Lets write() set every value (the array starts with the previous ones) and returns the tensor. */
  fill(write: (values: Float32Array) => void): tf.Tensor {
    const heap = this.heapView();
    if (heap) {
      write(heap);
      return this.current;
    }
    write(this.values);
    this.current.dispose();
    this.current = this.tfjs.tensor(this.values, this.shape);
    return this.current;
  }

  dispose(): void {
    this.current.dispose();
  }

  private heapView(): Float32Array | undefined {
    const backend = this.tfjs.backend() as unknown as {
      dataIdMap?: { get(id: object): { memoryOffset?: number | null } | undefined };
      wasm?: { HEAPF32?: Float32Array };
    };
    const offset = backend.dataIdMap?.get(this.current.dataId)?.memoryOffset;
    const heap = backend.wasm?.HEAPF32;
    if (this.tfjs.getBackend() !== 'wasm' || offset == null || !heap) return undefined;
    // the heap's views are replaced when the WebAssembly memory grows: take it anew each time
    return new Float32Array(heap.buffer, offset, this.current.size);
  }
}

export { tf };
