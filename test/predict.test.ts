// `nnvis predict` end to end (issue 14): the real command on ONNX models written with
// onnx-proto, against onnxruntime-web, with the data formats users hold (CSV without labels,
// JSON, NumPy .npy and .npz); `nnvis import` says what it folded or converted.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataFile } from '../src/ml/data-file.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';
import { buildOnnx, maxDiff, type OnnxGraph, runOnnx, values, zip } from './onnx-build.ts';

const dir = tempDir();
const N = 7;
const F = 4;

const init = (name: string, dims: number[], seed: number, lo = -1, hi = 1) => ({ name, dims, data: values(dims.reduce((a, b) => a * b, 1), seed, lo, hi) });

/** Gemm → BatchNormalization → LeakyRelu → Gemm(·, 1) → Sigmoid: a binary classifier with a folded BN. */
const binary: OnnxGraph = {
  input: { name: 'x', dims: ['N', F] },
  output: 'y',
  nodes: [
    { op: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h'], attrs: { transB: { int: 1 } }, name: 'fc1' },
    { op: 'BatchNormalization', inputs: ['h', 's', 'b', 'm', 'v'], outputs: ['hn'], name: 'bn1' },
    { op: 'LeakyRelu', inputs: ['hn'], outputs: ['r'], attrs: { alpha: 0.05 } },
    { op: 'Gemm', inputs: ['r', 'W2', 'b2'], outputs: ['z'], attrs: { transB: { int: 1 } }, name: 'fc2' },
    { op: 'Sigmoid', inputs: ['z'], outputs: ['y'] },
  ],
  inits: [init('W1', [3, F], 1), init('b1', [3], 2), init('s', [3], 3, 0.5, 2), init('b', [3], 4), init('m', [3], 5), init('v', [3], 6, 0.3, 2), init('W2', [1, 3], 7), init('b2', [1], 8)],
};
const modelBytes = buildOnnx(binary);
const model = join(dir, 'binary.onnx');
writeFileSync(model, modelBytes);
const x = values(N * F, 42, -2, 2);
const rows = Array.from({ length: N }, (_, i) => Array.from(x.subarray(i * F, (i + 1) * F)));

/** A .npy of float32 (C order) or float64 (Fortran order), as NumPy writes them. */
function npy(data: ArrayLike<number>, shape: number[], dtype: '<f4' | '<f8' | '<i8', fortran = false): Buffer {
  let header = `{'descr': '${dtype}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const size = dtype === '<f4' ? 4 : 8;
  const body = Buffer.alloc(data.length * size);
  const order = fortran ? Array.from({ length: data.length }, (_, k) => (k % shape[0]) * shape[1] + Math.floor(k / shape[0])) : Array.from({ length: data.length }, (_, k) => k);
  order.forEach((src, k) => {
    if (dtype === '<f4') body.writeFloatLE(data[src], 4 * k);
    else if (dtype === '<f8') body.writeDoubleLE(data[src], 8 * k);
    else body.writeBigInt64LE(BigInt(data[src]), 8 * k);
  });
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

async function oracle(): Promise<number[][]> {
  const p = await runOnnx(modelBytes, x, [N, F]);
  return Array.from(p, (v) => [1 - v, v]);
}

function predictJson(data: string, modelPath = model): number[][] {
  const r = runCli(['predict', modelPath, '--data', data, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { probabilities: number[][] }).probabilities;
}

describe('nnvis predict', () => {
  it('matches onnxruntime-web on features-only CSV, and .nnvis files predict the same', async () => {
    const csv = join(dir, 'x.csv');
    writeFileSync(csv, rows.map((r) => r.join(',')).join('\n'));
    const ours = predictJson(csv);
    const want = await oracle();
    const d = maxDiff(ours.flat(), want.flat());
    console.log(`predict: max |ours − onnxruntime-web| = ${d}`);
    expect(d).toBeLessThan(1e-5);

    const imported = join(dir, 'binary.nnvis');
    const r = runCli(['import', model, '-o', imported]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("folded BatchNormalization 'bn1' (epsilon 0.00001) into layer 'fc1', before its activation");
    expect(r.stdout).toContain("read the 1-unit sigmoid output of layer 'fc2' as 2 classes");
    expect(r.stdout).toMatch(/wrote .*binary\.nnvis: 4-3-2 .*activations leaky_relu\(alpha=0\.05\d*\), softmax/);
    expect(predictJson(csv, imported)).toEqual(ours);
  });

  it('reads JSON, .npy and .npz (labels optional) to the same rows', async () => {
    const csv = join(dir, 'x.csv');
    const want = predictJson(csv);
    const json = join(dir, 'x.json');
    writeFileSync(json, JSON.stringify({ x: rows }));
    expect(predictJson(json)).toEqual(want);
    const one = join(dir, 'x.npy');
    writeFileSync(one, npy(x, [N, F], '<f4'));
    expect(predictJson(one)).toEqual(want);
    const labelled = join(dir, 'xy.npz');
    writeFileSync(labelled, zip({ 'x.npy': npy(Float64Array.from(x), [N, F], '<f8', true), 'y.npy': npy(Array.from({ length: N }, (_, i) => i % 2), [N], '<i8') }));
    expect(predictJson(labelled)).toEqual(want);
    expect(Array.from(loadDataFile(labelled, 2).y)).toEqual(Array.from({ length: N }, (_, i) => i % 2));
  });

  it('prints CSV with the class names by default', () => {
    const r = runCli(['predict', model, '--data', join(dir, 'x.csv')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('"0","1"');
    expect(lines).toHaveLength(N + 1);
    const [p0, p1] = lines[1].split(',').map(Number);
    expect(p0 + p1).toBeCloseTo(1, 5);
  });

  it('refuses data of the wrong width and labelled data without labels, in one line', () => {
    const wide = join(dir, 'wide.csv');
    writeFileSync(wide, '1,2,3,4,5,6\n');
    expect(expectOneLineError(runCli(['predict', model, '--data', wide]))).toMatch(/wide\.csv: samples have 6 values \(line 1\), but the model takes 4 features \(optionally then a label\)/);
    const noY = join(dir, 'noy.npz');
    writeFileSync(noY, zip({ 'x.npy': npy(x, [N, F], '<f4') }));
    expect(() => loadDataFile(noY, 2)).toThrow(/noy\.npz: has no array y \(the labels\)/);
    const nan = join(dir, 'nan.npy');
    writeFileSync(nan, npy([1, Number.NaN, 3, 4], [1, F], '<f4'));
    expect(expectOneLineError(runCli(['predict', model, '--data', nan]))).toMatch(/nan\.npy: feature 1 of sample 0 is not a finite number \(NaN\)/);
  });

  it('binary importance and evaluation take labels 0 and 1 from .npz data', () => {
    const n = 60;
    const xs = values(n * F, 5, -2, 2);
    const data = join(dir, 'train.npz');
    writeFileSync(data, zip({ 'x.npy': npy(xs, [n, F], '<f4'), 'y.npy': npy(Array.from({ length: n }, (_, i) => i % 2), [n], '<i8') }));
    const out = join(dir, 'imp.nnvis');
    const imported = join(dir, 'binary-for-importance.nnvis');
    expect(runCli(['import', model, '-o', imported]).code).toBe(0);
    const r = runCli(['importance', imported, '--data', data, '--epochs', '1', '--threads', '1', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(runCli(['inspect', out]).stdout).toMatch(/classes:\s+2 \(0, 1\)/);
    // and pruning evaluation runs on the two classes
    const evalDir = join(dir, 'eval');
    const e = runCli(['evaluate', imported, out, '--data', data, '--step', '50', '--methods', 'edge,bnn', '-o', evalDir]);
    expect(e.code).toBe(0);
    const results = JSON.parse(readFileSync(join(evalDir, 'results.json'), 'utf8'));
    expect(JSON.stringify(results)).toContain('"bnn"');
  });
});
