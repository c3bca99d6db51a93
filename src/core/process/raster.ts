// The voxel raster behind the quality metrics (metrics.ts), as a lane kernel.
import { laneRange, type Kernel, type KernelArgs } from './lanes.ts';
import { length3 } from './polyline.ts';

/**
 * Walks every segment at half-voxel steps and adds, once per edge and voxel, the class mix
 * of the nearer end to the voxel. A lane owns a y-range of voxels (bundles spread over y,
 * while one layer gap can hold most samples) and skips segments that
 * do not reach it, so each voxel sees its edges in the same order for any number of lanes.
 */
function rasterKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { offsets, points, mix, overall, C, origin, v, classWeight, lastEdge, edgeBase } = a as {
    offsets: Uint32Array;
    points: Float32Array;
    mix: Float32Array;
    overall: Float32Array;
    C: number;
    origin: [number, number, number];
    v: number;
    classWeight: Float32Array;
    lastEdge: Int32Array;
    edgeBase: number;
  };
  const [nx, ny, nz] = a.dims as [number, number, number];
  const [y0, y1] = laneRange(ny, lane, lanes);
  const voxel = (x: number, o: number, n: number) => Math.min(n - 1, Math.max(0, Math.floor((x - o) / v)));
  for (let i = 0; i + 1 < offsets.length; i++) {
    const edge = edgeBase + i;
    for (let p = offsets[i]; p + 1 < offsets[i + 1]; p++) {
      const ax = points[p * 3];
      const ay = points[p * 3 + 1];
      const az = points[p * 3 + 2];
      const dx = points[p * 3 + 3] - ax;
      const dy = points[p * 3 + 4] - ay;
      const dz = points[p * 3 + 5] - az;
      const ya = voxel(ay, origin[1], ny);
      const yb = voxel(ay + dy, origin[1], ny);
      if (Math.max(ya, yb) < y0 || Math.min(ya, yb) >= y1) continue;
      const steps = Math.max(1, Math.ceil((2 * length3(dx, dy, dz)) / v));
      for (let j = 0; j <= steps; j++) {
        const t = j / steps;
        const iy = voxel(ay + t * dy, origin[1], ny);
        if (iy < y0 || iy >= y1) continue;
        const cell = (voxel(az + t * dz, origin[2], nz) * ny + iy) * nx + voxel(ax + t * dx, origin[0], nx);
        if (lastEdge[cell] === edge) continue;
        lastEdge[cell] = edge;
        const near = t < 0.5 ? p : p + 1;
        const w = overall[near];
        for (let c = 0; c < C; c++) classWeight[cell * C + c] += w * mix[near * C + c];
      }
    }
  }
}

export const METRICS_KERNELS: Record<string, Kernel> = { raster: rasterKernel };
