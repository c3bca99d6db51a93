// `nnvis import` readers against tiny real model files (made by scripts/make-fixtures.ts).

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { InputError } from '../src/core/errors.ts';
import { biasView, kernelView, type Network } from '../src/core/network.ts';
import { importModel, SUPPORTED_FORMATS } from '../src/ml/import/index.ts';

const { onnx } = onnxProto;
const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const expected = JSON.parse(readFileSync(join(FIX, 'tiny-expected.json'), 'utf8')) as {
  layers: number[];
  activations: string[];
  weights: number[];
  biases: number[];
  sampleInput: number[];
};

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nnvis-import-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function inputError(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).not.toContain('\n');
    return err as InputError;
  }
  throw new Error('expected an InputError, got a result');
}

/** Pure forward pass of the imported network (double precision accumulation). */
function forward(net: Network, input: readonly number[]): number[] {
  let x = [...input];
  net.activations?.forEach((act, k) => {
    const w = kernelView(net, k);
    const b = biasView(net, k);
    const rows = net.layers[k];
    const cols = net.layers[k + 1];
    let z = Array.from({ length: cols }, (_, c) => {
      let s = b[c];
      for (let r = 0; r < rows; r++) s += x[r] * w[r * cols + c];
      return s;
    });
    if (act === 'relu') z = z.map((v) => Math.max(0, v));
    else if (act === 'sigmoid') z = z.map((v) => 1 / (1 + Math.exp(-v)));
    else if (act === 'tanh') z = z.map(Math.tanh);
    else if (act === 'softmax') {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, v) => a + v, 0);
      z = e.map((v) => v / sum);
    }
    x = z;
  });
  return x;
}

/** Copies fixture files into a fresh folder under tmp; returns that folder. */
function copyFixtures(name: string, files: string[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(join(FIX, f), join(dir, f.split('/').pop() as string));
  return dir;
}

function floatBytes(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

describe('importModel on real fixtures', () => {
  const cases: [string, string][] = [
    ['tiny-tfjs/model.json', 'tiny-tfjs/model.json (tfjs layers model)'],
    ['tiny.h5', 'tiny.h5 (keras h5)'],
    ['tiny-keras3.h5', 'tiny-keras3.h5 (keras h5)'],
    ['tiny.keras', 'tiny.keras (keras v3)'],
    ['tiny-gemm.onnx', 'tiny-gemm.onnx (onnx)'],
    ['tiny-matmul.onnx', 'tiny-matmul.onnx (onnx)'],
  ];
  it.each(cases)('%s gives the exact net', async (file, source) => {
    const net = await importModel(join(FIX, file));
    expect(net.layers).toEqual(expected.layers);
    expect(net.activations).toEqual(expected.activations);
    expect(net.classNames).toEqual(['0', '1', '2']);
    // Bit-exact: Float32Array equality compares every element with Object.is-like strictness.
    expect(net.weights).toEqual(Float32Array.from(expected.weights));
    expect(net.biases).toEqual(Float32Array.from(expected.biases));
    expect(net.meta.provenance).toEqual({ tool: 'nnvis', command: 'import', source });
  });

  it('reads a tfjs model from its folder too', async () => {
    const net = await importModel(join(FIX, 'tiny-tfjs'));
    expect(net.weights).toEqual(Float32Array.from(expected.weights));
  });

  it('the tfjs fixture loads in real tfjs and predicts what our network computes', async () => {
    await tf.setBackend('cpu');
    const dir = join(FIX, 'tiny-tfjs');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const shard = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
    const model = await tf.loadLayersModel({
      load: async () => ({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength) as ArrayBuffer,
      }),
    });
    const inputs = [expected.sampleInput, expected.sampleInput.map((v, i) => v * (i % 2 ? -2 : 1.5))];
    const out = model.predict(tf.tensor2d(inputs)) as tf.Tensor;
    const predicted = (await out.array()) as number[][];
    out.dispose();
    model.dispose();
    const net = await importModel(join(dir, 'model.json'));
    inputs.forEach((input, i) => {
      const ours = forward(net, input);
      ours.forEach((v, c) => expect(predicted[i][c]).toBeCloseTo(v, 6));
    });
  });
});

describe('unsupported models are rejected with the layer, its type and the supported list', () => {
  it.each([
    ['conv.h5', 'conv2d_1', 'Conv2D'],
    ['conv.onnx', 'conv_0', 'Conv'],
    ['attention-tfjs/model.json', 'mha', 'MultiHeadAttention'],
  ])('%s', async (file, layer, type) => {
    const err = await inputError(importModel(join(FIX, file)));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`'${layer}'`);
    expect(err.message).toContain(`type ${type}`);
    expect(err.message).toContain('supported');
  });

  it('unsupported activations name the layer and the activation', async () => {
    const dir = copyFixtures('elu', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.modelTopology.config.layers[1].config.activation = 'elu';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/layer 'dense_1' uses activation 'elu'.*supported activations/);
  });

  it('branching functional topologies are rejected', async () => {
    const dir = copyFixtures('branch', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const inbound = (name: string): unknown => [[[name, 0, 0, {}]]];
    json.modelTopology = {
      class_name: 'Functional',
      config: {
        name: 'branchy',
        layers: [
          { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, 6] }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'dense', config: { name: 'dense', units: 5, activation: 'relu' }, inbound_nodes: inbound('in') },
          { class_name: 'Dense', name: 'dense_1', config: { name: 'dense_1', units: 4, activation: 'relu' }, inbound_nodes: inbound('dense') },
          { class_name: 'Dense', name: 'dense_2', config: { name: 'dense_2', units: 3, activation: 'softmax' }, inbound_nodes: inbound('dense') },
        ],
        input_layers: [['in', 0, 0]],
        output_layers: [['dense_2', 0, 0]],
      },
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/layer 'dense' feeds 2 layers \(dense_1, dense_2\)/);
  });

  it('branching ONNX graphs are rejected', async () => {
    const model = onnx.ModelProto.decode(readFileSync(join(FIX, 'tiny-matmul.onnx')));
    model.graph?.node?.push(onnx.NodeProto.create({ opType: 'Relu', name: 'side', input: ['h0'], output: ['side_out'] }));
    const file = join(tmp, 'branch.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/branch\.onnx: tensor 'h0' feeds 2 nodes \(matmul1, side\)/);
  });

  it('kernel shapes that do not chain are rejected', async () => {
    const dir = copyFixtures('units', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[2].shape = [4, 5]; // dense_1 kernel claims [4, 5] instead of [5, 4]
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/layer 'dense_1' kernel has shape \[4, 5\] but the layer has 4 units/);
  });

  it('non-float32 tfjs weights are rejected', async () => {
    const dir = copyFixtures('f16', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[0].quantization = { dtype: 'float16' };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/weight 'dense\/kernel' is quantized.*float32/);
  });
});

