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
    conv2dFilterGradient();
    return tf;
  })();
  return ready;
}

/**
 * The wasm backend has no Conv2DBackpropFilter (the gradient of a conv kernel), so training a
 * conv layer would fail. The gradient is itself a convolution, run on XNNPACK: with batch and
 * channels swapped, the padded input convolved with the output gradient as the filter (dilated
 * by the stride) gives ∂w[i, j, c, o] = Σ over batch and pixels of x[s·y + i, s·x + j, c] · dy[y, x, o].
 */
function conv2dFilterGradient(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const kernel = (name: string): tf.KernelFunc => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`the TensorFlow.js WebAssembly backend has no ${name} kernel`);
    return k.kernelFunc;
  };
  const [conv2d, transpose, pad, slice] = ['Conv2D', 'Transpose', 'PadV2', 'Slice'].map(kernel);
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad: padding, filterShape, dataFormat, dilations } = args.attrs as {
      strides: number | [number, number];
      pad: 'same' | 'valid' | number;
      filterShape: [number, number, number, number];
      dataFormat?: string;
      dilations?: number | [number, number];
    };
    const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
    const dilated = dilations !== undefined && (typeof dilations === 'number' ? dilations !== 1 : dilations.some((d) => d !== 1));
    if ((dataFormat !== undefined && dataFormat !== 'NHWC') || typeof padding === 'number' || dilated) {
      throw new Error('Conv2DBackpropFilter on the WebAssembly backend supports NHWC, same/valid padding and dilation 1 only');
    }
    const backend = args.backend;
    const made: tf.TensorInfo[] = [];
    const run = (f: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo => {
      const out = f({ inputs, backend, attrs }) as tf.TensorInfo;
      made.push(out);
      return out;
    };
    const [kh, kw] = filterShape;
    const [, height, width] = x.shape;
    const [, oh, ow] = dy.shape;
    // TF's same padding: the total is split with the odd pixel at the bottom / right
    const padH = padding === 'same' ? Math.max((oh - 1) * sh + kh - height, 0) : 0;
    const padW = padding === 'same' ? Math.max((ow - 1) * sw + kw - width, 0) : 0;
    const padded = padH > 0 || padW > 0 ? run(pad, { x }, { paddings: [[0, 0], [padH >> 1, padH - (padH >> 1)], [padW >> 1, padW - (padW >> 1)], [0, 0]], constantValue: 0 }) : x;
    const xt = run(transpose, { x: padded }, { perm: [3, 1, 2, 0] });
    const dyt = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
    // a stride s spreads dy's pixels s apart: the filter dilated by s
    let r = run(conv2d, { x: xt, filter: dyt }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] } as unknown as tf.NamedAttrMap);
    // rows the stride never reached (valid padding, (h − kh) not a multiple of s) are cut off
    if (r.shape[1] !== kh || r.shape[2] !== kw) r = run(slice, { x: r }, { begin: [0, 0, 0, 0], size: [r.shape[0], kh, kw, r.shape[3]] });
    const dw = transpose({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } }) as tf.TensorInfo;
    for (const t of made) (backend as { disposeData(id: object): void }).disposeData(t.dataId);
    return dw;
  };
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc });
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
