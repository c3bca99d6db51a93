import { edgeOffset, nodeOffset, type Network } from '../network.ts';
import { laneRange, type Kernel, type KernelArgs } from './lanes.ts';

/** Per-node class mix (unit vector) and overall importance (its length, scaled so the largest is 1). */
export interface NodeMix {
  classes: number;
  /** N × C unit class vectors (zero rows for nodes without importance). */
  mix: Float32Array;
  /** N overall importances in [0, 1]. */
  overall: Float32Array;
  /** Factor from raw importance lengths to `overall` (1 / the largest node's length). */
  norm: number;
}

export function nodeMix(net: Network): NodeMix {
  const C = net.classNames.length;
  const N = net.layers.reduce((a, b) => a + b, 0);
  const mix = new Float32Array(N * C);
  const overall = new Float32Array(N);
  const imp = net.nodeImportance;
  if (!imp) {
    overall.fill(1);
    mix.fill(1 / Math.sqrt(C));
    return { classes: C, mix, overall, norm: 1 };
  }
  let max = 0;
  for (let n = 0; n < N; n++) {
    let sq = 0;
    for (let c = 0; c < C; c++) sq += imp[n * C + c] ** 2;
    const len = Math.sqrt(sq);
    overall[n] = len;
    if (len > max) max = len;
    if (len > 0) for (let c = 0; c < C; c++) mix[n * C + c] = imp[n * C + c] / len;
  }
  const norm = max > 0 ? 1 / max : 0;
  for (let n = 0; n < N; n++) overall[n] *= norm;
  return { classes: C, mix, overall, norm };
}

/** Source and target node of every edge, in edge order. */
export function edgeEndpoints(layers: readonly number[]): { source: Uint32Array; target: Uint32Array } {
  const E = edgeOffset(layers, layers.length - 1);
  const source = new Uint32Array(E);
  const target = new Uint32Array(E);
  let e = 0;
  for (let k = 0; k + 1 < layers.length; k++) {
    const s0 = nodeOffset(layers, k);
    const t0 = nodeOffset(layers, k + 1);
    for (let i = 0; i < layers[k]; i++) {
      for (let j = 0; j < layers[k + 1]; j++, e++) {
        source[e] = s0 + i;
        target[e] = t0 + j;
      }
    }
  }
  return { source, target };
}

/**
 * Class mix and overall weight of one sample at fraction t along an edge, docs/METHOD.md §4.5
 * `edge_importance_type`: 0 interpolates the unit class vectors of both ends and the
 * overall importances; 1 uses the start node; 2 the (normalised) sum of both; 3 the end
 * node. The overall weight is multiplied by the edge's alpha. Writes C values at `out[o]`
 * and returns the overall weight.
 */
export function sampleMix(
  nodes: NodeMix,
  rawImportance: Float32Array | undefined,
  source: number,
  target: number,
  alpha: number,
  t: number,
  type: 0 | 1 | 2 | 3,
  out: Float32Array,
  o: number,
): number {
  const C = nodes.classes;
  const { mix, overall } = nodes;
  if (type === 1 || type === 3) {
    const n = type === 1 ? source : target;
    for (let c = 0; c < C; c++) out[o + c] = mix[n * C + c];
    return overall[n] * alpha;
  }
  if (type === 0 || !rawImportance) {
    // Re-normalised, so that a sample's drive toward its own density is 1 (the
    // similarity s ∈ [0, 1] of docs/METHOD.md §4.3 compares against it); unnormalised mid-edge mixes (|u| < s)
    // would flee their own density.
    let sq = 0;
    for (let c = 0; c < C; c++) {
      const v = (1 - t) * mix[source * C + c] + t * mix[target * C + c];
      out[o + c] = v;
      sq += v * v;
    }
    const len = Math.sqrt(sq);
    if (len > 0) for (let c = 0; c < C; c++) out[o + c] /= len;
    return ((1 - t) * overall[source] + t * overall[target]) * alpha;
  }
  let sq = 0;
  for (let c = 0; c < C; c++) {
    const v = rawImportance[source * C + c] + rawImportance[target * C + c];
    out[o + c] = v;
    sq += v * v;
  }
  const len = Math.sqrt(sq);
  if (len > 0) for (let c = 0; c < C; c++) out[o + c] /= len;
  return len * nodes.norm * alpha;
}

/**
 * Class mix (S × C) and overall importance (S) of every edge sample of a polyline set:
 * what the density channels are weighted by, and what the renderer colours with.
 * `offsets` has E + 1 entries in edge order (pruned edges own no samples).
 */
export function edgeSampleImportance(
  net: Network,
  offsets: Uint32Array,
  type: 0 | 1 | 2 | 3,
): { overall: Float32Array; classes: Float32Array } {
  const nodes = nodeMix(net);
  const { source, target } = edgeEndpoints(net.layers);
  const S = offsets[offsets.length - 1];
  const C = nodes.classes;
  const overall = new Float32Array(S);
  const classes = new Float32Array(S * C);
  const alpha = net.edgeImportance;
  for (let e = 0; e + 1 < offsets.length; e++) {
    const start = offsets[e];
    const m = offsets[e + 1] - start;
    for (let j = 0; j < m; j++) {
      const t = m > 1 ? j / (m - 1) : 0;
      overall[start + j] = sampleMix(nodes, net.nodeImportance, source[e], target[e], alpha ? alpha[e] : 1, t, type, classes, (start + j) * C);
    }
  }
  return { overall, classes };
}

/**
 * Class mix and overall weight of every sample of a set of polylines (edge `i` of the set
 * runs from `source[i]` to `target[i]` with alpha `alpha[i]`); a lane takes a range of edges.
 */
function sampleMixKernel(a: KernelArgs, lane: number, lanes: number): void {
  const { offsets, source, target, alpha, type, mix, overall, rawImportance } = a as {
    offsets: Uint32Array;
    source: Uint32Array;
    target: Uint32Array;
    alpha: Float32Array;
    type: 0 | 1 | 2 | 3;
    mix: Float32Array;
    overall: Float32Array;
    rawImportance: Float32Array | undefined;
  };
  const nodes = a.nodes as NodeMix;
  const C = nodes.classes;
  const [e0, e1] = laneRange(source.length, lane, lanes);
  for (let i = e0; i < e1; i++) {
    const start = offsets[i];
    const m = offsets[i + 1] - start;
    for (let j = 0; j < m; j++) {
      overall[start + j] = sampleMix(nodes, rawImportance, source[i], target[i], alpha[i], j / (m - 1), type, mix, (start + j) * C);
    }
  }
}

export const SAMPLE_KERNELS: Record<string, Kernel> = { sampleMix: sampleMixKernel };
