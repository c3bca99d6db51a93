// Writes the tiny model files that test/import.test.ts reads (run: npx tsx scripts/make-fixtures.ts).
//
// Why: the importers must read files as the real tools write them, and the tests must know the
// exact weights inside. So this script builds one deterministic dense net, 6-5-4-3 with
// relu, relu, softmax, whose weights come from a fixed formula rounded to float32 (so every
// format stores them bit-exactly), and writes it in every supported format:
//
//   test/fixtures/tiny-tfjs/model.json + group1-shard1of1.bin
//                               saved by real @tensorflow/tfjs (tf.sequential + setWeights +
//                               model.save through tf.io.withSaveHandler, cpu backend), laid out
//                               as tensorflowjs_converter does (one group, one shard)
//   test/fixtures/tiny.h5       Keras 2 HDF5 layout: root attrs keras_version, backend,
//                               model_config (Sequential JSON, fixed-length strings as h5py writes
//                               them); model_weights/<layer>/<layer>/kernel:0 and bias:0 with
//                               layer_names / weight_names attributes
//   test/fixtures/tiny-keras3.h5
//                               Keras 3 legacy-HDF5 layout: Keras 3 config, weight names
//                               'sequential/<layer>/kernel' (no ':0')
//   test/fixtures/tiny.keras    Keras 3 zip (stored entries): metadata.json, config.json (a
//                               functional model with Dropout and a separate softmax Activation
//                               layer), model.weights.h5 with layers/<name>/vars/0 (kernel), /1 (bias)
//   test/fixtures/tiny-gemm.onnx
//                               input [N, 2, 3] → Flatten → Gemm(transB=1) → Relu → Gemm → Relu →
//                               Gemm → Softmax, opset 13, initializers in floatData
//   test/fixtures/tiny-matmul.onnx
//                               input [N, 6] → (MatMul → Add → act) × 3, initializers in rawData
//   test/fixtures/tiny-expected.json
//                               layers, activations, weights and biases (edge/node order of
//                               src/core/network.ts), plus a sample input for forward checks
// and files that must be rejected:
//   test/fixtures/depthwise.h5  Keras 2 model_config with a DepthwiseConv2D layer 'depthwise_conv2d_1'
//   test/fixtures/convtranspose.onnx  a ConvTranspose node 'deconv_0' before Flatten → Gemm
//   test/fixtures/attention-tfjs/model.json
//                               functional topology with a MultiHeadAttention layer 'mha'; its
//                               manifest names a shard that does not exist on purpose: the
//                               importer must reject the layer before it reads any weights.
//
// Fixture bytes are not guaranteed identical across runs (HDF5 object times, tfjs version
// strings); their contents are.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import h5wasm, { type Group } from 'h5wasm/node';
import onnxProto from 'onnx-proto';
import { zipStored } from './zip-stored.ts';

const { onnx } = onnxProto;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const LAYERS = [6, 5, 4, 3];
const ACTS = ['relu', 'relu', 'softmax'] as const;
const NAMES = ['dense', 'dense_1', 'dense_2'];

// ---- the net -----------------------------------------------------------------------------

/** Deterministic values in [-0.5, 0.5), rounded to float32. */
function value(layer: number, i: number, salt: number): number {
  return Math.fround((((i * 17 + layer * 5 + salt * 11) % 23) - 11) / 23);
}

interface Dense {
  name: string;
  inputs: number;
  units: number;
  kernel: Float32Array; // [inputs, units] row-major
  bias: Float32Array;
}

const dense: Dense[] = LAYERS.slice(1).map((units, k) => {
  const inputs = LAYERS[k];
  const kernel = Float32Array.from({ length: inputs * units }, (_, i) => value(k, i, 1));
  const bias = Float32Array.from({ length: units }, (_, i) => value(k, i, 2) / 2);
  return { name: NAMES[k], inputs, units, kernel, bias };
});

const SAMPLE_INPUT = Array.from({ length: LAYERS[0] }, (_, i) => Math.fround((i - 2.5) / 4));

