// Class-aware kernel density on a grid (docs/METHOD.md §4.4), computed fast: points are splatted
// trilinearly into the cells of a working grid and the splat is convolved with the kernel
// in three 1D passes. The reference instead evaluates the kernel of every segment on
// every cell within the bandwidth (~50³ cells per segment), which is what made it slow.
// At large bandwidths the working grid is coarser (the kernel spans LEVEL_CELLS cells),
// so an iteration costs about the same at every bandwidth. Only the box around the points
// is allocated.
import type { GridSpec } from './grid.ts';
import { laneRange, type Kernel, type KernelArgs, type Lanes } from './lanes.ts';

/** Kernel radius in working-grid cells, at most (finer grids cost more, coarser ones blur). */
export const LEVEL_CELLS = 3;
/** Density strength of the reference; only relative values matter to the advection. */
const STRENGTH = 10_000;

/** F(x) = x − x³/3, the integral of the Epanechnikov profile 1 − x². */
function F(x: number): number {
  return x - (x * x * x) / 3;
}

/**
 * The kernel of docs/METHOD.md §4.4 for a cell whose centre is at distance d: the Epanechnikov profile
 * integrated over the cell's radial extent [d − cell/2, d + cell/2], both ends clamped to
 * the bandwidth h and divided by it.
 */
export function kernelValue(d: number, h: number, cell: number): number {
  const s = Math.min(Math.max(d - cell / 2, 0), h) / h;
  const e = Math.min(Math.max(d + cell / 2, 0), h) / h;
  return Math.abs(F(e) - F(s));
}

/** A density field over a box of cells; values are cell-major, C channels per cell. */
export interface Field {
  channels: number;
  cell: number;
  origin: [number, number, number];
  dims: [number, number, number];
  values: Float32Array;
  /** Per cell |ρ|, the Euclidean norm of its class channels. */
  norm: Float32Array;
}

export interface DensityInput {
  /** P × 3 positions. */
  points: Float32Array;
  /** P × C class mixes; a point adds overall[i] · mix[i, c] to channel c (mix[i, c] alone without `overall`). */
  mix: Float32Array;
  /** P overall importances; undefined: every point weighs 1. */
  overall: Float32Array | undefined;
  count: number;
  channels: number;
  /** Kernel radius. */
  radius: number;
  /** The full-resolution grid (docs/METHOD.md §4.2): its cell is the kernel's integration cell and the finest working cell. */
  grid: GridSpec;
  /** Nodes: 2D density in the layer plane (z ignored). */
  planar: boolean;
}

/** Working cell for a radius: the grid's cell, or coarser while the kernel would span more than LEVEL_CELLS cells. */
function levelCell(radius: number, baseCell: number): number {
  return Math.max(baseCell, radius / LEVEL_CELLS);
}

/**
 * The kernel along one axis of the working grid, for offsets −reach..reach cells: the
 * cell-integrated profile (kernelValue) averaged over 3 sub-positions of the working cell, scaled by the density
 * strength. The 3D kernel is the product of three of these (a product Epanechnikov
 * kernel), so the convolution runs as 1D passes; test/process-density.test.ts bounds its
 * difference to the radial kernel.
 */
function axisKernel(radius: number, cell: number, baseCell: number): Float32Array {
  const reach = Math.ceil(radius / cell + 0.5);
  const k = new Float32Array(2 * reach + 1);
  for (let d = -reach; d <= reach; d++) {
    let sum = 0;
    for (const sub of [-1 / 3, 0, 1 / 3]) sum += kernelValue(Math.abs((d + sub) * cell), radius, baseCell);
    k[d + reach] = (sum / 3) * Math.cbrt(STRENGTH);
  }
  return k;
}

/**
 * Per row (a run of cells along x, indexed z · ny + y) the span [lo, hi] of x that may be
 * non-zero; lo > hi for an empty row. Lets every pass skip the empty space around bundles.
 */
interface Spans {
  lo: Int32Array;
  hi: Int32Array;
}

