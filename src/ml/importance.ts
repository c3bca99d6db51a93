// Per-class importance by BatchNormalization fine-tuning (network slimming), docs/METHOD.md §3.
import {
  biasView,
  DENSE_OP,
  edgeCount,
  edgeOffset,
  forEachEdgeWeight,
  isConvNet,
  kernelShape,
  kernelView,
  layerOp,
  nodeCount,
  nodeOffset,
  type LayerOp,
  type MapShape,
  type Network,
} from '../core/network.ts';
import { convLayer } from './conv.ts';
import { createRng, shuffle } from '../core/random.ts';
import { activate, layerActivation, type LayerActivation } from './activations.ts';
import { oneVsRest, oneVsRestIndices, subset, type Dataset } from './data.ts';
import type { ImportanceFlag } from './importance-flags.ts';
import { BN_EPSILON, columnMoments, GAMMA_REGULARIZATION, inferenceReport, trainStacked, type StackMember } from './importance-stacked.ts';
import { initTf, type tf as TF } from './tf.ts';

export interface ImportanceOptions {
  /** Reference default: gamma + l1. */
  flags: ImportanceFlag[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export interface ClassImportance {
  classIndex: number;
  /** |gamma| per BN-covered layer (the input layer and every hidden layer). */
  gammas: Float32Array[];
  /** Inference mode on the class's one-vs-rest training data, after recalibrateBatchNorm. */
  trainLoss: number;
  trainAccuracy: number;
  /** Inference mode on one-vs-rest test data, after recalibrateBatchNorm. */
  testLoss: number;
  testAccuracy: number;
}

/**
 * The reference's modified model for class c: a BatchNormalization layer on the input of
 * every dense layer, the output replaced by a 2-unit softmax (unit 0 = column c of the old
 * kernel and bias, unit 1 = the sum of all other columns), and everything but the BN
 * layers frozen. Written as plain tensors rather than tfjs layers: tfjs' BatchNormalization
 * cannot train without beta (CENTERING off), and this keeps the trainable set explicit.
 */
export interface ImportanceModel {
  bn: { gamma: TF.Variable; beta?: TF.Variable; movingMean: TF.Tensor; movingVariance: TF.Tensor }[];
  /** Frozen conv and dense layers; the last one is the 2-unit head. */
  dense: { kernel: TF.Tensor; bias: TF.Tensor; activation: LayerActivation; op: LayerOp }[];
  /** A conv network's input shape: the flat rows are reshaped to it after the input's BN layer. */
  inputShape?: MapShape;
  flags: readonly ImportanceFlag[];
}

const BN_MOMENTUM = 0.99;

export function buildImportanceModel(tf: typeof TF, net: Network, c: number, flags: readonly ImportanceFlag[]): ImportanceModel {
  const { layers } = net;
  const dense = layers.length - 1;
  const bn = layers.slice(0, dense).map((n) => ({
    gamma: tf.variable(flags.includes('gamma') ? tf.ones([n]) : tf.zeros([n])),
    beta: flags.includes('centering') ? tf.variable(tf.zeros([n])) : undefined,
    movingMean: tf.zeros([n]),
    movingVariance: tf.ones([n]),
  }));
  const frozen = Array.from({ length: dense - 1 }, (_, k) => ({
    kernel: tf.tensor(kernelView(net, k), kernelShape(net, k)),
    bias: tf.tensor1d(biasView(net, k)),
    activation: layerActivation(net, k),
    op: layerOp(net, k),
  }));
  const [kernel, bias] = headWeights(tf, net, c);
  return { bn, dense: [...frozen, { kernel, bias, activation: { name: 'softmax' }, op: DENSE_OP }], inputShape: net.inputShape, flags };
}

/** The only variables fine-tuning may change: gamma (and beta with CENTERING) of each BN layer. */
export function trainableVariables(model: ImportanceModel): TF.Variable[] {
  return model.bn.flatMap((b) => (b.beta ? [b.gamma, b.beta] : [b.gamma]));
}

export function disposeImportanceModel(model: ImportanceModel): void {
  for (const b of model.bn) [b.gamma, b.beta, b.movingMean, b.movingVariance].forEach((t) => t?.dispose());
  for (const d of model.dense) [d.kernel, d.bias].forEach((t) => t.dispose());
}

/**
 * Head logits (pre-softmax). In training mode BN uses batch statistics and returns them.
 * With `upTo` = k, stops before BN layer k and returns its input (layers < k in the given mode)
 * as rows of the layer's nodes: a feature map [n, h, w, c] as n · h · w rows of c channels.
 *
 * A BN layer normalises each node: on the input of a conv network each pixel (the input layer
 * has a node per pixel), on a feature map each channel over all its pixels, as Keras'
 * BatchNormalization on a channels-last map does.
 */
function forward(
  tf: typeof TF,
  model: ImportanceModel,
  x: TF.Tensor2D,
  training: boolean,
  stats?: { mean: TF.Tensor; variance: TF.Tensor }[],
  upTo = model.dense.length,
): TF.Tensor2D {
  let h: TF.Tensor = x;
  for (let k = 0; k < upTo; k++) {
    const b = model.bn[k];
    const d = model.dense[k];
    let mean = b.movingMean;
    let variance = b.movingVariance;
    if (training) {
      ({ mean, variance } = tf.moments(h, h.rank === 4 ? [0, 1, 2] : 0));
      // kept: minimize() disposes everything its closure made but the loss
      stats?.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
    }
    const scaled = tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, BN_EPSILON))), b.gamma);
    h = b.beta ? tf.add(scaled, b.beta) : scaled;
    if (d.op.kind === 'conv') {
      if (h.rank === 2) h = tf.reshape(h, [h.shape[0], ...model.inputShape!]);
      h = convLayer(tf, h as TF.Tensor4D, d.kernel, d.bias, d.op, d.activation);
      continue;
    }
    if (h.rank === 4) h = tf.reshape(h, [h.shape[0], -1]);
    const z = tf.add(tf.matMul(h as TF.Tensor2D, d.kernel as TF.Tensor2D), d.bias);
    h = k === model.dense.length - 1 ? z : activate(tf, z, d.activation);
  }
  return (h.rank === 4 ? tf.reshape(h, [-1, h.shape[3]!]) : h) as TF.Tensor2D;
}

