import { nodeCount } from './network.ts';

export interface LayoutOptions {
  layerDistance: number;
  layerWidth: number;
}

/**
 * Straight (unprocessed) node positions, docs/METHOD.md §4.1: layer k of L lies in the plane
 * z = -(L-1)·d/2 + k·d; its n nodes fill a ceil(sqrt(n))-wide square grid, row by row,
 * centred on the z axis and spanning layerWidth. Returns N × 3 floats.
 */
export function layoutPositions(layers: readonly number[], { layerDistance, layerWidth }: LayoutOptions): Float32Array {
  const out = new Float32Array(nodeCount(layers) * 3);
  let node = 0;
  layers.forEach((n, k) => {
    const z = (-(layers.length - 1) * layerDistance) / 2 + k * layerDistance;
    const side = Math.ceil(Math.sqrt(n));
    const step = side > 1 ? layerWidth / (side - 1) : 0;
    const start = side > 1 ? -layerWidth / 2 : 0;
    for (let i = 0; i < n; i++, node++) {
      out[node * 3] = start + (i % side) * step;
      out[node * 3 + 1] = start + Math.floor(i / side) * step;
      out[node * 3 + 2] = z;
    }
  });
  return out;
}