function emptySpans(rows: number, i32: (n: number) => Int32Array): Spans {
  return { lo: i32(rows).fill(2 ** 30), hi: i32(rows).fill(-1) };
}

/** The spans a convolution pass can fill: x spans widen by the reach; y and z spans are the union of the neighbouring rows'. */
function passSpans(spans: Spans, dims: [number, number, number], axis: 0 | 1 | 2, reach: number, i32: (n: number) => Int32Array): Spans {
  const [nx, ny, nz] = dims;
  const result = emptySpans(ny * nz, i32);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const r = z * ny + y;
      if (axis === 0) {
        if (spans.lo[r] > spans.hi[r]) continue;
        result.lo[r] = Math.max(reach, spans.lo[r] - reach);
        result.hi[r] = Math.min(nx - reach - 1, spans.hi[r] + reach);
        continue;
      }
      const pos = axis === 1 ? y : z;
      const n = axis === 1 ? ny : nz;
      if (pos < reach || pos >= n - reach) continue;
      for (let d = -reach; d <= reach; d++) {
        const q = axis === 1 ? r + d : r + d * ny;
        if (spans.lo[q] < result.lo[r]) result.lo[r] = spans.lo[q];
        if (spans.hi[q] > result.hi[r]) result.hi[r] = spans.hi[q];
      }
    }
  }
  return result;
}

/** out = input convolved with k along one axis over the given spans; a lane owns a z-range of rows. */
function convolveKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { input, out, k, C, lo, hi } = a as { input: Float32Array; out: Float32Array; k: Float32Array; C: number; lo: Int32Array; hi: Int32Array };
  const [nx, ny, nz] = a.dims as [number, number, number];
  const axis = a.axis as 0 | 1 | 2;
  const reach = (k.length - 1) / 2;
  const stride = (axis === 0 ? 1 : axis === 1 ? nx : nx * ny) * C;
  const [z0, z1] = laneRange(nz, lane, lanes);
  out.fill(0, z0 * ny * nx * C, z1 * ny * nx * C);
  for (let r = z0 * ny; r < z1 * ny; r++) {
    for (let x = lo[r]; x <= hi[r]; x++) {
      const o = (r * nx + x) * C;
      let i = o - reach * stride;
      for (let j = 0; j < k.length; j++, i += stride) {
        const w = k[j];
        for (let c = 0; c < C; c++) out[o + c] += w * input[i + c];
      }
    }
  }
}

/**
 * Trilinear splat onto the cell centres around each point: the 8 corner weights first
 * (planar: 4, the other 4 weigh 0), then one pass over the channels, so each mix value is
 * read once. A lane owns a z-range of cells and takes every point's corners in that range,
 * in point order.
 */
function splatKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { points, mix, overall, count, C, cell, planar, bins, spanLo, spanHi } = a as {
    points: Float32Array;
    mix: Float32Array;
    overall: Float32Array | undefined;
    count: number;
    C: number;
    cell: number;
    planar: boolean;
    bins: Float32Array;
    spanLo: Int32Array;
    spanHi: Int32Array;
  };
  const [ox, oy, oz] = a.origin as [number, number, number];
  const [nx, ny, nz] = a.dims as [number, number, number];
  const [z0, z1] = laneRange(nz, lane, lanes);
  const corners = planar ? 4 : 8;
  const cw = new Float64Array(8);
  const ci = new Int32Array(8);
  for (let i = 0; i < count; i++) {
    const weight = overall ? overall[i] : 1;
    if (weight === 0) continue;
    const gz = planar ? 0 : (points[i * 3 + 2] - oz) / cell - 0.5;
    const iz = Math.floor(gz);
    if (iz + 1 < z0 || iz >= z1) continue;
    const gx = (points[i * 3] - ox) / cell - 0.5;
    const gy = (points[i * 3 + 1] - oy) / cell - 0.5;
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    const fx = gx - ix;
    const fy = gy - iy;
    const fz = gz - iz;
    for (let k = 0; k < 8; k++) {
      const cz = k >> 2;
      if (k >= corners || iz + cz < z0 || iz + cz >= z1) {
        cw[k] = 0;
        ci[k] = 0;
        continue;
      }
      const cx = k & 1;
      const cy = (k >> 1) & 1;
      cw[k] = weight * (cx ? fx : 1 - fx) * (cy ? fy : 1 - fy) * (planar ? 1 : cz ? fz : 1 - fz);
      const row = (iz + cz) * ny + iy + cy;
      ci[k] = (row * nx + ix + cx) * C;
      if (ix < spanLo[row]) spanLo[row] = ix;
      if (ix + 1 > spanHi[row]) spanHi[row] = ix + 1;
    }
    const po = i * C;
    for (let c = 0; c < C; c++) {
      const m = mix[po + c];
      bins[ci[0] + c] += cw[0] * m;
      bins[ci[1] + c] += cw[1] * m;
      bins[ci[2] + c] += cw[2] * m;
      bins[ci[3] + c] += cw[3] * m;
      bins[ci[4] + c] += cw[4] * m;
      bins[ci[5] + c] += cw[5] * m;
      bins[ci[6] + c] += cw[6] * m;
      bins[ci[7] + c] += cw[7] * m;
    }
  }
}

function normKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { values, norm, C } = a as { values: Float32Array; norm: Float32Array; C: number };
  const [c0, c1] = laneRange(norm.length, lane, lanes);
  for (let cell = c0, o = c0 * C; cell < c1; cell++) {
    let sq = 0;
    for (let c = 0; c < C; c++, o++) sq += values[o] * values[o];
    norm[cell] = Math.sqrt(sq);
  }
}

/** The working grid of a density field: its cell, the axis kernel, and the box around the points. */
export interface DensityBox {
  cell: number;
  /** Axis kernel taps, offsets −reach..reach cells. */
  k: Float32Array;
  reach: number;
  origin: [number, number, number];
  dims: [number, number, number];
}

/** Box of the points, in working cells aligned with the full-resolution grid's origin, padded so every kernel and neighbour fits. */
export function densityBox(points: Float32Array, count: number, radius: number, grid: GridSpec, planar: boolean): DensityBox {
  const cell = levelCell(radius, grid.cell);
  const k = axisKernel(radius, cell, grid.cell);
  const reach = (k.length - 1) / 2;
  const pad = reach + 2;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < 3; d++) {
      const v = points[i * 3 + d];
      if (v < lo[d]) lo[d] = v;
      if (v > hi[d]) hi[d] = v;
    }
  }
  const origin: [number, number, number] = [grid.origin[0], grid.origin[1], grid.origin[2]];
  const dims: [number, number, number] = [1, 1, 1];
  for (let d = 0; d < (planar ? 2 : 3); d++) {
    if (count === 0) continue;
    const a = Math.floor((lo[d] - grid.origin[d]) / cell) - pad;
    const b = Math.floor((hi[d] - grid.origin[d]) / cell) + pad;
    origin[d] = grid.origin[d] + a * cell;
    dims[d] = b - a + 1;
  }
  return { cell, k, reach, origin, dims };
}

