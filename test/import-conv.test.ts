// Convolutional models from TensorFlow.js layers and Keras (.h5, .keras): each model is built by
// tfjs itself (CPU backend), its predictions are the oracle, and nnvis' import + forward pass must
// match them within 1e-5. The Keras files carry tfjs' own Keras-format topology and weights in the
// documented HDF5 layouts. Depthwise, separable, dilated and residual models are refused by name.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import h5wasm, { type Group } from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictProbabilities } from '../src/cli/commands/predict.ts';
import { InputError } from '../src/core/errors.ts';
import { rowsInNodeOrder } from '../src/core/network.ts';
import { importModel } from '../src/ml/import/index.ts';
import { runCli } from './helpers.ts';
import { buildOnnx, maxDiff, randomiseTfjs, runOnnx, saveTfjsModel, values, zip, type Attr, type OnnxGraph, type OnnxNode } from './onnx-build.ts';

const root = mkdtempSync(join(tmpdir(), 'nnvis-import-conv-'));
const N = 10;
const TOLERANCE = 1e-5;
const measured: Record<string, number> = {};

beforeAll(async () => {
  await tf.setBackend('cpu');
  await h5wasm.ready;
});
afterAll(() => console.log(`max |ours − tfjs|: ${JSON.stringify(measured)}`));

function sequential(layers: tf.layers.Layer[]): tf.Sequential {
  const model = tf.sequential();
  layers.forEach((l) => model.add(l));
  return model;
}

const randomise = (model: tf.LayersModel, seed: number): void => randomiseTfjs(tf, model, seed, 0.5);

const saveTfjs = (model: tf.LayersModel, name: string): Promise<string> => saveTfjsModel(tf, model, join(root, name));

function group(r: Group, path: string): Group {
  let g = r;
  for (const part of path.split('/')) g = g.keys().includes(part) ? (g.get(part) as Group) : g.create_group(part);
  return g;
}

function attr(g: Group, name: string, value: string | string[]): void {
  const list = Array.isArray(value) ? value : [value];
  const dtype = `A${Math.max(1, ...list.map((v) => Buffer.byteLength(v)))}`;
  if (Array.isArray(value)) g.create_attribute(name, list, [list.length], dtype);
  else g.create_attribute(name, list[0], null, dtype);
}

/** Keras 2 .h5: model_config (tfjs' Keras-format topology) and model_weights/<layer>/<layer>/<variable>:0. */
function saveH5(model: tf.LayersModel, name: string): string {
  const file = join(root, `${name}.h5`);
  const f = new h5wasm.File(file, 'w');
  attr(f, 'keras_version', '2.15.0');
  attr(f, 'backend', 'tensorflow');
  attr(f, 'model_config', JSON.stringify(model.toJSON(undefined, false)));
  const mw = f.create_group('model_weights');
  attr(mw, 'layer_names', model.layers.map((l) => l.name));
  for (const layer of model.layers) {
    const g = mw.create_group(layer.name);
    const names = layer.weights.map((w) => `${layer.name}/${(w.originalName ?? w.name).split('/').pop()}:0`);
    if (names.length === 0) g.create_attribute('weight_names', [], [0], 'A1');
    else attr(g, 'weight_names', names);
    layer.getWeights().forEach((w, i) => {
      const parts = names[i].split('/');
      group(g, parts.slice(0, -1).join('/')).create_dataset({ name: parts[parts.length - 1], data: w.dataSync() as Float32Array, shape: w.shape });
    });
  }
  f.close();
  return file;
}

/** Keras 3 .keras: config.json and model.weights.h5 with layers/<layer>/vars/<i>. */
function saveKeras3(model: tf.LayersModel, name: string): string {
  const weightsPath = join(root, `${name}.weights.h5`);
  const f = new h5wasm.File(weightsPath, 'w');
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const g = group(f, `layers/${layer.name}/vars`);
    ws.forEach((w, i) => g.create_dataset({ name: String(i), data: w.dataSync() as Float32Array, shape: w.shape }));
  }
  f.close();
  const file = join(root, `${name}.keras`);
  writeFileSync(file, zip({ 'metadata.json': Buffer.from('{"keras_version": "3.6.0"}'), 'config.json': Buffer.from(JSON.stringify(model.toJSON(undefined, false))), 'model.weights.h5': readFileSync(weightsPath) }));
  return file;
}

