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
import { biasView, kernelView, type Network } from '../core/network.ts';
import { shuffle, type Rng } from '../core/random.ts';
import { activationGrad, denseForward, layerActivation, LINEAR, type LayerActivation } from './activations.ts';
import type { Dataset } from './data.ts';
import type { ImportanceFlag } from './importance-flags.ts';
import { StagedTensor, type tf as TF } from './tf.ts';

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
  /** This step's input batch after the input BN layer's normalisation, transposed (features × batch; padding 0). */
  xT: StagedTensor;
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
    return { W: tf.tensor2d(w, [rows, cols]), WT: tf.tensor2d(transpose(w, rows, cols), [cols, rows]), bias: tf.tensor1d(biasView(net, k)), activation: layerActivation(net, k) };
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
    return { m, n, batches, steps: opts.epochs * batches, order: [], lossSum: 0, rows: new Int32Array(B), rowLabels: new Int32Array(B), nb: 0, xT: new StagedTensor(tf, [F, B]) };
  });
  const C0 = slots.length;
  const start = new Float32Array(C0 * P);
  for (let j = 0; j < C0; j++) start.fill(gammaStart, j * P, j * P + T);
  let params = tf.tensor2d(start, [C0, P]);
  let m1 = tf.zeros([C0, P]);
  let m2 = tf.zeros([C0, P]);
  // The heads side by side, columns 2j and 2j + 1 for slot j: one product gives every class's
  // logits (a column does not depend on the others), and with ∂/∂logits zero outside a row's own
  // two columns one product gives every class's ∂/∂input (adding exact zeros changes no sum).
  // A batched product would not do: tfjs takes another kernel for one class than for several.
  type Heads = { W: TF.Tensor2D; WT: TF.Tensor2D; b: TF.Tensor1D; stacked?: TF.Tensor3D };
  const makeHeads = (): Heads => {
    const C = slots.length;
    const w = new Float32Array(nHead * 2 * C);
    const b = new Float32Array(2 * C);
    slots.forEach((s, j) => {
      for (let i = 0; i < nHead; i++) for (let u = 0; u < 2; u++) w[i * 2 * C + 2 * j + u] = s.m.headKernel[i * 2 + u];
      b.set(s.m.headBias, 2 * j);
    });
    const stacked = L === 1 ? tf.tensor3d(Float32Array.from(slots.flatMap((s) => [...s.m.headKernel])), [C, nHead, 2]) : undefined;
    return { W: tf.tensor2d(w, [nHead, 2 * C]), WT: tf.tensor2d(transpose(w, nHead, 2 * C), [2 * C, nHead]), b: tf.tensor1d(b), stacked };
  };
  const disposeHeads = (h: Heads): void => [h.W, h.WT, h.b, h.stacked].forEach((t) => t?.dispose());
  let heads = makeHeads();
  // tfjs' Adam keeps beta^t in float32 variables, multiplied once per step
  let accBeta1 = Math.fround(ADAM.beta1);
  let accBeta2 = Math.fround(ADAM.beta2);

  // the input of the first product, (x − μ)·s·γ + β for every slot: stacked batch × features
  let stacked = new StagedTensor(tf, [C0 * B, F]);
  const moments = { sum: new Float64Array(F), sq: new Float64Array(F), mean: new Float64Array(F), scale: new Float64Array(F) };
  const logitsJs = new Float32Array(C0 * B * 2 * C0);
  const dz = new Float32Array(C0 * B * 2);
  const dzWide = new Float32Array(C0 * B * 2 * C0);

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
    for (const j of done) slots[j].xT.dispose();
    const keep = slots.map((_, j) => j).filter((j) => !done.includes(j));
    slots = keep.map((j) => slots[j]);
    disposeHeads(heads);
    stacked.dispose();
    if (keep.length === 0) return;
    heads = makeHeads();
    stacked = new StagedTensor(tf, [keep.length * B, F]);
    const idx = tf.tensor1d(keep, 'int32');
    const shrink = <R extends TF.Tensor>(t: R): R => {
      const out = tf.gather(t, idx) as R;
      t.dispose();
      return out;
    };
    [params, m1, m2] = [shrink(params), shrink(m1), shrink(m2)];
    idx.dispose();
  };

  const maxSteps = Math.max(...slots.map((s) => s.steps));
  try {
    for (let step = 0; step < maxSteps; step++) {
      retire(step);
      const C = slots.length;
      const R = C * B;
      let partial = false;
      const values = params.dataSync() as Float32Array;
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
      });
      stacked.fill((ys) => {
        slots.forEach((s, j) => {
          const gamma0 = values.subarray(j * P, j * P + F);
          const beta0 = centering ? values.subarray(j * P + T, j * P + T + F) : undefined;
          s.xT.fill((xT) => normaliseInput(train, s, B, gamma0, beta0, ys.subarray(j * B * F, (j + 1) * B * F), xT, moments));
        });
      });
      const penaltyValues = l1 || l2 ? gammaPenalties(values, C, P, T, l1, l2) : undefined;

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
        // layer's (those of the data) and its scale and shift were applied in normaliseInput
        let y: TF.Tensor = stacked.tensor;
        const saved: { h: TF.Tensor; xhat: TF.Tensor; s: TF.Tensor; z?: TF.Tensor }[] = [];
        for (let k = 0; k < L - 1; k++) {
          const d = frozen[k];
          const n = widths[k + 1];
          const out = denseForward(tf, tf.reshape(y, [R, widths[k]]) as TF.Tensor2D, d.W, d.bias, d.activation, true);
          const h = tf.reshape(out.h, [C, B, n]);
          const hm = mask ? tf.mul(h, mask) : h;
          const mu = tf.mul(tf.sum(hm, 1, true), invN);
          let centred = tf.sub(h, mu);
          if (mask) centred = tf.mul(centred, mask);
          const variance = tf.mul(tf.sum(tf.square(centred), 1, true), invN);
          const s = tf.rsqrt(tf.add(variance, BN_EPSILON));
          const xhat = tf.mul(centred, s);
          saved[k + 1] = { h, xhat, s, z: out.z };
          y = shifted(tf.mul(xhat, gamma[k + 1]), k + 1);
        }
        // logits: [R × 2C], slot j's in columns 2j, 2j + 1
        const logits = tf.fused.matMul({ a: tf.reshape(y, [R, nHead]) as TF.Tensor2D, b: heads.W, bias: heads.b });
        logitsJs.set(logits.dataSync() as Float32Array);
        slots.forEach((s, j) => {
          const ce = softmaxCrossEntropyGrad(logitsJs, 2 * C, 2 * j, dz, dzWide, j, B, s.nb, s.rowLabels);
          s.lossSum += (ce + (penaltyValues?.[j] ?? 0)) * s.nb;
        });

        // backward: ∂loss/∂logits from the softmax cross-entropy, then through the BN layers
        const grads: TF.Tensor[] = new Array(centering ? 2 * L : L);
        const dLogits = tf.tensor3d(dz.subarray(0, R * 2), [C, B, 2]);
        let dzFirst: TF.Tensor = dLogits;
        if (L > 1) {
          let dy = tf.reshape(tf.matMul(tf.tensor2d(dzWide.subarray(0, R * 2 * C), [R, 2 * C]), heads.WT), [C, B, nHead]);
          for (let k = L - 1; k >= 1; k--) {
            const { h, xhat, s, z } = saved[k];
            const dGamma = tf.sum(tf.mul(dy, xhat), 1, true);
            const dBeta = tf.sum(dy, 1, true);
            grads[k] = dGamma;
            if (centering) grads[L + k] = dBeta;
            // BN backward through the batch statistics: s·γ·(dy − (Σdy + x̂·Σdy·x̂) / n)
            let dh = tf.mul(tf.mul(s, gamma[k]), tf.sub(dy, tf.mul(tf.add(dBeta, tf.mul(xhat, dGamma)), invN)));
            if (mask) dh = tf.mul(dh, mask);
            const dPre = activationGrad(tf, dh, h, frozen[k - 1].activation, z);
            if (k === 1) dzFirst = dPre;
            else dy = tf.reshape(tf.matMul(tf.reshape(dPre, [R, widths[k]]), frozen[k - 1].WT), [C, B, widths[k - 1]]);
          }
        }
        // input layer: ∂/∂γ₀ = Σ_b x̂₀ ⊙ (dz·Wᵀ) = rowsum(W ⊙ x̂₀ᵀ·dz), one small product per class
        const nNext = dzFirst.shape[2]!;
        const dz2 = tf.reshape(dzFirst, [R, nNext]);
        const G = tf.stack(slots.map((s, j) => tf.matMul(s.xT.tensor as TF.Tensor2D, tf.slice(dz2, [j * B, 0], [B, nNext]))));
        grads[0] = tf.sum(tf.mul(G, L > 1 ? frozen[0].W : heads.stacked!), -1);
        if (centering) {
          // ∂/∂β₀ = Σ_b dz·Wᵀ
          const D = tf.reshape(tf.sum(dzFirst, 1), [C, nNext]);
          grads[L] = L > 1 ? tf.matMul(D, frozen[0].WT) : tf.matMul(wideRows(tf, D, C), heads.WT);
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
    [params, m1, m2, l1Mask, l2Mask].forEach((t) => t?.dispose());
    stacked.dispose();
    for (const s of slots) s.xT.dispose();
    disposeHeads(heads);
    for (const d of frozen) [d.W, d.WT, d.bias].forEach((t) => t.dispose());
  }
}

