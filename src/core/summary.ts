import { activationText, edgeCount, isConvNet, kindOf, layerOp, mapShapes, nodeOffset, opText, weightCount, type Network } from './network.ts';

export interface Range {
  min: number;
  max: number;
}

export interface NetworkSummary {
  kind: string;
  layers: number[];
  edges: number;
  classes: string[];
  activations?: string[];
  /** Conv networks: the input shape and, per layer gap, what computes the next layer and its map. */
  architecture?: string[];
  /** Weight count (kernels), when it differs from the edge count. */
  weights?: number;
  weightRange?: Range;
  /** Per layer, over all nodes and classes. */
  nodeImportanceRanges?: Range[];
  edgeImportanceRange?: Range;
  edgeSamples?: number;
  meta: Network['meta'];
}

export function rangeOf(values: ArrayLike<number>, start = 0, end = values.length): Range {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** What a file holds, as plain JSON: the basis of `nnvis inspect`. */
export function summarize(net: Network): NetworkSummary {
  const classes = net.classNames.length;
  return {
    kind: kindOf(net),
    layers: net.layers,
    edges: edgeCount(net.layers),
    classes: net.classNames,
    activations: net.activations?.map((_, k) => activationText(net, k)),
    ...(isConvNet(net) ? { architecture: architectureText(net), weights: weightCount(net) } : {}),
    weightRange: net.weights && rangeOf(net.weights),
    nodeImportanceRanges:
      net.nodeImportance &&
      net.layers.map((n, l) => {
        const o = nodeOffset(net.layers, l) * classes;
        return rangeOf(net.nodeImportance!, o, o + n * classes);
      }),
    edgeImportanceRange: net.edgeImportance && rangeOf(net.edgeImportance),
    edgeSamples: net.edgeSamples && net.edgeSamples.length / 3,
    meta: net.meta,
  };
}

/** "input 28×28×1", then one line per gap: "conv 5×5 same, max-pool 2×2 → 6 channels, 14×14". */
export function architectureText(net: Network): string[] {
  const maps = mapShapes(net);
  const [h, w, c] = maps[0];
  return [
    net.inputOrder === 'chw' ? `input ${h}×${w}×${c} (data rows channels first: ${c}×${h}×${w}, read into channels last)` : `input ${h}×${w}×${c}`,
    ...net.layers.slice(1).map((n, k) => {
      const op = layerOp(net, k);
      return op.kind === 'conv' ? `${opText(op)} → ${n} channels, ${maps[k + 1][0]}×${maps[k + 1][1]}` : `dense → ${n} units`;
    }),
  ];
}
