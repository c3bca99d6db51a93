// Conv layers as tensors, shared by training, importance and prediction code that works on
// plain tensors rather than tfjs layers.
import type { LayerOp } from '../core/network.ts';
import { activate, type LayerActivation } from './activations.ts';
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

