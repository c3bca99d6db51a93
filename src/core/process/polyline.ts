import { laneRange, type Kernel, type KernelArgs, type Lanes } from './lanes.ts';

// Edge polylines as one flat set: polyline i owns points [offsets[i], offsets[i+1]) of
// `points` (x, y, z each). Every function returns a new set or fills a given buffer;
// end points are never moved.

/** |(x, y, z)|; Math.hypot is several times slower in the hot loops. */
export function length3(x: number, y: number, z: number): number {
  return Math.sqrt(x * x + y * y + z * z);
}

export interface PolylineSet {
  offsets: Uint32Array;
  points: Float32Array;
}

/** Straight polylines from `from[i]` to `to[i]` (node indices into `positions`), evenly sampled at ≤ `spacing`. */
export function straightPolylines(
  positions: Float32Array,
  from: Uint32Array,
  to: Uint32Array,
  spacing: number,
): PolylineSet {
  const n = from.length;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const a = from[i] * 3;
    const b = to[i] * 3;
    const len = length3(positions[b] - positions[a], positions[b + 1] - positions[a + 1], positions[b + 2] - positions[a + 2]);
    offsets[i + 1] = offsets[i] + Math.max(2, Math.ceil(len / spacing - 1e-9) + 1);
  }
  const points = new Float32Array(offsets[n] * 3);
  for (let i = 0; i < n; i++) {
    const a = from[i] * 3;
    const b = to[i] * 3;
    const m = offsets[i + 1] - offsets[i];
    for (let j = 0; j < m; j++) {
      const t = j / (m - 1);
      const o = (offsets[i] + j) * 3;
      for (let d = 0; d < 3; d++) points[o + d] = positions[a + d] + t * (positions[b + d] - positions[a + d]);
    }
  }
  return { offsets, points };
}

/**
 * Re-samples every polyline at arc-length `spacing` from its start; a last piece shorter
 * than half the spacing is merged into the one before (docs/METHOD.md §4.8), so every piece but the
 * last spans exactly `spacing` of the old polyline and the last spans [0.5, 1.5) of it.
 * A polyline keeps at most `maxPoints` points, as in nn_vis (pointCap): the rest of a longer
 * one is cut short to its end point, which bounds the memory of a run whatever the bundles do.
 */
export function resamplePolylines(set: PolylineSet, spacing: number, maxPoints: number, lanes?: Lanes, smoothing?: Smoothing): PolylineSet {
  const { offsets, points } = set;
  const n = offsets.length - 1;
  const outOffsets = lanes ? lanes.u32(n + 1) : new Uint32Array(n + 1);
  // Each lane writes its polylines' point counts to outOffsets[i + 1]; summed up they are the offsets.
  run(lanes, 'polylineCounts', { offsets, points, spacing, maxPoints, counts: outOffsets.subarray(1) });
  for (let i = 0; i < n; i++) outOffsets[i + 1] += outOffsets[i];
  const out = lanes ? lanes.f32(outOffsets[n] * 3) : new Float32Array(outOffsets[n] * 3);
  run(lanes, 'resample', { offsets, points, spacing, outOffsets, out, passes: smoothing?.passes ?? 0, bandwidthRatio: smoothing?.bandwidthRatio ?? 1 });
  return { offsets: outOffsets, points: out };
}

/** The points a polyline keeps at most, given the longest straight edge: ⌊5 · longest / sample_length⌋ (nn_vis' buffer size, less its two spare slots), at least 2. */
export function pointCap(longest: number, sampleLength: number): number {
  return Math.max(2, Math.floor((5 * longest) / sampleLength));
}

/** Smoothing to apply right after re-sampling, in the same pass over the polylines: smoothPolylines' arguments. */
export interface Smoothing {
  passes: number;
  bandwidthRatio: number;
}

/** Runs a kernel of this file on `lanes`, or on this thread as the only lane without them. */
function run(lanes: Lanes | undefined, name: string, args: KernelArgs): void {
  if (lanes) lanes.run(name, args);
  else POLYLINE_KERNELS[name](args, 0, 1);
}

/** Arguments of the polyline kernels (JS here, WebAssembly in wasm/polyline.ts). */
export interface CountsArgs {
  offsets: Uint32Array;
  points: Float32Array;
  spacing: number;
  maxPoints: number;
  /** Out: the re-sampled point count of each polyline. */
  counts: Uint32Array;
}

export interface ResampleArgs extends Smoothing {
  offsets: Uint32Array;
  points: Float32Array;
  spacing: number;
  outOffsets: Uint32Array;
  out: Float32Array;
}

export interface SmoothArgs extends Smoothing {
  offsets: Uint32Array;
  points: Float32Array;
  out: Float32Array;
}

function polylineCountsKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { offsets, points, spacing, maxPoints, counts } = a as CountsArgs;
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  for (let i = p0; i < p1; i++) counts[i] = Math.min(maxPoints, pointCount(polylineLength(points, offsets[i], offsets[i + 1]), spacing));
}

/** Re-samples a lane's range of polylines, then smooths each (`passes` > 0) while it is in cache. */
function resampleKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { offsets, points, spacing, outOffsets, out, passes, bandwidthRatio } = a as ResampleArgs;
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  const scratch = smoothScratch(outOffsets, p0, p1);
  for (let i = p0; i < p1; i++) {
    walk(points, offsets[i], offsets[i + 1], spacing, outOffsets[i + 1] - outOffsets[i], out, outOffsets[i]);
    if (passes > 0) smoothOne(out, out, outOffsets[i], outOffsets[i + 1], passes, bandwidthRatio, scratch);
  }
}