/**
 * Replaces each BN layer's moving mean and variance by the population statistics of its
 * input over `data`, with the layers before it in inference mode. Layer by layer, since a
 * BN layer's input depends on the (already recalibrated) BN layers before it.
 *
 * Why: fine-tuning shrinks gamma fast, and the moving averages (momentum 0.99) lag far
 * behind the statistics the shrunken layers now produce (moving variance 0.57 against a
 * population variance of 0.003 has been seen), so inference with them is near chance
 * while the training-mode accuracy is 0.98. Keras' reference has the same lag; gamma,
 * and so the importance, is not touched.
 */
export function recalibrateBatchNorm(tf: typeof TF, model: ImportanceModel, data: Dataset, batchSize: number): void {
  model.bn.forEach((b, k) => {
    const width = b.movingMean.shape[0]!;
    // Chan et al.'s parallel combination of per-batch moments, accumulated in float64
    let n = 0;
    const mean = new Float64Array(width);
    const m2 = new Float64Array(width);
    for (let s = 0; s < data.count; s += batchSize) {
      const nb = Math.min(batchSize, data.count - s);
      const x = data.x.subarray(s * data.features, (s + nb) * data.features);
      // the batch's moments in float64 here: tf.moments over the batch axis transposes the batch first
      let h = x;
      if (k > 0) tf.tidy(() => void (h = forward(tf, model, tf.tensor2d(x, [nb, data.features]), false, undefined, k).dataSync() as Float32Array));
      // a feature map gives h · w rows per sample
      const rows = h.length / width;
      const [bm, bv] = columnMoments(h, rows, width);
      const total = n + rows;
      for (let i = 0; i < width; i++) {
        const delta = bm[i] - mean[i];
        mean[i] += (delta * rows) / total;
        m2[i] += bv[i] * rows + (delta * delta * n * rows) / total;
      }
      n = total;
    }
    if (n === 0) return;
    b.movingMean.dispose();
    b.movingVariance.dispose();
    b.movingMean = tf.tensor1d(Float32Array.from(mean));
    b.movingVariance = tf.tensor1d(Float32Array.from(m2, (v) => Math.max(0, v / n)));
  });
}

