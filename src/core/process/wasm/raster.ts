// Kernel 'rasterRows', the WebAssembly backend of the quality raster (raster.ts, metrics.ts):
// a lane rasterises the polylines of every gap into the voxel rows y it owns, in its own
// WebAssembly memory, with the class mixes computed on the fly, and writes per-row tallies
// (occupied voxels, dominant-share sum, shares counted) that the caller sums in row order —
// the same result for any number of lanes.
import { laneRange, type KernelArgs } from '../lanes.ts';
import { chunks, chunkSize, layout, wasmKernels } from './module.ts';

export interface RasterLines {
  offsets: Uint32Array;
  points: Float32Array;
  source: Uint32Array;
  target: Uint32Array;
  alpha: Float32Array;
}

export interface RasterArgs {
  /** Per layer gap, in order; edges are numbered across them. */
  lines: RasterLines[];
  nodeMix: Float32Array;
  nodeOverall: Float32Array;
  raw: Float32Array | undefined;
  rawNorm: number;
  type: number;
  C: number;
  origin: [number, number, number];
  /** Voxel side. */
  v: number;
  dims: [number, number, number];
  /** Per row z · ny + y. */
  occupied: Int32Array;
  share: Float32Array;
  counted: Int32Array;
}

function rasterRowsKernel(args: KernelArgs, lane: number, lanes: number): void {
  const wasm = wasmKernels();
  if (!wasm) throw new Error('WebAssembly SIMD is not available');
  const { lines, nodeMix, nodeOverall, raw, rawNorm, type, C, origin, v, dims, occupied, share, counted } = args as RasterArgs;
  const [nx, ny, nz] = dims;
  const [y0, y1] = laneRange(ny, lane, lanes);
  if (y0 === y1) return;
  const cells = nx * (y1 - y0) * nz;
  const Cp = Math.ceil(C / 4) * 4;
  const nodes = nodeOverall.length;
  const chunk = Math.max(...lines.map((l) => chunkSize(l.offsets, 0, l.offsets.length - 1)));
  const ptr = layout(wasm, {
    nodeMix: nodes * Cp * 4,
    nodeOverall: nodes * 4,
    raw: raw ? nodes * Cp * 4 : 0,
    mixA: Cp * 4,
    mixB: Cp * 4,
    lastEdge: cells * 4,
    weights: cells * Cp * 4,
    occupied: ny * nz * 4,
    share: ny * nz * 4,
    counted: ny * nz * 4,
    offsets: (chunk + 1) * 4,
    source: chunk * 4,
    target: chunk * 4,
    alpha: chunk * 4,
    points: chunk * 12,
  });
  const buf = wasm.memory.buffer;
  const f32 = (p: number, n: number) => new Float32Array(buf, p, n);
  const u32 = (p: number, n: number) => new Uint32Array(buf, p, n);
  const padded = (at: number, table: Float32Array) => {
    f32(at, nodes * Cp).fill(0);
    for (let n = 0; n < nodes; n++) f32(at + n * Cp * 4, C).set(table.subarray(n * C, n * C + C));
  };
  padded(ptr.nodeMix, nodeMix);
  if (raw) padded(ptr.raw, raw);
  f32(ptr.nodeOverall, nodes).set(nodeOverall);
  new Int32Array(buf, ptr.lastEdge, cells).fill(-1);
  f32(ptr.weights, cells * Cp).fill(0);
  const mixing = [type, Cp, ptr.nodeMix, ptr.nodeOverall, raw ? ptr.raw : 0, rawNorm];
  let edgeBase = 0;
  for (const { offsets, points, source, target, alpha } of lines) {
    for (const [p0, p1] of chunks(offsets, 0, offsets.length - 1, chunk)) {
      u32(ptr.offsets, p1 - p0 + 1).set(offsets.subarray(p0, p1 + 1));
      u32(ptr.source, p1 - p0).set(source.subarray(p0, p1));
      u32(ptr.target, p1 - p0).set(target.subarray(p0, p1));
      f32(ptr.alpha, p1 - p0).set(alpha.subarray(p0, p1));
      f32(ptr.points, (offsets[p1] - offsets[p0]) * 3).set(points.subarray(offsets[p0] * 3, offsets[p1] * 3));
      wasm.raster(p1 - p0, ptr.offsets, offsets[p0], ptr.points, ptr.source, ptr.target, ptr.alpha, ...mixing, ...origin, v, nx, ny, nz, y0, y1, edgeBase + p0, ptr.lastEdge, ptr.weights, ptr.mixA, ptr.mixB);
    }
    edgeBase += offsets.length - 1;
  }
  wasm.rasterRows(nx, ny, nz, y0, y1, Cp, ptr.lastEdge, ptr.weights, ptr.occupied, ptr.share, ptr.counted);
  // Each z-plane's rows of this lane are one run: [z · ny + y0, z · ny + y1).
  for (let z = 0; z < nz; z++) {
    const at = z * ny + y0;
    const n = y1 - y0;
    occupied.set(new Int32Array(buf, ptr.occupied + at * 4, n), at);
    share.set(new Float32Array(buf, ptr.share + at * 4, n), at);
    counted.set(new Int32Array(buf, ptr.counted + at * 4, n), at);
  }
}

export const RASTER_WASM_KERNELS = { rasterRows: rasterRowsKernel };