function transposed(d: Dense): Float32Array {
  const out = new Float32Array(d.kernel.length);
  for (let r = 0; r < d.inputs; r++) for (let c = 0; c < d.units; c++) out[c * d.inputs + r] = d.kernel[r * d.units + c];
  return out;
}

function write(rel: string, data: Uint8Array | string): void {
  const path = join(ROOT, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

// ---- Keras configs -------------------------------------------------------------------------

function keras2DenseConfig(d: Dense, k: number): object {
  return {
    class_name: 'Dense',
    config: {
      name: d.name,
      trainable: true,
      dtype: 'float32',
      units: d.units,
      activation: ACTS[k],
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  };
}

const keras2Config = {
  class_name: 'Sequential',
  config: {
    name: 'sequential',
    layers: [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, LAYERS[0]], dtype: 'float32', sparse: false, ragged: false, name: 'dense_input' } },
      ...dense.map(keras2DenseConfig),
    ],
  },
};

const DTYPE_POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

function keras3Layer(className: string, config: object, inbound: string | null, shape: number): object {
  const layer: Record<string, unknown> = { module: 'keras.layers', class_name: className, config, registered_name: null, name: (config as { name: string }).name };
  layer.build_config = { input_shape: [null, shape] };
  layer.inbound_nodes = inbound
    ? [{ args: [{ class_name: '__keras_tensor__', config: { shape: [null, shape], dtype: 'float32', keras_history: [inbound, 0, 0] } }], kwargs: { training: false } }]
    : [];
  return layer;
}

function keras3DenseConfig(d: Dense, activation: string): object {
  return {
    name: d.name,
    trainable: true,
    dtype: DTYPE_POLICY,
    units: d.units,
    activation,
    use_bias: true,
    kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
    bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
    kernel_regularizer: null,
    bias_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  };
}

/** Keras 3 Sequential (used by tiny-keras3.h5). */
const keras3SequentialConfig = {
  module: 'keras',
  class_name: 'Sequential',
  config: {
    name: 'sequential',
    trainable: true,
    dtype: DTYPE_POLICY,
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, LAYERS[0]], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
      ...dense.map((d, k) => ({ module: 'keras.layers', class_name: 'Dense', config: keras3DenseConfig(d, ACTS[k]), registered_name: null, build_config: { input_shape: [null, d.inputs] } })),
    ],
    build_input_shape: [null, LAYERS[0]],
  },
  registered_name: null,
  build_config: { input_shape: [null, LAYERS[0]] },
};

/** Keras 3 functional: input → dense → dropout → dense_1 → dense_2 (linear) → softmax Activation. */
const keras3FunctionalConfig = {
  module: 'keras.src.models.functional',
  class_name: 'Functional',
  config: {
    name: 'functional',
    trainable: true,
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, LAYERS[0]], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null, name: 'input_layer', inbound_nodes: [] },
      keras3Layer('Dense', keras3DenseConfig(dense[0], 'relu'), 'input_layer', 6),
      keras3Layer('Dropout', { name: 'dropout', trainable: true, dtype: DTYPE_POLICY, rate: 0.25, seed: null, noise_shape: null }, 'dense', 5),
      keras3Layer('Dense', keras3DenseConfig(dense[1], 'relu'), 'dropout', 5),
      keras3Layer('Dense', keras3DenseConfig(dense[2], 'linear'), 'dense_1', 4),
      keras3Layer('Activation', { name: 'activation', trainable: true, dtype: DTYPE_POLICY, activation: 'softmax' }, 'dense_2', 3),
    ],
    input_layers: [['input_layer', 0, 0]],
    output_layers: [['activation', 0, 0]],
  },
  registered_name: 'Functional',
  build_config: { input_shape: null },
};

// ---- HDF5 ----------------------------------------------------------------------------------

/** h5wasm creates no intermediate groups; make each level of a '/'-separated path. */
function ensureGroup(root: Group, path: string): Group {
  let g = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    g = g.keys().includes(part) ? (g.get(part) as Group) : g.create_group(part);
  }
  return g;
}