function gammaPenalty(tf: typeof TF, model: ImportanceModel): TF.Scalar | undefined {
  const l1 = model.flags.includes('l1');
  const l2 = model.flags.includes('l2');
  if (!l1 && !l2) return undefined;
  return tf.addN(
    model.bn.map((b) => {
      const parts: TF.Tensor[] = [];
      if (l1) parts.push(tf.mul(GAMMA_REGULARIZATION, tf.sum(tf.abs(b.gamma))));
      if (l2) parts.push(tf.mul(GAMMA_REGULARIZATION, tf.sum(tf.square(b.gamma))));
      return tf.addN(parts);
    }),
  ) as TF.Scalar;
}

/** Unit 0 = column c of the old output kernel and bias; unit 1 = the sum of all other columns. */
export function headWeights(tf: typeof TF, net: Network, c: number): TF.Tensor[] {
  const { kernel, bias } = headArrays(net, c);
  return [tf.tensor2d(kernel, [kernel.length / 2, 2]), tf.tensor1d(bias)];
}

/** headWeights as arrays: kernel (inputs × 2, row-major) and bias. */
export function headArrays(net: Network, c: number): { kernel: Float32Array; bias: Float32Array } {
  const { layers } = net;
  const k = layers.length - 2;
  const classes = layers[k + 1];
  const kernel = kernelView(net, k);
  const inputs = kernel.length / classes;
  const bias = net.biases!.subarray(net.biases!.length - classes);
  const head = new Float32Array(inputs * 2);
  for (let i = 0; i < inputs; i++) {
    let rest = 0;
    for (let j = 0; j < classes; j++) if (j !== c) rest += kernel[i * classes + j];
    head[i * 2] = kernel[i * classes + c];
    head[i * 2 + 1] = rest;
  }
  const restBias = bias.reduce((a, b, j) => (j === c ? a : a + b), 0);
  return { kernel: head, bias: Float32Array.from([bias[c], restBias]) };
}

/** The seed of class c's one-vs-rest sampling (train: seed, test: seed + 1) and batch order (seed + 2). */
function classSeed(seed: number, c: number): number {
  return (seed + Math.imul(c + 1, 0x9e3779b1)) >>> 0;
}

/** Rows per forward pass when recalibrating and evaluating: large batches, bounded activations. */
function inferenceBatch(net: Network, batchSize: number): number {
  const nodes = net.layers.reduce((a, b) => a + b, 0);
  return Math.max(batchSize, Math.min(4096, Math.floor(2 ** 22 / nodes)));
}

/** The network whose importance is estimated, and the data it is fine-tuned (train) and evaluated (test) on. */
export interface ImportanceData {
  net: Network;
  train: Dataset;
  test: Dataset;
}

export interface GroupHooks {
  onEpoch?: (c: number, epoch: number, loss: number) => void;
  onClassDone?: (result: ClassImportance) => void;
}

/**
 * Importance of several classes, fine-tuned together as one stacked program (importance-stacked.ts);
 * each class's result is the same as on its own. Results in the order of `classes`.
 */
export async function importanceForGroup(
  data: ImportanceData,
  classes: readonly number[],
  opts: ImportanceOptions,
  hooks: GroupHooks = {},
): Promise<ClassImportance[]> {
  const { net, train, test } = data;
  if (isConvNet(net)) {
    // the stacked program is written for dense layers; a conv network fine-tunes class by class
    const out: ClassImportance[] = [];
    for (const c of classes) {
      const r = await referenceClassImportance(data, c, opts, (epoch, loss) => hooks.onEpoch?.(c, epoch, loss));
      hooks.onClassDone?.(r);
      out.push(r);
    }
    return out;
  }
  const tf = await initTf();
  const members: StackMember[] = classes.map((c) => {
    const seed = classSeed(opts.seed, c);
    const { indices, labels } = oneVsRestIndices(train, c, seed);
    const head = headArrays(net, c);
    return { classIndex: c, indices, labels, rng: createRng(seed + 2), headKernel: head.kernel, headBias: head.bias };
  });
  const results = new Map<number, ClassImportance>();
  const rows = inferenceBatch(net, opts.batchSize);
  trainStacked(tf, net, train, members, opts, {
    onEpoch: hooks.onEpoch,
    onFinished: (c, gamma, beta) => {
      const member = members.find((m) => m.classIndex === c)!;
      const testRows = oneVsRestIndices(test, c, classSeed(opts.seed, c) + 1);
      const report = inferenceReport(tf, net, member, train, member, test, testRows, gamma, beta, opts.flags, rows);
      const r: ClassImportance = { classIndex: c, gammas: gamma.map((g) => Float32Array.from(g, Math.abs)), ...report };
      results.set(c, r);
      hooks.onClassDone?.(r);
    },
  });
  return classes.map((c) => results.get(c)!);
}