/** C × 2 rows spread to C × 2C, row j in columns 2j, 2j + 1 (the layout of the heads). */
function wideRows(tf: Tf, d: TF.Tensor, C: number): TF.Tensor2D {
  return tf.tidy(() => {
    const values = d.dataSync();
    const out = new Float32Array(C * 2 * C);
    for (let j = 0; j < C; j++) out.set(values.subarray(j * 2, j * 2 + 2), j * 2 * C + 2 * j);
    return tf.tensor2d(out, [C, 2 * C]);
  });
}

function transpose(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j];
  return out;
}

/**
 * The input BN layer of one slot, done here: its batch statistics are those of the data. Moments
 * in float64, shifted by the batch's first row (so the one pass loses nothing to cancellation),
 * then x̂ = (x − mean) / sqrt(variance + ε) written transposed to xT (features × batch, for the
 * gradient) and as γ·x̂ + β to y (batch × features, the first product's input); padding rows 0.
 * Four rows at a time: the loops are memory bound.
 */
function normaliseInput(
  train: Dataset,
  s: Slot,
  B: number,
  gamma: Float32Array,
  beta: Float32Array | undefined,
  y: Float32Array,
  xT: Float32Array,
  m: { sum: Float64Array; sq: Float64Array; mean: Float64Array; scale: Float64Array },
): void {
  const F = train.features;
  const x = train.x;
  const { nb, rows } = s;
  const { sum, sq, mean, scale } = m;
  const o0 = rows[0] * F;
  const starts = new Int32Array(nb);
  for (let r = 0; r < nb; r++) starts[r] = rows[r] * F;
  shiftedColumnSums(x, starts, F, sum, sq);
  for (let i = 0; i < F; i++) {
    const d = sum[i] / nb;
    mean[i] = x[o0 + i] + d;
    scale[i] = 1 / Math.sqrt(Math.max(0, sq[i] / nb - d * d) + BN_EPSILON);
  }
  const write = (r: number, o: number): void => {
    for (let i = 0; i < F; i++) {
      const v = (x[o + i] - mean[i]) * scale[i];
      xT[i * B + r] = v;
      y[r * F + i] = beta ? v * gamma[i] + beta[i] : v * gamma[i];
    }
  };
  let r = 0;
  for (; r + 3 < nb; r += 4) {
    const a = rows[r] * F;
    const b = rows[r + 1] * F;
    const c = rows[r + 2] * F;
    const d = rows[r + 3] * F;
    for (let i = 0; i < F; i++) {
      const mi = mean[i];
      const si = scale[i];
      const gi = gamma[i];
      const bi = beta ? beta[i] : 0;
      const v0 = (x[a + i] - mi) * si;
      const v1 = (x[b + i] - mi) * si;
      const v2 = (x[c + i] - mi) * si;
      const v3 = (x[d + i] - mi) * si;
      const t = i * B + r;
      xT[t] = v0;
      xT[t + 1] = v1;
      xT[t + 2] = v2;
      xT[t + 3] = v3;
      y[r * F + i] = v0 * gi + bi;
      y[(r + 1) * F + i] = v1 * gi + bi;
      y[(r + 2) * F + i] = v2 * gi + bi;
      y[(r + 3) * F + i] = v3 * gi + bi;
    }
  }
  for (; r < nb; r++) write(r, rows[r] * F);
  if (nb < B) {
    y.fill(0, nb * F);
    for (let i = 0; i < F; i++) xT.fill(0, i * B + nb, (i + 1) * B);
  }
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
 * Mean softmax cross-entropy of slot j's rows, whose logits are columns col, col + 1 of `logits`
 * (rows of `width`), and its gradient (softmax − one-hot) / n: into dz (2 per row) and into
 * dzWide (`width` per row, zero outside the slot's two columns); 0 on padding rows.
 */
function softmaxCrossEntropyGrad(logits: Float32Array, width: number, col: number, dz: Float32Array, dzWide: Float32Array, j: number, B: number, n: number, labels: Int32Array): number {
  let sum = 0;
  const row0 = j * B;
  dzWide.fill(0, row0 * width, (row0 + B) * width);
  for (let r = 0; r < n; r++) {
    const o = (row0 + r) * width + col;
    const a = logits[o];
    const b = logits[o + 1];
    const max = Math.max(a, b);
    const lse = max + Math.log(Math.exp(a - max) + Math.exp(b - max));
    const label = labels[r];
    sum += lse - (label === 0 ? a : b);
    const d = (row0 + r) * 2;
    dz[d] = (Math.exp(a - lse) - (label === 0 ? 1 : 0)) / n;
    dz[d + 1] = (Math.exp(b - lse) - (label === 1 ? 1 : 0)) / n;
    dzWide[o] = dz[d];
    dzWide[o + 1] = dz[d + 1];
  }
  dz.fill(0, (row0 + n) * 2, (row0 + B) * 2);
  return sum / n;
}

/**
 * Mean and (population) variance of each column of a rows × width matrix, in float64, in one
 * pass shifted by the first row (which keeps the one pass free of cancellation).
 */
export function columnMoments(h: ArrayLike<number>, rows: number, width: number): [Float64Array, Float64Array] {
  const sum = new Float64Array(width);
  const sq = new Float64Array(width);
  shiftedColumnSums(h, Int32Array.from({ length: rows }, (_, r) => r * width), width, sum, sq);
  const mean = new Float64Array(width);
  const variance = new Float64Array(width);
  for (let i = 0; i < width; i++) {
    const d = sum[i] / rows;
    mean[i] = h[i] + d;
    variance[i] = Math.max(0, sq[i] / rows - d * d);
  }
  return [mean, variance];
}

/**
 * Σ (x − x₀) and Σ (x − x₀)² per column over the rows starting at `starts` (x₀: the first of
 * them), into the zeroed `sum` and `sq`. Four rows at a time: the loop is memory bound.
 */
function shiftedColumnSums(x: ArrayLike<number>, starts: Int32Array, width: number, sum: Float64Array, sq: Float64Array): void {
  sum.fill(0);
  sq.fill(0);
  const o0 = starts[0];
  let r = 1;
  for (; r + 3 < starts.length; r += 4) {
    const a = starts[r];
    const b = starts[r + 1];
    const c = starts[r + 2];
    const d = starts[r + 3];
    for (let i = 0; i < width; i++) {
      const x0 = x[o0 + i];
      const d0 = x[a + i] - x0;
      const d1 = x[b + i] - x0;
      const d2 = x[c + i] - x0;
      const d3 = x[d + i] - x0;
      sum[i] += d0 + d1 + d2 + d3;
      sq[i] += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
    }
  }
  for (; r < starts.length; r++) {
    for (let i = 0, o = starts[r]; i < width; i++) {
      const d = x[o + i] - x[o0 + i];
      sum[i] += d;
      sq[i] += d * d;
    }
  }
}

/** Population moments over batches: Chan et al.'s parallel combination, in float64. */
class Moments {
  n = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(readonly width: number) {
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
  }
  add(h: ArrayLike<number>, rows: number): void {
    const [bm, bv] = columnMoments(h, rows, this.width);
    const total = this.n + rows;
    for (let i = 0; i < this.width; i++) {
      const delta = bm[i] - this.mean[i];
      this.mean[i] += (delta * rows) / total;
      this.m2[i] += bv[i] * rows + (delta * delta * this.n * rows) / total;
    }
    this.n = total;
  }
  variance(i: number): number {
    return this.n > 0 ? Math.max(0, this.m2[i] / this.n) : 1;
  }
}

export interface InferenceReport {
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

interface Rows {
  indices: Int32Array;
  labels: Int32Array;
}

/**
 * One class's fine-tuned model in inference mode: each BN layer's statistics recomputed as the
 * population mean and variance of its input over the class's training samples, the layers
 * before it in inference mode (as recalibrateBatchNorm does), then cross-entropy + gamma penalty
 * and accuracy on the training and test samples. Inference BN is affine, so each is folded into
 * the dense layer after it (W' = diag(a)·W, b' = b + c·W with a = γ/√(var + ε), c = β − mean·a):
 * one fused product per layer. The input of the layer being recalibrated is kept per chunk.
 */
export function inferenceReport(
  tf: Tf,
  net: Network,
  head: Pick<StackMember, 'headKernel' | 'headBias'>,
  train: Dataset,
  trainRows: Rows,
  test: Dataset,
  testRows: Rows,
  gamma: readonly Float32Array[],
  beta: readonly Float32Array[] | undefined,
  flags: readonly ImportanceFlag[],
  chunk: number,
): InferenceReport {
  const L = net.layers.length - 1;
  const widths = net.layers.slice(0, L);
  const folded: { W: TF.Tensor2D; b: TF.Tensor1D; activation: LayerActivation }[] = [];
  const fold = (k: number, m: Moments): void => {
    const [w, bias, cols, activation] =
      k < L - 1 ? [kernelView(net, k), biasView(net, k), net.layers[k + 1], layerActivation(net, k)] : [head.headKernel, head.headBias, 2, LINEAR];
    const rows = widths[k];
    const W = new Float32Array(rows * cols);
    const b = Float64Array.from(bias);
    for (let i = 0; i < rows; i++) {
      const a = gamma[k][i] / Math.sqrt(m.variance(i) + BN_EPSILON);
      const c = (beta ? beta[k][i] : 0) - m.mean[i] * a;
      for (let j = 0; j < cols; j++) {
        W[i * cols + j] = a * w[i * cols + j];
        b[j] += c * w[i * cols + j];
      }
    }
    folded.push({ W: tf.tensor2d(W, [rows, cols]), b: tf.tensor1d(Float32Array.from(b)), activation });
  };
  const apply = (x: TF.Tensor2D, k: number): TF.Tensor2D => tf.tidy(() => denseForward(tf, x, folded[k].W, folded[k].b, folded[k].activation).h as TF.Tensor2D);
  const F = widths[0];
  const gather = (data: Dataset, rows: Rows, from: number, n: number): Float32Array => {
    const out = new Float32Array(n * F);
    for (let r = 0; r < n; r++) out.set(data.x.subarray(rows.indices[from + r] * F, (rows.indices[from + r] + 1) * F), r * F);
    return out;
  };
  const N = trainRows.indices.length;
  const starts = Array.from({ length: Math.ceil(N / chunk) }, (_, i) => i * chunk);
  const size = (s: number): number => Math.min(chunk, N - s);
  const keep = N * Math.max(2, ...widths.slice(1)) * 4 <= 256e6;
  let cached: TF.Tensor2D[] | undefined;
  /** The input of BN layer k (k ≥ 1) for one training chunk, the layers before it folded. */
  const input = (ci: number, k: number): TF.Tensor2D => {
    if (cached) return cached[ci];
    let h = tf.tensor2d(gather(train, trainRows, starts[ci], size(starts[ci])), [size(starts[ci]), F]);
    for (let j = 0; j < k; j++) {
      const next = apply(h, j);
      h.dispose();
      h = next;
    }
    return h;
  };
  const penalty = gammaPenaltyOf(gamma, flags);
  try {
    const m0 = new Moments(F);
    for (const s of starts) m0.add(gather(train, trainRows, s, size(s)), size(s));
    fold(0, m0);
    if (keep) cached = starts.map((_, ci) => input(ci, 1));
    for (let k = 1; k < L; k++) {
      const m = new Moments(widths[k]);
      starts.forEach((s, ci) => {
        const h = input(ci, k);
        m.add(h.dataSync(), size(s));
        if (!cached) h.dispose();
      });
      fold(k, m);
      if (cached) cached = cached.map((h) => [apply(h, k), h.dispose()][0] as TF.Tensor2D);
    }
    const score = (logits: TF.Tensor2D, labels: Int32Array, from: number, acc: { loss: number; hits: number }): void => {
      const z = logits.dataSync();
      for (let r = 0; r < logits.shape[0]; r++) {
        const [a, b] = [z[r * 2], z[r * 2 + 1]];
        const max = Math.max(a, b);
        const lse = max + Math.log(Math.exp(a - max) + Math.exp(b - max));
        const label = labels[from + r];
        acc.loss += lse - (label === 0 ? a : b);
        // tf.argMax: the first of equal maxima
        if ((a >= b ? 0 : 1) === label) acc.hits++;
      }
    };
    const trainAcc = { loss: 0, hits: 0 };
    starts.forEach((s, ci) => {
      const logits = cached ? cached[ci] : input(ci, L);
      score(logits, trainRows.labels, s, trainAcc);
      if (!cached) logits.dispose();
    });
    const testAcc = { loss: 0, hits: 0 };
    const M = testRows.indices.length;
    for (let s = 0; s < M; s += chunk) {
      const n = Math.min(chunk, M - s);
      let h = tf.tensor2d(gather(test, testRows, s, n), [n, F]);
      for (let k = 0; k < L; k++) {
        const next = apply(h, k);
        h.dispose();
        h = next;
      }
      score(h, testRows.labels, s, testAcc);
      h.dispose();
    }
    return {
      trainLoss: trainAcc.loss / N + penalty,
      trainAccuracy: trainAcc.hits / N,
      testLoss: testAcc.loss / M + penalty,
      testAccuracy: testAcc.hits / M,
    };
  } finally {
    cached?.forEach((t) => t.dispose());
    for (const f of folded) [f.W, f.b].forEach((t) => t.dispose());
  }
}

/** The gamma penalty of one class's parameters (Keras adds it to the loss it reports). */
function gammaPenaltyOf(gamma: readonly Float32Array[], flags: readonly ImportanceFlag[]): number {
  let a = 0;
  let q = 0;
  for (const g of gamma) {
    for (const v of g) {
      a += Math.abs(v);
      q += v * v;
    }
  }
  return GAMMA_REGULARIZATION * ((flags.includes('l1') ? a : 0) + (flags.includes('l2') ? q : 0));
}
