// Kernel 'advect', the WebAssembly backend of one edge advection step of one gap: what
// sampleMix → densityField → gradients → move do in JS (state.ts, edgeAdvect), in one call
// per lane. A lane owns the samples whose cell row y lies in its part of the gap's density
// box and computes the density of those rows, plus a halo of reach + 2 rows, itself, in its
// own WebAssembly memory: lanes share only the input and the moved positions, and every
// cell and sample gets the same arithmetic whatever the number of lanes.
import { laneRange, type KernelArgs } from '../lanes.ts';
import {
  chunks,
  chunkSize,
  copyEdgeLines,
  dropZeroed,
  edgeLineSizes,
  layout,
  nodeTableSizes,
  requireWasm,
  writeNodeTables,
  zeroed,
  type EdgeLines,
  type NodeTables,
  type WasmKernels,
} from './module.ts';

/** The gap's polylines, how to mix their samples' classes, and: */
export interface AdvectArgs extends EdgeLines, NodeTables {
  /** The density box (density.ts, densityBox). */
  cell: number;
  origin: [number, number, number];
  dims: [number, number, number];
  k: Float32Array;
  /** Each sample adds its class share alone (1) or share × importance (0) to the density. */
  share: 0 | 1;
  /** Similarity and signed step length. */
  s: number;
  h: number;
  clampLo: [number, number, number];
  clampHi: [number, number, number];
  /** The new positions: every sample is written by the lane that owns its row. */
  moved: Float32Array;
}

function advectKernel(args: KernelArgs, lane: number, lanes: number): void {
  const wasm = requireWasm();
  try {
    advect(wasm, args as AdvectArgs, lane, lanes);
  } catch (err) {
    dropZeroed();
    throw err;
  }
}

function advect(wasm: WasmKernels, a: AdvectArgs, lane: number, lanes: number): void {
  const { offsets, C, cell, origin, dims, k, share, s, h, clampLo, clampHi, moved } = a;
  const [nx, ny, nz] = dims;
  const reach = (k.length - 1) / 2;
  const [y0, y1] = laneRange(ny, lane, lanes);
  if (y0 === y1) return;
  const ly0 = Math.max(0, y0 - reach - 2);
  const lny = Math.min(ny, y1 + reach + 2) - ly0;
  const rows = lny * nz;
  // Channels padded to whole SIMD vectors, with one spare for |ρ| (see kernels.as.ts, norm).
  const Cp = Math.ceil((C + 1) / 4) * 4;
  const boxBytes = nx * rows * Cp * 4;
  const polys = offsets.length - 1;
  const chunk = chunkSize(offsets, 0, polys);
  // The two density boxes stay zero between calls: each pass clears what the one before wrote.
  const bins = zeroed(wasm, 2 * boxBytes + 16);
  const tmp = bins + Math.ceil(boxBytes / 16) * 16;
  const ptr = layout(wasm, {
    ...nodeTableSizes(a, Cp),
    ...edgeLineSizes(chunk),
    k: k.byteLength,
    spans: rows * 4 * 8,
    outIdx: chunk * 4,
    outPos: chunk * 12,
  });
  const mixing = writeNodeTables(wasm, ptr, a, Cp);
  const buf = wasm.memory.buffer;
  new Float32Array(buf, ptr.k, k.length).set(k);
  const span = (i: number) => ptr.spans + i * rows * 4;
  new Int32Array(buf, span(0), rows).fill(2 ** 30);
  new Int32Array(buf, span(1), rows).fill(-1);
  // The arguments splat and move share after the polylines': the class mixing and the lane's box.
  const box = [...mixing, origin[0], origin[1], origin[2], cell, nx, lny, ly0];
  const parts = chunks(offsets, 0, polys, chunk);
  const copyIn = ([p0, p1]: [number, number]) => copyEdgeLines(wasm, ptr, a, p0, p1);
  for (const part of parts) wasm.splat(...copyIn(part), ...box, bins, span(0), span(1), ptr.mix, share);
  // x pass bins → tmp, y pass tmp → bins, z pass bins → tmp: the field ends in tmp. Before a
  // pass writes a box, the cells the last writer of that box filled are cleared.
  const pass = (from: number, to: number, axis: number, spans: number) => {
    wasm.passSpans(span(spans - 2), span(spans - 1), span(spans), span(spans + 1), nx, lny, nz, axis, reach);
    wasm.convolve(from, to, nx, lny, nz, axis, ptr.k, k.length, Cp, span(spans), span(spans + 1));
  };
  pass(bins, tmp, 0, 2);
  wasm.clearSpans(bins, nx, rows, Cp, span(0), span(1));
  pass(tmp, bins, 1, 4);
  wasm.clearSpans(tmp, nx, rows, Cp, span(2), span(3));
  pass(bins, tmp, 2, 6);
  wasm.norm(tmp, nx, rows, Cp, C, span(6), span(7));
  const outIdx = new Uint32Array(buf, ptr.outIdx, chunk);
  const outPos = new Float32Array(buf, ptr.outPos, chunk * 3);
  for (const part of parts) {
    const n = wasm.move(...copyIn(part), ...box, y0, y1, tmp, C, s, h, ...clampLo, ...clampHi, ptr.mix, ptr.outIdx, ptr.outPos);
    const base = offsets[part[0]] * 3;
    for (let i = 0; i < n; i++) {
      const o = base + outIdx[i] * 3;
      moved[o] = outPos[i * 3];
      moved[o + 1] = outPos[i * 3 + 1];
      moved[o + 2] = outPos[i * 3 + 2];
    }
  }
  wasm.clearSpans(bins, nx, rows, Cp, span(4), span(5));
  wasm.clearSpans(tmp, nx, rows, Cp, span(6), span(7));
}

export const ADVECT_KERNELS = { advect: advectKernel };
