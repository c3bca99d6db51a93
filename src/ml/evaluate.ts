// Validation by pruning (docs/METHOD.md §3.4): zero the least important p % of edges, per scoring
// method, and measure train and test accuracy and per-class balanced accuracy at each p.
import { availableParallelism } from 'node:os';
import { InputError } from '../core/errors.ts';
import { edgeCount, isConvNet, type Network } from '../core/network.ts';
import type { Dataset } from './data.ts';
import { accuracy, balancedAccuracies, confusionMatrix } from './metrics.ts';
import { createPredictPool } from './predict-pool.ts';
import {
  edgeGroups,
  edgeScores,
  importanceKind,
  isPruneMethod,
  isPruneProtocol,
  methodKind,
  pruneOrder,
  prunedCount,
  prunedWeights,
  PRUNE_METHODS,
  PRUNE_PROTOCOLS,
  referencePrunedWeights,
  sortedScores,
  type ImportanceKind,
  type PruneMethod,
  type PruneProtocol,
} from './prune.ts';

export interface EvaluateOptions {
  methods: PruneMethod[];
  /** Percentage step, an integer in 1..50; 0 and 100 are always evaluated. */
  step: number;
  /** Which edges go at p % (prune.ts); default `reference`, nn_vis' threshold with ties. */
  protocol?: PruneProtocol;
  /** Relevant classes (class-specific variant); undefined for all classes. */
  classes?: number[];
  seed: number;
  /** Training samples: with them the accuracy on the training data is measured at every step too (nn_vis' overall plot shows it). */
  train?: Dataset;
  /** File names for error messages: the model, and one per importance network, in the order given. */
  files?: { model: string; importance: string | string[] };
  /** Worker threads classifying the steps in parallel; 1 runs in this thread. Default: one per core for big runs, else 1. */
  threads?: number;
}

export interface MethodResult {
  method: PruneMethod;
  /** Edges actually zeroed per percentage (the reference protocol prunes ties together). */
  prunedEdges: number[];
  /** Test accuracy per percentage. */
  accuracy: number[];
  /** Accuracy on the training samples per percentage; present with `train`. */
  trainAccuracy?: number[];
  /** [step][class] balanced accuracy (TPR + TNR) / 2 on the test samples. */
  balancedAccuracy: number[][];
  /** Accuracy on the test samples of the relevant classes only; present with `classes`. */
  relevantAccuracy?: number[];
}

export interface PruningResult {
  /** Percent of edges pruned at each step (0 … 100). */
  percentages: number[];
  protocol: PruneProtocol;
  edges: number;
  methods: MethodResult[];
}

/** Multiply-adds of a run below which evaluatePruning stays in one thread by default (MNIST's 784-81-49-10 at step 5 %: 4e11). */
const MIN_PARALLEL_WORK = 2e10;

export type StepCallback = (done: number, total: number, info: { method: PruneMethod; percent: number; accuracy: number }) => void;

/** The percentages evaluated for a step: 0, step, 2·step, …, and always 100. */
export function pruningPercentages(step: number): number[] {
  checkStep(step);
  const out: number[] = [];
  for (let p = 0; p < 100; p += step) out.push(p);
  out.push(100);
  return out;
}

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 1 || step > 50) throw new InputError(`--step must be an integer percentage in [1, 50]; got ${step}`);
}

const shape = (layers: readonly number[]): string => layers.join('-');

/**
 * Checks that `model` is a trained network and `imp` an importance file computed for it;
 * every problem is one InputError line naming the file(s).
 */
export function checkEvaluationInputs(model: Network, imp: Network, files = { model: 'model', importance: 'importance' }): void {
  if (!model.weights || !model.biases || !model.activations) {
    throw new InputError(`${files.model}: has no weights, so it cannot be pruned and evaluated; pass a trained model (from nnvis train or nnvis import)`);
  }
  if (!imp.nodeImportance || !imp.edgeImportance) {
    const swapped = model.nodeImportance ? ` (${files.model} does: are the two files swapped? the order is <model> <importance>)` : `; compute it with nnvis importance ${files.model}`;
    throw new InputError(`${files.importance}: holds no importance (node and edge importance)${swapped}`);
  }
  const ml = model.layers;
  const il = imp.layers;
  if (ml.length !== il.length || ml.some((n, i) => n !== il[i])) {
    const mc = ml[ml.length - 1];
    const ic = il[il.length - 1];
    const classes = mc !== ic ? ` (${mc} vs ${ic} classes)` : '';
    throw new InputError(
      `${files.importance} does not match ${files.model}: layers ${shape(il)} vs ${shape(ml)}${classes}; the importance must be computed from this model`,
    );
  }
  if (imp.classNames.length !== model.classNames.length) {
    throw new InputError(`${files.importance} does not match ${files.model}: ${imp.classNames.length} vs ${model.classNames.length} classes`);
  }
}

