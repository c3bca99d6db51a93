// Validation by pruning (docs/METHOD.md §3.4): which edges to remove first. Pure functions on flat
// arrays (no tfjs, no Node), so the ordering is testable and identical everywhere.
import { InputError } from '../core/errors.ts';
import { edgeCount, edgeOffset, forEachEdgeWeight, nodeCount, nodeOffset, prunableGap, type Network } from '../core/network.ts';
import { createRng, shuffle } from '../core/random.ts';

export const PRUNE_METHODS = ['bnn_edge', 'taylor_edge', 'edge', 'bnn', 'taylor', 'random'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

/** Readable names for charts and tables. */
export const PRUNE_METHOD_LABELS: Record<PruneMethod, string> = {
  bnn_edge: 'BN γ × edge (bnn_edge)',
  taylor_edge: 'Taylor × edge (taylor_edge)',
  edge: 'edge |w| only (edge)',
  bnn: 'BN γ only (bnn)',
  taylor: 'Taylor only (taylor)',
  random: 'random (random)',
};

export function isPruneMethod(name: string): name is PruneMethod {
  return (PRUNE_METHODS as readonly string[]).includes(name);
}

/**
 * The two kinds of node importance a file can hold (`meta.importance.method`): BatchNorm
 * fine-tuning (`bn`, docs/METHOD.md §3.1–3.3) or first-order Taylor (`taylor`, §3.5).
 */
export type ImportanceKind = 'bn' | 'taylor';

/** Which importance file a method reads its node importance from; undefined: none (edge, random). */
export function methodKind(method: PruneMethod): ImportanceKind | undefined {
  if (method === 'bnn' || method === 'bnn_edge') return 'bn';
  if (method === 'taylor' || method === 'taylor_edge') return 'taylor';
  return undefined;
}

/** The kind of an importance file: `taylor` when its metadata says so, else `bn` (older files, imported or generated importance). */
export function importanceKind(imp: Network): ImportanceKind {
  const meta = imp.meta?.importance as { method?: unknown } | undefined;
  return meta?.method === 'taylor' ? 'taylor' : 'bn';
}

/**
 * How the edges to prune at p % are chosen:
 * - `reference`: as nn_vis does: sort the scores, take the value at index ⌊p·E/100⌋ (clamped
 *   to E − 1) as threshold and zero every edge whose score is ≤ it, so ties go together and at
 *   least one edge is pruned even at 0 %;
 * - `exact`: exactly round(p·E/100) edges, lowest score first, ties in edge order.
 */
export const PRUNE_PROTOCOLS = ['reference', 'exact'] as const;
export type PruneProtocol = (typeof PRUNE_PROTOCOLS)[number];

export function isPruneProtocol(name: string): name is PruneProtocol {
  return (PRUNE_PROTOCOLS as readonly string[]).includes(name);
}

/**
 * Importance score per edge (edge order); low scores are pruned first.
 * - edge: alpha (edgeImportance);
 * - bnn: mean over the relevant classes (all when undefined) of the source node's class importance;
 * - bnn_edge: bnn × alpha;
 * - taylor, taylor_edge: the same as bnn, bnn_edge (the caller passes a Taylor importance file);
 * - random: a seeded random permutation of 0..E-1.
 */
export function edgeScores(imp: Network, method: PruneMethod, relevantClasses: number[] | undefined, seed: number): Float32Array {
  const { layers } = imp;
  const e = edgeCount(layers);
  if (method === 'random') {
    const perm = shuffle(createRng(seed), Uint32Array.from({ length: e }, (_, i) => i));
    return Float32Array.from(perm);
  }
  const alpha = imp.edgeImportance;
  if (method !== 'bnn' && method !== 'taylor' && (!alpha || alpha.length !== e)) throw new InputError(`importance network has no edge importance (alpha) for ${e} edges`);
  if (method === 'edge') return Float32Array.from(alpha!);

  const c = imp.classNames.length;
  const node = imp.nodeImportance;
  if (!node || node.length !== nodeCount(layers) * c) throw new InputError('importance network has no node importance');
  const classes = relevantClasses ?? Array.from({ length: c }, (_, k) => k);
  if (classes.length === 0) throw new InputError('the list of relevant classes is empty');
  for (const k of classes) {
    if (!Number.isInteger(k) || k < 0 || k >= c) throw new InputError(`class ${k} is out of range; the network has ${c} classes (0–${c - 1})`);
  }
  const nodeOnly = method === 'bnn' || method === 'taylor';
  const out = new Float32Array(e);
  let o = 0;
  for (let gap = 0; gap + 1 < layers.length; gap++) {
    const first = nodeOffset(layers, gap);
    const targets = layers[gap + 1];
    for (let i = 0; i < layers[gap]; i++) {
      let sum = 0;
      const base = (first + i) * c;
      for (const k of classes) sum += node[base + k];
      const bnn = sum / classes.length;
      for (let j = 0; j < targets; j++, o++) out[o] = nodeOnly ? bnn : bnn * alpha![o];
    }
  }
  return out;
}

/** Edge indices sorted ascending by score; equal scores keep edge order. NaN scores sort first. */
export function pruneOrder(scores: ArrayLike<number>): Uint32Array {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  const key = (i: number): number => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  return order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
}

/** Number of edges pruned at a fraction in [0, 1]. */
export function prunedCount(edges: number, fraction: number): number {
  return Math.min(edges, Math.max(0, Math.round(fraction * edges)));
}

/**
 * What pruning an edge zeroes in a conv network: the prunable edges (edge indices) and, per
 * prunable edge, its weight group (core/network.ts) as offsets into `weights`. The edges from
 * input pixels into the first conv layer are not prunable: all pixels of an input channel share
 * one kernel slice, so there is no weight of one pixel's edge alone.
 */
export interface EdgeGroups {
  edges: Uint32Array;
  offsets: Uint32Array;
  weights: Uint32Array;
}

export function edgeGroups(net: Network): EdgeGroups {
  const { layers } = net;
  const edges: number[] = [];
  const members: number[][] = [];
  for (let k = 0; k + 1 < layers.length; k++) {
    if (!prunableGap(net, k)) continue;
    const first = edgeOffset(layers, k);
    const groups: number[][] = Array.from({ length: layers[k] * layers[k + 1] }, () => []);
    forEachEdgeWeight(net, k, (e, w) => groups[e].push(w));
    groups.forEach((g, e) => {
      edges.push(first + e);
      members.push(g);
    });
  }
  const offsets = new Uint32Array(edges.length + 1);
  members.forEach((g, i) => (offsets[i + 1] = offsets[i] + g.length));
  return { edges: Uint32Array.from(edges), offsets, weights: Uint32Array.from(members.flat()) };
}

/** Zeroes edge i's weights: weights[i] in a dense network, its group in a conv network. */
function zeroEdge(out: Float32Array, i: number, groups: EdgeGroups | undefined): void {
  if (!groups) {
    out[i] = 0;
    return;
  }
  for (let g = groups.offsets[i]; g < groups.offsets[i + 1]; g++) out[groups.weights[g]] = 0;
}

/**
 * A copy of `weights` with the first round(fraction · E) edges of `order` zeroed. With `groups`,
 * `order` indexes the prunable edges (`groups.edges`) and each zeroes its group.
 */
export function prunedWeights(weights: Float32Array, order: ArrayLike<number>, fraction: number, groups?: EdgeGroups): Float32Array {
  const out = Float32Array.from(weights);
  const n = prunedCount(order.length, fraction);
  for (let i = 0; i < n; i++) zeroEdge(out, order[i], groups);
  return out;
}

/** Scores with NaN as −∞ (pruned first, as in pruneOrder), sorted ascending: the input of referencePrunedWeights. */
export function sortedScores(scores: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(scores, (v) => (Number.isNaN(v) ? -Infinity : v));
  return out.sort();
}

/** nn_vis' threshold at `percent` %: the sorted score at index ⌊percent·E/100⌋, clamped to E − 1. */
export function referenceThreshold(sorted: ArrayLike<number>, percent: number): number {
  const e = sorted.length;
  if (e === 0) return -Infinity;
  return sorted[Math.min(e - 1, Math.max(0, Math.floor((percent * e) / 100)))];
}

/**
 * The reference protocol: a copy of `weights` with every edge whose score is ≤ the threshold
 * of referenceThreshold zeroed (ties go together); returns the copy and how many were zeroed.
 */
export function referencePrunedWeights(
  weights: Float32Array,
  scores: ArrayLike<number>,
  sorted: ArrayLike<number>,
  percent: number,
  groups?: EdgeGroups,
): { weights: Float32Array; pruned: number } {
  const out = Float32Array.from(weights);
  const t = referenceThreshold(sorted, percent);
  let pruned = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = Number.isNaN(scores[i]) ? -Infinity : scores[i];
    if (s <= t) {
      zeroEdge(out, i, groups);
      pruned++;
    }
  }
  return { weights: out, pruned };
}
