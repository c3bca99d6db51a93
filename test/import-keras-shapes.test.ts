// Keras 2 .h5 in its documented layout (no Keras runs here): root attribute model_config, group
// model_weights/<layer> with weight_names, a nested model's layers in model_weights/<model>/<layer>.
// The same network built in TensorFlow.js (Keras' semantics) is the oracle; its weights are
// written into the .h5, and nnvis' predictions of the .h5 must match tfjs' within 1e-5.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import h5wasm, { type Group } from 'h5wasm/node';
import { describe, expect, it } from 'vitest';
import { predictProbabilities } from '../src/cli/commands/predict.ts';
import { importModel } from '../src/ml/import/index.ts';
import { maxDiff, values, zip } from './onnx-build.ts';

const F = 6;
const N = 12;

function attr(g: Group, name: string, value: string | string[]): void {
  const list = Array.isArray(value) ? value : [value];
  const dtype = `A${Math.max(1, ...list.map((v) => Buffer.byteLength(v)))}`;
  if (Array.isArray(value)) g.create_attribute(name, list, [list.length], dtype);
  else g.create_attribute(name, list[0], null, dtype);
}

function group(root: Group, path: string): Group {
  let g = root;
  for (const part of path.split('/')) g = g.keys().includes(part) ? (g.get(part) as Group) : g.create_group(part);
  return g;
}

