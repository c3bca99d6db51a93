// BN fine-tuning (docs/METHOD.md §3) of several classes at once, as one program: the frozen
// network is the same for every class, so the classes' batches are stacked ([classes × batch]
// rows) and each frozen layer runs as one matrix product for all of them. Only the BN scale
// and shift (a row per class) and the 2-unit head differ between classes.
//
// The result for a class does not depend on which classes share its stack (nor so on the
// thread count): every operation is row-wise, or reduces over one class's rows only, or is
// elementwise on the class's own row of parameters. The loss is the sum of the classes' own
// losses, so each class's gradient is its own, and Adam is elementwise, so one Adam over the
// stacked parameters is the classes' separate Adams. Classes leave the stack after their last
// step (their step counts differ), so every class in the stack is at the same Adam step.
//
// The gradient is written out rather than taped by tfjs: the same quantities (batch statistics
// per class, gradients through them, Keras' penalties and tfjs' Adam), a tenth of the kernels.
import { biasView, kernelView, type Activation, type Network } from '../core/network.ts';
import { shuffle, type Rng } from '../core/random.ts';
import type { Dataset } from './data.ts';
import type { ImportanceFlag } from './importance-flags.ts';
import type { tf as TF } from './tf.ts';

type Tf = typeof TF;

/** Keras' default regulariser strength, which the reference uses (l1(), l2(), l1_l2()). */
export const GAMMA_REGULARIZATION = 0.01;
/** Keras' BatchNormalization epsilon. */
export const BN_EPSILON = 0.001;
/** tf.train.adam's defaults (epsilon: the float32 backend's). */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export interface StackMember {
  classIndex: number;
  /** The class's one-vs-rest training samples: rows of `train`, in one-vs-rest order, and their 0/1 labels. */
  indices: Int32Array;
  labels: Int32Array;
  /** Draws each epoch's batch order (a shuffle of 0 … n − 1, as for a materialised one-vs-rest set). */
  rng: Rng;
  /** The class's 2-unit head: kernel (inputs × 2, row-major) and bias. */
  headKernel: Float32Array;
  headBias: Float32Array;
}

export interface StackOptions {
  flags: readonly ImportanceFlag[];
  epochs: number;
  batchSize: number;
  learningRate: number;
}

export interface StackHooks {
  /** After each epoch of a class: the sample-weighted mean of its batch losses (cross-entropy + gamma penalty). */
  onEpoch?: (classIndex: number, epoch: number, loss: number) => void;
  /** After a class's last step: its gamma (and beta with CENTERING) per BN layer. */
  onFinished: (classIndex: number, gamma: Float32Array[], beta: Float32Array[] | undefined) => void;
}

/** Bytes a class adds to the stack (activations and gradients of a step, its input-layer arrays). */
export function stackBytesPerClass(layers: readonly number[], batchSize: number): number {
  const widths = layers.slice(0, -1);
  const total = widths.reduce((a, b) => a + b, 0);
  const next = layers.length > 2 ? layers[1] : 2;
  return 4 * (12 * batchSize * total + 3 * layers[0] * batchSize + 2 * layers[0] * next);
}

interface Slot {
  m: StackMember;
  n: number;
  batches: number;
  steps: number;
  order: number[];
  lossSum: number;
  /** This step's rows: samples of `train`, labels, count. */
  rows: Int32Array;
  rowLabels: Int32Array;
  nb: number;
  /** This step's input batch after the input BN layer's normalisation (batch × features; padding rows 0). */
  xhat: Float32Array;
}