function dataset(root: Group, path: string, data: Float32Array, shape: number[]): void {
  const parts = path.split('/');
  const name = parts.pop() as string;
  ensureGroup(root, parts.join('/')).create_dataset({ name, data, shape });
}

/** h5py writes Python bytes / numpy 'S' arrays as fixed-length strings; mimic that. */
function fixedStrings(values: string[]): { data: string[]; dtype: string } {
  return { data: values, dtype: `A${Math.max(1, ...values.map((v) => Buffer.byteLength(v)))}` };
}

function attrFixed(g: Group, name: string, value: string | string[]): void {
  const list = Array.isArray(value) ? value : [value];
  const { data, dtype } = fixedStrings(list);
  if (Array.isArray(value)) g.create_attribute(name, data, [data.length], dtype);
  else g.create_attribute(name, data[0], null, dtype);
}

function writeKerasH5(rel: string, config: object, kerasVersion: string, weightName: (d: Dense, v: string) => string, weights: Dense[]): void {
  const path = join(ROOT, rel);
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const f = new h5wasm.File(path, 'w');
  attrFixed(f, 'keras_version', kerasVersion);
  attrFixed(f, 'backend', 'tensorflow');
  attrFixed(f, 'model_config', JSON.stringify(config));
  const mw = f.create_group('model_weights');
  const layerNames = ((config as { config: { layers: { config: { name: string } }[] } }).config.layers).map((l) => l.config.name);
  attrFixed(mw, 'layer_names', layerNames);
  attrFixed(mw, 'backend', 'tensorflow');
  attrFixed(mw, 'keras_version', kerasVersion);
  for (const name of [...layerNames].sort()) {
    const g = mw.create_group(name);
    const d = weights.find((w) => w.name === name);
    if (!d) {
      g.create_attribute('weight_names', [], [0], 'A1');
      continue;
    }
    const names = [weightName(d, 'kernel'), weightName(d, 'bias')];
    attrFixed(g, 'weight_names', names);
    dataset(g, names[0], d.kernel, [d.inputs, d.units]);
    dataset(g, names[1], d.bias, [d.units]);
  }
  f.close();
}

function writeKeras3WeightsH5(path: string): void {
  const f = new h5wasm.File(path, 'w');
  for (const name of ['input_layer', 'dense', 'dropout', 'dense_1', 'dense_2', 'activation']) {
    const vars = ensureGroup(f, `layers/${name}/vars`);
    const d = dense.find((x) => x.name === name);
    if (d) {
      vars.create_dataset({ name: '0', data: d.kernel, shape: [d.inputs, d.units] });
      vars.create_dataset({ name: '1', data: d.bias, shape: [d.units] });
    }
  }
  ensureGroup(f, 'vars');
  ensureGroup(f, 'optimizer/vars');
  f.close();
}

// ---- zip (stored) --------------------------------------------------------------------------


// ---- ONNX ----------------------------------------------------------------------------------

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function tensor(name: string, dims: number[], values: Float32Array, raw: boolean): InstanceType<typeof onnx.TensorProto> {
  if (!raw) return onnx.TensorProto.create({ name, dims, dataType: FLOAT, floatData: Array.from(values) });
  const rawData = new Uint8Array(values.length * 4);
  const view = new DataView(rawData.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData });
}

function valueInfo(name: string, dims: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function node(opType: string, name: string, input: string[], output: string[], attribute: object[] = []): InstanceType<typeof onnx.NodeProto> {
  return onnx.NodeProto.create({ opType, name, input, output, attribute: attribute.map((a) => onnx.AttributeProto.create(a)) });
}

const INT = onnx.AttributeProto.AttributeType.INT;
const ONNX_ACTS: Record<string, string> = { relu: 'Relu', softmax: 'Softmax' };

function onnxModel(graphName: string, nodes: InstanceType<typeof onnx.NodeProto>[], initializer: InstanceType<typeof onnx.TensorProto>[], input: InstanceType<typeof onnx.ValueInfoProto>, output: InstanceType<typeof onnx.ValueInfoProto>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'nnvis make-fixtures',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: graphName, node: nodes, initializer, input: [input], output: [output] },
  });
  return onnx.ModelProto.encode(model).finish();
}

