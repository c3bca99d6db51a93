// The activations added for imported models (issue 14) in every forward pass: the stacked BN
// fine-tuning (hand-written gradient) against tfjs' autodiff one, the tfjs model pruning
// evaluation runs, Taylor importance, and the .nnvis file that stores their parameters.
import { describe, expect, it } from 'vitest';
import { decodeNetwork, encodeNetwork } from '../src/core/container.ts';
import { InputError } from '../src/core/errors.ts';
import { type Activation, type Network } from '../src/core/network.ts';
import type { Dataset } from '../src/ml/data.ts';
import { forwardProbabilities } from '../src/ml/conv.ts';
import { importanceForGroup, referenceClassImportance } from '../src/ml/importance.ts';
import { predictClasses, toTfModel } from '../src/ml/model.ts';
import { taylorScores } from '../src/ml/taylor.ts';
import { initTf } from '../src/ml/tf.ts';
import { values } from './onnx-build.ts';

const LAYERS = [8, 6, 5, 3];

function network(activations: Activation[], activationParams?: Network['activationParams']): Network {
  const E = LAYERS.slice(0, -1).reduce((a, n, k) => a + n * LAYERS[k + 1], 0);
  return {
    layers: LAYERS,
    classNames: ['a', 'b', 'c'],
    activations,
    activationParams,
    weights: values(E, 3, -0.8, 0.8),
    biases: values(14, 4, -0.3, 0.3),
    meta: {},
  };
}

function dataset(n: number, seed: number): Dataset {
  const x = values(n * LAYERS[0], seed, -2, 2);
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { x, y, count: n, features: LAYERS[0], classes: 3 };
}

const CASES: [string, Activation[], Network['activationParams']?][] = [
  ['gelu, leaky_relu', ['gelu', 'leaky_relu', 'softmax'], [{}, { alpha: 0.2 }, {}]],
  ['elu, selu', ['elu', 'selu', 'softmax'], [{ alpha: 0.7 }, { alpha: 1.6732632423543772, gamma: 1.0507009873554805 }, {}]],
  ['swish, softplus', ['swish', 'softplus', 'softmax']],
  ['hard_sigmoid, gelu_tanh', ['hard_sigmoid', 'gelu_tanh', 'softmax'], [{ alpha: 1 / 6, beta: 0.5 }, {}, {}]],
];

describe('new activations in importance, evaluation and Taylor', () => {
  const train = dataset(240, 11);
  const test = dataset(90, 12);
  for (const [name, acts, params] of CASES) {
    it(`stacked BN fine-tuning matches tfjs autodiff: ${name}`, async () => {
      const net = network(acts, params);
      const opts = { flags: ['gamma', 'l1'] as const, epochs: 2, batchSize: 32, learningRate: 0.01, seed: 3 };
      const [stacked] = await importanceForGroup({ net, train, test }, [1], { ...opts, flags: [...opts.flags] });
      const ref = await referenceClassImportance({ net, train, test }, 1, { ...opts, flags: [...opts.flags] });
      const gap = Math.max(...stacked.gammas.flatMap((g, l) => Array.from(g, (v, i) => Math.abs(v - ref.gammas[l][i]))));
      expect(gap).toBeLessThan(1e-5);
      expect(stacked.testLoss).toBeCloseTo(ref.testLoss, 4);
    });

    it(`the tfjs model of pruning evaluation and Taylor run it: ${name}`, async () => {
      const tf = await initTf();
      const net = network(acts, params);
      const model = toTfModel(tf, net);
      const ours = tf.tidy(() => tf.argMax(forwardProbabilities(tf, net, tf.tensor2d(test.x, [test.count, test.features])), -1).dataSync() as Int32Array);
      expect(Array.from(predictClasses(tf, model, test))).toEqual(Array.from(ours));
      model.dispose();
      const scores = await taylorScores(net, train, { batchSize: 64 });
      expect(scores.raw.every((r) => r.every(Number.isFinite))).toBe(true);
    });
  }
});

describe('activation parameters in .nnvis files', () => {
  it('round-trip, and files without them read as before', () => {
    const net = network(['leaky_relu', 'hard_sigmoid', 'softmax'], [{ alpha: 0.3 }, { alpha: 0.2, beta: 0.5 }, {}]);
    const back = decodeNetwork(encodeNetwork(net), 'x.nnvis');
    expect(back.activationParams).toEqual(net.activationParams);
    const plain = encodeNetwork(network(['relu', 'relu', 'softmax']));
    expect(decodeNetwork(plain, 'y.nnvis').activationParams).toBeUndefined();
    // version 3 only where the network needs it, so older nnvis keep reading every other file
    const version = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(8, true);
    expect(version(plain)).toBe(2);
    expect(version(encodeNetwork(net))).toBe(3);
    expect(version(encodeNetwork(network(['gelu', 'relu', 'softmax'])))).toBe(3);
  });

  it('a parameter the activation does not take is refused with one line', () => {
    // same length, so the header stays valid: selu's parameters on a relu layer
    const bytes = encodeNetwork(network(['leaky_relu', 'selu', 'softmax'], [{ alpha: 0.3 }, { alpha: 1.5, gamma: 1 }, {}]));
    const text = new TextDecoder('latin1').decode(bytes).replace('"selu"', '"relu"');
    const err = (() => {
      try {
        decodeNetwork(Uint8Array.from(text, (ch) => ch.charCodeAt(0)), 'z.nnvis');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/z\.nnvis: .*activationParams'\[1\] has "alpha", but relu takes no parameters/);
  });
});