/** Fine-tunes the BN layers of every member; calls onFinished for each as soon as it is done. */
export function trainStacked(tf: Tf, net: Network, train: Dataset, members: readonly StackMember[], opts: StackOptions, hooks: StackHooks): void {
  if (members.length === 0) return;
  const B = opts.batchSize;
  const L = net.layers.length - 1;
  const widths = net.layers.slice(0, L);
  const F = widths[0];
  const nHead = widths[L - 1];
  const centering = opts.flags.includes('centering');
  const l1 = opts.flags.includes('l1');
  const l2 = opts.flags.includes('l2');
  const gammaStart = opts.flags.includes('gamma') ? 1 : 0;
  // parameter row per class: [gamma_0 … gamma_{L−1} | beta_0 … beta_{L−1}]
  const offsets: number[] = [];
  let T = 0;
  for (const n of widths) {
    offsets.push(T);
    T += n;
  }
  const P = centering ? 2 * T : T;

  const frozen = Array.from({ length: L - 1 }, (_, k) => {
    const [rows, cols] = [widths[k], net.layers[k + 1]];
    const w = kernelView(net, k);
    const wT = new Float32Array(w.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) wT[j * rows + i] = w[i * cols + j];
    return {
      W: tf.tensor2d(w, [rows, cols]),
      WT: tf.tensor2d(wT, [cols, rows]),
      bias: tf.tensor1d(biasView(net, k)),
      activation: net.activations![k],
    };
  });
  const penalty = (scale: number): TF.Tensor => {
    const mask = new Float32Array(P);
    mask.fill(scale, 0, T);
    return tf.tensor2d(mask, [1, P]);
  };
  const l1Mask = l1 ? penalty(GAMMA_REGULARIZATION) : undefined;
  const l2Mask = l2 ? penalty(2 * GAMMA_REGULARIZATION) : undefined;

  let slots: Slot[] = members.map((m) => {
    const n = m.indices.length;
    const batches = Math.ceil(n / B);
    return { m, n, batches, steps: opts.epochs * batches, order: [], lossSum: 0, rows: new Int32Array(B), rowLabels: new Int32Array(B), nb: 0, xhat: new Float32Array(B * F) };
  });
  const C0 = slots.length;
  const start = new Float32Array(C0 * P);
  for (let j = 0; j < C0; j++) start.fill(gammaStart, j * P, j * P + T);
  let params = tf.tensor2d(start, [C0, P]);
  let m1 = tf.zeros([C0, P]);
  let m2 = tf.zeros([C0, P]);
  const headK = new Float32Array(C0 * nHead * 2);
  const headKT = new Float32Array(C0 * nHead * 2);
  const headB = new Float32Array(C0 * 2);
  slots.forEach((s, j) => {
    headK.set(s.m.headKernel, j * nHead * 2);
    for (let i = 0; i < nHead; i++) for (let u = 0; u < 2; u++) headKT[j * nHead * 2 + u * nHead + i] = s.m.headKernel[i * 2 + u];
    headB.set(s.m.headBias, j * 2);
  });
  let Wh = tf.tensor3d(headK, [C0, nHead, 2]);
  let WhT = tf.tensor3d(headKT, [C0, 2, nHead]);
  let bh = tf.tensor3d(headB, [C0, 1, 2]);
  // tfjs' Adam keeps beta^t in float32 variables, multiplied once per step
  let accBeta1 = Math.fround(ADAM.beta1);
  let accBeta2 = Math.fround(ADAM.beta2);

  const logitsJs = new Float32Array(C0 * B * 2);
  const dz = new Float32Array(C0 * B * 2);
  const moments = { sum: new Float64Array(F), sq: new Float64Array(F), mean: new Float64Array(F), scale: new Float64Array(F) };

  /** Removes the finished slots from the stack, handing their parameters to onFinished. */
  const retire = (step: number): void => {
    const done = slots.map((s, j) => (s.steps === step ? j : -1)).filter((j) => j >= 0);
    if (done.length === 0) return;
    const values = params.dataSync() as Float32Array;
    for (const j of done) {
      const row = values.subarray(j * P, (j + 1) * P);
      const gamma = widths.map((n, k) => row.slice(offsets[k], offsets[k] + n));
      const beta = centering ? widths.map((n, k) => row.slice(T + offsets[k], T + offsets[k] + n)) : undefined;
      hooks.onFinished(slots[j].m.classIndex, gamma, beta);
    }
    const keep = slots.map((_, j) => j).filter((j) => !done.includes(j));
    slots = keep.map((j) => slots[j]);
    if (keep.length === 0) return;
    const idx = tf.tensor1d(keep, 'int32');
    const shrink = <R extends TF.Tensor>(t: R): R => {
      const out = tf.gather(t, idx) as R;
      t.dispose();
      return out;
    };
    [params, m1, m2] = [shrink(params), shrink(m1), shrink(m2)];
    [Wh, WhT, bh] = [shrink(Wh), shrink(WhT), shrink(bh)];
    idx.dispose();
  };

  const maxSteps = Math.max(...slots.map((s) => s.steps));
  try {
    for (let step = 0; step < maxSteps; step++) {
      retire(step);
      const C = slots.length;
      const R = C * B;
      let partial = false;
      slots.forEach((s) => {
        const b = step % s.batches;
        if (b === 0) {
          s.order = shuffle(s.m.rng, Array.from({ length: s.n }, (_, i) => i));
          s.lossSum = 0;
        }
        const from = b * B;
        s.nb = Math.min(B, s.n - from);
        for (let r = 0; r < s.nb; r++) {
          const i = s.order[from + r];
          s.rows[r] = s.m.indices[i];
          s.rowLabels[r] = s.m.labels[i];
        }
        if (s.nb < B) partial = true;
        normaliseInput(train, s, moments);
      });
      const penaltyValues = l1 || l2 ? gammaPenalties(params.dataSync(), C, P, T, l1, l2) : undefined;

      const next = tf.tidy(() => {
        const invN = tf.tensor3d(Float32Array.from(slots, (s) => 1 / s.nb), [C, 1, 1]);
        let mask: TF.Tensor | undefined;
        if (partial) {
          const m = new Float32Array(R);
          slots.forEach((s, j) => m.fill(1, j * B, j * B + s.nb));
          mask = tf.tensor3d(m, [C, B, 1]);
        }
        const gamma = widths.map((n, k) => tf.reshape(tf.slice(params, [0, offsets[k]], [C, n]), [C, 1, n]));
        const beta = centering ? widths.map((n, k) => tf.reshape(tf.slice(params, [0, T + offsets[k]], [C, n]), [C, 1, n])) : undefined;
        const shifted = (t: TF.Tensor, k: number): TF.Tensor => (beta ? tf.add(t, beta[k]) : t);

        // forward, training mode: BN on batch statistics of each class's own rows; the input
        // layer's (those of the data) were applied in normaliseInput, one tensor per class
        const X = slots.map((s) => tf.tensor2d(s.xhat, [B, F]));
        const gamma0 = X.map((_, j) => tf.slice(params, [j, offsets[0]], [1, F]));
        const beta0 = centering ? X.map((_, j) => tf.slice(params, [j, T], [1, F])) : undefined;
        const y0 = X.map((x, j) => (beta0 ? tf.add(tf.mul(x, gamma0[j]), beta0[j]) : tf.mul(x, gamma0[j])) as TF.Tensor2D);
        let y: TF.Tensor = L > 1 ? y0[0] : tf.stack(y0);
        const saved: { h: TF.Tensor; xhat: TF.Tensor; s: TF.Tensor }[] = [];
        for (let k = 0; k < L - 1; k++) {
          const d = frozen[k];
          const n = widths[k + 1];
          const h =
            k === 0
              ? tf.reshape(tf.concat(y0.map((y0j) => dense(tf, y0j, d.W, d.bias, d.activation)), 0), [C, B, n])
              : tf.reshape(dense(tf, tf.reshape(y, [R, widths[k]]) as TF.Tensor2D, d.W, d.bias, d.activation), [C, B, n]);
          const hm = mask ? tf.mul(h, mask) : h;
          const mu = tf.mul(tf.sum(hm, 1, true), invN);
          let centred = tf.sub(h, mu);
          if (mask) centred = tf.mul(centred, mask);
          const variance = tf.mul(tf.sum(tf.square(centred), 1, true), invN);
          const s = tf.rsqrt(tf.add(variance, BN_EPSILON));
          const xhat = tf.mul(centred, s);
          saved[k + 1] = { h, xhat, s };
          y = shifted(tf.mul(xhat, gamma[k + 1]), k + 1);
        }
        const logits = tf.add(tf.matMul(y, Wh), bh);
        logitsJs.set(logits.dataSync() as Float32Array);
        slots.forEach((s, j) => {
          const ce = softmaxCrossEntropyGrad(logitsJs, dz, j * B, s.nb, B, s.rowLabels);
          s.lossSum += (ce + (penaltyValues?.[j] ?? 0)) * s.nb;
        });

        // backward: ∂loss/∂logits from the softmax cross-entropy, then through the BN layers
        const dLogits = tf.tensor3d(dz.subarray(0, R * 2), [C, B, 2]);
        const grads: TF.Tensor[] = new Array(centering ? 2 * L : L);
        let dzFirst: TF.Tensor = dLogits;
        if (L > 1) {
          let dy = tf.matMul(dLogits, WhT);
          for (let k = L - 1; k >= 1; k--) {
            const { h, xhat, s } = saved[k];
            const dGamma = tf.sum(tf.mul(dy, xhat), 1, true);
            const dBeta = tf.sum(dy, 1, true);
            grads[k] = dGamma;
            if (centering) grads[L + k] = dBeta;
            // BN backward through the batch statistics: s·γ·(dy − (Σdy + x̂·Σdy·x̂) / n)
            let dh = tf.mul(tf.mul(s, gamma[k]), tf.sub(dy, tf.mul(tf.add(dBeta, tf.mul(xhat, dGamma)), invN)));
            if (mask) dh = tf.mul(dh, mask);
            const dPre = activationGrad(tf, dh, h, frozen[k - 1].activation);
            if (k === 1) dzFirst = dPre;
            else dy = tf.reshape(tf.matMul(tf.reshape(dPre, [R, widths[k]]), frozen[k - 1].WT), [C, B, widths[k - 1]]);
          }
        }
        // input layer: ∂/∂γ₀ = Σ_b x̂₀ ⊙ (dz·Wᵀ) = Σ_j Wᵀ ⊙ (dzᵀ·x̂₀), one small product per class
        const nNext = dzFirst.shape[2]!;
        const dz2 = tf.reshape(dzFirst, [R, nNext]);
        const Gt = tf.stack(X.map((x, j) => tf.matMul(tf.slice(dz2, [j * B, 0], [B, nNext]), x, true, false)));
        grads[0] = tf.sum(tf.mul(Gt, L > 1 ? frozen[0].WT : WhT), 1);
        if (centering) {
          const D = tf.sum(dzFirst, 1, true);
          grads[L] = L > 1 ? tf.matMul(tf.reshape(D, [C, nNext]), frozen[0].WT) : tf.matMul(D, WhT);
        }
        let grad = tf.concat(grads.map((g) => tf.reshape(g, [C, g.size / C])), 1);
        // Keras' penalties on gamma: l1 · Σ|γ| (tfjs: d|γ|/dγ = 1 if γ > 0 else −1) and l2 · Σγ²
        if (l1Mask) grad = tf.add(grad, tf.mul(tf.step(params, -1), l1Mask));
        if (l2Mask) grad = tf.add(grad, tf.mul(params, l2Mask));

        // tfjs' Adam, elementwise, so each class's row is its own optimiser
        const nextM1 = tf.add(tf.mul(m1, ADAM.beta1), tf.mul(grad, 1 - ADAM.beta1));
        const nextM2 = tf.add(tf.mul(m2, ADAM.beta2), tf.mul(tf.square(grad), 1 - ADAM.beta2));
        const first = tf.div(nextM1, Math.fround(1 - accBeta1));
        const second = tf.div(nextM2, Math.fround(1 - accBeta2));
        const nextParams = tf.add(tf.mul(tf.div(first, tf.add(tf.sqrt(second), ADAM.epsilon)), -opts.learningRate), params);
        return [nextParams, nextM1, nextM2] as TF.Tensor2D[];
      });
      accBeta1 = Math.fround(accBeta1 * Math.fround(ADAM.beta1));
      accBeta2 = Math.fround(accBeta2 * Math.fround(ADAM.beta2));
      [params, m1, m2].forEach((t) => t.dispose());
      [params, m1, m2] = next;
      for (const s of slots) {
        if ((step + 1) % s.batches === 0) hooks.onEpoch?.(s.m.classIndex, (step + 1) / s.batches, s.lossSum / s.n);
      }
    }
    retire(maxSteps);
  } finally {
    [params, m1, m2, Wh, WhT, bh, l1Mask, l2Mask].forEach((t) => t?.dispose());
    for (const d of frozen) [d.W, d.WT, d.bias].forEach((t) => t.dispose());
  }
}

