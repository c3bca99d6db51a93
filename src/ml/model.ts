// Between our flat Network and tfjs layers models.
import { biasView, gapWeightCounts, kernelShape, kernelView, layerOp, type Activation, type LayerOp, type Network } from '../core/network.ts';
import { createRng } from '../core/random.ts';
import { activate, layerActivation, type LayerActivation } from './activations.ts';
import type { Dataset } from './data.ts';
import type { tf as TF } from './tf.ts';

type Tf = typeof TF;

/**
 * Glorot-uniform kernels and zero biases from our seeded source (tfjs's own init is not seedable
 * per call); a conv kernel's fans count its taps, as Keras counts them.
 */
export function initialWeights(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>, seed: number): { weights: Float32Array; biases: Float32Array } {
  const { layers } = net;
  const rng = createRng(seed);
  const sizes = gapWeightCounts(net);
  const weights = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let o = 0;
  sizes.forEach((size, k) => {
    const op = layerOp(net, k);
    const out = layers[k + 1];
    const taps = op.kind === 'conv' ? op.kernel[0] * op.kernel[1] : 1;
    const limit = Math.sqrt(6 / (size / out + taps * out));
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

/** The pooling layer a conv op ends with, if any. */
function poolLayer(tf: Tf, op: LayerOp, name: string): TF.layers.Layer | undefined {
  if (op.kind !== 'conv' || !op.pool) return undefined;
  if (op.pool.kind === 'global') return tf.layers.globalAveragePooling2d({ name });
  const args = { poolSize: op.pool.size, strides: op.pool.strides, padding: op.pool.padding, name };
  return op.pool.kind === 'max' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
}

/**
 * A tfjs Sequential model holding the network's weights. It reads flat rows (layers[0]
 * values); a conv network reshapes them to its input shape first and flattens its last map
 * (channels last) before the first dense layer, as Keras' Flatten does.
 */
export function toTfModel(tf: Tf, net: Network, l1 = 0): TF.Sequential {
  const { layers } = net;
  const model = tf.sequential();
  if (net.inputShape) model.add(tf.layers.reshape({ inputShape: [layers[0]], targetShape: net.inputShape, name: 'input_shape' }));
  for (let k = 0; k + 1 < layers.length; k++) {
    const a = layerActivation(net, k);
    const native = TFJS_ACTIVATIONS.includes(a.name);
    const op = layerOp(net, k);
    const activation = native ? (a.name as 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax') : 'linear';
    const kernelRegularizer = l1 > 0 ? tf.regularizers.l1({ l1 }) : undefined;
    if (op.kind === 'conv') {
      model.add(tf.layers.conv2d({ filters: layers[k + 1], kernelSize: op.kernel, strides: op.strides, padding: op.padding, activation, kernelRegularizer, name: `conv_${k}` }));
    } else {
      if (k > 0 && layerOp(net, k - 1).kind === 'conv') model.add(tf.layers.flatten({ name: `flatten_${k}` }));
      model.add(tf.layers.dense({ inputShape: k === 0 && !net.inputShape ? [layers[0]] : undefined, units: layers[k + 1], activation, kernelRegularizer, name: `dense_${k}` }));
    }
    if (!native) model.add(activationLayer(tf, a, `activation_${k}`));
    const pool = poolLayer(tf, op, `pool_${k}`);
    if (pool) model.add(pool);
  }
  setDenseWeights(tf, model, net);
  return model;
}

/** Copies the network's weights into the model's conv and dense layers; no tensors are left behind. */
export function setDenseWeights(tf: Tf, model: TF.LayersModel, net: Network): void {
  const weighted = model.layers.filter((l) => l.getClassName() === 'Dense' || l.getClassName() === 'Conv2D');
  weighted.forEach((layer, k) => {
    // setWeights copies into the layer's variables, so the inputs can go at once
    tf.tidy(() => layer.setWeights([tf.tensor(kernelView(net, k), kernelShape(net, k)), tf.tensor1d(biasView(net, k))]));
  });
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
