// The one activation dispatch every forward pass uses (training, evaluation, importance,
// Taylor, predict), so a new activation works everywhere at once. Formulas follow Keras / tfjs
// and ONNX; the parametrised ones take their values from the network (ACTIVATION_DEFAULTS else).
import { ACTIVATION_DEFAULTS, type Activation, type ActivationParams, type Network } from '../core/network.ts';
import type { tf as TF } from './tf.ts';

type Tf = typeof TF;

/** One dense layer's activation with its parameters filled in. */
export interface LayerActivation extends ActivationParams {
  name: Activation;
}

export const LINEAR: LayerActivation = { name: 'linear' };

/** Dense layer k's activation and parameters. */
export function layerActivation(net: Network, k: number): LayerActivation {
  const name = net.activations![k];
  return { ...ACTIVATION_DEFAULTS[name], ...net.activationParams?.[k], name };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** f(z) for one layer; tfjs differentiates every branch (taylor, importance, train use its gradients). */
export function activate(tf: Tf, z: TF.Tensor, a: LayerActivation): TF.Tensor {
  switch (a.name) {
    case 'linear':
      return z;
    case 'relu':
      return tf.relu(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
    case 'softmax':
      return tf.softmax(z);
    case 'leaky_relu':
      return tf.leakyRelu(z, a.alpha);
    case 'elu':
    case 'selu': {
      // relu(z) + alpha·(e^min(z,0) − 1): no where(), so no Inf·0 in the gradient for large z
      const elu = tf.add(tf.relu(z), tf.mul(a.alpha!, tf.expm1(tf.minimum(z, 0))));
      return a.name === 'elu' ? elu : tf.mul(a.gamma!, elu);
    }
    case 'gelu':
      return tf.mul(tf.mul(0.5, z), tf.add(1, tf.erf(tf.div(z, Math.SQRT2))));
    case 'gelu_tanh':
      return tf.mul(tf.mul(0.5, z), tf.add(1, tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(z, tf.mul(0.044715, tf.pow(z, 3)))))));
    case 'swish':
      return tf.mul(z, tf.sigmoid(z));
    case 'softplus':
      return tf.softplus(z);
    case 'hard_sigmoid':
      return tf.clipByValue(tf.add(tf.mul(z, a.alpha!), a.beta!), 0, 1);
  }
}

/** Activations tfjs fuses into its matMul (as tfjs-layers' Dense computes them). */
export function fusedActivation(a: LayerActivation): 'linear' | 'relu' | 'sigmoid' | undefined {
  return a.name === 'linear' || a.name === 'relu' || a.name === 'sigmoid' ? a.name : undefined;
}

/** The five activations whose derivative follows from the output alone; the others need z. */
export function gradientNeedsInput(a: LayerActivation): boolean {
  return !['linear', 'relu', 'sigmoid', 'tanh', 'softmax'].includes(a.name);
}

/** A frozen dense layer x·W + b, then f: fused where tfjs fuses it; `z` kept where the gradient needs it. */
export function denseForward(tf: Tf, x: TF.Tensor2D, W: TF.Tensor, bias: TF.Tensor, a: LayerActivation, keepInput = false): { h: TF.Tensor; z?: TF.Tensor } {
  const fused = fusedActivation(a);
  if (fused) return { h: tf.fused.matMul({ a: x, b: W as TF.Tensor2D, bias, activation: fused }) };
  const z = tf.fused.matMul({ a: x, b: W as TF.Tensor2D, bias });
  return { h: activate(tf, z, a), z: keepInput && gradientNeedsInput(a) ? z : undefined };
}

/**
 * ∂/∂(pre-activation) from ∂/∂(output) dh and the output h, as tfjs' gradients compute it; the
 * activations outside the five classic ones differentiate `activate` at their input z.
 */
export function activationGrad(tf: Tf, dh: TF.Tensor, h: TF.Tensor, a: LayerActivation, z?: TF.Tensor): TF.Tensor {
  switch (a.name) {
    case 'relu':
      return tf.mul(dh, tf.step(h));
    case 'linear':
      return dh;
    case 'sigmoid':
      return tf.mul(dh, tf.mul(h, tf.sub(1, h)));
    case 'tanh':
      return tf.mul(tf.sub(1, tf.square(h)), dh);
    case 'softmax': {
      const dhh = tf.mul(dh, h);
      return tf.sub(dhh, tf.mul(tf.sum(dhh, -1, true), h));
    }
    default:
      if (!z) throw new Error(`the gradient of ${a.name} needs the layer's input`);
      return tf.grad((x: TF.Tensor) => activate(tf, x, a))(tf.reshape(z, dh.shape), dh);
  }
}

