// The WebAssembly backend of kernel 'smooth' (polyline.ts, smoothKernel): same arguments,
// same partition (a lane smooths a range of polylines), points as SIMD vectors.
import { laneRange, type KernelArgs } from '../lanes.ts';
import { CHUNK_POINTS, chunks, layout, wasmKernels } from './module.ts';

function smoothKernel(args: KernelArgs, lane: number, lanes: number): void {
  const wasm = wasmKernels();
  if (!wasm) throw new Error('WebAssembly SIMD is not available');
  const { offsets, points, out, passes, bandwidthRatio } = args as { offsets: Uint32Array; points: Float32Array; out: Float32Array; passes: number; bandwidthRatio: number };
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  let chunk = CHUNK_POINTS;
  for (let i = p0; i < p1; i++) chunk = Math.max(chunk, offsets[i + 1] - offsets[i]);
  let longest = 0;
  for (let i = p0; i < p1; i++) longest = Math.max(longest, offsets[i + 1] - offsets[i]);
  const ptr = layout(wasm, { offsets: (chunk + 1) * 4, points: chunk * 12, out: chunk * 12, a: longest * 16, b: longest * 16 });
  const buf = wasm.memory.buffer;
  for (const [a, b] of chunks(offsets, p0, p1, chunk)) {
    const n = (offsets[b] - offsets[a]) * 3;
    new Uint32Array(buf, ptr.offsets, b - a + 1).set(offsets.subarray(a, b + 1));
    new Float32Array(buf, ptr.points, n).set(points.subarray(offsets[a] * 3, offsets[b] * 3));
    wasm.smooth(b - a, ptr.offsets, offsets[a], ptr.points, ptr.out, passes, bandwidthRatio, ptr.a, ptr.b);
    out.set(new Float32Array(buf, ptr.out, n), offsets[a] * 3);
  }
}

export const SMOOTH_KERNELS = { smooth: smoothKernel };
