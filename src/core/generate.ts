import { layoutPositions, type LayoutOptions } from './layout.ts';
import { defaultClassNames, edgeCount, nodeCount, type Network, type Provenance } from './network.ts';
import { createRng, randomInt, type Rng } from './random.ts';

export interface GenerateOptions extends LayoutOptions {
  layers: number[];
  seed: number;
  provenance?: Provenance;
}

/**
 * Peak bytes of generating and writing a network: its arrays (node importance N × C, edge
 * importance E, positions N × 3, all float32) twice, once as arrays and once encoded,
 * plus the runtime. Measured: 3.21 GB peak RSS for 20000-20000-10 (estimate 3.30 GB).
 */
export function generateMemoryBytes(layers: readonly number[]): number {
  const n = nodeCount(layers);
  const arrays = 4 * edgeCount(layers) + 4 * n * layers[layers.length - 1] + 12 * n;
  return 2 * arrays + 100e6;
}

/** A random network with random importance, as the reference generates it (docs/METHOD.md §6). */
export function generateNetwork(opts: GenerateOptions): Network {
  const { layers, seed } = opts;
  const classes = layers[layers.length - 1];
  return {
    layers: [...layers],
    classNames: defaultClassNames(classes),
    ...randomImportance(layers, createRng(seed)),
    nodePositions: layoutPositions(layers, opts),
    meta: {
      provenance: opts.provenance ?? { tool: 'nnvis', command: 'generate', seed },
      config: { layer_distance: opts.layerDistance, layer_width: opts.layerWidth },
    },
  };
}

/**
 * Random importance (docs/METHOD.md §6): every non-output node is dominated by one uniformly chosen class
 * (the larger of two uniform draws) while every other class gets the square of the
 * smaller of two draws; output node c is one-hot for class c; every edge gets a uniform
 * alpha in [0, 1).
 */
export function randomImportance(layers: readonly number[], rng: Rng): { nodeImportance: Float32Array; edgeImportance: Float32Array } {
  const classes = layers[layers.length - 1];
  const n = nodeCount(layers);
  const outputStart = n - classes;
  const nodeImportance = new Float32Array(n * classes);
  for (let node = 0; node < outputStart; node++) {
    const dominant = randomInt(rng, classes);
    for (let c = 0; c < classes; c++) {
      const a = rng();
      const b = rng();
      nodeImportance[node * classes + c] = c === dominant ? Math.max(a, b) : Math.min(a, b) ** 2;
    }
  }
  for (let c = 0; c < classes; c++) nodeImportance[(outputStart + c) * classes + c] = 1;
  const edgeImportance = new Float32Array(edgeCount(layers));
  for (let e = 0; e < edgeImportance.length; e++) edgeImportance[e] = rng();
  return { nodeImportance, edgeImportance };
}
