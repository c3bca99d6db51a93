import { activationText, edgeCount, kindOf, nodeOffset, type Network } from './network.ts';

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
