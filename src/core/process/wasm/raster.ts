// Kernel 'rasterRows', the WebAssembly backend of the quality raster (raster.ts, metrics.ts):
// a lane rasterises the polylines of every gap into the voxel rows y it owns, in its own
// WebAssembly memory, with the class mixes computed on the fly, and writes per-row tallies
// (occupied voxels, dominant-share sum, shares counted) that the caller sums in row order —
// the same result for any number of lanes.
import { laneRange, type KernelArgs } from '../lanes.ts';
import { chunks, chunkSize, copyEdgeLines, edgeLineSizes, layout, nodeTableSizes, requireWasm, writeNodeTables, type EdgeLines, type NodeTables } from './module.ts';

export interface RasterArgs extends NodeTables {
  /** Per layer gap, in order; edges are numbered across them. */
  lines: EdgeLines[];
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
  const wasm = requireWasm();
  const a = args as RasterArgs;
  const { lines, C, origin, v, dims, occupied, share, counted } = a;
  const [nx, ny, nz] = dims;
  const [y0, y1] = laneRange(ny, lane, lanes);
  if (y0 === y1) return;
  const cells = nx * (y1 - y0) * nz;
  const Cp = Math.ceil(C / 4) * 4;
  const chunk = Math.max(...lines.map((l) => chunkSize(l.offsets, 0, l.offsets.length - 1)));
  const ptr = layout(wasm, {
    ...nodeTableSizes(a, Cp),
    ...edgeLineSizes(chunk),
    lastEdge: cells * 4,
    weights: cells * Cp * 4,
    occupied: ny * nz * 4,
    share: ny * nz * 4,
    counted: ny * nz * 4,
  });
  const mixing = writeNodeTables(wasm, ptr, a, Cp);
  const buf = wasm.memory.buffer;
  new Int32Array(buf, ptr.lastEdge, cells).fill(-1);
  new Float32Array(buf, ptr.weights, cells * Cp).fill(0);
  let edgeBase = 0;
  for (const l of lines) {
    for (const [p0, p1] of chunks(l.offsets, 0, l.offsets.length - 1, chunk)) {
      wasm.raster(...copyEdgeLines(wasm, ptr, l, p0, p1), ...mixing, ...origin, v, nx, ny, nz, y0, y1, edgeBase + p0, ptr.lastEdge, ptr.weights, ptr.mix, ptr.mixB);
    }
    edgeBase += l.offsets.length - 1;
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
