// Conv layers as tensors, shared by training, importance and prediction code that works on
// plain tensors rather than tfjs layers.
import { biasView, kernelShape, kernelView, layerOp, type LayerOp, type Network } from '../core/network.ts';
import { activate, denseForward, layerActivation, type LayerActivation } from './activations.ts';
import type { tf as TF } from './tf.ts';

/** A conv layer, as tfjs-layers' Conv2D (and the pooling after it) computes it; `h` is [n, h, w, c]. */
export function convLayer(tf: typeof TF, h: TF.Tensor4D, kernel: TF.Tensor, bias: TF.Tensor, op: LayerOp & { kind: 'conv' }, activation: LayerActivation): TF.Tensor4D {
  let y = tf.add(tf.conv2d(h, kernel as TF.Tensor4D, op.strides, op.padding), bias) as TF.Tensor4D;
  y = activate(tf, y, activation) as TF.Tensor4D;
  return poolMap(tf, y, op);
}

/** The pooling a conv op ends with (identity without one); global pooling keeps a 1×1 map. */
export function poolMap(tf: typeof TF, y: TF.Tensor4D, op: LayerOp & { kind: 'conv' }): TF.Tensor4D {
  const pool = op.pool;
  if (!pool) return y;
  if (pool.kind === 'global') return tf.mean(y, [1, 2], true) as TF.Tensor4D;
  return pool.kind === 'max' ? tf.maxPool(y, pool.size, pool.strides, pool.padding) : tf.avgPool(y, pool.size, pool.strides, pool.padding);
}

/** Class probabilities (the last layer's output) of rows x [n, features], one tidy pass, conv layers included. */
export function forwardProbabilities(tf: typeof TF, net: Network, x: TF.Tensor2D): TF.Tensor2D {
  return tf.tidy(() => {
    let h: TF.Tensor = x;
    for (let k = 0; k + 1 < net.layers.length; k++) {
      const op = layerOp(net, k);
      const kernel = tf.tensor(kernelView(net, k), kernelShape(net, k));
      const bias = tf.tensor1d(biasView(net, k));
      if (op.kind === 'conv') {
        if (h.rank === 2) h = tf.reshape(h, [h.shape[0], ...net.inputShape!]);
        h = convLayer(tf, h as TF.Tensor4D, kernel, bias, op, layerActivation(net, k));
        continue;
      }
      if (h.rank === 4) h = tf.reshape(h, [h.shape[0], -1]);
      h = denseForward(tf, h as TF.Tensor2D, kernel, bias, layerActivation(net, k)).h;
    }
    return h as TF.Tensor2D;
  });
}
