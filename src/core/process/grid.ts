import { nodeCount } from '../network.ts';
import type { ProcessingParams } from './params.ts';

/** An axis-aligned box of cubic cells: cell (i, j, k) spans origin + [i, i+1) · cell. */
export interface GridSpec {
  origin: [number, number, number];
  cell: number;
  dims: [number, number, number];
}

/** x/y extent of all nodes (SPEC §4: the network bounds), from the straight layout. */
export function networkBoundsXY(positions: Float32Array, layers: readonly number[]): [number, number, number, number] {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let n = 0; n < nodeCount(layers); n++) {
    x0 = Math.min(x0, positions[n * 3]);
    x1 = Math.max(x1, positions[n * 3]);
    y0 = Math.min(y0, positions[n * 3 + 1]);
    y1 = Math.max(y1, positions[n * 3 + 1]);
  }
  return [x0, x1, y0, y1];
}

const MARGIN = 1.0;

function axis(lo: number, hi: number, cell: number): [number, number] {
  return [lo - MARGIN, Math.floor((hi - lo + 2 * MARGIN) / cell) + 1];
}

/**
 * The edge density grid of layer gap k (SPEC §4): network bounds + 1.0 on x and y; in z one
 * layer gap + 1.0 on each side. Every gap's grid has the same size (the reference re-uses one).
 */
export function gapGrid(boundsXY: [number, number, number, number], gapZ0: number, p: ProcessingParams): GridSpec {
  const [ox, nx] = axis(boundsXY[0], boundsXY[1], p.cell);
  const [oy, ny] = axis(boundsXY[2], boundsXY[3], p.cell);
  const [oz, nz] = axis(gapZ0, gapZ0 + p.layerDistance, p.cell);
  return { origin: [ox, oy, oz], cell: p.cell, dims: [nx, ny, nz] };
}

/** The node density grid of one layer: the same x/y extent, one cell thick at the layer's z. */
export function layerGrid(boundsXY: [number, number, number, number], z: number, p: ProcessingParams): GridSpec {
  const [ox, nx] = axis(boundsXY[0], boundsXY[1], p.cell);
  const [oy, ny] = axis(boundsXY[2], boundsXY[3], p.cell);
  return { origin: [ox, oy, z - p.cell / 2], cell: p.cell, dims: [nx, ny, 1] };
}

/** Keeps a point `inset` cells inside the grid on every axis that has more than one cell. */
export function clampInside(grid: GridSpec, p: Float32Array, o: number, inset: number): void {
  for (let d = 0; d < 3; d++) {
    if (grid.dims[d] === 1) continue;
    const lo = grid.origin[d] + inset * grid.cell;
    const hi = grid.origin[d] + (grid.dims[d] - inset) * grid.cell;
    if (p[o + d] < lo) p[o + d] = lo;
    else if (p[o + d] > hi) p[o + d] = hi;
  }
}