/** Imports the saved model and compares nnvis' probabilities with tfjs' on the same images. */
async function matches(label: string, file: string, model: tf.LayersModel, inputShape: number[]): Promise<void> {
  const features = inputShape.reduce((a, b) => a * b, 1);
  const x = values(N * features, 99, 0, 1);
  const oracle = (model.predict(tf.tensor(x, [N, ...inputShape])) as tf.Tensor).dataSync();
  const net = await importModel(file);
  const ours = await predictProbabilities(net, x, N);
  await tf.setBackend('cpu'); // predict started the wasm backend; tfjs' own models run on cpu
  const d = maxDiff(ours, oracle);
  measured[label] = d;
  expect(d).toBeLessThan(TOLERANCE);
}

/** LeNet in miniature: conv same + max-pool, conv valid + BN + ReLU + avg-pool, flatten, dense. */
function lenet(): tf.Sequential {
  return sequential([
    tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }),
    tf.layers.maxPooling2d({ poolSize: 2, name: 'pool_a' }),
    tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'valid', name: 'conv_b' }),
    tf.layers.batchNormalization({ name: 'bn_b' }),
    tf.layers.activation({ activation: 'relu', name: 'relu_b' }),
    tf.layers.averagePooling2d({ poolSize: 2, name: 'pool_b' }),
    tf.layers.flatten({ name: 'flat' }),
    tf.layers.dense({ units: 8, activation: 'relu', name: 'fc' }),
    tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }),
  ]);
}

/** RGB input, strided conv, max-pool with a ReLU layer after it, global average pooling. */
function strided(): tf.Sequential {
  return sequential([
    tf.layers.conv2d({ inputShape: [9, 9, 3], filters: 5, kernelSize: [3, 2], strides: 2, padding: 'same', name: 'conv_s' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'pool_s' }),
    tf.layers.reLU({ name: 'relu_s' }),
    tf.layers.conv2d({ filters: 4, kernelSize: 2, activation: 'tanh', name: 'conv_t' }),
    tf.layers.globalAveragePooling2d({ name: 'gap' }),
    tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' }),
  ]);
}

/** Flat rows reshaped to an image first, as MNIST models in tfjs often start. */
function reshaped(): tf.Sequential {
  return sequential([
    tf.layers.reshape({ inputShape: [64], targetShape: [8, 8, 1], name: 'to_image' }),
    tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'conv_r' }),
    tf.layers.flatten({ name: 'flat' }),
    tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }),
  ]);
}