function pointCount(length: number, spacing: number): number {
  const whole = Math.floor(length / spacing);
  const rest = length - whole * spacing;
  // pieces of `spacing`, plus the rest when it is long enough to stand alone
  const pieces = Math.max(1, rest >= spacing / 2 || whole === 0 ? whole + 1 : whole);
  return pieces + 1;
}

function walk(src: Float32Array, start: number, end: number, spacing: number, count: number, out: Float32Array, at: number): void {
  const first = start * 3;
  const last = (end - 1) * 3;
  out.set(src.subarray(first, first + 3), at * 3);
  let seg = start;
  let segStartDist = 0;
  let segLen = distance(src, seg, seg + 1);
  for (let k = 1; k < count - 1; k++) {
    const target = k * spacing;
    while (segStartDist + segLen < target && seg + 2 < end) {
      segStartDist += segLen;
      seg++;
      segLen = distance(src, seg, seg + 1);
    }
    const t = segLen > 0 ? Math.min(1, (target - segStartDist) / segLen) : 0;
    const a = seg * 3;
    const o = (at + k) * 3;
    for (let d = 0; d < 3; d++) out[o + d] = src[a + d] + t * (src[a + 3 + d] - src[a + d]);
  }
  out.set(src.subarray(last, last + 3), (at + count - 1) * 3);
}

function distance(p: Float32Array, i: number, j: number): number {
  return length3(p[j * 3] - p[i * 3], p[j * 3 + 1] - p[i * 3 + 1], p[j * 3 + 2] - p[i * 3 + 2]);
}

/** Points of the longest of polylines [p0, p1). */
export function longestPolyline(offsets: Uint32Array, p0: number, p1: number): number {
  let longest = 0;
  for (let i = p0; i < p1; i++) longest = Math.max(longest, offsets[i + 1] - offsets[i]);
  return longest;
}

export function polylineLength(points: Float32Array, start: number, end: number): number {
  let len = 0;
  for (let i = start; i + 1 < end; i++) len += distance(points, i, i + 1);
  return len;
}

/** Smoothing radius (docs/METHOD.md §4.8): max(1, samples · 8 · bandwidth ratio / 100) points along the polyline. */
export function smoothingRadius(pointCount: number, bandwidthRatio: number): number {
  return Math.max(1, Math.floor((pointCount * 8 * bandwidthRatio) / 100));
}

/**
 * Laplacian smoothing, `passes` times: each inner point becomes the mean of the points
 * within `smoothingRadius` steps along its polyline, itself included (without it a zigzag
 * would only flip sides). Jacobi: every pass reads the previous one, so the result does
 * not depend on the order of the points. Returns a new set (or fills `lanes` arrays).
 */
export function smoothPolylines(set: PolylineSet, passes: number, bandwidthRatio: number, lanes?: Lanes): PolylineSet {
  const out = lanes ? lanes.f32(set.points.length) : new Float32Array(set.points.length);
  run(lanes, 'smooth', { offsets: set.offsets, points: set.points, out, passes, bandwidthRatio });
  return { offsets: set.offsets, points: out };
}

/** A lane smooths a range of polylines. */
function smoothKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { offsets, points, out, passes, bandwidthRatio } = a as SmoothArgs;
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  const scratch = smoothScratch(offsets, p0, p1);
  for (let i = p0; i < p1; i++) smoothOne(points, out, offsets[i], offsets[i + 1], passes, bandwidthRatio, scratch);
}

/** Two buffers for the longest of polylines [p0, p1): all passes of one polyline run on them, in cache. */
function smoothScratch(offsets: Uint32Array, p0: number, p1: number): [Float64Array, Float64Array] {
  const longest = longestPolyline(offsets, p0, p1);
  return [new Float64Array(longest * 3), new Float64Array(longest * 3)];
}

/** Smooths the polyline of points [start, end) of `points` into the same slots of `out` (which may be `points`). */
function smoothOne(points: Float32Array, out: Float32Array, start: number, end: number, passes: number, bandwidthRatio: number, scratch: [Float64Array, Float64Array]): void {
  const base = start * 3;
  const m = end - start;
  if (out !== points) out.set(points.subarray(base, base + m * 3), base);
  if (m < 3) return;
  const r = smoothingRadius(m, bandwidthRatio);
  let [src, dst] = scratch;
  for (let k = 0; k < m * 3; k++) src[k] = points[base + k];
  dst.set(src.subarray(0, m * 3));
  for (let pass = 0; pass < passes; pass++) {
    for (let p = 1; p < m - 1; p++) {
      const lo = Math.max(0, p - r);
      const hi = Math.min(m - 1, p + r);
      let x = 0;
      let y = 0;
      let z = 0;
      for (let q = lo; q <= hi; q++) {
        x += src[q * 3];
        y += src[q * 3 + 1];
        z += src[q * 3 + 2];
      }
      const inv = 1 / (hi - lo + 1);
      dst[p * 3] = x * inv;
      dst[p * 3 + 1] = y * inv;
      dst[p * 3 + 2] = z * inv;
    }
    [src, dst] = [dst, src];
  }
  for (let k = 3; k < (m - 1) * 3; k++) out[base + k] = src[k];
}

export const POLYLINE_KERNELS: Record<string, Kernel> = { polylineCounts: polylineCountsKernel, resample: resampleKernel, smooth: smoothKernel };