/** Recalibrated BN statistics, then inference-mode loss/accuracy and |gamma|. */
function finishClass(tf: typeof TF, net: Network, model: ImportanceModel, c: number, trainData: Dataset, testData: Dataset, batchSize: number): ClassImportance {
  // reported numbers are those of the fine-tuned model in inference mode, on statistics that fit it
  const rows = inferenceBatch(net, batchSize);
  recalibrateBatchNorm(tf, model, trainData, rows);
  const trained = evaluateImportanceModel(tf, model, trainData, rows);
  const tested = evaluateImportanceModel(tf, model, testData, rows);
  const gammas = model.bn.map((b) => Float32Array.from(b.gamma.dataSync(), Math.abs));
  return { classIndex: c, gammas, trainLoss: trained.loss, trainAccuracy: trained.accuracy, testLoss: tested.loss, testAccuracy: tested.accuracy };
}

/** Fine-tunes the BN layers for class c and returns |gamma| per layer plus loss/accuracy. */
export async function classImportance(data: ImportanceData, c: number, opts: ImportanceOptions, onEpoch?: (epoch: number, loss: number) => void): Promise<ClassImportance> {
  const [r] = await importanceForGroup(data, [c], opts, { onEpoch: (_, e, l) => onEpoch?.(e, l) });
  return r;
}

/**
 * classImportance the straightforward way: the model of buildImportanceModel, tfjs' autodiff
 * and optimiser, one class at a time. The reference the stacked implementation is checked
 * against (test/importance-stacked.test.ts); about 10× slower. Conv networks take this path
 * (their conv layers are outside the stacked program).
 */
export async function referenceClassImportance(
  { net, train, test }: ImportanceData,
  c: number,
  opts: ImportanceOptions,
  onEpoch?: (epoch: number, loss: number) => void,
): Promise<ClassImportance> {
  const tf = await initTf();
  const seed = classSeed(opts.seed, c);
  const trainData = oneVsRest(train, c, seed);
  const testData = oneVsRest(test, c, seed + 1);
  const model = buildImportanceModel(tf, net, c, opts.flags);
  const optimizer = tf.train.adam(opts.learningRate);
  const variables = trainableVariables(model);
  const rng = createRng(seed + 2);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const order = shuffle(rng, Array.from({ length: trainData.count }, (_, i) => i));
    const { loss } = trainEpoch(tf, model, optimizer, variables, subset(trainData, order), opts.batchSize);
    onEpoch?.(epoch, loss);
  }
  const r = finishClass(tf, net, model, c, trainData, testData, opts.batchSize);
  optimizer.dispose();
  disposeImportanceModel(model);
  return r;
}

/**
 * Runs `step` on consecutive batches (inside tf.tidy) and returns the sample-weighted mean of
 * the loss it reports and the share of correct predictions.
 */
function overBatches(
  tf: typeof TF,
  data: Dataset,
  batchSize: number,
  step: (x: TF.Tensor2D, labels: TF.Tensor1D) => [loss: TF.Tensor, hits: TF.Tensor],
): { loss: number; accuracy: number } {
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < data.count; s += batchSize) {
    const n = Math.min(batchSize, data.count - s);
    const [loss, hits] = tf.tidy(() =>
      step(tf.tensor2d(data.x.subarray(s * data.features, (s + n) * data.features), [n, data.features]), tf.tensor1d(data.y.subarray(s, s + n), 'int32')),
    );
    lossSum += loss.dataSync()[0] * n;
    correct += hits.dataSync()[0];
    loss.dispose();
    hits.dispose();
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

/** Cross-entropy plus the gamma penalty (the loss Keras reports) and the correct count. */
function lossAndHits(tf: typeof TF, model: ImportanceModel, logits: TF.Tensor2D, labels: TF.Tensor1D): [TF.Scalar, TF.Tensor] {
  const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 2).toFloat(), logits);
  const penalty = gammaPenalty(tf, model);
  return [(penalty ? tf.add(ce, penalty) : ce) as TF.Scalar, tf.sum(tf.equal(tf.argMax(logits, -1), labels))];
}

