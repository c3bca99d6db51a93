// The dense shapes of issue 14 as real TensorFlow.js layers models: each model is built and
// saved by tfjs itself (CPU backend, in this process), its predictions are the oracle, and
// nnvis' import + forward pass must match them within 1e-5.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import type { Network } from '../src/core/network.ts';
import { predictProbabilities } from '../src/cli/commands/predict.ts';
import { importModel } from '../src/ml/import/index.ts';
import { maxDiff, randomiseTfjs, saveTfjsModel, values } from './onnx-build.ts';

const root = mkdtempSync(join(tmpdir(), 'nnvis-tfjs-shapes-'));
const N = 16;
const F = 6;
const TOLERANCE = 1e-5;
const measured: Record<string, number> = {};

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => console.log(`max |ours − tfjs|: ${JSON.stringify(measured)}`));

/** Saves a tfjs model as model.json + one shard, as tf.io's file handlers write them. */
const save = (model: tf.LayersModel, name: string): Promise<string> => saveTfjsModel(tf, model, join(root, name));

const randomise = (model: tf.LayersModel, seed: number): void => randomiseTfjs(tf, model, seed);

async function matches(name: string, build: () => tf.LayersModel, opts: { binary?: boolean } = {}): Promise<Network> {
  const model = build();
  randomise(model, 7);
  const x = values(N * F, 99, -2, 2);
  const oracleT = model.predict(tf.tensor2d(x, [N, F])) as tf.Tensor;
  let oracle = oracleT.dataSync() as Float32Array;
  if (opts.binary) {
    const p = oracle;
    oracle = Float32Array.from({ length: N * 2 }, (_, k) => (k % 2 === 1 ? p[k >> 1] : 1 - p[k >> 1]));
  }
  const file = await save(model, name.replace(/\W+/g, '-'));
  const net = await importModel(file);
  const ours = await predictProbabilities(net, x, N);
  await tf.setBackend('cpu'); // predict started the wasm backend; tfjs' own models run on cpu
  const d = maxDiff(ours, oracle);
  measured[name] = d;
  expect(d).toBeLessThan(TOLERANCE);
  return net;
}

const dense = (units: number, activation?: string, extra: Record<string, unknown> = {}) =>
  tf.layers.dense({ units, activation: activation as 'relu' | undefined, ...extra });

function sequential(layers: tf.layers.Layer[]): tf.Sequential {
  const model = tf.sequential();
  layers.forEach((l) => model.add(l));
  return model;
}

describe('tfjs layers models match tfjs', () => {
  it('Dense(1, sigmoid) binary classifier is read as two classes', async () => {
    const net = await matches('binary', () => sequential([dense(5, 'relu', { inputShape: [F] }), dense(1, 'sigmoid')]), { binary: true });
    expect(net.layers).toEqual([F, 5, 2]);
    expect(net.classNames).toEqual(['0', '1']);
  });

  it('BatchNormalization before an Activation and after an activation is folded', async () => {
    const net = await matches('batchnorm', () =>
      sequential([
        dense(5, undefined, { inputShape: [F] }),
        tf.layers.batchNormalization({ epsilon: 0.01 }),
        tf.layers.activation({ activation: 'relu' }),
        dense(4, 'tanh'),
        tf.layers.batchNormalization({}),
        dense(3, 'softmax'),
      ]),
    );
    expect(net.layers).toEqual([F, 5, 4, 3]);
    expect((net.meta.provenance?.conversions as string[]).length).toBe(2);
  });

  it('BatchNormalization without center and scale, on the input', async () => {
    await matches('batchnorm plain', () => sequential([tf.layers.batchNormalization({ inputShape: [F], center: false, scale: false }), dense(4, 'relu'), dense(3, 'softmax')]));
  });

  const activations: [string, () => tf.layers.Layer[]][] = [
    ['LeakyReLU layer', () => [dense(5), tf.layers.leakyReLU({ alpha: 0.15 })]],
    ['ELU layer', () => [dense(5), tf.layers.elu({ alpha: 1 })]],
    ['ReLU layer', () => [dense(5), tf.layers.reLU()]],
    ['elu', () => [dense(5, 'elu')]],
    ['selu', () => [dense(5, 'selu')]],
    ['gelu', () => [dense(5, 'gelu')]],
    ['gelu_new', () => [dense(5, 'gelu_new')]],
    ['swish', () => [dense(5, 'swish')]],
    ['softplus', () => [dense(5, 'softplus')]],
    ['hardSigmoid', () => [dense(5, 'hardSigmoid')]],
  ];
  for (const [name, layers] of activations) {
    it(`activation ${name}`, async () => {
      await matches(name, () => {
        const [first, ...rest] = layers();
        return sequential([tf.layers.inputLayer({ inputShape: [F] }), first, ...rest, dense(3, 'softmax')]);
      });
    });
  }

  it('a Sequential inside a functional model, use_bias = false, nested names', async () => {
    const net = await matches('nested', () => {
      const inner = tf.sequential({ name: 'inner', layers: [dense(5, 'relu', { inputShape: [F], useBias: false, name: 'hidden' }), tf.layers.batchNormalization({ name: 'inner_bn' })] });
      const input = tf.input({ shape: [F] });
      const out = dense(3, 'softmax', { name: 'out' }).apply(inner.apply(input)) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    });
    expect(net.layers).toEqual([F, 5, 3]);
  });

  it('Dense(relu) then a Softmax layer on the output', async () => {
    const net = await matches('relu then softmax', () => sequential([dense(5, 'relu', { inputShape: [F] }), dense(3, 'relu'), tf.layers.softmax()]));
    expect(net.layers).toEqual([F, 5, 3, 3]);
  });

});