describe('corrupt or missing inputs are one-line InputErrors naming the file', () => {
  it('missing file', async () => {
    const err = await inputError(importModel(join(tmp, 'absent.h5')));
    expect(err.message).toContain('absent.h5: file not found');
  });

  it('unknown extension lists the supported formats', async () => {
    const file = join(tmp, 'model.pt');
    writeFileSync(file, 'not a model');
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/model\.pt: unknown model format '\.pt'; supported: .*\.json.*\.h5.*\.keras.*\.onnx/);
    expect(SUPPORTED_FORMATS).toContain('.onnx');
  });

  it('truncated .h5', async () => {
    const file = join(tmp, 'truncated.h5');
    const bytes = readFileSync(join(FIX, 'tiny.h5'));
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await inputError(importModel(file));
    expect(err.message).toContain('truncated.h5:');
  });

  it.each([
    ['text.h5', 'hello', 'text.h5: is neither an HDF5 file nor a zip archive'],
    ['garbage.onnx', 'this is not an onnx model, just text\n', 'garbage.onnx: is not a valid ONNX model'],
    ['broken.json', '{"modelTopology": ', 'broken.json: not valid JSON'],
  ])('a %s holding text', async (name, text, message) => {
    const file = join(tmp, name);
    writeFileSync(file, text);
    const err = await inputError(importModel(file));
    expect(err.message).toContain(message);
  });

  it('truncated .keras zip', async () => {
    const file = join(tmp, 'truncated.keras');
    const bytes = readFileSync(join(FIX, 'tiny.keras'));
    writeFileSync(file, bytes.subarray(0, bytes.length - 40));
    const err = await inputError(importModel(file));
    expect(err.message).toContain('truncated.keras:');
  });

  it('missing tfjs shard', async () => {
    const dir = copyFixtures('noshard', ['tiny-tfjs/model.json']);
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/model\.json: weight shard 'group1-shard1of1\.bin' .* cannot be read \(missing/);
  });

  it('truncated tfjs shard', async () => {
    const dir = copyFixtures('shortshard', ['tiny-tfjs/model.json']);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), readFileSync(join(FIX, 'tiny-tfjs/group1-shard1of1.bin')).subarray(0, 100));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/model\.json: weight shards .* hold 100 bytes but the manifest needs 296/);
  });

  it('NaN in a tfjs shard names the layer and the index', async () => {
    const dir = copyFixtures('nan-tfjs', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const shard = readFileSync(join(dir, 'group1-shard1of1.bin'));
    // dense_1/kernel starts after dense/kernel (30 floats) and dense/bias (5 floats); poison element 7.
    shard.writeFloatLE(Number.NaN, 4 * (30 + 5 + 7));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), shard);
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/model\.json: layer 'dense_1' kernel has a non-finite value \(NaN\) at index 7 \(row 1, column 3\)/);
  });

  it('Infinity in a .h5 bias names the layer and the index', async () => {
    const file = join(tmp, 'inf.h5');
    const bytes = readFileSync(join(FIX, 'tiny.h5'));
    const bias2 = expected.biases.slice(9, 12); // dense_2 bias: after 5 + 4 biases
    const at = bytes.indexOf(floatBytes(bias2));
    expect(at).toBeGreaterThan(0);
    bytes.writeFloatLE(Number.POSITIVE_INFINITY, at + 4);
    writeFileSync(file, bytes);
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/inf\.h5: layer 'dense_2' bias has a non-finite value \(Infinity\) at index 1/);
  });

  it('NaN in an ONNX rawData initializer', async () => {
    const file = join(tmp, 'nan.onnx');
    const bytes = readFileSync(join(FIX, 'tiny-matmul.onnx'));
    const kernel0 = expected.weights.slice(0, 30);
    const at = bytes.indexOf(floatBytes(kernel0));
    expect(at).toBeGreaterThan(0);
    bytes.writeFloatLE(Number.NaN, at + 4 * 29);
    writeFileSync(file, bytes);
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/nan\.onnx: layer 'matmul0' kernel has a non-finite value \(NaN\) at index 29/);
  });
});