function gemmOnnx(): Uint8Array {
  const nodes = [node('Flatten', 'flatten', ['input'], ['flat'], [{ name: 'axis', type: INT, i: 1 }])];
  const inits: InstanceType<typeof onnx.TensorProto>[] = [];
  let x = 'flat';
  dense.forEach((d, k) => {
    inits.push(tensor(`fc${k}.weight`, [d.units, d.inputs], transposed(d), false), tensor(`fc${k}.bias`, [d.units], d.bias, false));
    nodes.push(node('Gemm', `fc${k}`, [x, `fc${k}.weight`, `fc${k}.bias`], [`fc${k}_out`], [{ name: 'transB', type: INT, i: 1 }]));
    const act = ONNX_ACTS[ACTS[k]];
    const out = k === dense.length - 1 ? 'probabilities' : `act${k}_out`;
    nodes.push(node(act, `act${k}`, [`fc${k}_out`], [out], act === 'Softmax' ? [{ name: 'axis', type: INT, i: -1 }] : []));
    x = out;
  });
  return onnxModel('tiny_gemm', nodes, inits, valueInfo('input', ['N', 2, 3]), valueInfo('probabilities', ['N', 3]));
}

function matmulOnnx(): Uint8Array {
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const inits: InstanceType<typeof onnx.TensorProto>[] = [];
  let x = 'input';
  dense.forEach((d, k) => {
    inits.push(tensor(`W${k}`, [d.inputs, d.units], d.kernel, true), tensor(`b${k}`, [d.units], d.bias, true));
    nodes.push(node('MatMul', `matmul${k}`, [x, `W${k}`], [`mm${k}`]));
    nodes.push(node('Add', `add${k}`, [`mm${k}`, `b${k}`], [`z${k}`]));
    const out = k === dense.length - 1 ? 'output' : `h${k}`;
    nodes.push(node(ONNX_ACTS[ACTS[k]], `act${k}`, [`z${k}`], [out]));
    x = out;
  });
  return onnxModel('tiny_matmul', nodes, inits, valueInfo('input', ['batch', 6]), valueInfo('output', ['batch', 3]));
}

function convOnnx(): Uint8Array {
  const w = Float32Array.from({ length: 2 * 1 * 3 * 3 }, (_, i) => value(9, i, 3));
  const fc = Float32Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => value(8, i, 4));
  const nodes = [
    node('ConvTranspose', 'deconv_0', ['input', 'conv.weight'], ['conv_out'], [{ name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [3, 3] }]),
    node('Flatten', 'flatten', ['conv_out'], ['flat'], [{ name: 'axis', type: INT, i: 1 }]),
    node('Gemm', 'fc', ['flat', 'fc.weight'], ['output'], [{ name: 'transB', type: INT, i: 1 }]),
  ];
  return onnxModel('conv', nodes, [tensor('conv.weight', [2, 1, 3, 3], w, false), tensor('fc.weight', [3, 8], fc, false)], valueInfo('input', ['N', 1, 4, 4]), valueInfo('output', ['N', 3]));
}

// ---- main ----------------------------------------------------------------------------------

