// Validation by pruning (docs/METHOD.md §3.4): edge scores, prune order, accuracy curves, charts and
// the `nnvis evaluate` command, on tiny hand-made networks (no training).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerEvaluate } from '../src/cli/commands/evaluate.ts';
import { writeNetworkFile } from '../src/cli/network-file.ts';
import { lineChart } from '../src/cli/plot.ts';
import { InputError } from '../src/core/errors.ts';
import { edgeCount, nodeCount, type Network } from '../src/core/network.ts';
import { createRng } from '../src/core/random.ts';
import type { Dataset } from '../src/ml/data.ts';
import { availableMethods, checkEvaluationInputs, evaluatePruning, pruningPercentages } from '../src/ml/evaluate.ts';
import { accuracy } from '../src/ml/metrics.ts';
import { predictClasses, toTfModel } from '../src/ml/model.ts';
import { edgeScores, pruneOrder, prunedWeights, PRUNE_METHODS, referencePrunedWeights, referenceThreshold, sortedScores } from '../src/ml/prune.ts';
import { initTf } from '../src/ml/tf.ts';

const LAYERS = [6, 5, 3];
const E = edgeCount(LAYERS);
const N = nodeCount(LAYERS);
const C = 3;

/** Hidden node c (< 3) sums features 2c, 2c+1; output c reads hidden c. Output bias favours class 1. */
function handModel(): Network {
  const rng = createRng(11);
  const k0 = new Float32Array(6 * 5);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 5; j++) k0[i * 5 + j] = j === Math.floor(i / 2) ? 1 : (rng() - 0.5) * 0.1;
  const k1 = new Float32Array(5 * 3);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) k1[i * 3 + j] = i === j ? 2 : (rng() - 0.5) * 0.1;
  const weights = new Float32Array(E);
  weights.set(k0, 0);
  weights.set(k1, 30);
  const biases = new Float32Array(5 + 3);
  biases[5 + 1] = 0.1;
  return { layers: LAYERS, classNames: ['a', 'b', 'c'], activations: ['relu', 'softmax'], weights, biases, meta: {} };
}

function handImportance(seed = 3, method?: 'taylor'): Network {
  const rng = createRng(seed);
  return {
    ...handModel(),
    nodeImportance: Float32Array.from({ length: N * C }, () => rng()),
    edgeImportance: Float32Array.from({ length: E }, () => rng()),
    meta: method ? { importance: { method } } : {},
  };
}

/** The methods a BN importance file allows (PRUNE_METHODS without taylor*). */
const BN_METHODS = availableMethods(['bn']);

/** Unbalanced on purpose (10 / 14 / 6), so "constant prediction" accuracy is a known non-chance number. */
function dataset(counts = [10, 14, 6], seed = 5): Dataset {
  const rng = createRng(seed);
  const count = counts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(count * 6);
  const y = new Int32Array(count);
  let s = 0;
  counts.forEach((n, c) => {
    for (let k = 0; k < n; k++, s++) {
      y[s] = c;
      for (let f = 0; f < 6; f++) x[s * 6 + f] = (Math.floor(f / 2) === c ? 1 : 0) + (rng() - 0.5) * 0.4;
    }
  });
  return { x, y, count, features: 6, classes: 3 };
}