/**
 * The input BN layer's normalisation of slot s's batch, done here: its batch statistics are
 * those of the data. Moments in float64, shifted by the batch's first row (so the one pass
 * loses nothing to cancellation), then (x − mean) / sqrt(variance + ε) into s.xhat.
 */
function normaliseInput(train: Dataset, s: Slot, m: { sum: Float64Array; sq: Float64Array; mean: Float64Array; scale: Float64Array }): void {
  const F = train.features;
  const x = train.x;
  const { nb, rows, xhat } = s;
  const { sum, sq, mean, scale } = m;
  const o0 = rows[0] * F;
  sum.fill(0);
  sq.fill(0);
  for (let r = 1; r < nb; r++) {
    const o = rows[r] * F;
    for (let i = 0; i < F; i++) {
      const d = x[o + i] - x[o0 + i];
      sum[i] += d;
      sq[i] += d * d;
    }
  }
  for (let i = 0; i < F; i++) {
    const d = sum[i] / nb;
    mean[i] = x[o0 + i] + d;
    scale[i] = 1 / Math.sqrt(Math.max(0, sq[i] / nb - d * d) + BN_EPSILON);
  }
  for (let r = 0; r < nb; r++) {
    const o = rows[r] * F;
    const out = r * F;
    for (let i = 0; i < F; i++) xhat[out + i] = (x[o + i] - mean[i]) * scale[i];
  }
  xhat.fill(0, nb * F);
}

