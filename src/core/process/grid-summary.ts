// A coarse, displayable summary of the edge density the engine works with: every layer
// gap's class-aware field (gapDensity, at the current edge bandwidth) resampled into one box
// over the whole network, at most `maxCells` cells per axis. The viewer draws it as the
// density grid (cubes or points); the engine's own grids (~2 M cells per gap) are far too
// fine to draw.
import type { Field } from './density.ts';
import { bandwidthAt } from './params.ts';
import type { PolylineSet } from './polyline.ts';
import { gapDensity, gapSampleMix, type Gap, type ProcessingState } from './state.ts';

export interface DensitySummary {
  /** World position of the corner of cell (0, 0, 0). */
  origin: [number, number, number];
  /** Side of a (cubic) cell. */
  cell: number;
  /** Cells per axis (x fastest); [0, 0, 0] when there are no edges. */
  dims: [number, number, number];
  /** Per cell the largest |ρ| of the fine cells whose centre falls in it, divided by the largest of all: 0..1. */
  density: Float32Array;
  /** Per cell the class with the largest summed density channel (0 where the cell is empty). */
  dominant: Uint8Array;
}

export interface SummaryOptions {
  /**
   * Polylines to summarise instead of the state's, in the container layout (E + 1 offsets,
   * pruned edges empty): e.g. a processed file the viewer shows but the engine did not make.
   */
  lines?: { edgeSampleOffsets: Uint32Array; edgeSamples: Float32Array };
  /** Kernel bandwidth instead of the current edge bandwidth (still at least the limit). */
  bandwidth?: number;
}

/** The gaps to summarise: the state's, or its grids with the given polylines' non-empty edges. */
function gapsOf(state: ProcessingState, lines: SummaryOptions['lines']): Gap[] {
  if (!lines) return state.gaps;
  const { edgeSampleOffsets: o, edgeSamples } = lines;
  let first = 0;
  return state.gaps.map((gap, k) => {
    const count = state.net.layers[k] * state.net.layers[k + 1];
    const edges: number[] = [];
    for (let e = first; e < first + count && e + 1 < o.length; e++) if (o[e + 1] - o[e] >= 2) edges.push(e);
    first += count;
    const offsets = new Uint32Array(edges.length + 1);
    let total = 0;
    edges.forEach((e, i) => (offsets[i + 1] = total += o[e + 1] - o[e]));
    const points = new Float32Array(total * 3);
    edges.forEach((e, i) => points.set(edgeSamples.subarray(o[e] * 3, o[e + 1] * 3), offsets[i] * 3));
    const set: PolylineSet = { offsets, points };
    return {
      edges: Uint32Array.from(edges),
      source: Uint32Array.from(edges, (e) => state.source[e]),
      target: Uint32Array.from(edges, (e) => state.target[e]),
      alpha: Float32Array.from(edges, (e) => state.net.edgeImportance![e]),
      lines: set,
      grid: gap.grid,
    };
  });
}

export function densitySummary(state: ProcessingState, maxCells = 48, options: SummaryOptions = {}): DensitySummary {
  const p = state.params;
  const h = Math.max(p.limit, options.bandwidth ?? bandwidthAt(p.edgeBandwidth0, p.edgeReduction, state.edgeIteration));
  const C = state.nodes.classes;
  const fields: Field[] = [];
  for (const gap of gapsOf(state, options.lines)) {
    if (gap.edges.length === 0) continue;
    fields.push(gapDensity(state, gap, h, gapSampleMix(state, gap, gap.lines)));
  }
  if (fields.length === 0) return { origin: [0, 0, 0], cell: 0, dims: [0, 0, 0], density: new Float32Array(0), dominant: new Uint8Array(0) };

  // One box around every field, cut into cubic cells: the longest axis gets maxCells.
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const f of fields) {
    for (let d = 0; d < 3; d++) {
      lo[d] = Math.min(lo[d], f.origin[d]);
      hi[d] = Math.max(hi[d], f.origin[d] + f.dims[d] * f.cell);
    }
  }
  const n = Math.max(1, Math.floor(maxCells));
  const cell = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / n;
  const dims = [0, 1, 2].map((d) => Math.min(n, Math.max(1, Math.ceil((hi[d] - lo[d]) / cell - 1e-6)))) as [number, number, number];
  const [nx, ny, nz] = dims;
  const density = new Float32Array(nx * ny * nz);
  const classes = new Float32Array(density.length * C);

  // Max-pool |ρ| and sum the class channels of every fine cell into the coarse cell of its centre.
  const index = (v: number, d: number): number => Math.min(dims[d] - 1, Math.max(0, Math.floor((v - lo[d]) / cell)));
  for (const f of fields) {
    const [fx, fy, fz] = f.dims;
    const cx = new Int32Array(fx).map((_, i) => index(f.origin[0] + (i + 0.5) * f.cell, 0));
    const cy = new Int32Array(fy).map((_, i) => index(f.origin[1] + (i + 0.5) * f.cell, 1));
    for (let z = 0; z < fz; z++) {
      const plane = index(f.origin[2] + (z + 0.5) * f.cell, 2) * ny;
      for (let y = 0; y < fy; y++) {
        const row = (plane + cy[y]) * nx;
        const fine = (z * fy + y) * fx;
        for (let x = 0; x < fx; x++) {
          const v = f.norm[fine + x];
          if (v <= 0) continue;
          const c = row + cx[x];
          if (v > density[c]) density[c] = v;
          const src = (fine + x) * f.channels;
          for (let k = 0; k < C; k++) classes[c * C + k] += f.values[src + k];
        }
      }
    }
  }

  let max = 0;
  for (const v of density) if (v > max) max = v;
  const dominant = new Uint8Array(density.length);
  for (let c = 0; c < density.length; c++) {
    if (max > 0) density[c] /= max;
    let best = 0;
    for (let k = 1; k < C; k++) if (classes[c * C + k] > classes[c * C + best]) best = k;
    dominant[c] = Math.min(best, 255);
  }
  return { origin: [lo[0], lo[1], lo[2]], cell, dims, density, dominant };
}
