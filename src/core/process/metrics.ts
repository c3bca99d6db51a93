// Bundling quality (edge-bundling literature): ink, distortion and class purity of a
// fixed-resolution voxel raster of the polylines, before vs after bundling.
import { layoutPositions } from '../layout.ts';
import { nodeOffset } from '../network.ts';
import type { PolylineSet } from './polyline.ts';
import { length3, polylineLength } from './polyline.ts';
import { gapSampleMix, type ProcessingState } from './state.ts';
import type { RasterArgs } from './wasm/raster.ts';

export interface QualityMetrics {
  /** Side of the raster's voxels: layer_width / 32. */
  voxel: number;
  ink: { before: number; after: number; ratio: number };
  /** Mean bundled polyline length / straight length between its end points. */
  distortion: number;
  /** Mean over occupied voxels of the dominant class's share (1 = every voxel pure). */
  classSeparation: { before: number; after: number };
  /**
   * Node clustering of the hidden layers (mean of their ratios): mean distance of a node to the
   * centroid of the nodes of its dominant class in its layer ÷ mean distance of the layer's
   * nodes to the layer's centroid. 1 ≈ classes spread like the layer, 0 = each class on a point.
   */
  nodeClustering: { before: number; after: number; perLayer: number[] };
}

const VOXELS_PER_WIDTH = 32;

export function qualityMetrics(state: ProcessingState, before: PolylineSet[]): QualityMetrics {
  const after = state.gaps.map((g) => g.lines);
  const b = rasterStats(state, before);
  const a = rasterStats(state, after);
  return {
    voxel: voxelSide(state),
    ink: { before: b.occupied, after: a.occupied, ratio: b.occupied > 0 ? a.occupied / b.occupied : 1 },
    distortion: distortion(after),
    classSeparation: { before: b.separation, after: a.separation },
    nodeClustering: nodeClustering(state),
  };
}

function nodeClustering(state: ProcessingState): QualityMetrics['nodeClustering'] {
  const { layers } = state.net;
  const straight = layoutPositions(layers, state.params);
  const hidden = layers.map((_, k) => k).slice(1, -1);
  const perLayer = hidden.map((k) => clusteringRatio(state, state.nodePositions, k));
  const mean = (xs: number[]): number => (xs.length > 0 ? xs.reduce((a, x) => a + x, 0) / xs.length : 1);
  return { before: mean(hidden.map((k) => clusteringRatio(state, straight, k))), after: mean(perLayer), perLayer };
}

/** The ratio of one layer (see QualityMetrics.nodeClustering); nodes without importance are left out. */
export function clusteringRatio(state: ProcessingState, positions: Float32Array, layer: number): number {
  const { mix, classes: C } = state.nodes;
  const first = nodeOffset(state.net.layers, layer);
  const n = state.net.layers[layer];
  const dominant = new Int32Array(n).fill(-1);
  const sum = new Float64Array((C + 1) * 2);
  const count = new Float64Array(C + 1);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let max = 0;
    for (let c = 0; c < C; c++) {
      const m = mix[(first + i) * C + c];
      if (m > max) [max, best] = [m, c];
    }
    if (best < 0) continue;
    dominant[i] = best;
    for (const g of [best, C]) {
      sum[g * 2] += positions[(first + i) * 3];
      sum[g * 2 + 1] += positions[(first + i) * 3 + 1];
      count[g]++;
    }
  }
  if (count[C] < 2) return 1;
  const dist = (i: number, g: number): number => Math.hypot(positions[(first + i) * 3] - sum[g * 2] / count[g], positions[(first + i) * 3 + 1] - sum[g * 2 + 1] / count[g]);
  let own = 0;
  let spread = 0;
  for (let i = 0; i < n; i++) {
    if (dominant[i] < 0) continue;
    own += dist(i, dominant[i]);
    spread += dist(i, C);
  }
  return spread > 0 ? own / spread : 1;
}

function voxelSide(state: ProcessingState): number {
  return state.params.layerWidth / VOXELS_PER_WIDTH;
}