/** Validates and de-duplicates relevant class indices against the class count. */
export function checkRelevantClasses(classes: readonly number[], classNames: readonly string[]): number[] {
  const c = classNames.length;
  if (classes.length === 0) throw new InputError('--classes is empty; give class indices, e.g. --classes 3,5');
  for (const k of classes) {
    if (!Number.isInteger(k) || k < 0 || k >= c) {
      throw new InputError(`--classes: class ${k} is out of range; the model has ${c} classes (indices 0–${c - 1})`);
    }
  }
  return [...new Set(classes)];
}

export function checkMethods(methods: readonly string[]): PruneMethod[] {
  if (methods.length === 0) throw new InputError(`--methods is empty; choose from ${PRUNE_METHODS.join(', ')}`);
  for (const m of methods) {
    if (!isPruneMethod(m)) throw new InputError(`--methods: unknown method '${m}'; choose from ${PRUNE_METHODS.join(', ')}`);
  }
  return [...new Set(methods)] as PruneMethod[];
}

export function checkProtocol(protocol: string): PruneProtocol {
  if (!isPruneProtocol(protocol)) throw new InputError(`--protocol: unknown protocol '${protocol}'; choose ${PRUNE_PROTOCOLS.join(' or ')}`);
  return protocol;
}

const KIND_NAMES: Record<ImportanceKind, string> = { bn: 'BN', taylor: 'Taylor' };

/**
 * The importance networks by kind (`meta.importance.method`): at most one BN and one Taylor
 * file; the first file given also provides alpha for `edge`.
 */
export function importanceByKind(imps: readonly Network[], files: readonly string[]): Map<ImportanceKind, { net: Network; file: string }> {
  if (imps.length === 0) throw new InputError('no importance file given');
  const out = new Map<ImportanceKind, { net: Network; file: string }>();
  imps.forEach((net, i) => {
    const kind = importanceKind(net);
    const file = files[i] ?? `importance ${i + 1}`;
    const seen = out.get(kind);
    if (seen) {
      throw new InputError(`${seen.file} and ${file} both hold ${KIND_NAMES[kind]} importance; give at most one BN file (nnvis importance) and one Taylor file (nnvis importance --method taylor)`);
    }
    out.set(kind, { net, file });
  });
  return out;
}

/** The methods the given kinds of importance allow, in PRUNE_METHODS order (the default of --methods). */
export function availableMethods(kinds: Iterable<ImportanceKind>): PruneMethod[] {
  const have = new Set(kinds);
  return PRUNE_METHODS.filter((m) => {
    const k = methodKind(m);
    return k === undefined || have.has(k);
  });
}

/** Refuses a method whose kind of importance was not given, naming the files that were. */
export function checkMethodsAvailable(methods: readonly PruneMethod[], byKind: Map<ImportanceKind, { file: string }>): void {
  for (const m of methods) {
    const k = methodKind(m);
    if (k === undefined || byKind.has(k)) continue;
    const given = [...byKind].map(([kind, { file }]) => `${file} is ${KIND_NAMES[kind]}`).join(', ');
    const how = k === 'taylor' ? 'nnvis importance --method taylor' : 'nnvis importance';
    throw new InputError(`--methods ${m} needs a ${KIND_NAMES[k]} importance file (${how}) among the importance files; ${given}`);
  }
}