/** Rewrites a saved model's shard quantized as tensorflowjs_converter does (affine uint8/uint16, or float16). */
function quantize(file: string, dtype: 'uint8' | 'uint16' | 'float16'): void {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const shard = join(dirname(file), 'group1-shard1of1.bin');
  const raw = readFileSync(shard);
  const parts: Buffer[] = [];
  let at = 0;
  for (const w of json.weightsManifest[0].weights) {
    const n = w.shape.reduce((a: number, b: number) => a * b, 1);
    const v = Array.from({ length: n }, (_, i) => raw.readFloatLE(at + 4 * i));
    at += 4 * n;
    if (dtype === 'float16') {
      const out = Buffer.alloc(2 * n);
      v.forEach((x, i) => out.writeUInt16LE(toHalf(x), 2 * i));
      parts.push(out);
      w.quantization = { dtype };
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...v);
    const scale = (Math.max(...v) - min) / levels || 1;
    const out = Buffer.alloc((dtype === 'uint8' ? 1 : 2) * n);
    v.forEach((x, i) => (dtype === 'uint8' ? out.writeUInt8(Math.round((x - min) / scale), i) : out.writeUInt16LE(Math.round((x - min) / scale), 2 * i)));
    parts.push(out);
    w.quantization = { dtype, scale, min };
  }
  writeFileSync(shard, Buffer.concat(parts));
  writeFileSync(file, JSON.stringify(json));
}

/** Round to the nearest half float (normal range; enough for weights in [-2, 2]). */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const abs = Math.abs(x);
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24);
  const exp = Math.floor(Math.log2(abs));
  const frac = Math.round((abs / 2 ** exp - 1) * 1024);
  return frac === 1024 ? sign | ((exp + 16) << 10) : sign | ((exp + 15) << 10) | frac;
}

describe('quantized tfjs weights are dequantized as tf.io.decodeWeights does', () => {
  for (const dtype of ['uint8', 'uint16', 'float16'] as const) {
    it(dtype, async () => {
      const model = sequential([dense(5, 'relu', { inputShape: [F] }), dense(3, 'softmax')]);
      randomise(model, 3);
      const file = await save(model, `quantized-${dtype}`);
      quantize(file, dtype);
      // the oracle: tfjs decodes the quantized shard and predicts with those weights
      const json = JSON.parse(readFileSync(file, 'utf8'));
      const bin = readFileSync(join(dirname(file), 'group1-shard1of1.bin'));
      const decoded = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length), json.weightsManifest[0].weights);
      model.setWeights(json.weightsManifest[0].weights.map((w: { name: string }) => decoded[w.name]));
      const x = values(N * F, 5, -2, 2);
      const oracle = (model.predict(tf.tensor2d(x, [N, F])) as tf.Tensor).dataSync();
      const ours = await predictProbabilities(await importModel(file), x, N);
      await tf.setBackend('cpu');
      const d = maxDiff(ours, oracle);
      measured[`quantized ${dtype}`] = d;
      expect(d).toBeLessThan(TOLERANCE);
    });
  }
});

/** A graph model as tensorflowjs_converter writes one (GraphDef JSON, Const weights in the manifest). */
function graphModel(name: string, nodes: object[], consts: Record<string, { shape: number[]; data: Float32Array }>): { file: string; artifacts: tf.io.ModelArtifacts } {
  const dir = join(root, name);
  mkdirSync(dir);
  const dim = (shape: number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });
  const constNodes = Object.entries(consts).map(([n, c]) => ({ name: n, op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(c.shape) } }, dtype: { type: 'DT_FLOAT' } } }));
  const modelTopology = { node: [{ name: 'x', op: 'Placeholder', attr: { shape: { shape: dim([-1, F]) }, dtype: { type: 'DT_FLOAT' } } }, ...constNodes, ...nodes], library: {}, versions: { producer: 1 } };
  const weightSpecs = Object.entries(consts).map(([n, c]) => ({ name: n, shape: c.shape, dtype: 'float32' as const }));
  const data = Buffer.concat(Object.values(consts).map((c) => Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength)));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), data);
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'TensorFlow.js Converter v4', modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weightSpecs }] }));
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  return { file: join(dir, 'model.json'), artifacts: { modelTopology, weightSpecs, weightData } };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const float = { T: { type: 'DT_FLOAT' } };

