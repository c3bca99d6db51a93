// Validation by pruning (docs/METHOD.md §3.4): zero the least important p % of edges, per scoring
// method, and measure test accuracy and per-class balanced accuracy at each p.
import { InputError } from '../core/errors.ts';
import { edgeCount, type Network } from '../core/network.ts';
import type { Dataset } from './data.ts';
import { accuracy, balancedAccuracies, confusionMatrix } from './metrics.ts';
import { predictClasses, setDenseWeights, toTfModel } from './model.ts';
import { edgeScores, isPruneMethod, pruneOrder, prunedCount, prunedWeights, PRUNE_METHODS, type PruneMethod } from './prune.ts';
import { initTf } from './tf.ts';

export interface EvaluateOptions {
  methods: PruneMethod[];
  /** Percentage step, an integer in 1..50; 0 and 100 are always evaluated. */
  step: number;
  /** Relevant classes (class-specific variant); undefined for all classes. */
  classes?: number[];
  seed: number;
  /** File names for error messages. */
  files?: { model: string; importance: string };
}

export interface MethodResult {
  method: PruneMethod;
  /** Test accuracy per percentage. */
  accuracy: number[];
  /** [step][class] balanced accuracy (TPR + TNR) / 2. */
  balancedAccuracy: number[][];
  /** Accuracy on the test samples of the relevant classes only; present with `classes`. */
  relevantAccuracy?: number[];
}

export interface PruningResult {
  /** Percent of edges pruned at each step (0 … 100). */
  percentages: number[];
  /** Number of edges zeroed at each step. */
  prunedEdges: number[];
  edges: number;
  methods: MethodResult[];
}

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

export async function evaluatePruning(model: Network, imp: Network, test: Dataset, opts: EvaluateOptions, onStep?: StepCallback): Promise<PruningResult> {
  const files = opts.files ?? { model: 'model', importance: 'importance' };
  checkEvaluationInputs(model, imp, files);
  const methods = checkMethods(opts.methods);
  const percentages = pruningPercentages(opts.step);
  const relevant = opts.classes ? checkRelevantClasses(opts.classes, model.classNames) : undefined;
  const classes = model.classNames.length;
  if (test.features !== model.layers[0]) {
    throw new InputError(`test data has ${test.features} features but ${files.model}'s input layer has ${model.layers[0]}`);
  }
  if (test.count === 0) throw new InputError('test data has no samples');

  const edges = edgeCount(model.layers);
  const relevantIdx: number[] = [];
  if (relevant) for (let i = 0; i < test.count; i++) if (relevant.includes(test.y[i])) relevantIdx.push(i);
  const relevantTruth = relevantIdx.map((i) => test.y[i]);
  // Orders first: cheap, and a bad importance file fails before tfjs starts.
  const orders = methods.map((m) => pruneOrder(edgeScores(imp, m, relevant, opts.seed)));

  const tf = await initTf();
  const tfModel = toTfModel(tf, model);
  const total = methods.length * percentages.length;
  let done = 0;
  try {
    const results: MethodResult[] = methods.map((method, mi) => {
      const r: MethodResult = { method, accuracy: [], balancedAccuracy: [] };
      if (relevant) r.relevantAccuracy = [];
      for (const percent of percentages) {
        const weights = prunedWeights(model.weights!, orders[mi], percent / 100);
        setDenseWeights(tf, tfModel, { ...model, weights });
        const pred = predictClasses(tf, tfModel, test);
        const acc = accuracy(pred, test.y);
        r.accuracy.push(acc);
        r.balancedAccuracy.push(balancedAccuracies(confusionMatrix(pred, test.y, classes), classes));
        if (r.relevantAccuracy) r.relevantAccuracy.push(accuracy(relevantIdx.map((i) => pred[i]), relevantTruth));
        onStep?.(++done, total, { method, percent, accuracy: acc });
      }
      return r;
    });
    return { percentages, prunedEdges: percentages.map((p) => prunedCount(edges, p / 100)), edges, methods: results };
  } finally {
    tfModel.dispose();
  }
}
