import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNetworkFile } from '../src/cli/network-file.ts';
import { createRng } from '../src/core/random.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';

let dir: string;
let tiny: string;

/** Three separable clusters in 6 features: data the tiny 6-5-4-3 fixture can be probed with. */
function clusterCsv(labels: number[], features = 6, extra = ''): string {
  const rng = createRng(11);
  const rows = ['f0,f1,f2,f3,f4,f5,label'];
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

describe('nnvis train / importance', () => {
  it('trains a small MNIST net and estimates its importance end to end', () => {
    const model = join(dir, 'm.nnvis');
    const t = runCli(['train', '--layers', '12', '--epochs', '1', '--seed', '2', '-o', model]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/test accuracy 0\.\d+/);
    expect(t.stdout).toMatch(/^9 +0\.\d+/m);
    const net = readNetworkFile(model);
    expect(net.layers).toEqual([784, 12, 10]);
    expect((net.meta.training as { report: unknown[] }).report).toHaveLength(10);

    const imp = join(dir, 'imp.nnvis');
    const r = runCli(['importance', model, '--epochs', '1', '--threads', '2', '--seed', '1', '-o', imp]);
    expect(r.code).toBe(0);
    const out = readNetworkFile(imp);
    expect(out.nodeImportance).toHaveLength((784 + 12 + 10) * 10);
    expect((out.meta.importance as { perClass: unknown[] }).perClass).toHaveLength(10);
    expect(out.meta.importance).toMatchObject({ type: ['gamma', 'l1'], epochs: 1 });
    expect(runCli(['inspect', imp]).stdout).toContain('network + importance');
  });

  it('is byte-identical for the same seed, whatever the thread count', () => {
    const [a, b] = [join(dir, 'seed-a.nnvis'), join(dir, 'seed-b.nnvis')];
    for (const f of [a, b]) expect(runCli(['train', '--layers', '8', '--epochs', '1', '--seed', '5', '-o', f]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const [ia, ib] = [join(dir, 'imp-a.nnvis'), join(dir, 'imp-b.nnvis')];
    expect(runCli(['importance', a, '--epochs', '1', '--threads', '1', '--seed', '2', '-o', ia]).code).toBe(0);
    expect(runCli(['importance', a, '--epochs', '1', '--threads', '2', '--seed', '2', '-o', ib]).code).toBe(0);
    expect(readFileSync(ia).equals(readFileSync(ib))).toBe(true);
  });

  it('trains the unbalanced, class-selection and untrained variants and exports tfjs', async () => {
    const unbalanced = join(dir, 'unb.nnvis');
    expect(runCli(['train', '--layers', '8', '--epochs', '1', '--unbalanced', '3', '--other-fraction', '0.1', '-o', unbalanced]).code).toBe(0);
    const u = readNetworkFile(unbalanced).meta.training as { trainSamples: number; variant: string };
    // all 826 training 3s (80 % of 1032) plus 10 % of each other digit's training share
    expect(u.trainSamples).toBeGreaterThan(826 + 600);
    expect(u.trainSamples).toBeLessThan(826 + 800);
    expect(u.variant).toContain('unbalanced');

    const selected = join(dir, 'sel.nnvis');
    const exported = join(dir, 'tfjs');
    expect(runCli(['train', '--layers', '8', '--epochs', '1', '--classes', '0,1', '--export-tfjs', exported, '-o', selected]).code).toBe(0);
    const sel = readNetworkFile(selected);
    expect((sel.meta.training as { trainSamples: number }).trainSamples).toBe(Math.round(0.8 * 1001) + Math.round(0.8 * 1127));
    const { importModel } = await import('../src/ml/import/index.ts');
    const back = await importModel(join(exported, 'model.json'));
    expect(back.layers).toEqual([784, 8, 10]);
    expect(Buffer.from(back.weights!.buffer).equals(Buffer.from(sel.weights!.slice().buffer))).toBe(true);

    const untrained = join(dir, 'untrained.nnvis');
    const r = runCli(['train', '--layers', '8', '--untrained', '-o', untrained]);
    expect(r.code).toBe(0);
    expect((readNetworkFile(untrained).meta.training as { epochs: number }).epochs).toBe(0);
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
  ];

  it.each(bad)('rejects %s in one line and writes nothing', (_name, args, text) => {
    const out = join(tempDir(), 'out.nnvis');
    const line = expectOneLineError(runCli([...args(), '--epochs', '1', '-o', out]));
    expect(line).toContain(text);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(join(out, '..'))).toEqual([]);
  });
});