async function rejects(p: Promise<unknown> | (() => unknown)): Promise<InputError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).not.toContain('\n');
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('edge scores and prune order', () => {
  it('bnn_edge equals bnn × edge element-wise; edge is alpha', () => {
    const imp = handImportance();
    for (const classes of [undefined, [0, 2]]) {
      const bnn = edgeScores(imp, 'bnn', classes, 0);
      const edge = edgeScores(imp, 'edge', classes, 0);
      const both = edgeScores(imp, 'bnn_edge', classes, 0);
      expect(Array.from(edge)).toEqual(Array.from(imp.edgeImportance!));
      for (let e = 0; e < E; e++) expect(both[e]).toBeCloseTo(bnn[e] * edge[e], 6);
    }
  });

  it('bnn is the mean of the source node importance over the classes', () => {
    const imp = handImportance();
    const bnn = edgeScores(imp, 'bnn', undefined, 0);
    // gap 1, source 2 (node 6 + 2 = 8), target 1 → edge 30 + 2 * 3 + 1
    const ni = imp.nodeImportance!;
    expect(bnn[37]).toBeCloseTo((ni[8 * 3] + ni[8 * 3 + 1] + ni[8 * 3 + 2]) / 3, 6);
    // every edge of one source node shares the score
    expect(bnn[6]).toBe(bnn[5]);
  });

  it('class-specific scores only depend on the relevant classes', () => {
    const imp = handImportance();
    const before = edgeScores(imp, 'bnn_edge', [1], 0);
    const changed = Float32Array.from(imp.nodeImportance!);
    for (let n = 0; n < N; n++) {
      changed[n * C] = 0.5;
      changed[n * C + 2] = 0.9;
    }
    expect(Array.from(edgeScores({ ...imp, nodeImportance: changed }, 'bnn_edge', [1], 0))).toEqual(Array.from(before));
    for (let n = 0; n < N; n++) changed[n * C + 1] = (n * 7) % 5;
    expect(Array.from(edgeScores({ ...imp, nodeImportance: changed }, 'bnn_edge', [1], 0))).not.toEqual(Array.from(before));
  });

  it('random scores are a seeded permutation', () => {
    const imp = handImportance();
    const a = edgeScores(imp, 'random', undefined, 1);
    expect(Array.from(edgeScores(imp, 'random', undefined, 1))).toEqual(Array.from(a));
    expect(Array.from(edgeScores(imp, 'random', undefined, 2))).not.toEqual(Array.from(a));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: E }, (_, i) => i));
  });

  it('pruneOrder is ascending with ties broken by edge index', () => {
    expect(Array.from(pruneOrder(Float32Array.of(3, 1, 2, 1, 0, 2)))).toEqual([4, 1, 3, 2, 5, 0]);
    const scores = edgeScores(handImportance(), 'bnn', undefined, 0);
    const order = pruneOrder(scores);
    for (let i = 1; i < order.length; i++) {
      expect(scores[order[i - 1]] < scores[order[i]] || (scores[order[i - 1]] === scores[order[i]] && order[i - 1] < order[i])).toBe(true);
    }
  });

  it('prunedWeights zeroes the lowest round(fraction · E) edges of a copy', () => {
    const w = Float32Array.of(1, 2, 3, 4, 5);
    const order = Uint32Array.of(3, 0, 4, 1, 2);
    expect(Array.from(prunedWeights(w, order, 0))).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(prunedWeights(w, order, 0.4))).toEqual([0, 2, 3, 0, 5]);
    expect(Array.from(prunedWeights(w, order, 0.5))).toEqual([0, 2, 3, 0, 0]); // round(2.5) = 3
    expect(Array.from(prunedWeights(w, order, 1))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(w)).toEqual([1, 2, 3, 4, 5]);
  });

  it('the reference protocol zeroes every edge scoring ≤ the sorted score at index ⌊p·E/100⌋, ties together', () => {
    const w = Float32Array.of(10, 20, 30, 40, 50, 60);
    const scores = Float32Array.of(3, 1, 2, 1, 0, 2);
    const sorted = sortedScores(scores);
    expect(Array.from(sorted)).toEqual([0, 1, 1, 2, 2, 3]);
    const at = (p: number) => referencePrunedWeights(w, scores, sorted, p);
    // 0 %: index 0, the minimum: one edge even at 0 %
    expect(referenceThreshold(sorted, 0)).toBe(0);
    expect(at(0)).toEqual({ weights: Float32Array.of(10, 20, 30, 40, 0, 60), pruned: 1 });
    // 20 %: ⌊1.2⌋ = 1 → threshold 1: both edges scoring 1 go, 3 edges instead of round(1.2) = 1
    expect(at(20)).toEqual({ weights: Float32Array.of(10, 0, 30, 0, 0, 60), pruned: 3 });
    // 34 %: ⌊2.04⌋ = 2 → still 1
    expect(at(34).pruned).toBe(3);
    // 50 %: index 3 → threshold 2: the two 2s as well
    expect(at(50)).toEqual({ weights: Float32Array.of(10, 0, 0, 0, 0, 0), pruned: 5 });
    // 100 %: index 6 clamped to 5 → all
    expect(at(100).pruned).toBe(6);
    expect(Array.from(w)).toEqual([10, 20, 30, 40, 50, 60]);
    // NaN counts as −∞, as in pruneOrder
    const nan = Float32Array.of(NaN, 5, 4);
    expect(referencePrunedWeights(Float32Array.of(1, 2, 3), nan, sortedScores(nan), 0)).toEqual({ weights: Float32Array.of(0, 2, 3), pruned: 1 });
  });

  it('taylor and taylor_edge score like bnn and bnn_edge, from the file they are given', () => {
    const imp = handImportance(7, 'taylor');
    expect(Array.from(edgeScores(imp, 'taylor', [1], 0))).toEqual(Array.from(edgeScores(imp, 'bnn', [1], 0)));
    expect(Array.from(edgeScores(imp, 'taylor_edge', undefined, 0))).toEqual(Array.from(edgeScores(imp, 'bnn_edge', undefined, 0)));
  });

  it('percentages run from 0 to 100 in steps', () => {
    expect(pruningPercentages(25)).toEqual([0, 25, 50, 75, 100]);
    expect(pruningPercentages(30)).toEqual([0, 30, 60, 90, 100]);
  });
});