function distortion(sets: PolylineSet[]): number {
  let sum = 0;
  let n = 0;
  for (const { offsets, points } of sets) {
    for (let i = 0; i + 1 < offsets.length; i++) {
      const a = offsets[i] * 3;
      const z = (offsets[i + 1] - 1) * 3;
      const straight = length3(points[z] - points[a], points[z + 1] - points[a + 1], points[z + 2] - points[a + 2]);
      if (straight === 0) continue;
      sum += polylineLength(points, offsets[i], offsets[i + 1]) / straight;
      n++;
    }
  }
  return n > 0 ? sum / n : 1;
}

/** Occupied voxels and their mean dominant-class share; each edge counts once per voxel. */
export function rasterStats(state: ProcessingState, sets: PolylineSet[]): { occupied: number; separation: number } {
  const v = voxelSide(state);
  const first = state.gaps[0]?.grid;
  const last = state.gaps[state.gaps.length - 1]?.grid;
  if (!first || !last) return { occupied: 0, separation: 1 };
  const origin = first.origin;
  const dims = [0, 1, 2].map((d) => Math.ceil(((d === 2 ? last : first).origin[d] + (d === 2 ? last : first).dims[d] * first.cell - origin[d]) / v) + 1);
  const { occupied, share, counted } = (state.lanes.backend === 'wasm' ? rasterWasm : rasterJs)(state, sets, origin, v, dims);
  return { occupied, separation: counted > 0 ? share / counted : 1 };
}

interface Tally {
  occupied: number;
  /** Sum of the dominant class shares of the `counted` voxels that carry any weight. */
  share: number;
  counted: number;
}

/** The JS kernels: class mixes per sample, a shared raster, then one pass over its voxels. */
function rasterJs(state: ProcessingState, sets: PolylineSet[], origin: [number, number, number], v: number, dims: number[]): Tally {
  const C = state.nodes.classes;
  const cells = dims[0] * dims[1] * dims[2];
  const classWeight = state.lanes.f32(cells * C);
  const lastEdge = state.lanes.i32(cells).fill(-1);
  let edgeBase = 0;
  state.gaps.forEach((gap, k) => {
    const lines = sets[k];
    const { mix, overall } = gapSampleMix(state, gap, lines);
    state.lanes.run('raster', { offsets: lines.offsets, points: lines.points, mix, overall, C, origin, v, dims, classWeight, lastEdge, edgeBase });
    edgeBase += lines.offsets.length - 1;
  });
  const tally = { occupied: 0, share: 0, counted: 0 };
  for (let cell = 0; cell < cells; cell++) {
    if (lastEdge[cell] === -1) continue;
    tally.occupied++;
    let sum = 0;
    let max = 0;
    for (let c = 0; c < C; c++) {
      const w = classWeight[cell * C + c];
      sum += w;
      if (w > max) max = w;
    }
    if (sum > 0) {
      tally.share += max / sum;
      tally.counted++;
    }
  }
  return tally;
}

/** The WebAssembly kernel (wasm/raster.ts): per-row tallies, summed here in row order. */
function rasterWasm(state: ProcessingState, sets: PolylineSet[], origin: [number, number, number], v: number, dims: number[]): Tally {
  const rows = dims[1] * dims[2];
  const args: RasterArgs = {
    lines: state.gaps.map((gap, k) => ({ ...sets[k], source: gap.source, target: gap.target, alpha: gap.alpha })),
    nodeMix: state.nodes.mix,
    nodeOverall: state.nodes.overall,
    raw: state.net.nodeImportance,
    rawNorm: state.nodes.norm,
    type: state.params.importanceType,
    C: state.nodes.classes,
    origin,
    v,
    dims: dims as [number, number, number],
    occupied: state.lanes.i32(rows),
    share: state.lanes.f32(rows),
    counted: state.lanes.i32(rows),
  };
  state.lanes.run('rasterRows', args);
  const tally = { occupied: 0, share: 0, counted: 0 };
  for (let r = 0; r < rows; r++) {
    tally.occupied += args.occupied[r];
    tally.share += args.share[r];
    tally.counted += args.counted[r];
  }
  return tally;
}