export function densityField(input: DensityInput, lanes?: Lanes): Field {
  const { points, mix, overall, count, channels: C, radius, grid, planar } = input;
  const run = (name: string, args: KernelArgs) => (lanes ? lanes.run(name, args) : DENSITY_KERNELS[name](args, 0, 1));
  const f32 = lanes ? lanes.f32 : (n: number) => new Float32Array(n);
  const i32 = lanes ? lanes.i32 : (n: number) => new Int32Array(n);
  const { cell, k, reach, origin, dims } = densityBox(points, count, radius, grid, planar);
  const cells = dims[0] * dims[1] * dims[2];
  const bins = f32(cells * C);
  const spans = emptySpans(dims[1] * dims[2], i32);
  run('splat', { points, mix, overall, count, C, cell, planar, bins, spanLo: spans.lo, spanHi: spans.hi, origin, dims });
  // Each pass visits only the spans that can be non-zero: empty space costs nothing.
  const tmp = f32(cells * C);
  const pass = (from: Float32Array, to: Float32Array, axis: 0 | 1 | 2, spansIn: Spans): Spans => {
    const out = passSpans(spansIn, dims, axis, reach, i32);
    run('convolve', { input: from, out: to, dims, axis, k, C, lo: out.lo, hi: out.hi });
    return out;
  };
  const spansY = pass(tmp, bins, 1, pass(bins, tmp, 0, spans));
  if (!planar) pass(bins, tmp, 2, spansY);
  const values = planar ? bins : tmp;
  const norm = f32(cells);
  run('norm', { values, norm, C });
  return { channels: C, cell, origin, dims, values, norm };
}

/**
 * Advection direction of each point (docs/METHOD.md §4.6): per axis, compare the potential
 * D·(drive − s) = Σ u_c·ρ_c − s·|ρ| of the point's cell with that of the neighbour toward
 * the point's side of the cell. Writes unnormalised gradients (z = 0 when planar) to `out`.
 */
export function gradients(field: Field, points: Float32Array, count: number, mix: Float32Array, s: number, planar: boolean, out: Float32Array, lanes?: Lanes): void {
  const args = { values: field.values, norm: field.norm, C: field.channels, cell: field.cell, origin: field.origin, dims: field.dims, points, count, mix, s, planar, out };
  if (lanes) lanes.run('gradients', args);
  else gradientsKernel(args, 0, 1);
}

function gradientsKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { values, norm, C, cell, points, count, mix, s, planar, out } = a as {
    values: Float32Array;
    norm: Float32Array;
    C: number;
    cell: number;
    points: Float32Array;
    count: number;
    mix: Float32Array;
    s: number;
    planar: boolean;
    out: Float32Array;
  };
  const [ox, oy, oz] = a.origin as [number, number, number];
  const [nx, ny] = a.dims as [number, number, number];
  const plane = nx * ny;
  const [i0, i1] = laneRange(count, lane, lanes);
  for (let i = i0; i < i1; i++) {
    const gx = (points[i * 3] - ox) / cell;
    const gy = (points[i * 3 + 1] - oy) / cell;
    const gz = planar ? 0 : (points[i * 3 + 2] - oz) / cell;
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    const iz = Math.floor(gz);
    const here = iz * plane + iy * nx + ix;
    const sx = gx - ix >= 0.5 ? 1 : -1;
    const sy = gy - iy >= 0.5 ? 1 : -1;
    const sz = planar ? 0 : gz - iz >= 0.5 ? 1 : -1;
    const nxCell = here + sx;
    const nyCell = here + sy * nx;
    const nzCell = here + sz * plane;
    // Σ u_c·ρ_c at the point's cell and its three neighbours, in one pass over the channels.
    const o0 = here * C;
    const o1 = nxCell * C;
    const o2 = nyCell * C;
    const o3 = nzCell * C;
    const mo = i * C;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let c = 0; c < C; c++) {
      const m = mix[mo + c];
      d0 += m * values[o0 + c];
      d1 += m * values[o1 + c];
      d2 += m * values[o2 + c];
      d3 += m * values[o3 + c];
    }
    const v0 = d0 - s * norm[here];
    out[i * 3] = sx * (d1 - s * norm[nxCell] - v0);
    out[i * 3 + 1] = sy * (d2 - s * norm[nyCell] - v0);
    out[i * 3 + 2] = planar ? 0 : sz * (d3 - s * norm[nzCell] - v0);
  }
}


/** The density kernels by name, for lane runners (src/core/process/kernels.ts gathers all). */
export const DENSITY_KERNELS: Record<string, Kernel> = {
  splat: splatKernel,
  convolve: convolveKernel,
  norm: normKernel,
  gradients: gradientsKernel,
};
