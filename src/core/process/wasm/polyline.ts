// The WebAssembly backends of the polyline kernels 'smooth', 'polylineCounts' and
// 'resample' (polyline.ts): same arguments, same partition (a lane takes a range of
// polylines). Re-sampling does the same f64 arithmetic as JS, so its results are equal;
// smoothing (alone, or right after re-sampling) sums points as SIMD vectors in f32.
import { laneRange, type KernelArgs } from '../lanes.ts';
import { longestPolyline, type CountsArgs, type ResampleArgs, type SmoothArgs } from '../polyline.ts';
import { chunks, chunkSize, layout, requireWasm } from './module.ts';

function smoothKernel(args: KernelArgs, lane: number, lanes: number): void {
  const wasm = requireWasm();
  const { offsets, points, out, passes, bandwidthRatio } = args as SmoothArgs;
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  const chunk = chunkSize(offsets, p0, p1);
  const longest = longestPolyline(offsets, p0, p1);
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

function polylineCountsKernel(args: KernelArgs, lane: number, lanes: number): void {
  const wasm = requireWasm();
  const { offsets, points, spacing, maxPoints, counts } = args as CountsArgs;
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  const chunk = chunkSize(offsets, p0, p1);
  const ptr = layout(wasm, { offsets: (chunk + 1) * 4, points: chunk * 12, counts: chunk * 4 });
  const buf = wasm.memory.buffer;
  for (const [a, b] of chunks(offsets, p0, p1, chunk)) {
    new Uint32Array(buf, ptr.offsets, b - a + 1).set(offsets.subarray(a, b + 1));
    new Float32Array(buf, ptr.points, (offsets[b] - offsets[a]) * 3).set(points.subarray(offsets[a] * 3, offsets[b] * 3));
    wasm.polylineCounts(b - a, ptr.offsets, offsets[a], ptr.points, spacing, maxPoints, ptr.counts);
    counts.set(new Uint32Array(buf, ptr.counts, b - a), a);
  }
}

function resampleKernel(args: KernelArgs, lane: number, lanes: number): void {
  const wasm = requireWasm();
  const { offsets, points, spacing, outOffsets, out, passes, bandwidthRatio } = args as ResampleArgs;
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  const chunk = chunkSize(offsets, p0, p1, outOffsets);
  const longest = longestPolyline(outOffsets, p0, p1);
  const ptr = layout(wasm, { offsets: (chunk + 1) * 4, points: chunk * 12, outOffsets: (chunk + 1) * 4, out: chunk * 12, a: longest * 16, b: longest * 16 });
  const buf = wasm.memory.buffer;
  for (const [a, b] of chunks(offsets, p0, p1, chunk, outOffsets)) {
    new Uint32Array(buf, ptr.offsets, b - a + 1).set(offsets.subarray(a, b + 1));
    new Float32Array(buf, ptr.points, (offsets[b] - offsets[a]) * 3).set(points.subarray(offsets[a] * 3, offsets[b] * 3));
    new Uint32Array(buf, ptr.outOffsets, b - a + 1).set(outOffsets.subarray(a, b + 1));
    wasm.resample(b - a, ptr.offsets, offsets[a], ptr.points, spacing, ptr.outOffsets, outOffsets[a], ptr.out, passes, bandwidthRatio, ptr.a, ptr.b);
    out.set(new Float32Array(buf, ptr.out, (outOffsets[b] - outOffsets[a]) * 3), outOffsets[a] * 3);
  }
}

export const POLYLINE_WASM_KERNELS = { smooth: smoothKernel, polylineCounts: polylineCountsKernel, resample: resampleKernel };
