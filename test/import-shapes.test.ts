// The dense shapes real exported ONNX models have (issue 14), each written with onnx-proto and
// run in onnxruntime-web, the oracle: nnvis' import + forward pass must give the same
// probabilities within 1e-5. Bad variants get one-line InputErrors naming the node.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import type { Network } from '../src/core/network.ts';
import { predictProbabilities } from '../src/cli/commands/predict.ts';
import { importModel } from '../src/ml/import/index.ts';
import { buildOnnx, maxDiff, type OnnxGraph, type OnnxNode, runOnnx, values } from './onnx-build.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnvis-shapes-'));
const N = 16;
const F = 5;
const H = 4;
const C = 3;
const TOLERANCE = 1e-5;
/** Largest difference seen per case, printed at the end for the report. */
const measured: Record<string, number> = {};

let count = 0;
function write(g: OnnxGraph): { file: string; bytes: Uint8Array } {
  const bytes = buildOnnx(g);
  const file = join(dir, `m${count++}.onnx`);
  writeFileSync(file, bytes);
  return { file, bytes };
}

const init = (name: string, dims: number[], seed: number, lo = -1, hi = 1) => ({ name, dims, data: values(dims.reduce((a, b) => a * b, 1), seed, lo, hi) });

/** Imports the model and checks our probabilities against onnxruntime-web's output. */
async function matches(name: string, g: OnnxGraph, opts: { columns?: boolean; binary?: boolean } = {}): Promise<Network> {
  const { file, bytes } = write(g);
  const net = await importModel(file);
  const x = values(N * F, 99, -2, 2);
  const ours = await predictProbabilities(net, x, N);
  let oracleX = x;
  if (opts.columns) {
    oracleX = new Float32Array(N * F);
    for (let i = 0; i < N; i++) for (let j = 0; j < F; j++) oracleX[j * N + i] = x[i * F + j];
  }
  let oracle = await runOnnx(bytes, oracleX, opts.columns ? [F, N] : [N, F]);
  const classes = net.layers[net.layers.length - 1];
  if (opts.columns) {
    const t = new Float32Array(oracle.length);
    for (let i = 0; i < N; i++) for (let c = 0; c < classes; c++) t[i * classes + c] = oracle[c * N + i];
    oracle = t;
  }
  if (opts.binary) oracle = Float32Array.from({ length: N * 2 }, (_, k) => (k % 2 === 1 ? oracle[k >> 1] : 1 - oracle[k >> 1]));
  const d = maxDiff(ours, oracle);
  measured[name] = d;
  expect(d).toBeLessThan(TOLERANCE);
  return net;
}

async function inputError(g: OnnxGraph): Promise<string> {
  const { file } = write(g);
  try {
    await importModel(file);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    expect(err.message).not.toContain('\n');
    expect(err.message.startsWith(file)).toBe(true);
    return err.message;
  }
  throw new Error('expected an InputError');
}