describe('conv models from TensorFlow.js and Keras match tfjs within 1e-5', () => {
  const cases: [string, () => tf.LayersModel, number[]][] = [
    ['lenet', lenet, [12, 12, 1]],
    ['strided-rgb-global-pool', strided, [9, 9, 3]],
    ['reshape-input', reshaped, [64]],
  ];
  for (const [name, build, inputShape] of cases) {
    it(`${name}: tfjs layers, Keras 2 .h5 and Keras 3 .keras`, async () => {
      const model = build();
      randomise(model, 5);
      await matches(`${name} tfjs`, await saveTfjs(model, name), model, inputShape);
      await matches(`${name} h5`, saveH5(model, name), model, inputShape);
      await matches(`${name} keras`, saveKeras3(model, name), model, inputShape);
    });
  }

  it('reads the layer kinds, kernel sizes and pooling of a LeNet', async () => {
    const model = lenet();
    randomise(model, 6);
    const net = await importModel(await saveTfjs(model, 'lenet-kinds'));
    expect(net.layers).toEqual([144, 4, 6, 8, 3]);
    expect(net.inputShape).toEqual([12, 12, 1]);
    expect(net.ops).toEqual([
      { kind: 'conv', kernel: [3, 3], strides: [1, 1], padding: 'same', pool: { kind: 'max', size: [2, 2], strides: [2, 2], padding: 'valid' } },
      { kind: 'conv', kernel: [3, 3], strides: [1, 1], padding: 'valid', pool: { kind: 'avg', size: [2, 2], strides: [2, 2], padding: 'valid' } },
      { kind: 'dense' },
      { kind: 'dense' },
    ]);
    expect(net.meta.provenance?.conversions).toEqual([expect.stringMatching(/folded BatchNormalization 'bn_b'.*into layer 'conv_b', before its activation/)]);
  });

  for (const channels of [1, 3]) {
    it(`reads channels_first Keras conv layers (${channels} input channel${channels > 1 ? 's' : ''}), the flatten order turned to channels last`, async () => {
      // the same network channels-last is the oracle; the channels-first config carries its weights
      const model = sequential([
        tf.layers.conv2d({ inputShape: [6, 6, channels], filters: 3, kernelSize: 3, activation: 'relu', name: 'conv_f' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }),
      ]);
      randomise(model, 8);
      const config = model.toJSON(undefined, false) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
      const conv = config.config.layers[0].config;
      conv.data_format = 'channels_first';
      conv.batch_input_shape = [null, channels, 6, 6];
      // channels-first flatten reads (c, y, x): reorder the dense rows from (y, x, c)
      const [k, b] = model.layers[2].getWeights();
      const rows = k.dataSync();
      const cf = new Float32Array(rows.length);
      for (let p = 0; p < 16; p++) for (let c = 0; c < 3; c++) for (let j = 0; j < 2; j++) cf[(c * 16 + p) * 2 + j] = rows[(p * 3 + c) * 2 + j];
      const file = join(root, `channels-first-${channels}.h5`);
      const f = new h5wasm.File(file, 'w');
      attr(f, 'keras_version', '2.15.0');
      attr(f, 'model_config', JSON.stringify(config));
      const mw = f.create_group('model_weights');
      const put = (layer: string, arrays: [string, Float32Array, number[]][]): void => {
        const g = mw.create_group(layer);
        attr(g, 'weight_names', arrays.map(([n]) => `${layer}/${n}:0`));
        for (const [n, data, shape] of arrays) group(g, layer).create_dataset({ name: `${n}:0`, data, shape });
      };
      const [ck, cb] = model.layers[0].getWeights();
      put('conv_f', [
        ['kernel', ck.dataSync() as Float32Array, ck.shape],
        ['bias', cb.dataSync() as Float32Array, cb.shape],
      ]);
      mw.create_group('flat').create_attribute('weight_names', [], [0], 'A1');
      put('out', [
        ['kernel', cf, k.shape],
        ['bias', b.dataSync() as Float32Array, b.shape],
      ]);
      f.close();
      // the model's data rows are channels first, (c, y, x); tfjs' channels-last oracle reads (y, x, c)
      const chw = values(N * 36 * channels, 98, 0, 1);
      const hwc = tf.transpose(tf.tensor(chw, [N, channels, 6, 6]), [0, 2, 3, 1]);
      const oracle = (model.predict(hwc) as tf.Tensor).dataSync();
      const net = await importModel(file);
      expect(net.inputShape).toEqual([6, 6, channels]);
      expect(net.inputOrder).toBe(channels > 1 ? 'chw' : undefined);
      const ours = await predictProbabilities(net, rowsInNodeOrder(net, chw, N), N);
      await tf.setBackend('cpu');
      const d = maxDiff(ours, oracle);
      measured[`channels-first h5, ${channels} channels`] = d;
      expect(d).toBeLessThan(TOLERANCE);
    });
  }
});