describe('evaluatePruning', () => {
  it('0 % keeps the unpruned accuracy exactly; 100 % predicts the bias class; no tensors leak', async () => {
    const tf = await initTf();
    const model = handModel();
    const test = dataset();
    const tfModel = toTfModel(tf, model);
    const unpruned = accuracy(predictClasses(tf, tfModel, test), test.y);
    tfModel.dispose();
    expect(unpruned).toBeGreaterThan(0.9);

    const tensors = tf.memory().numTensors;
    const steps: number[] = [];
    const r = await evaluatePruning(model, handImportance(), test, { methods: BN_METHODS, step: 25, seed: 0, protocol: 'exact' }, (done) => steps.push(done));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(steps).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(r.percentages).toEqual([0, 25, 50, 75, 100]);
    expect(r.protocol).toBe('exact');
    expect(r.methods.map((m) => m.method)).toEqual(BN_METHODS);
    for (const m of r.methods) {
      expect(m.prunedEdges).toEqual([0, 11, 23, 34, 45]);
      expect(m.accuracy[0]).toBe(unpruned);
      expect(m.trainAccuracy).toBeUndefined();
      // all weights zero: the output is softmax(biases), always class 1 (14 of 30 samples)
      expect(m.accuracy[4]).toBeCloseTo(14 / 30, 10);
      expect(m.balancedAccuracy).toHaveLength(5);
      expect(m.balancedAccuracy[4]).toEqual([0.5, 0.5, 0.5]);
      expect(m.relevantAccuracy).toBeUndefined();
    }
  });

  it('reference protocol by default: ties pruned together; train accuracy with training data', async () => {
    const model = handModel();
    const test = dataset();
    const train = dataset([12, 12, 12], 9);
    const imp = handImportance();
    const r = await evaluatePruning(model, imp, test, { methods: ['bnn', 'edge'], step: 25, seed: 0, train });
    expect(r.protocol).toBe('reference');
    const [bnn, edge] = r.methods;
    // bnn: every edge of a source node ties, so whole nodes go: 5 edges per input node, 3 per hidden node
    const scores = edgeScores(imp, 'bnn', undefined, 0);
    const sorted = sortedScores(scores);
    expect(bnn.prunedEdges).toEqual([0, 25, 50, 75, 100].map((p) => referencePrunedWeights(model.weights!, scores, sorted, p).pruned));
    expect(bnn.prunedEdges[0]).toBeGreaterThanOrEqual(3);
    expect(bnn.prunedEdges[4]).toBe(E);
    // edge: random alphas have no ties, so ⌊p·E/100⌋ + 1 edges (all at 100 %)
    expect(edge.prunedEdges).toEqual([1, 12, 23, 34, 45]);
    for (const m of r.methods) {
      expect(m.trainAccuracy).toHaveLength(5);
      // all weights zero: always class 1, 12 of 36 training samples
      expect(m.trainAccuracy![4]).toBeCloseTo(1 / 3, 10);
      expect(m.accuracy[4]).toBeCloseTo(14 / 30, 10);
    }
    const tf = await initTf();
    const tfModel = toTfModel(tf, { ...model, weights: referencePrunedWeights(model.weights!, scores, sorted, 50).weights });
    expect(bnn.trainAccuracy![2]).toBe(accuracy(predictClasses(tf, tfModel, train), train.y));
    expect(bnn.accuracy[2]).toBe(accuracy(predictClasses(tf, tfModel, test), test.y));
    tfModel.dispose();
  });

  it('gives the same results in worker threads as in this thread, with progress for every step', async () => {
    const model = handModel();
    const opts = { methods: BN_METHODS, step: 10, seed: 0, train: dataset([30, 20, 25], 8), classes: [1] };
    const one = await evaluatePruning(model, handImportance(), dataset(), { ...opts, threads: 1 });
    const steps: number[] = [];
    const two = await evaluatePruning(model, handImportance(), dataset(), { ...opts, threads: 2 }, (done) => steps.push(done));
    expect(two).toEqual(one);
    expect(steps.sort((a, b) => a - b)).toEqual(Array.from({ length: BN_METHODS.length * 11 }, (_, i) => i + 1));
  });

  it('compares a BN and a Taylor file on the same curves', async () => {
    const model = handModel();
    const test = dataset();
    const bn = handImportance(3);
    const taylor = handImportance(8, 'taylor');
    const r = await evaluatePruning(model, [bn, taylor], test, { methods: [...PRUNE_METHODS], step: 50, seed: 0 });
    expect(r.methods.map((m) => m.method)).toEqual([...PRUNE_METHODS]);
    const alone = await evaluatePruning(model, taylor, test, { methods: ['taylor_edge', 'taylor'], step: 50, seed: 0 });
    expect(r.methods.find((m) => m.method === 'taylor_edge')).toEqual(alone.methods[0]);
    expect(r.methods.find((m) => m.method === 'taylor')).toEqual(alone.methods[1]);
    const bnAlone = await evaluatePruning(model, bn, test, { methods: ['bnn_edge'], step: 50, seed: 0 });
    expect(r.methods[0]).toEqual(bnAlone.methods[0]);
    expect(availableMethods(['taylor'])).toEqual(['taylor_edge', 'edge', 'taylor', 'random']);
  });

  it('random is seeded; relevant accuracy covers only the relevant classes', async () => {
    const model = handModel();
    const test = dataset([20, 20, 20]);
    const opts = { methods: ['random' as const, 'edge' as const], step: 10, seed: 4 };
    const a = await evaluatePruning(model, handImportance(), test, opts);
    const b = await evaluatePruning(model, handImportance(), test, opts);
    expect(b).toEqual(a);
    const c = await evaluatePruning(model, handImportance(), test, { ...opts, classes: [0, 2] });
    const rel = c.methods[0].relevantAccuracy!;
    expect(rel).toHaveLength(11);
    // 100 % pruned predicts class 1 everywhere: 0 on classes 0 and 2
    expect(rel[10]).toBe(0);
    expect(c.methods[0].accuracy).toEqual(a.methods[0].accuracy);
    const d = await evaluatePruning(model, handImportance(), test, { ...opts, seed: 5 });
    expect(pruneOrder(edgeScores(handImportance(), 'random', undefined, 5))).not.toEqual(pruneOrder(edgeScores(handImportance(), 'random', undefined, 4)));
    expect(d.methods[1]).toEqual(a.methods[1]); // edge does not depend on the seed
  });

  it('rejects bad input with one-line InputErrors', async () => {
    const model = handModel();
    const imp = handImportance();
    const test = dataset();
    const files = { model: 'm.nnvis', importance: 'i.nnvis' };
    const mismatch = await rejects(() => checkEvaluationInputs(model, { ...imp, layers: [6, 4, 3] }, files));
    expect(mismatch.message).toContain('m.nnvis');
    expect(mismatch.message).toContain('i.nnvis');
    expect(mismatch.message).toContain('6-4-3');
    expect((await rejects(() => checkEvaluationInputs(model, { ...imp, layers: [6, 5, 4] }, files))).message).toContain('classes');
    expect((await rejects(() => checkEvaluationInputs({ ...model, weights: undefined, biases: undefined, activations: undefined }, imp, files))).message).toContain('m.nnvis: has no weights');
    expect((await rejects(() => checkEvaluationInputs(model, { ...imp, nodeImportance: undefined }, files))).message).toContain('i.nnvis');
    const base = { methods: ['edge' as const], step: 10, seed: 0 };
    expect((await rejects(evaluatePruning(model, imp, test, { ...base, classes: [3] }))).message).toContain('out of range');
    expect((await rejects(evaluatePruning(model, imp, test, { ...base, step: 0 }))).message).toContain('--step');
    expect((await rejects(evaluatePruning(model, imp, test, { ...base, step: 51 }))).message).toContain('--step');
    expect((await rejects(evaluatePruning(model, imp, test, { ...base, methods: ['nope' as never] }))).message).toContain('unknown method');
    expect((await rejects(evaluatePruning(model, imp, test, { ...base, protocol: 'loose' as never }))).message).toContain("--protocol: unknown protocol 'loose'");
    const noTaylor = await rejects(evaluatePruning(model, imp, test, { ...base, methods: ['taylor_edge'], files: { model: 'm.nnvis', importance: 'bn.nnvis' } }));
    expect(noTaylor.message).toContain('--methods taylor_edge needs a Taylor importance file');
    expect(noTaylor.message).toContain('bn.nnvis is BN');
    const twoBn = await rejects(evaluatePruning(model, [imp, handImportance(4)], test, { ...base, files: { model: 'm.nnvis', importance: ['a.nnvis', 'b.nnvis'] } }));
    expect(twoBn.message).toContain('a.nnvis and b.nnvis both hold BN importance');
    const badTrain = await rejects(evaluatePruning(model, imp, test, { ...base, train: { ...test, features: 5 } }));
    expect(badTrain.message).toContain('training data has 5 features');
  });
});

