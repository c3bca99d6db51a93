// Between our flat Network and tfjs layers models.
import { biasView, kernelView, type Activation, type Network } from '../core/network.ts';
import { createRng } from '../core/random.ts';
import { activate, layerActivation, type LayerActivation } from './activations.ts';
import type { Dataset } from './data.ts';
import type { tf as TF } from './tf.ts';

type Tf = typeof TF;

/** Glorot-uniform kernels and zero biases from our seeded source (tfjs's own init is not seedable per call). */
export function initialWeights(layers: readonly number[], seed: number): { weights: Float32Array; biases: Float32Array } {
  const rng = createRng(seed);
  const sizes = layers.slice(0, -1).map((n, k) => n * layers[k + 1]);
  const weights = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let o = 0;
  sizes.forEach((size, k) => {
    const limit = Math.sqrt(6 / (layers[k] + layers[k + 1]));
    for (let i = 0; i < size; i++) weights[o + i] = (rng() * 2 - 1) * limit;
    o += size;
  });
  return { weights, biases: new Float32Array(layers.slice(1).reduce((a, b) => a + b, 0)) };
}

const TFJS_ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];

/** A layer applying our activation, for those tfjs-layers has not (or not with these parameters). */
function activationLayer(tf: Tf, a: LayerActivation, name: string): TF.layers.Layer {
  class NnvisActivation extends tf.layers.Layer {
    static className = 'NnvisActivation';
    override call(inputs: TF.Tensor | TF.Tensor[]): TF.Tensor {
      return tf.tidy(() => activate(tf, Array.isArray(inputs) ? inputs[0] : inputs, a));
    }
  }
  return new NnvisActivation({ name });
}

/** A tfjs Sequential model holding the network's weights. */
export function toTfModel(tf: Tf, net: Network, l1 = 0): TF.Sequential {
  const { layers } = net;
  const model = tf.sequential();
  for (let k = 0; k + 1 < layers.length; k++) {
    const a = layerActivation(net, k);
    const native = TFJS_ACTIVATIONS.includes(a.name);
    model.add(
      tf.layers.dense({
        inputShape: k === 0 ? [layers[0]] : undefined,
        units: layers[k + 1],
        activation: native ? (a.name as 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax') : 'linear',
        kernelRegularizer: l1 > 0 ? tf.regularizers.l1({ l1 }) : undefined,
        name: `dense_${k}`,
      }),
    );
    if (!native) model.add(activationLayer(tf, a, `activation_${k}`));
  }
  setDenseWeights(tf, model, net);
  return model;
}

/** Copies the network's weights into the model's dense layers; no tensors are left behind. */
export function setDenseWeights(tf: Tf, model: TF.LayersModel, net: Network): void {
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  dense.forEach((layer, k) => {
    // setWeights copies into the layer's variables, so the inputs can go at once
    tf.tidy(() => layer.setWeights([tf.tensor2d(kernelView(net, k), [net.layers[k], net.layers[k + 1]]), tf.tensor1d(biasView(net, k))]));
  });
}

/** Reads the dense weights of a tfjs model back into flat arrays. */
export function readDenseWeights(model: TF.LayersModel, layers: readonly number[]): { weights: Float32Array; biases: Float32Array } {
  // Copied layer by layer into preallocated arrays (a spread push overflows the stack past ~100k values).
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  const parts = dense.map((layer) => layer.getWeights());
  const size = (i: number): number => parts.reduce((a, p) => a + p[i].size, 0);
  const expected = layers.slice(0, -1).reduce((a, n, k) => a + n * layers[k + 1], 0);
  if (size(0) !== expected) throw new Error(`model has ${size(0)} weights, expected ${expected}`);
  const out = { weights: new Float32Array(size(0)), biases: new Float32Array(size(1)) };
  let w = 0;
  let b = 0;
  for (const [kernel, bias] of parts) {
    out.weights.set(kernel.dataSync() as Float32Array, w);
    out.biases.set(bias.dataSync() as Float32Array, b);
    w += kernel.size;
    b += bias.size;
  }
  return out;
}

/**
 * Predicted class per sample, in batches so memory stays flat. Each batch is one pass through
 * the model's layers (predict would cut it into slices of 32 rows, 6× slower, and copy each);
 * a row's result does not depend on the batch it is in.
 */
export function predictClasses(tf: Tf, model: TF.LayersModel, data: Dataset, batch = 4096): Int32Array {
  const out = new Int32Array(data.count);
  for (let s = 0; s < data.count; s += batch) {
    const n = Math.min(batch, data.count - s);
    const labels = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(s * data.features, (s + n) * data.features), [n, data.features]);
      return (model.apply(x, { training: false }) as TF.Tensor).argMax(-1);
    });
    out.set(labels.dataSync() as Int32Array, s);
    labels.dispose();
  }
  return out;
}

export function defaultActivations(layers: readonly number[]): Activation[] {
  return layers.slice(1).map((_, k) => (k === layers.length - 2 ? 'softmax' : 'relu'));
}