describe('Keras 2 .h5 layouts', () => {
  it('Functional with Input, a nested Sequential (Dense use_bias=False, BatchNormalization, Activation) and Dense(1, sigmoid)', async () => {
    await tf.ready();
    await h5wasm.ready;
    // the oracle network in tfjs
    const hidden = tf.layers.dense({ units: 5, useBias: false, inputShape: [F], name: 'hidden' });
    const bn = tf.layers.batchNormalization({ name: 'bn', epsilon: 0.001 });
    const act = tf.layers.activation({ activation: 'relu', name: 'act' });
    const out = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'out' });
    const model = tf.sequential({ layers: [hidden, bn, act, out] });
    const [kernel] = hidden.getWeights();
    const stats = [values(5, 1, 0.5, 2), values(5, 2), values(5, 3), values(5, 4, 0.3, 2)];
    bn.setWeights(stats.map((v) => tf.tensor1d(v)));
    const [outK, outB] = out.getWeights();
    const x = values(N * F, 9, -2, 2);
    const oracle = (model.predict(tf.tensor2d(x, [N, F])) as tf.Tensor).dataSync();

    const config = {
      class_name: 'Functional',
      config: {
        name: 'model',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, F], dtype: 'float32', name: 'input_1' }, name: 'input_1', inbound_nodes: [] },
          {
            class_name: 'Sequential',
            config: {
              name: 'inner',
              layers: [
                { class_name: 'InputLayer', config: { batch_input_shape: [null, F], name: 'hidden_input' } },
                { class_name: 'Dense', config: { name: 'hidden', units: 5, activation: 'linear', use_bias: false } },
                { class_name: 'BatchNormalization', config: { name: 'bn', axis: [1], epsilon: 0.001, center: true, scale: true } },
                { class_name: 'Activation', config: { name: 'act', activation: 'relu' } },
              ],
            },
            name: 'inner',
            inbound_nodes: [[['input_1', 0, 0, {}]]],
          },
          { class_name: 'Dense', config: { name: 'out', units: 1, activation: 'sigmoid', use_bias: true }, name: 'out', inbound_nodes: [[['inner', 1, 0, {}]]] },
        ],
        input_layers: [['input_1', 0, 0]],
        output_layers: [['out', 0, 0]],
      },
    };
    const file = join(mkdtempSync(join(tmpdir(), 'nnvis-keras-')), 'nested.h5');
    const f = new h5wasm.File(file, 'w');
    attr(f, 'keras_version', '2.15.0');
    attr(f, 'backend', 'tensorflow');
    attr(f, 'model_config', JSON.stringify(config));
    const mw = f.create_group('model_weights');
    attr(mw, 'layer_names', ['input_1', 'inner', 'out']);
    mw.create_group('input_1').create_attribute('weight_names', [], [0], 'A1');
    const inner = mw.create_group('inner');
    const innerNames = ['hidden/kernel:0', 'bn/gamma:0', 'bn/beta:0', 'bn/moving_mean:0', 'bn/moving_variance:0'];
    attr(inner, 'weight_names', innerNames);
    const put = (g: Group, path: string, data: Float32Array, shape: number[]): void => {
      const parts = path.split('/');
      const name = parts.pop() as string;
      group(g, parts.join('/')).create_dataset({ name, data, shape });
    };
    put(inner, innerNames[0], kernel.dataSync() as Float32Array, [F, 5]);
    stats.forEach((v, i) => put(inner, innerNames[i + 1], v, [5]));
    const outG = mw.create_group('out');
    attr(outG, 'weight_names', ['out/kernel:0', 'out/bias:0']);
    put(outG, 'out/kernel:0', outK.dataSync() as Float32Array, [5, 1]);
    put(outG, 'out/bias:0', Float32Array.from(outB.dataSync()), [1]);
    f.close();

    const net = await importModel(file);
    expect(net.layers).toEqual([F, 5, 2]);
    expect(net.meta.provenance?.conversions).toHaveLength(2);
    const ours = await predictProbabilities(net, x, N);
    const want = Float32Array.from({ length: N * 2 }, (_, k) => (k % 2 === 1 ? oracle[k >> 1] : 1 - oracle[k >> 1]));
    const d = maxDiff(ours, want);
    console.log(`keras h5 (nested, BN, binary): max |ours − tfjs| = ${d}`);
    expect(d).toBeLessThan(1e-5);
  });

  it('Keras 3 .keras: Functional with a nested Sequential, BatchNormalization and silu; hard_sigmoid as Keras 3 defines it', async () => {
    await h5wasm.ready;
    const hidden = tf.layers.dense({ units: 5, inputShape: [F], name: 'hidden' });
    const bn = tf.layers.batchNormalization({ name: 'bn', epsilon: 0.001 });
    const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' });
    const model = tf.sequential({ layers: [hidden, bn, tf.layers.activation({ activation: 'swish' }), out] });
    const stats = [values(5, 11, 0.5, 2), values(5, 12), values(5, 13), values(5, 14, 0.3, 2)];
    bn.setWeights(stats.map((v) => tf.tensor1d(v)));
    const x = values(N * F, 19, -2, 2);
    const oracle = (model.predict(tf.tensor2d(x, [N, F])) as tf.Tensor).dataSync();
    const history = (name: string, shape: (number | null)[]) => [{ args: [{ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [name, 0, 0] } }], kwargs: {} }];
    const keras3 = (activation: string) => ({
      module: 'keras',
      class_name: 'Functional',
      config: {
        name: 'functional',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, F], dtype: 'float32', name: 'input_layer' }, name: 'input_layer', inbound_nodes: [] },
          {
            module: 'keras',
            class_name: 'Sequential',
            config: {
              name: 'inner',
              layers: [
                { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, F], name: 'inner_input' } },
                { module: 'keras.layers', class_name: 'Dense', config: { name: 'hidden', units: 5, activation: 'linear', use_bias: true } },
                { module: 'keras.layers', class_name: 'BatchNormalization', config: { name: 'bn', axis: -1, epsilon: 0.001, center: true, scale: true } },
                { module: 'keras.layers', class_name: 'Activation', config: { name: 'act', activation } },
              ],
            },
            name: 'inner',
            inbound_nodes: history('input_layer', [null, F]),
          },
          { module: 'keras.layers', class_name: 'Dense', config: { name: 'out', units: 3, activation: 'softmax', use_bias: true }, name: 'out', inbound_nodes: history('inner', [null, 5]) },
        ],
        input_layers: ['input_layer', 0, 0],
        output_layers: ['out', 0, 0],
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'nnvis-keras3-'));
    const weightsPath = join(dir, 'model.weights.h5');
    const f = new h5wasm.File(weightsPath, 'w');
    const vars = (path: string, arrays: { data: Float32Array; shape: number[] }[]): void => {
      const g = group(f, path);
      arrays.forEach((a, i) => g.create_dataset({ name: String(i), data: a.data, shape: a.shape }));
    };
    const [k, b] = hidden.getWeights();
    const [ok, ob] = out.getWeights();
    vars('layers/inner/layers/hidden/vars', [{ data: k.dataSync() as Float32Array, shape: [F, 5] }, { data: b.dataSync() as Float32Array, shape: [5] }]);
    vars('layers/inner/layers/bn/vars', stats.map((data) => ({ data, shape: [5] })));
    vars('layers/out/vars', [{ data: ok.dataSync() as Float32Array, shape: [5, 3] }, { data: ob.dataSync() as Float32Array, shape: [3] }]);
    f.close();
    const weights = readFileSync(weightsPath);
    const file = join(dir, 'model.keras');
    writeFileSync(file, zip({ 'metadata.json': Buffer.from('{"keras_version": "3.6.0"}'), 'config.json': Buffer.from(JSON.stringify(keras3('silu'))), 'model.weights.h5': weights }));
    const ours = await predictProbabilities(await importModel(file), x, N);
    const d = maxDiff(ours, oracle);
    console.log(`keras 3 .keras (nested, BN, silu): max |ours − tfjs| = ${d}`);
    expect(d).toBeLessThan(1e-5);

    writeFileSync(file, zip({ 'config.json': Buffer.from(JSON.stringify(keras3('hard_sigmoid'))), 'model.weights.h5': weights }));
    const net = await importModel(file);
    expect(net.activations).toEqual(['hard_sigmoid', 'softmax']);
    expect(net.activationParams?.[0]).toEqual({ alpha: 1 / 6, beta: 0.5 });
  });
});