describe('conv models nnvis cannot show are refused with the layer named', () => {
  const refusals: [string, () => tf.LayersModel, RegExp][] = [
    [
      'depthwise',
      () => sequential([tf.layers.depthwiseConv2d({ inputShape: [8, 8, 2], kernelSize: 3, name: 'dw' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })]),
      /layer 'dw' has type DepthwiseConv2D, which nnvis cannot show/,
    ],
    [
      'separable',
      () => sequential([tf.layers.separableConv2d({ inputShape: [8, 8, 2], filters: 3, kernelSize: 3, name: 'sep' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })]),
      /layer 'sep' has type SeparableConv2D, which nnvis cannot show/,
    ],
    [
      'dilated',
      () => sequential([tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 3, kernelSize: 3, dilationRate: 2, name: 'dil' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })]),
      /layer 'dil' \(Conv2D\) has dilation_rate \[2,2\]; nnvis reads Conv2D with dilation 1 only/,
    ],
    [
      'residual',
      () => {
        const input = tf.input({ shape: [8, 8, 2], name: 'img' });
        const c = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'branch' }).apply(input) as tf.SymbolicTensor;
        const sum = tf.layers.add({ name: 'skip' }).apply([input, c]) as tf.SymbolicTensor;
        const out = tf.layers.dense({ units: 2, name: 'out' }).apply(tf.layers.flatten({ name: 'flat' }).apply(sum) as tf.SymbolicTensor) as tf.SymbolicTensor;
        return tf.model({ inputs: input, outputs: out });
      },
      /layer 'skip' has type Add, which nnvis cannot show/,
    ],
    [
      'dense before conv',
      () => sequential([tf.layers.dense({ inputShape: [8, 8, 1], units: 2, name: 'd' }), tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'late' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })]),
      /layer 'd' \(Dense\) gets a 3-D input \[None, 8, 8, 1\] without Flatten/,
    ],
  ];
  for (const [name, build, message] of refusals) {
    it(name, async () => {
      const file = await saveTfjs(build(), `refuse-${name.replace(/\W+/g, '-')}`);
      const err = await importModel(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('refuses a grouped Keras 3 convolution', async () => {
    const model = sequential([tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 2, kernelSize: 3, name: 'grouped' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })]);
    const config = model.toJSON(undefined, false) as { config: { layers: { config: Record<string, unknown> }[] } };
    config.config.layers[0].config.groups = 2;
    const dir = join(root, 'grouped');
    mkdirSync(dir);
    const file = join(dir, 'model.json');
    writeFileSync(file, JSON.stringify({ modelTopology: config, weightsManifest: [] }));
    await expect(importModel(file)).rejects.toThrow(/layer 'grouped' \(Conv2D\) has groups 2: a grouped convolution/);
  });
});

