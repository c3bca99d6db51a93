// Validation by pruning (docs/METHOD.md §3.4): which edges to remove first. Pure functions on flat
// arrays (no tfjs, no Node), so the ordering is testable and identical everywhere.
import { InputError } from '../core/errors.ts';
import { edgeCount, nodeCount, nodeOffset, type Network } from '../core/network.ts';
import { createRng, shuffle } from '../core/random.ts';

export const PRUNE_METHODS = ['bnn_edge', 'edge', 'bnn', 'random'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

/** Readable names for charts and tables. */
export const PRUNE_METHOD_LABELS: Record<PruneMethod, string> = {
  bnn_edge: 'BNN × edge (bnn_edge)',
  edge: 'edge |w| only (edge)',
  bnn: 'BNN only (bnn)',
  random: 'random (random)',
};

export function isPruneMethod(name: string): name is PruneMethod {
  return (PRUNE_METHODS as readonly string[]).includes(name);
}

/**
 * Importance score per edge (edge order); low scores are pruned first.
 * - edge: alpha (edgeImportance);
 * - bnn: mean over the relevant classes (all when undefined) of the source node's class importance;
 * - bnn_edge: bnn × alpha;
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
  if (method !== 'bnn' && (!alpha || alpha.length !== e)) throw new InputError(`importance network has no edge importance (alpha) for ${e} edges`);
  if (method === 'edge') return Float32Array.from(alpha!);

  const c = imp.classNames.length;
  const node = imp.nodeImportance;
  if (!node || node.length !== nodeCount(layers) * c) throw new InputError('importance network has no node importance');
  const classes = relevantClasses ?? Array.from({ length: c }, (_, k) => k);
  if (classes.length === 0) throw new InputError('the list of relevant classes is empty');
  for (const k of classes) {
    if (!Number.isInteger(k) || k < 0 || k >= c) throw new InputError(`class ${k} is out of range; the network has ${c} classes (0–${c - 1})`);
  }
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
      for (let j = 0; j < targets; j++, o++) out[o] = method === 'bnn' ? bnn : bnn * alpha![o];
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

/** A copy of `weights` with the first round(fraction · E) edges of `order` zeroed. */
export function prunedWeights(weights: Float32Array, order: ArrayLike<number>, fraction: number): Float32Array {
  const out = Float32Array.from(weights);
  const n = prunedCount(order.length, fraction);
  for (let i = 0; i < n; i++) out[order[i]] = 0;
  return out;
}
