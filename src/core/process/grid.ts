import { nodeCount } from '../network.ts';
import type { ProcessingParams } from './params.ts';

/** An axis-aligned box of cubic cells: cell (i, j, k) spans origin + [i, i+1) · cell. */
export interface GridSpec {
  origin: [number, number, number];
  cell: number;
  dims: [number, number, number];
}

/** x/y extent of all nodes (the network bounds of docs/METHOD.md §4.2), from the straight layout. */
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
 * The edge density grid of layer gap k (docs/METHOD.md §4.2): network bounds + 1.0 on x and y; in z one
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

/** The box `inset` cells inside the grid on every axis that has more than one cell; unbounded on the others. */
export interface Bounds {
  lo: [number, number, number];
  hi: [number, number, number];
}

export function insetBounds(grid: GridSpec, inset: number): Bounds {
  const side = (far: boolean) => grid.dims.map((n, d) => (n === 1 ? (far ? Infinity : -Infinity) : grid.origin[d] + (far ? n - inset : inset) * grid.cell)) as [number, number, number];
  return { lo: side(false), hi: side(true) };
}

/** Clamps point `o` (x, y, z at p[o..o+2]) into the bounds. */
export function clampTo(bounds: Bounds, p: Float32Array, o: number): void {
  for (let d = 0; d < 3; d++) {
    if (p[o + d] < bounds.lo[d]) p[o + d] = bounds.lo[d];
    else if (p[o + d] > bounds.hi[d]) p[o + d] = bounds.hi[d];
  }
}

/** Keeps a point `inset` cells inside the grid on every axis that has more than one cell. */
export function clampInside(grid: GridSpec, p: Float32Array, o: number, inset: number): void {
  clampTo(insetBounds(grid, inset), p, o);
}
