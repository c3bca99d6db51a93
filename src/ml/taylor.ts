// Per-class importance by first-order Taylor expansion (Molchanov et al., "Importance
// Estimation for Neural Network Pruning", CVPR 2019), docs/METHOD.md §3.5: one forward and
// one backward pass over the training samples, no fine-tuning.
import { biasView, kernelView, nodeCount, nodeOffset, type Network } from '../core/network.ts';
import { InputError } from '../core/errors.ts';
import { activate, layerActivation } from './activations.ts';
import type { Dataset } from './data.ts';
import { edgeAlpha, markOutputNodes } from './importance.ts';
import { initTf, type tf as TF } from './tf.ts';

export interface TaylorOptions {
  /** Samples per forward/backward pass. */
  batchSize: number;
}

export interface TaylorImportance {
  /**
   * Per layer before the output (the input layer and every hidden layer), `nodes × classes`
   * node-major: the mean over the samples of class c of |a_i · ∂z_c/∂a_i|, with a_i the
   * node's output (the pixel for input nodes) and z_c the output layer's pre-activation
   * (logit) of class c.
   */
  raw: Float64Array[];
  /** Samples of each class that were averaged over. */
  samples: number[];
}

/**
 * The raw Taylor scores of every non-output node for every class, over `data` (each sample
 * counts for its own class). Gradients come from tfjs' autodiff through zero "probe" tensors
 * added to each hidden layer's output, so every activation function is handled.
 */
export async function taylorScores(net: Network, data: Dataset, opts: TaylorOptions): Promise<TaylorImportance> {
  const { layers } = net;
  if (!net.weights || !net.biases || !net.activations) throw new InputError('the network has no weights; Taylor importance needs a trained network');
  if (layers.length < 2) throw new InputError('the network needs at least one dense layer');
  if (data.features !== layers[0]) throw new InputError(`the data have ${data.features} features but the input layer has ${layers[0]}`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new InputError(`--batch must be a positive integer; got ${opts.batchSize}`);
  const classes = layers[layers.length - 1];
  const dense = layers.length - 1;
  const tf = await initTf();
  const kernels = Array.from({ length: dense }, (_, k) => tf.tensor2d(kernelView(net, k), [layers[k], layers[k + 1]]));
  const biases = Array.from({ length: dense }, (_, k) => tf.tensor1d(biasView(net, k)));
  const sums = layers.slice(0, dense).map((n) => new Float64Array(n * classes));
  const samples = new Array<number>(classes).fill(0);
  for (let i = 0; i < data.count; i++) samples[data.y[i]]++;
  const empty = samples.findIndex((n) => n === 0);
  if (empty >= 0) {
    kernels.forEach((t) => t.dispose());
    biases.forEach((t) => t.dispose());
    throw new InputError(`class ${net.classNames[empty] ?? empty} has no samples, so its Taylor importance cannot be estimated`);
  }

  try {
    for (let s = 0; s < data.count; s += opts.batchSize) {
      const n = Math.min(opts.batchSize, data.count - s);
      const perClass = tf.tidy(() => {
        const x = tf.tensor2d(data.x.subarray(s * data.features, (s + n) * data.features), [n, data.features]);
        const oneHot = tf.oneHot(tf.tensor1d(data.y.subarray(s, s + n), 'int32'), classes).toFloat();
        // activations a_0 = x, a_k = f(a_{k-1} W + b) of every non-output layer
        const acts: TF.Tensor2D[] = [x];
        for (let k = 0; k + 1 < dense; k++) acts.push(activate(tf, tf.add(tf.matMul(acts[k], kernels[k]), biases[k]), layerActivation(net, k)) as TF.Tensor2D);
        // S = Σ_samples z_{y_s}: the gradient w.r.t. one sample's activations is that of its own class score
        const score = (...inputs: TF.Tensor[]): TF.Scalar => {
          let h = inputs[0] as TF.Tensor2D;
          for (let k = 0; k < dense; k++) {
            const z = tf.add(tf.matMul(h, kernels[k]), biases[k]) as TF.Tensor2D;
            h = k + 1 < dense ? (tf.add(activate(tf, z, layerActivation(net, k)), inputs[k + 1]) as TF.Tensor2D) : z;
          }
          return tf.sum(tf.mul(h, oneHot));
        };
        const probes = layers.slice(1, dense).map((w) => tf.zeros([n, w]));
        const grads = tf.grads(score)([x, ...probes]);
        // per class: Σ over its samples of |a ⊙ g|, as [classes, nodes]
        return acts.map((a, k) => tf.matMul(oneHot, tf.abs(tf.mul(a, grads[k])), true, false));
      });
      perClass.forEach((t, k) => {
        const v = t.dataSync();
        const width = layers[k];
        for (let c = 0; c < classes; c++) for (let i = 0; i < width; i++) sums[k][i * classes + c] += v[c * width + i];
        t.dispose();
      });
    }
  } finally {
    kernels.forEach((t) => t.dispose());
    biases.forEach((t) => t.dispose());
  }
  for (const layer of sums) for (let i = 0; i < layer.length; i++) layer[i] /= samples[i % classes];
  return { raw: sums, samples };
}

/**
 * The importance network (docs/METHOD.md §3.3, as for BN): node importance of each non-output
 * layer divided by that layer's largest raw score over nodes and classes; output nodes
 * one-hot; edge importance |w| normalised per layer gap.
 */
export function assembleTaylorImportance(net: Network, scores: TaylorImportance, meta: Record<string, unknown>): Network {
  const { layers } = net;
  const classes = layers[layers.length - 1];
  const nodeImportance = new Float32Array(nodeCount(layers) * classes);
  scores.raw.forEach((raw, l) => {
    let max = 0;
    for (const v of raw) if (v > max) max = v;
    const o = nodeOffset(layers, l) * classes;
    for (let i = 0; i < raw.length; i++) nodeImportance[o + i] = max > 0 ? raw[i] / max : 0;
  });
  markOutputNodes(nodeImportance, layers);
  return { ...net, nodeImportance, edgeImportance: edgeAlpha(net), meta: { ...net.meta, importance: { method: 'taylor', ...meta } } };
}