export async function evaluatePruning(
  model: Network,
  importance: Network | readonly Network[],
  test: Dataset,
  opts: EvaluateOptions,
  onStep?: StepCallback,
): Promise<PruningResult> {
  const imps = Array.isArray(importance) ? (importance as readonly Network[]) : [importance as Network];
  const impFiles = opts.files ? (Array.isArray(opts.files.importance) ? opts.files.importance : [opts.files.importance]) : imps.map((_, i) => (imps.length > 1 ? `importance ${i + 1}` : 'importance'));
  const modelFile = opts.files?.model ?? 'model';
  imps.forEach((imp, i) => checkEvaluationInputs(model, imp, { model: modelFile, importance: impFiles[i] }));
  const byKind = importanceByKind(imps, impFiles);
  const methods = checkMethods(opts.methods);
  checkMethodsAvailable(methods, byKind);
  const protocol = checkProtocol(opts.protocol ?? 'reference');
  const percentages = pruningPercentages(opts.step);
  const relevant = opts.classes ? checkRelevantClasses(opts.classes, model.classNames) : undefined;
  const classes = model.classNames.length;
  for (const [part, d] of [['test', test], ['training', opts.train]] as const) {
    if (!d) continue;
    if (d.features !== model.layers[0]) throw new InputError(`${part} data has ${d.features} features but ${modelFile}'s input layer has ${model.layers[0]}`);
    if (d.count === 0) throw new InputError(`${part} data has no samples`);
  }

  // a conv network prunes its prunable edges, each zeroing its weight group (prune.ts)
  const groups = isConvNet(model) ? edgeGroups(model) : undefined;
  const edges = groups ? groups.edges.length : edgeCount(model.layers);
  const relevantIdx: number[] = [];
  if (relevant) for (let i = 0; i < test.count; i++) if (relevant.includes(test.y[i])) relevantIdx.push(i);
  const relevantTruth = relevantIdx.map((i) => test.y[i]);
  // Rankings first: cheap, and a bad importance file fails before tfjs starts.
  const rankings = methods.map((m) => {
    // node-importance methods read their kind's file; edge (alpha = |w|, the same in every file) and random the first
    const kind = methodKind(m);
    const all = edgeScores(kind ? byKind.get(kind)!.net : imps[0], m, relevant, opts.seed);
    const scores = groups ? Float32Array.from(groups.edges, (e) => all[e]) : all;
    return protocol === 'exact' ? { order: pruneOrder(scores) } : { scores, sorted: sortedScores(scores) };
  });

  const data = opts.train ? [test, opts.train] : [test];
  const tasks = methods.flatMap((_, mi) => percentages.map((percent, pi) => ({ mi, pi, percent })));
  // a worker costs about a second to start (tfjs and the model): only worth it for big runs
  const work = tasks.length * data.reduce((a, d) => a + d.count, 0) * edges;
  const threads = Math.max(1, Math.min(opts.threads ?? (work > MIN_PARALLEL_WORK ? availableParallelism() : 1), tasks.length));
  const pool = await createPredictPool({ net: model, data }, threads);
  const results: MethodResult[] = methods.map((method) => ({ method, prunedEdges: [], accuracy: [], balancedAccuracy: [], ...(opts.train ? { trainAccuracy: [] } : {}), ...(relevant ? { relevantAccuracy: [] } : {}) }));
  let next = 0;
  let done = 0;
  // one runner per thread, each taking the next step: the pruned weights exist only for the steps in flight
  const runner = async (): Promise<void> => {
    for (let t = next++; t < tasks.length; t = next++) {
      const { mi, pi, percent } = tasks[t];
      const rank = rankings[mi];
      const pruned = rank.order
        ? { weights: prunedWeights(model.weights!, rank.order, percent / 100, groups), pruned: prunedCount(edges, percent / 100) }
        : referencePrunedWeights(model.weights!, rank.scores!, rank.sorted!, percent, groups);
      const [pred, trainPred] = await pool.predict(pruned.weights);
      const r = results[mi];
      r.prunedEdges[pi] = pruned.pruned;
      r.accuracy[pi] = accuracy(pred, test.y);
      r.balancedAccuracy[pi] = balancedAccuracies(confusionMatrix(pred, test.y, classes), classes);
      if (r.relevantAccuracy) r.relevantAccuracy[pi] = accuracy(relevantIdx.map((i) => pred[i]), relevantTruth);
      if (r.trainAccuracy) r.trainAccuracy[pi] = accuracy(trainPred, opts.train!.y);
      onStep?.(++done, tasks.length, { method: methods[mi], percent, accuracy: r.accuracy[pi] });
    }
  };
  try {
    await Promise.all(Array.from({ length: threads }, runner));
    return { percentages, protocol, edges, methods: results };
  } finally {
    await pool.close();
  }
}
