import { clampTo, type Bounds } from './grid.ts';
import { laneRange, type Kernel, type KernelArgs } from './lanes.ts';
import { length3 } from './polyline.ts';

/**
 * The move of edge advection (state.ts edgeAdvect): a lane copies its range of polylines
 * into `moved` and moves each inner sample by `direction · h` along its normalised
 * gradient, clamped into `bounds` (grid.ts, insetBounds). Args are posted to worker
 * threads, so they are plain data.
 */
function moveKernel(args: KernelArgs, lane: number, lanes: number): void {
  const { offsets, points, g, moved, direction, h, bounds } = args as {
    offsets: Uint32Array;
    points: Float32Array;
    g: Float32Array;
    moved: Float32Array;
    direction: number;
    h: number;
    bounds: Bounds;
  };
  const [p0, p1] = laneRange(offsets.length - 1, lane, lanes);
  moved.set(points.subarray(offsets[p0] * 3, offsets[p1] * 3), offsets[p0] * 3);
  for (let i = p0; i < p1; i++) {
    for (let a = offsets[i] + 1; a + 1 < offsets[i + 1]; a++) {
      const len = length3(g[a * 3], g[a * 3 + 1], g[a * 3 + 2]);
      if (len === 0) continue;
      const step = (direction * h) / len;
      for (let d = 0; d < 3; d++) moved[a * 3 + d] += step * g[a * 3 + d];
      clampTo(bounds, moved, a * 3);
    }
  }
}

export const MOVE_KERNELS: Record<string, Kernel> = { move: moveKernel };
