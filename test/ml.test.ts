import { beforeAll, describe, expect, it } from 'vitest';
import { biasView, edgeOffset, kernelView, nodeCount, nodeOffset, type Network } from '../src/core/network.ts';
import { indicesByClass, oneVsRest, splitDataset, subset, type Dataset } from '../src/ml/data.ts';
import { assembleImportance, buildImportanceModel, classImportance, headWeights, trainableVariables, trainEpoch } from '../src/ml/importance.ts';
import { loadMnist } from '../src/ml/mnist.ts';
import { importanceForClasses } from '../src/ml/parallel.ts';
import { initTf } from '../src/ml/tf.ts';
import { trainNetwork } from '../src/ml/train.ts';

let train: Dataset;
let test: Dataset;
let net: Network;
const opts = { flags: ['gamma', 'l1'] as const, epochs: 2, batchSize: 128, learningRate: 0.001, seed: 3 };

beforeAll(async () => {
  const split = splitDataset(loadMnist(), 0.2, 5);
  // a quarter of the digits keeps the suite fast while staying real data
  train = subset(split.train, Array.from({ length: 2000 }, (_, i) => i));
  test = subset(split.test, Array.from({ length: 500 }, (_, i) => i));
  net = (await trainNetwork(train, test, { layers: [784, 16, 12, 10], epochs: 3, batchSize: 64, learningRate: 0.003, l1: 0, untrained: false, seed: 1 })).network;
});

