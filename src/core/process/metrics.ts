// Bundling quality (edge-bundling literature): ink, distortion and class purity of a
// fixed-resolution voxel raster of the polylines, before vs after bundling.
import type { PolylineSet } from './polyline.ts';
import { length3, polylineLength } from './polyline.ts';
import { gapSampleMix, type ProcessingState } from './state.ts';

export interface QualityMetrics {
  /** Side of the raster's voxels: layer_width / 32. */
  voxel: number;
  ink: { before: number; after: number; ratio: number };
  /** Mean bundled polyline length / straight length between its end points. */
  distortion: number;
  /** Mean over occupied voxels of the dominant class's share (1 = every voxel pure). */
  classSeparation: { before: number; after: number };
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
  };
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
  const C = state.nodes.classes;
  const v = voxelSide(state);
  const first = state.gaps[0]?.grid;
  const last = state.gaps[state.gaps.length - 1]?.grid;
  if (!first || !last) return { occupied: 0, separation: 1 };
  const origin = first.origin;
  const dims = [0, 1, 2].map((d) => Math.ceil(((d === 2 ? last : first).origin[d] + (d === 2 ? last : first).dims[d] * first.cell - origin[d]) / v) + 1);
  const [nx, ny, nz] = dims;
  const classWeight = new Float32Array(nx * ny * nz * C);
  const lastEdge = new Int32Array(nx * ny * nz).fill(-1);
  let edgeId = 0;
  let occupied = 0;
  const visit = (x: number, y: number, z: number, mix: Float32Array, mo: number, w: number) => {
    const ix = Math.min(nx - 1, Math.max(0, Math.floor((x - origin[0]) / v)));
    const iy = Math.min(ny - 1, Math.max(0, Math.floor((y - origin[1]) / v)));
    const iz = Math.min(nz - 1, Math.max(0, Math.floor((z - origin[2]) / v)));
    const cell = (iz * ny + iy) * nx + ix;
    if (lastEdge[cell] === edgeId) return;
    if (lastEdge[cell] === -1) occupied++;
    lastEdge[cell] = edgeId;
    for (let c = 0; c < C; c++) classWeight[cell * C + c] += w * mix[mo + c];
  };
  state.gaps.forEach((gap, k) => {
    const lines = sets[k];
    const { mix, overall } = gapSampleMix(state, gap, lines);
    const { offsets, points } = lines;
    for (let i = 0; i + 1 < offsets.length; i++, edgeId++) {
      for (let a = offsets[i]; a + 1 < offsets[i + 1]; a++) {
        const len = length3(points[a * 3 + 3] - points[a * 3], points[a * 3 + 4] - points[a * 3 + 1], points[a * 3 + 5] - points[a * 3 + 2]);
        const steps = Math.max(1, Math.ceil((2 * len) / v));
        for (let j = 0; j <= steps; j++) {
          const t = j / steps;
          const near = t < 0.5 ? a : a + 1;
          visit(
            points[a * 3] + t * (points[a * 3 + 3] - points[a * 3]),
            points[a * 3 + 1] + t * (points[a * 3 + 4] - points[a * 3 + 1]),
            points[a * 3 + 2] + t * (points[a * 3 + 5] - points[a * 3 + 2]),
            mix,
            near * C,
            overall[near],
          );
        }
      }
    }
  });
  let share = 0;
  let counted = 0;
  for (let cell = 0; cell < lastEdge.length; cell++) {
    if (lastEdge[cell] === -1) continue;
    let sum = 0;
    let max = 0;
    for (let c = 0; c < C; c++) {
      const w = classWeight[cell * C + c];
      sum += w;
      if (w > max) max = w;
    }
    if (sum > 0) {
      share += max / sum;
      counted++;
    }
  }
  return { occupied, separation: counted > 0 ? share / counted : 1 };
}