async function writeTfjs(): Promise<void> {
  await tf.setBackend('cpu');
  const model = tf.sequential({ name: 'tiny' });
  dense.forEach((d, k) => {
    model.add(tf.layers.dense({ name: d.name, units: d.units, activation: ACTS[k], ...(k === 0 ? { inputShape: [d.inputs] } : {}) }));
  });
  model.setWeights(dense.flatMap((d) => [tf.tensor2d(d.kernel, [d.inputs, d.units]), tf.tensor1d(d.bias)]));
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const shard = 'group1-shard1of1.bin';
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
      };
      write('tiny-tfjs/model.json', JSON.stringify(modelJson));
      write(`tiny-tfjs/${shard}`, new Uint8Array(weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

function writeAttentionTfjs(): void {
  const inbound = (name: string): unknown[] => [[[name, 0, 0, {}]]];
  const topology = {
    class_name: 'Functional',
    config: {
      name: 'attention',
      layers: [
        { class_name: 'InputLayer', name: 'tokens', config: { batch_input_shape: [null, 4, 8], dtype: 'float32', sparse: false, ragged: false, name: 'tokens' }, inbound_nodes: [] },
        {
          class_name: 'MultiHeadAttention',
          name: 'mha',
          config: { name: 'mha', trainable: true, dtype: 'float32', num_heads: 2, key_dim: 4 },
          inbound_nodes: [[['tokens', 0, 0, { value: ['tokens', 0, 0] }]]],
        },
        { class_name: 'Flatten', name: 'flatten', config: { name: 'flatten', trainable: true, dtype: 'float32' }, inbound_nodes: inbound('mha') },
        { class_name: 'Dense', name: 'head', config: { name: 'head', trainable: true, dtype: 'float32', units: 3, activation: 'softmax', use_bias: true }, inbound_nodes: inbound('flatten') },
      ],
      input_layers: [['tokens', 0, 0]],
      output_layers: [['head', 0, 0]],
    },
    keras_version: '2.15.0',
    backend: 'tensorflow',
  };
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: topology,
    // Deliberately dangling: the MultiHeadAttention layer must be rejected before weights load.
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'mha/query/kernel', shape: [8, 2, 4], dtype: 'float32' }] }],
  };
  write('attention-tfjs/model.json', JSON.stringify(modelJson, null, 1));
}

async function main(): Promise<void> {
  const h5 = await h5wasm.ready;
  h5.activate_throwing_error_handler(); // HDF5 errors throw instead of printing and going on
  mkdirSync(ROOT, { recursive: true });

  await writeTfjs();
  writeAttentionTfjs();

  writeKerasH5('tiny.h5', keras2Config, '2.15.0', (d, v) => `${d.name}/${v}:0`, dense);
  writeKerasH5('tiny-keras3.h5', keras3SequentialConfig, '3.6.0', (d, v) => `sequential/${d.name}/${v}`, dense);
  const convConfig = {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 1], dtype: 'float32', sparse: false, ragged: false, name: 'depthwise_conv2d_1_input' } },
        { class_name: 'DepthwiseConv2D', config: { name: 'depthwise_conv2d_1', trainable: true, dtype: 'float32', depth_multiplier: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu', use_bias: true } },
        { class_name: 'Flatten', config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' } },
        { class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32', units: 3, activation: 'softmax', use_bias: true } },
      ],
    },
  };
  writeKerasH5('depthwise.h5', convConfig, '2.15.0', (d, v) => `${d.name}/${v}:0`, []);

  const tmp = join(ROOT, 'model.weights.h5.tmp');
  writeKeras3WeightsH5(tmp);
  const weightsH5 = readFileSync(tmp);
  rmSync(tmp);
  const metadata = { keras_version: '3.6.0', date_saved: '2025-01-01@00:00:00' };
  write(
    'tiny.keras',
    zipStored([
      { name: 'metadata.json', data: Buffer.from(JSON.stringify(metadata)) },
      { name: 'config.json', data: Buffer.from(JSON.stringify(keras3FunctionalConfig)) },
      { name: 'model.weights.h5', data: weightsH5 },
    ]),
  );

  write('tiny-gemm.onnx', gemmOnnx());
  write('tiny-matmul.onnx', matmulOnnx());
  write('convtranspose.onnx', convOnnx());

  const expected = {
    layers: LAYERS,
    activations: ACTS,
    weights: dense.flatMap((d) => Array.from(d.kernel)),
    biases: dense.flatMap((d) => Array.from(d.bias)),
    sampleInput: SAMPLE_INPUT,
  };
  write('tiny-expected.json', `${JSON.stringify(expected, null, 1)}\n`);
  console.log(`fixtures written to ${ROOT}`);
}

await main();