describe('lineChart', () => {
  it('draws marker-only series (the thesis values) in the colour of the line of the same name, with a marker legend', async () => {
    const chart = await lineChart({
      title: 'With markers',
      xTitle: 'x',
      yTitle: 'y',
      series: [
        { name: 'ours', x: [0, 50, 100], y: [1, 0.8, 0.1] },
        { name: 'ours', x: [80, 90], y: [0.9, 0.6], points: 'thesis (nn_vis)' },
      ],
    });
    expect(chart.svg).toContain('thesis (nn_vis)');
    expect(chart.svg.match(/>ours<\/text>/g)).toHaveLength(1);
  });

  it('renders an SVG with title, axis titles and legend, and a PNG', async () => {
    const x = [0, 50, 100];
    const chart = await lineChart({
      title: 'Accuracy while pruning',
      xTitle: 'edges pruned (%)',
      yTitle: 'test accuracy',
      yDomain: [0, 1],
      series: [
        { name: 'BNN x edge (bnn_edge)', x, y: [1, 0.9, 0.1] },
        { name: 'overall accuracy', x, y: [1, 0.5, 0.1], dashed: true },
      ],
    });
    for (const text of ['Accuracy while pruning', 'edges pruned (%)', 'test accuracy', 'BNN x edge (bnn_edge)', 'overall accuracy']) {
      expect(chart.svg).toContain(text);
    }
    expect(chart.svg.startsWith('<svg')).toBe(true);
    expect(Array.from(chart.png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(chart.png.length).toBeGreaterThan(10_000);
    // 2× zoom of a ~640-wide chart
    const width = new DataView(chart.png.buffer, chart.png.byteOffset).getUint32(16);
    expect(width).toBeGreaterThan(1000);
  });
});

describe('nnvis evaluate', () => {
  let tmp: string;
  const paths = { model: '', imp: '', wrongImp: '', weightless: '', data: '' };
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'nnvis-evaluate-test-'));
    paths.model = join(tmp, 'model.nnvis');
    paths.imp = join(tmp, 'imp.nnvis');
    paths.wrongImp = join(tmp, 'imp-643.nnvis');
    paths.weightless = join(tmp, 'weightless.nnvis');
    paths.data = join(tmp, 'data.csv');
    writeNetworkFile(paths.model, handModel());
    writeNetworkFile(paths.imp, handImportance());
    const rng = createRng(1);
    writeNetworkFile(paths.wrongImp, {
      layers: [6, 4, 3],
      classNames: ['a', 'b', 'c'],
      nodeImportance: Float32Array.from({ length: 13 * 3 }, () => rng()),
      edgeImportance: Float32Array.from({ length: 36 }, () => rng()),
      meta: {},
    });
    // an importance file without the model's weights
    writeNetworkFile(paths.weightless, { ...handImportance(), weights: undefined, biases: undefined, activations: undefined });
    const d = dataset([20, 20, 20]);
    const rows = Array.from({ length: d.count }, (_, s) => [...d.x.subarray(s * 6, s * 6 + 6), d.y[s]].join(','));
    writeFileSync(paths.data, rows.join('\n') + '\n');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  async function run(args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    registerEvaluate(program);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await program.parseAsync(['evaluate', ...args], { from: 'user' });
      return log.mock.calls.map((c) => c.join(' ')).join('\n');
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  }

  it('writes results and charts', async () => {
    const out = join(tmp, 'eval');
    const stdout = await run([paths.model, paths.imp, '--data', paths.data, '--methods', 'bnn_edge,random', '--step', '10', '--classes', '0,c', '-o', out]);
    // with --classes: per-class and relevant charts; the relative charts need the overall ranking
    expect(readdirSync(out).sort()).toEqual(
      [
        'accuracy.png',
        'accuracy.svg',
        'per-class-bnn_edge.png',
        'per-class-bnn_edge.svg',
        'per-class-random.png',
        'per-class-random.svg',
        'relevant.png',
        'relevant.svg',
        'results.csv',
        'results.json',
      ].sort(),
    );
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('method,pruned_percent,pruned_edges,train_accuracy,test_accuracy,relevant_accuracy,balanced_acc_a,balanced_acc_b,balanced_acc_c');
    expect(csv).toHaveLength(1 + 2 * 11);
    expect(csv[1]).toMatch(/^bnn_edge,0,\d+,[\d.]+,[\d.]+,[\d.]+,/);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.config).toEqual({ methods: ['bnn_edge', 'random'], step: 10, protocol: 'reference', classes: [0, 2], seed: 0 });
    expect(json.methods[0].trainAccuracy).toHaveLength(11);
    expect(json.methods[0].accuracy).toHaveLength(11);
    expect(json.trainSamples + json.testSamples).toBe(60);
    expect(json.percentages).toHaveLength(11);
    expect(json.methods[0].relevantAccuracy).toHaveLength(11);
    expect(json.files.model).toBe(paths.model);
    const perClass = readFileSync(join(out, 'per-class-bnn_edge.svg'), 'utf8');
    expect(perClass).toContain('overall accuracy');
    expect(perClass).toContain('>class a</text>');
    expect(perClass).toContain('>class c</text>');
    expect(perClass).not.toContain('>class b</text>');
    const acc = readFileSync(join(out, 'accuracy.svg'), 'utf8');
    for (const text of ['BN γ × edge (bnn_edge)', 'training samples', 'test samples']) expect(acc).toContain(text);
    expect(stdout).toContain('50 %');
    expect(stdout).toContain('random (random)');
    expect(stdout).toContain('train accuracy');
  });

  it('writes both per-class charts (balanced and relative accuracy) and compares a BN and a Taylor file', async () => {
    const taylor = join(tmp, 'imp-taylor.nnvis');
    writeNetworkFile(taylor, handImportance(8, 'taylor'));
    const out = join(tmp, 'eval-both');
    const stdout = await run([paths.model, paths.imp, taylor, '--data', paths.data, '--step', '25', '--protocol', 'exact', '-o', out]);
    const methods = [...PRUNE_METHODS];
    expect(readdirSync(out).sort()).toEqual(
      ['results.csv', 'results.json', ...['accuracy', ...methods.flatMap((m) => [`per-class-${m}`, `relative-${m}`])].flatMap((c) => [`${c}.png`, `${c}.svg`])].sort(),
    );
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.config.methods).toEqual(methods);
    expect(json.config.protocol).toBe('exact');
    expect(json.files.importance).toEqual({ bn: paths.imp, taylor });
    expect(json.methods[0].prunedEdges).toEqual([0, 11, 23, 34, 45]);
    const relative = readFileSync(join(out, 'relative-bnn_edge.svg'), 'utf8');
    for (const text of ['Relative accuracy', 'relative accuracy', '>class a</text>', '>class b</text>', '>class c</text>']) expect(relative).toContain(text);
    expect(readFileSync(join(out, 'accuracy.svg'), 'utf8')).toContain('Taylor × edge (taylor_edge)');
    expect(stdout).toContain('exact protocol');
  });

  it.each([
    ['mismatched importance', (p: typeof paths) => [p.model, p.wrongImp], ['model.nnvis', 'imp-643.nnvis']],
    ['model without weights', (p: typeof paths) => [p.weightless, p.imp], ['weightless.nnvis', 'no weights']],
    ['importance without importance', (p: typeof paths) => [p.model, p.model], ['holds no importance']],
    ['class out of range', (p: typeof paths) => [p.model, p.imp, '--classes', '3'], ['out of range']],
    ['unknown class name', (p: typeof paths) => [p.model, p.imp, '--classes', 'zebra'], ['zebra']],
    ['step 0', (p: typeof paths) => [p.model, p.imp, '--step', '0'], ['--step']],
    ['step 60', (p: typeof paths) => [p.model, p.imp, '--step', '60'], ['--step']],
    ['unknown method', (p: typeof paths) => [p.model, p.imp, '--methods', 'edge,magic'], ["'magic'"]],
    ['unknown protocol', (p: typeof paths) => [p.model, p.imp, '--protocol', 'loose'], ["--protocol: unknown protocol 'loose'; choose reference or exact"]],
    ['a Taylor method without a Taylor file', (p: typeof paths) => [p.model, p.imp, '--methods', 'taylor'], ['--methods taylor needs a Taylor importance file', 'imp.nnvis is BN']],
    ['two BN files', (p: typeof paths) => [p.model, p.imp, p.imp], ['both hold BN importance']],
    ['three importance files', (p: typeof paths) => [p.model, p.imp, p.imp, p.imp], ['3 importance files given']],
  ])('rejects %s and writes nothing', async (_name, args, expected) => {
    const out = join(tmp, `bad-${_name.replace(/\W+/g, '-')}`);
    const err = await rejects(run([...args(paths), '--data', paths.data, '-o', out]));
    for (const text of expected) expect(err.message).toContain(text);
    expect(existsSync(out)).toBe(false);
  });
});