describe('tfjs graph models match tfjs-converter', () => {
  const cases: [string, object[]][] = [
    [
      'MatMul + BiasAdd + LeakyRelu, transposed MatMul + AddV2 + Softmax',
      [
        { name: 'd1/MatMul', op: 'MatMul', input: ['x', 'W1'], attr: { ...float, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'd1/BiasAdd', op: 'BiasAdd', input: ['d1/MatMul', 'b1'], attr: { ...float, data_format: { s: b64('NHWC') } } },
        { name: 'd1/LeakyRelu', op: 'LeakyRelu', input: ['d1/BiasAdd'], attr: { ...float, alpha: { f: 0.1 } } },
        { name: 'd2/MatMul', op: 'MatMul', input: ['d1/LeakyRelu', 'W2t'], attr: { ...float, transpose_b: { b: true } } },
        { name: 'd2/add', op: 'AddV2', input: ['d2/MatMul', 'b2'], attr: float },
        { name: 'Identity', op: 'Identity', input: ['d2/add'], attr: float },
        { name: 'out', op: 'Softmax', input: ['Identity'], attr: float },
      ],
    ],
    [
      '_FusedMatMul with BiasAdd and Relu (the converter default), then Softmax',
      [
        { name: 'd1/Relu', op: '_FusedMatMul', input: ['x', 'W1', 'b1'], attr: { ...float, fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } }, num_args: { i: '1' }, epsilon: { f: 0 }, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'd2/BiasAdd', op: '_FusedMatMul', input: ['d1/Relu', 'W2', 'b2'], attr: { ...float, fused_ops: { list: { s: [b64('BiasAdd')] } }, num_args: { i: '1' }, epsilon: { f: 0 }, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'out', op: 'Softmax', input: ['d2/BiasAdd'], attr: float },
      ],
    ],
  ];
  cases.forEach(([name, nodes], i) => {
    it(name, async () => {
      const consts = { W1: { shape: [F, 5], data: values(F * 5, 1) }, b1: { shape: [5], data: values(5, 2) }, W2: { shape: [5, 3], data: values(15, 3) }, W2t: { shape: [3, 5], data: values(15, 4) }, b2: { shape: [3], data: values(3, 5) } };
      const used = JSON.stringify(nodes);
      const { file, artifacts } = graphModel(`graph-${i}`, nodes, Object.fromEntries(Object.entries(consts).filter(([k]) => used.includes(`"${k}"`))));
      const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
      const x = values(N * F, 8, -2, 2);
      const oracle = (model.predict(tf.tensor2d(x, [N, F])) as tf.Tensor).dataSync();
      const ours = await predictProbabilities(await importModel(file), x, N);
      await tf.setBackend('cpu');
      const d = maxDiff(ours, oracle);
      measured[`graph model ${i + 1}`] = d;
      expect(d).toBeLessThan(TOLERANCE);
    });
  });

  it('a convolution in a graph model names the node and the supported ops', async () => {
    const { file } = graphModel('graph-conv', [{ name: 'conv/Conv2D', op: 'Conv2D', input: ['x', 'W1'], attr: float }], { W1: { shape: [F, 5], data: values(F * 5, 1) } });
    const err = await importModel(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/node 'conv\/Conv2D' has type Conv2D, which nnvis cannot show; supported graph-model ops: Placeholder, Const, MatMul/);
  });
});

describe('tfjs shapes nnvis refuses', () => {
  it('BatchNormalization after the output activation names the layer', async () => {
    const model = sequential([dense(4, 'relu', { inputShape: [F] }), dense(3, 'softmax'), tf.layers.batchNormalization({ name: 'bn_out' })]);
    const file = await save(model, 'bn-last');
    const err = await importModel(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/BatchNormalization 'bn_out' comes after the activation of the last Dense layer .*no dense layer follows to fold it into/);
  });

  it('ReLU with max_value (ReLU6) is refused with the reason', async () => {
    const model = sequential([dense(4, undefined, { inputShape: [F] }), tf.layers.reLU({ maxValue: 6, name: 'relu6' }), dense(3, 'softmax')]);
    const file = await save(model, 'relu6');
    const err = await importModel(file).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/layer 'relu6' \(ReLU\) has max_value 6 .*without max_value or threshold only/);
  });
});