describe('MNIST data', () => {
  it('has the 10,000 real digits with values in [0, 1]', () => {
    const all = loadMnist();
    expect(all.count).toBe(10_000);
    expect(all.features).toBe(784);
    expect(Math.max(...all.x.subarray(0, 784 * 20))).toBeLessThanOrEqual(1);
    expect(indicesByClass(all).map((i) => i.length).reduce((a, b) => a + b)).toBe(10_000);
  });

  it('splits per class, deterministically, without overlap', () => {
    const all = loadMnist();
    const a = splitDataset(all, 0.2, 9);
    const b = splitDataset(all, 0.2, 9);
    const c = splitDataset(all, 0.2, 10);
    const same = (x: ArrayBufferView, y: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    expect(same(a.train.y, b.train.y)).toBe(true);
    expect(same(a.test.x, b.test.x)).toBe(true);
    expect(same(a.test.y, c.test.y)).toBe(false);
    expect(a.train.count + a.test.count).toBe(10_000);
    const perClass = indicesByClass(all).map((i) => i.length);
    indicesByClass(a.test).forEach((idx, k) => expect(idx.length).toBe(perClass[k] - Math.round(0.8 * perClass[k])));
  });

  it('builds balanced one-vs-rest data', () => {
    const d = oneVsRest(train, 4, 1);
    const own = indicesByClass(train)[4].length;
    const labels = Array.from(d.y);
    expect(labels.filter((l) => l === 0)).toHaveLength(own);
    expect(Math.abs(labels.filter((l) => l === 1).length - own)).toBeLessThanOrEqual(9);
    expect(d.classes).toBe(2);
  });
});

describe('training', () => {
  it('learns the digits and is deterministic for a seed', async () => {
    const o = { layers: [784, 12, 10], epochs: 2, batchSize: 64, learningRate: 0.003, l1: 0, untrained: false, seed: 4 };
    const a = await trainNetwork(train, test, o);
    const b = await trainNetwork(train, test, o);
    expect(a.testAccuracy).toBeGreaterThan(0.7);
    expect(a.network.weights).toEqual(b.network.weights);
    expect(a.history).toHaveLength(2);
    expect(a.history[1].loss).toBeLessThan(a.history[0].loss);
    expect(a.report).toHaveLength(10);
    const untrained = await trainNetwork(train, test, { ...o, untrained: true });
    expect(untrained.history).toHaveLength(0);
    expect(untrained.testAccuracy).toBeLessThan(0.3);
  });
});

describe('importance (METHOD.md §3)', () => {
  it('initialises the 2-unit head from the old head: column c and the sum of the others', async () => {
    const tf = await initTf();
    const c = 7;
    const [kernel, bias] = headWeights(tf, net, c);
    const k = kernelView(net, 2);
    const b = biasView(net, 2);
    const kd = kernel.dataSync();
    for (let i = 0; i < 12; i++) {
      expect(kd[i * 2]).toBe(k[i * 10 + c]);
      const rest = Array.from({ length: 10 }, (_, j) => (j === c ? 0 : k[i * 10 + j])).reduce((x, y) => x + y);
      expect(kd[i * 2 + 1]).toBeCloseTo(rest, 5);
    }
    expect(bias.dataSync()[0]).toBe(b[c]);
  });

  it('trains only the BatchNormalization layers', async () => {
    const tf = await initTf();
    for (const [flags, perLayer] of [[['gamma', 'l1'], 1], [['centering', 'gamma'], 2]] as const) {
      const model = buildImportanceModel(tf, net, 2, flags);
      const vars = trainableVariables(model);
      expect(vars).toHaveLength(3 * perLayer);
      expect(vars.map((v) => v.shape[0])).toEqual(perLayer === 1 ? [784, 16, 12] : [784, 784, 16, 16, 12, 12]);
      const frozen = model.dense.map((d) => [d.kernel.dataSync().slice(), d.bias.dataSync().slice()]);
      const gammaBefore = model.bn[1].gamma.dataSync().slice();
      trainEpoch(tf, model, tf.train.adam(0.01), vars, oneVsRest(train, 2, 1), 128);
      model.dense.forEach((d, k) => {
        expect(d.kernel.dataSync()).toEqual(frozen[k][0]);
        expect(d.bias.dataSync()).toEqual(frozen[k][1]);
      });
      expect(model.bn[1].gamma.dataSync()).not.toEqual(gammaBefore);
    }
  });

  it('starts gamma at ones with GAMMA and at zeros without', async () => {
    const tf = await initTf();
    expect(Math.min(...buildImportanceModel(tf, net, 0, ['gamma']).bn[0].gamma.dataSync())).toBe(1);
    expect(Math.max(...buildImportanceModel(tf, net, 0, ['l1']).bn[0].gamma.dataSync())).toBe(0);
  });

  it('is deterministic for a seed, in one thread or several', async () => {
    const a = await classImportance(net, train, test, 3, { ...opts, flags: [...opts.flags] });
    const b = await classImportance(net, train, test, 3, { ...opts, flags: [...opts.flags] });
    const c = await classImportance(net, train, test, 3, { ...opts, flags: [...opts.flags], seed: 4 });
    expect(a.gammas).toEqual(b.gammas);
    expect(a.gammas[1]).not.toEqual(c.gammas[1]);
    const pooled = await importanceForClasses({ net, train, test, opts: { ...opts, flags: [...opts.flags] } }, [3, 5], { threads: 2 });
    expect(pooled.map((r) => r.classIndex)).toEqual([3, 5]);
    expect(pooled[0].gammas).toEqual(a.gammas);
    expect(a.testAccuracy).toBeGreaterThan(0.5);
  });

  it('assembles normalised node importance, one-hot outputs and per-layer |w| alpha', async () => {
    const results = await importanceForClasses({ net, train, test, opts: { ...opts, flags: [...opts.flags], epochs: 1 } }, Array.from({ length: 10 }, (_, c) => c), { threads: 1 });
    const out = assembleImportance(net, results, { note: 'test' });
    const C = 10;
    expect(out.nodeImportance).toHaveLength(nodeCount(net.layers) * C);
    for (let l = 0; l < 3; l++) {
      const o = nodeOffset(net.layers, l) * C;
      const values = Array.from(out.nodeImportance!.subarray(o, o + net.layers[l] * C));
      expect(Math.max(...values)).toBe(1);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      // |gamma| / layer max, for one node and class
      const max = Math.max(...results.flatMap((r) => Array.from(r.gammas[l])));
      expect(values[5 * C + 2]).toBeCloseTo(results[2].gammas[l][5] / max, 6);
    }
    const outStart = nodeOffset(net.layers, 3);
    for (let c = 0; c < C; c++) for (let j = 0; j < C; j++) expect(out.nodeImportance![(outStart + c) * C + j]).toBe(c === j ? 1 : 0);
    for (let k = 0; k < 3; k++) {
      const o = edgeOffset(net.layers, k);
      const n = net.layers[k] * net.layers[k + 1];
      const w = Array.from(net.weights!.subarray(o, o + n), Math.abs);
      const max = Math.max(...w);
      expect(Math.max(...out.edgeImportance!.subarray(o, o + n))).toBe(1);
      expect(out.edgeImportance![o + 3]).toBeCloseTo(w[3] / max, 6);
    }
    expect(out.meta.importance).toEqual({ note: 'test' });
  });
});