describe('conv models from ONNX match onnxruntime-web within 1e-5', () => {
  const H = 10;
  const init = (name: string, dims: number[], seed: number, lo = -0.5, hi = 0.5) => ({ name, dims, data: values(dims.reduce((a, b) => a * b, 1), seed, lo, hi) });
  /** Conv (pads = same) → BN → Relu → MaxPool → Conv (valid, stride 2) → Relu → AveragePool → Flatten → Gemm → Softmax. */
  const lenetGraph = (extra: { conv0?: Record<string, Attr>; nodes?: OnnxNode[]; channels?: number } = {}): OnnxGraph => ({
    input: { name: 'x', dims: ['N', extra.channels ?? 1, H, H] },
    output: 'p',
    nodes: [
      { op: 'Conv', name: 'conv_a', inputs: ['x', 'wa', 'ba'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], ...extra.conv0 } },
      { op: 'BatchNormalization', name: 'bn_a', inputs: ['a', 'g', 'b', 'm', 'v'], outputs: ['an'] },
      { op: 'Relu', inputs: ['an'], outputs: ['ar'] },
      { op: 'MaxPool', name: 'pool_a', inputs: ['ar'], outputs: ['ap'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Conv', name: 'conv_b', inputs: ['ap', 'wb', 'bb'], outputs: ['bc'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Relu', inputs: ['bc'], outputs: ['br'] },
      { op: 'AveragePool', name: 'pool_b', inputs: ['br'], outputs: ['bp'], attrs: { kernel_shape: [2, 2], strides: [1, 1], auto_pad: 'SAME_UPPER' } },
      { op: 'Flatten', inputs: ['bp'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'wf', 'bf'], outputs: ['z'], attrs: { transB: { int: 1 } } },
      { op: 'Softmax', inputs: ['z'], outputs: ['p'], attrs: { axis: { int: 1 } } },
      ...(extra.nodes ?? []),
    ],
    inits: [
      init('wa', [3, extra.channels ?? 1, 3, 3], 1),
      init('ba', [3], 2),
      init('g', [3], 3, 0.5, 2),
      init('b', [3], 4),
      init('m', [3], 5),
      init('v', [3], 6, 0.3, 2),
      init('wb', [4, 3, 2, 2], 7),
      init('bb', [4], 8),
      // 10 → same 10 → pool 5 → conv 2×2 stride 2: 2 (valid) → same avg-pool: 2; 4 channels · 2 · 2
      init('wf', [3, 16], 9),
      init('bf', [3], 10),
    ],
  });

  it('Conv, BatchNormalization, MaxPool, strided Conv, AveragePool, Flatten, Gemm', async () => {
    const bytes = buildOnnx(lenetGraph());
    const file = join(root, 'lenet.onnx');
    writeFileSync(file, bytes);
    const x = values(N * H * H, 31, 0, 1);
    const oracle = await runOnnx(bytes, x, [N, 1, H, H]);
    const net = await importModel(file);
    expect(net.layers).toEqual([100, 3, 4, 3]);
    expect(net.ops?.map((o) => o.kind)).toEqual(['conv', 'conv', 'dense']);
    const d = maxDiff(await predictProbabilities(net, x, N), oracle);
    measured['onnx lenet'] = d;
    expect(d).toBeLessThan(TOLERANCE);
  });

  it('GlobalAveragePool', async () => {
    const g = lenetGraph();
    g.nodes.splice(6, 1, { op: 'GlobalAveragePool', name: 'gap', inputs: ['br'], outputs: ['bp'] });
    g.inits[8] = init('wf', [3, 4], 9);
    const bytes = buildOnnx(g);
    const file = join(root, 'gap.onnx');
    writeFileSync(file, bytes);
    const x = values(N * H * H, 32, 0, 1);
    const d = maxDiff(await predictProbabilities(await importModel(file), x, N), await runOnnx(bytes, x, [N, 1, H, H]));
    measured['onnx global pool'] = d;
    expect(d).toBeLessThan(TOLERANCE);
  });

  it('an RGB image laid out N, C, H, W: `nnvis predict` reads channels-first data rows as onnxruntime does', async () => {
    const bytes = buildOnnx(lenetGraph({ channels: 3 }));
    const dir = mkdtempSync(join(root, 'rgb-'));
    const file = join(dir, 'rgb.onnx');
    writeFileSync(file, bytes);
    const x = values(N * 3 * H * H, 33, 0, 1);
    const oracle = await runOnnx(bytes, x, [N, 3, H, H]);
    const net = await importModel(file);
    expect([net.layers[0], net.inputShape, net.inputOrder]).toEqual([300, [H, H, 3], 'chw']);
    // the CLI reads the rows as they are laid out for the model and reorders them once
    const data = join(dir, 'x.json');
    writeFileSync(data, JSON.stringify({ x: Array.from({ length: N }, (_, i) => Array.from(x.subarray(i * 300, (i + 1) * 300))) }));
    const r = runCli(['predict', file, '--data', data, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ours = (JSON.parse(r.stdout) as { probabilities: number[][] }).probabilities.flat();
    const d = maxDiff(ours, oracle);
    measured['onnx rgb, channels first'] = d;
    expect(d).toBeLessThan(TOLERANCE);
    // without the reorder the same rows give other predictions: the test can fail
    expect(maxDiff(await predictProbabilities(net, x, N), oracle)).toBeGreaterThan(1e-3);
  });

  const refusals: [string, (g: OnnxGraph) => void, RegExp][] = [
    ['grouped', (g) => (g.nodes[4].attrs = { ...g.nodes[4].attrs, group: { int: 3 } }), /node 'conv_b' \(Conv\) has group = 3: a grouped or depthwise convolution/],
    ['dilated', (g) => (g.nodes[0].attrs = { ...g.nodes[0].attrs, dilations: [2, 2] }), /node 'conv_a' \(Conv\) has dilations \[2,2\]; nnvis reads Conv with dilation 1 only/],
    ['padded unlike same', (g) => (g.nodes[0].attrs = { kernel_shape: [3, 3], pads: [2, 2, 2, 2] }), /node 'conv_a' \(Conv\) has pads \[2,2,2,2\] on a 10×10 map; nnvis reads no padding or 'same' padding/],
    [
      'residual',
      (g) => {
        g.nodes.splice(3, 0, { op: 'Add', name: 'skip', inputs: ['ar', 'a'], outputs: ['ar2'] });
        g.nodes[4].inputs = ['ar2'];
      },
      /tensor 'a' feeds 2 nodes|node 'skip' \(Add\) combines 2 computed tensors/,
    ],
  ];
  for (const [name, mutate, message] of refusals) {
    it(`refuses ${name}, naming the node`, async () => {
      const g = lenetGraph();
      mutate(g);
      const file = join(root, `refuse-${name.replace(/\W+/g, '-')}.onnx`);
      writeFileSync(file, buildOnnx(g));
      const err = await importModel(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
    });
  }
});