/** Per class, the gamma penalty of the current parameters (the loss Keras reports includes it). */
function gammaPenalties(values: ArrayLike<number>, C: number, P: number, T: number, l1: boolean, l2: boolean): Float64Array {
  const out = new Float64Array(C);
  for (let j = 0; j < C; j++) {
    let a = 0;
    let q = 0;
    for (let i = j * P; i < j * P + T; i++) {
      a += Math.abs(values[i]);
      q += values[i] * values[i];
    }
    out[j] = GAMMA_REGULARIZATION * ((l1 ? a : 0) + (l2 ? q : 0));
  }
  return out;
}

/**
 * Mean softmax cross-entropy of one slot's rows (2 logits each) and its gradient, written to dz:
 * (softmax − one-hot) / n on the n real rows, 0 on padding rows.
 */
function softmaxCrossEntropyGrad(logits: Float32Array, dz: Float32Array, row0: number, n: number, B: number, labels: Int32Array): number {
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const o = (row0 + r) * 2;
    const a = logits[o];
    const b = logits[o + 1];
    const max = Math.max(a, b);
    const lse = max + Math.log(Math.exp(a - max) + Math.exp(b - max));
    const label = labels[r];
    sum += lse - (label === 0 ? a : b);
    dz[o] = (Math.exp(a - lse) - (label === 0 ? 1 : 0)) / n;
    dz[o + 1] = (Math.exp(b - lse) - (label === 1 ? 1 : 0)) / n;
  }
  dz.fill(0, (row0 + n) * 2, (row0 + B) * 2);
  return sum / n;
}

/** A frozen dense layer: fused product, bias and (where tfjs fuses it) activation. */
function dense(tf: Tf, x: TF.Tensor2D, W: TF.Tensor, bias: TF.Tensor, activation: Activation): TF.Tensor {
  if (activation === 'relu' || activation === 'linear' || activation === 'sigmoid') {
    return tf.fused.matMul({ a: x, b: W as TF.Tensor2D, bias, activation });
  }
  const z = tf.fused.matMul({ a: x, b: W as TF.Tensor2D, bias });
  return activation === 'tanh' ? tf.tanh(z) : tf.softmax(z);
}

/** ∂/∂(pre-activation) from ∂/∂(output) and the output h, as tfjs' gradients compute it. */
function activationGrad(tf: Tf, dh: TF.Tensor, h: TF.Tensor, activation: Activation): TF.Tensor {
  switch (activation) {
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
  }
}