/** Gemm(x, W1ᵀ) → [middle] → Gemm(·, W2ᵀ) → Softmax, PyTorch's layout (transB = 1). */
function mlp(middle: OnnxNode[], opts: { opset?: number; last?: OnnxNode[] } = {}): OnnxGraph {
  const nodes: OnnxNode[] = [{ op: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h0'], attrs: { transB: { int: 1 } }, name: 'Gemm_1' }];
  let cur = 'h0';
  middle.forEach((n, i) => {
    const out = `m${i}`;
    nodes.push({ ...n, inputs: n.inputs.map((s) => (s === '$' ? cur : s)), outputs: n.outputs.length > 0 ? n.outputs : [out] });
    cur = nodes[nodes.length - 1].outputs[0];
  });
  nodes.push({ op: 'Gemm', inputs: [cur, 'W2', 'b2'], outputs: ['z'], attrs: { transB: { int: 1 } }, name: 'Gemm_2' });
  nodes.push(...(opts.last ?? [{ op: 'Softmax', inputs: ['z'], outputs: ['y'], attrs: { axis: { int: 1 } } }]));
  return {
    input: { name: 'x', dims: ['N', F] },
    output: 'y',
    nodes,
    inits: [init('W1', [H, F], 1), init('b1', [H], 2), init('W2', [C, H], 3), init('b2', [C], 4), ...bnInits('bn', H, 10)],
    opset: opts.opset,
  };
}

function bnInits(prefix: string, n: number, seed: number) {
  return [init(`${prefix}_s`, [n], seed, 0.5, 2), init(`${prefix}_b`, [n], seed + 1), init(`${prefix}_m`, [n], seed + 2), init(`${prefix}_v`, [n], seed + 3, 0.2, 3)];
}
const bn = (prefix = 'bn', attrs: Record<string, number> = { epsilon: 1e-3 }): OnnxNode => ({
  op: 'BatchNormalization',
  inputs: ['$', `${prefix}_s`, `${prefix}_b`, `${prefix}_m`, `${prefix}_v`],
  outputs: [],
  attrs,
  name: `BN_${prefix}`,
});
const act = (op: string, attrs?: Record<string, number | string>): OnnxNode => ({ op, inputs: ['$'], outputs: [], attrs });

describe('ONNX shapes match onnxruntime-web', () => {
  it('plain Gemm → Relu → Gemm → Softmax', async () => {
    await matches('plain', mlp([act('Relu')]));
  });

  it('a binary classifier with one sigmoid output is read as two classes', async () => {
    const g = mlp([act('Relu')], { last: [{ op: 'Sigmoid', inputs: ['z'], outputs: ['y'] }] });
    g.inits = g.inits.map((t) => (t.name === 'W2' ? init('W2', [1, H], 3) : t.name === 'b2' ? init('b2', [1], 4) : t));
    const net = await matches('binary sigmoid', g, { binary: true });
    expect(net.layers).toEqual([F, H, 2]);
    expect(net.classNames).toEqual(['0', '1']);
    expect(net.activations).toEqual(['relu', 'softmax']);
    expect(String(net.meta.provenance?.conversions)).toMatch(/1-unit sigmoid output of layer 'Gemm_2' as 2 classes/);
  });

  it('BatchNormalization before and after an activation is folded', async () => {
    const g = mlp([bn('bn'), act('Relu'), bn('bn2')]);
    g.inits.push(...bnInits('bn2', H, 20));
    const net = await matches('batchnorm', g);
    expect(net.layers).toEqual([F, H, C]);
    const notes = (net.meta.provenance?.conversions as string[]).join(' | ');
    expect(notes).toContain("folded BatchNormalization 'BN_bn' (epsilon 0.001) into layer 'Gemm_1', before its activation");
    expect(notes).toContain("folded BatchNormalization 'BN_bn2' (epsilon 0.001) into the input side of layer 'Gemm_2'");
  });

  it('BatchNormalization on the input is folded into the first layer', async () => {
    const g = mlp([act('Relu')]);
    g.nodes.unshift({ ...bn('in'), inputs: ['x', 'in_s', 'in_b', 'in_m', 'in_v'], outputs: ['xn'] });
    g.nodes[1].inputs[0] = 'xn';
    g.inits.push(...bnInits('in', F, 30));
    await matches('batchnorm on input', g);
  });

  const activations: [string, OnnxNode[], number?][] = [
    ['LeakyRelu', [act('LeakyRelu', { alpha: 0.1 })]],
    ['LeakyRelu default', [act('LeakyRelu')]],
    ['Elu', [act('Elu', { alpha: 0.7 })]],
    ['Selu', [act('Selu')]],
    ['HardSigmoid', [act('HardSigmoid', { alpha: 1 / 6, beta: 0.5 })]],
    ['Softplus', [act('Softplus')]],
    ['Tanh', [act('Tanh')]],
    ['Gelu', [act('Gelu')], 20],
    ['Gelu tanh', [act('Gelu', { approximate: 'tanh' })], 20],
  ];
  for (const [name, middle, opset] of activations) {
    it(`activation ${name}`, async () => {
      await matches(name, mlp(middle, { opset }));
    });
  }

  it('x · Sigmoid(x) is read as SiLU', async () => {
    const g = mlp([]);
    g.nodes.splice(1, 0, { op: 'Sigmoid', inputs: ['h0'], outputs: ['sg'] }, { op: 'Mul', inputs: ['h0', 'sg'], outputs: ['silu'] });
    g.nodes[3].inputs[0] = 'silu';
    const net = await matches('SiLU', g);
    expect(net.activations).toEqual(['swish', 'softmax']);
  });

  for (const halfFirst of [false, true]) {
    it(`GELU as primitive ops (opset 13${halfFirst ? ', · 0.5 before · x' : ''})`, async () => {
      const g = mlp([]);
      const tail = halfFirst
        ? [{ op: 'Mul', inputs: ['a1', 'half'], outputs: ['m1'] }, { op: 'Mul', inputs: ['h0', 'm1'], outputs: ['gelu'] }]
        : [{ op: 'Mul', inputs: ['h0', 'a1'], outputs: ['m1'] }, { op: 'Mul', inputs: ['m1', 'half'], outputs: ['gelu'] }];
      g.nodes.splice(1, 0, { op: 'Div', inputs: ['h0', 'sqrt2'], outputs: ['d'] }, { op: 'Erf', inputs: ['d'], outputs: ['e'] }, { op: 'Add', inputs: ['e', 'one'], outputs: ['a1'] }, ...tail);
      g.nodes[g.nodes.length - 2].inputs[0] = 'gelu';
      g.inits.push({ name: 'sqrt2', dims: [], data: Float32Array.of(Math.SQRT2) }, { name: 'one', dims: [], data: Float32Array.of(1) }, { name: 'half', dims: [], data: Float32Array.of(0.5) });
      const net = await matches(`GELU primitive${halfFirst ? ' (half first)' : ''}`, g);
      expect(net.activations).toEqual(['gelu', 'softmax']);
    });
  }

  it('ReLU then Softmax on the output gets an identity softmax layer', async () => {
    const net = await matches('relu then softmax', mlp([act('Relu')], { last: [{ op: 'Relu', inputs: ['z'], outputs: ['r'] }, { op: 'Softmax', inputs: ['r'], outputs: ['y'], attrs: { axis: { int: 1 } } }] }));
    expect(net.layers).toEqual([F, H, C, C]);
    expect(net.activations).toEqual(['relu', 'relu', 'softmax']);
  });

  it("a bias-less Linear exported as Transpose(weight) → MatMul", async () => {
    const g: OnnxGraph = {
      input: { name: 'x', dims: ['N', F] },
      output: 'y',
      nodes: [
        { op: 'Transpose', inputs: ['W1'], outputs: ['W1t'], attrs: { perm: [1, 0] } },
        { op: 'MatMul', inputs: ['x', 'W1t'], outputs: ['h'] },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Transpose', inputs: ['W2'], outputs: ['W2t'] },
        { op: 'MatMul', inputs: ['r', 'W2t'], outputs: ['z'] },
        { op: 'Add', inputs: ['z', 'b2'], outputs: ['za'] },
        { op: 'Softmax', inputs: ['za'], outputs: ['y'], attrs: { axis: { int: -1 } } },
      ],
      inits: [init('W1', [H, F], 1), init('W2', [C, H], 3), init('b2', [C], 4)],
    };
    await matches('Transpose → MatMul', g);
  });

  it('Gemm with alpha, beta and transB = 0', async () => {
    const g = mlp([act('Relu')]);
    g.nodes[0] = { op: 'Gemm', inputs: ['x', 'W1k', 'b1'], outputs: ['h0'], attrs: { alpha: 0.5, beta: 2 } };
    g.inits.push(init('W1k', [F, H], 7));
    await matches('Gemm alpha beta', g);
  });

  it('MatMul with the weight on the left (features × samples data)', async () => {
    const g: OnnxGraph = {
      input: { name: 'x', dims: [F, 'N'] },
      output: 'y',
      nodes: [
        { op: 'MatMul', inputs: ['W1', 'x'], outputs: ['h'] },
        { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
        { op: 'Relu', inputs: ['hb'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['W2', 'r', 'b2'], outputs: ['z'] },
        { op: 'Softmax', inputs: ['z'], outputs: ['y'], attrs: { axis: { int: 0 } } },
      ],
      inits: [init('W1', [H, F], 1), init('b1', [H, 1], 2), init('W2', [C, H], 3), init('b2', [C, 1], 4)],
    };
    await matches('weight on the left', g, { columns: true });
  });

  it('weights also listed as graph inputs (older exports)', async () => {
    await matches('initializers as inputs', { ...mlp([act('Relu')]), initsAsInputs: true, opset: 9 });
  });

  it('prints the measured differences', () => {
    console.log(`max |ours − onnxruntime-web|: ${JSON.stringify(measured)}`);
  });
});

describe('ONNX shapes nnvis refuses, with one line naming the node', () => {
  it('LayerNorm as primitive ops', async () => {
    const msg = await inputError(
      mlp([
        { op: 'ReduceMean', inputs: ['$'], outputs: ['mu'], attrs: { axes: [-1] } },
        { op: 'Sub', inputs: ['h0', 'mu'], outputs: ['d'] },
      ]),
    );
    expect(msg).toMatch(/LayerNorm after 'Gemm_1' is not supported: it normalises every sample by that sample's own mean and variance/);
  });

  it('LayerNormalization (opset 17)', async () => {
    const g = mlp([{ op: 'LayerNormalization', inputs: ['$', 'bn_s', 'bn_b'], outputs: [] }], { opset: 17 });
    expect(await inputError(g)).toMatch(/LayerNorm after 'Gemm_1' is not supported/);
  });

  it('BatchNormalization after the output activation', async () => {
    const g = mlp([act('Relu')], { last: [{ op: 'Relu', inputs: ['z'], outputs: ['r'] }, { ...bn('o'), inputs: ['r', 'o_s', 'o_b', 'o_m', 'o_v'], outputs: ['y'] }] });
    g.inits.push(...bnInits('o', C, 40));
    expect(await inputError(g)).toMatch(/BatchNormalization 'BN_o' comes after the last dense layer's activation, so no dense layer follows to fold it into/);
  });

  it('BatchNormalization with statistics of the wrong size', async () => {
    const g = mlp([bn('bn'), act('Relu')]);
    g.inits = g.inits.map((t) => (t.name === 'bn_m' ? init('bn_m', [H + 1], 5) : t));
    expect(await inputError(g)).toMatch(/BatchNormalization 'BN_bn' \(folded into layer 'Gemm_1'\) moving mean has 5 values but layer 'Gemm_1' has 4 units/);
  });

  it('BatchNormalization with a NaN variance', async () => {
    const g = mlp([bn('bn'), act('Relu')]);
    g.inits = g.inits.map((t) => (t.name === 'bn_v' ? { ...t, data: Float32Array.from(t.data, (v, i) => (i === 2 ? Number.NaN : v)) } : t));
    expect(await inputError(g)).toMatch(/BatchNormalization 'BN_bn' \(folded into layer 'Gemm_1'\) moving variance has a non-finite value \(NaN\) at index 2/);
  });

  it('BatchNormalization without its statistics', async () => {
    const g = mlp([{ ...bn('bn'), inputs: ['$', 'bn_s', 'bn_b'] }, act('Relu')]);
    expect(await inputError(g)).toMatch(/node 'BN_bn' \(BatchNormalization\) has no mean input; folding it needs scale, B, mean and var/);
  });

  it('BatchNormalization in training mode', async () => {
    const g = mlp([bn('bn', { training_mode: 1 } as unknown as Record<string, number>), act('Relu')], { opset: 15 });
    g.nodes[1].attrs = { training_mode: { int: 1 } };
    expect(await inputError(g)).toMatch(/has training_mode = 1; nnvis folds BatchNormalization with its inference statistics only/);
  });

  it('a second data input', async () => {
    expect(await inputError({ ...mlp([act('Relu')]), extraInputs: ['mask'] })).toMatch(/graph has 2 inputs that are not initializers \(x, mask; 1 of them feed no node\); nnvis reads one data input/);
  });

  it('Mul that is not SiLU', async () => {
    const g = mlp([{ op: 'Mul', inputs: ['$', 'b1'], outputs: [] }]);
    expect(await inputError(g)).toMatch(/\(Mul\) is not part of x · Sigmoid\(x\) \(SiLU\) or x · \(Erf\(x \/ √2\) \+ 1\) · 0\.5 \(GELU\); nnvis reads Mul only there/);
  });

  it('two activations in a row that are not activation then Softmax', async () => {
    expect(await inputError(mlp([act('Relu'), act('Tanh')]))).toMatch(/follows node 'Gemm_1' which already has activation relu/);
  });

  it('a product over the samples', async () => {
    const g = mlp([act('Relu')]);
    g.nodes[2] = { op: 'Gemm', inputs: ['m0', 'W2', 'b2'], outputs: ['z'], attrs: { transA: { int: 1 }, transB: { int: 1 } }, name: 'Gemm_2' };
    expect(await inputError(g)).toMatch(/node 'Gemm_2' \(Gemm\) multiplies data laid out samples × features from the left transposed, which is not a product over its features/);
  });
});