/** One pass of Adam over the BN variables; returns the mean loss and accuracy. */
export function trainEpoch(tf: typeof TF, model: ImportanceModel, optimizer: TF.Optimizer, variables: TF.Variable[], data: Dataset, batchSize: number): { loss: number; accuracy: number } {
  return overBatches(tf, data, batchSize, (x, labels) => {
    const stats: { mean: TF.Tensor; variance: TF.Tensor }[] = [];
    let hits: TF.Tensor | undefined;
    const cost = optimizer.minimize(() => {
      const [loss, correct] = lossAndHits(tf, model, forward(tf, model, x, true, stats), labels);
      hits = tf.keep(correct);
      return loss;
    }, true, variables)!;
    // Keras' moving statistics: moving = moving · momentum + batch · (1 − momentum).
    model.bn.forEach((b, k) => {
      const next = [
        tf.keep(tf.add(tf.mul(b.movingMean, BN_MOMENTUM), tf.mul(stats[k].mean, 1 - BN_MOMENTUM))),
        tf.keep(tf.add(tf.mul(b.movingVariance, BN_MOMENTUM), tf.mul(stats[k].variance, 1 - BN_MOMENTUM))),
      ];
      [b.movingMean, b.movingVariance, stats[k].mean, stats[k].variance].forEach((t) => t.dispose());
      [b.movingMean, b.movingVariance] = next;
    });
    return [cost, hits!];
  });
}

/** Loss (cross-entropy plus the gamma penalty) and accuracy in inference mode (BN uses its moving statistics). */
export function evaluateImportanceModel(tf: typeof TF, model: ImportanceModel, data: Dataset, batchSize: number): { loss: number; accuracy: number } {
  return overBatches(tf, data, batchSize, (x, labels) => lossAndHits(tf, model, forward(tf, model, x, false), labels));
}

/**
 * Combines the per-class results (docs/METHOD.md §3.3): node importance of each BN-covered layer is
 * divided by that layer's maximum over nodes and classes; output nodes are one-hot; edge
 * importance is |w| normalised per layer gap.
 */
export function assembleImportance(net: Network, results: readonly ClassImportance[], meta: Record<string, unknown>): Network {
  const { layers } = net;
  const classes = layers[layers.length - 1];
  if (results.length !== classes) throw new Error(`need one importance result per class (${classes}), got ${results.length}`);
  const nodeImportance = new Float32Array(nodeCount(layers) * classes);
  for (let l = 0; l + 1 < layers.length; l++) {
    const max = Math.max(...results.map((r) => r.gammas[l].reduce((a, b) => Math.max(a, b), 0)));
    const o = nodeOffset(layers, l);
    for (const r of results) {
      for (let i = 0; i < layers[l]; i++) nodeImportance[(o + i) * classes + r.classIndex] = max > 0 ? r.gammas[l][i] / max : 0;
    }
  }
  markOutputNodes(nodeImportance, layers);
  return { ...net, nodeImportance, edgeImportance: edgeAlpha(net), meta: { ...net.meta, importance: meta } };
}

/** Output node c matters for class c alone (shared by every importance method). */
export function markOutputNodes(nodeImportance: Float32Array, layers: readonly number[]): void {
  const classes = layers[layers.length - 1];
  const out = nodeOffset(layers, layers.length - 1);
  for (let c = 0; c < classes; c++) nodeImportance[(out + c) * classes + c] = 1;
}

/**
 * Edge alpha: the L1 norm of the edge's weights (one weight in a dense gap, a kernel slice in a
 * conv gap; core/network.ts) divided by the largest of its layer gap.
 */
export function edgeAlpha(net: Network): Float32Array {
  const { layers } = net;
  const weights = net.weights!;
  const alpha = new Float32Array(edgeCount(layers));
  for (let k = 0; k + 1 < layers.length; k++) {
    const o = edgeOffset(layers, k);
    const n = layers[k] * layers[k + 1];
    forEachEdgeWeight(net, k, (e, w) => (alpha[o + e] += Math.abs(weights[w])));
    let max = 0;
    for (let e = o; e < o + n; e++) max = Math.max(max, alpha[e]);
    for (let e = o; e < o + n; e++) alpha[e] = max > 0 ? alpha[e] / max : 0;
  }
  return alpha;
}
