// Dense MNIST classifiers (ReLU hidden, softmax out, Adam; docs/METHOD.md §2), deterministic for a seed.
import { biasView, defaultClassNames, kernelShape, kernelView, layerOp, type LayerOp, type MapShape, type Network } from '../core/network.ts';
import { activate, layerActivation, type LayerActivation } from './activations.ts';
import { createRng, shuffle } from '../core/random.ts';
import { subset, type Dataset } from './data.ts';
import { accuracy, classReport, confusionMatrix, type ClassReport } from './metrics.ts';
import { defaultActivations, initialWeights } from './model.ts';
import { convLayer } from './conv.ts';
import { initTf, StagedTensor, type tf as TF } from './tf.ts';

export interface TrainOptions {
  /** Full layer sizes, input and output included. */
  layers: number[];
  /** A conv network: its input shape and one op per layer gap (core/network.ts). */
  inputShape?: MapShape;
  ops?: LayerOp[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L1 kernel regularisation on every dense layer; 0 for none. */
  l1: number;
  /** Keep the random initialisation (the "untrained" variant). */
  untrained: boolean;
  seed: number;
  classNames?: string[];
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
}

export interface TrainResult {
  network: Network;
  history: EpochStats[];
  trainAccuracy: number;
  testAccuracy: number;
  report: ClassReport[];
}

export async function trainNetwork(
  train: Dataset,
  test: Dataset,
  opts: TrainOptions,
  onEpoch?: (stats: EpochStats) => void,
): Promise<TrainResult> {
  const tf = await initTf();
  const classNames = opts.classNames ?? defaultClassNames(opts.layers[opts.layers.length - 1]);
  const net: Network = {
    layers: opts.layers,
    classNames,
    activations: defaultActivations(opts.layers),
    ...(opts.ops ? { inputShape: opts.inputShape, ops: opts.ops } : {}),
    ...initialWeights(opts, opts.seed),
    meta: {},
  };
  const model = denseVariables(tf, net);
  const optimizer = tf.train.adam(opts.learningRate);
  const history: EpochStats[] = [];
  const rng = createRng(opts.seed ^ 0x5eed);
  const epochs = opts.untrained ? 0 : opts.epochs;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const stats = fitEpoch(tf, model, optimizer, subset(train, shuffle(rng, Array.from({ length: train.count }, (_, i) => i))), opts.batchSize, opts.l1);
      const entry = { epoch, ...stats };
      history.push(entry);
      onEpoch?.(entry);
    }
    Object.assign(net, readVariables(model));
    const trainPred = predict(tf, model, train);
    const testPred = predict(tf, model, test);
    return {
      network: net,
      history,
      trainAccuracy: accuracy(trainPred, train.y),
      testAccuracy: accuracy(testPred, test.y),
      report: classReport(confusionMatrix(testPred, test.y, classNames.length), classNames),
    };
  } finally {
    optimizer.dispose();
    for (const l of model) [l.kernel, l.bias].forEach((v) => v.dispose());
  }
}

/**
 * The classifier as tfjs variables, computed as a tfjs layers model computes it (docs/METHOD.md
 * §2): per dense layer one fused product + bias (+ ReLU), softmax on the output.
 */
interface DenseLayer {
  kernel: TF.Variable;
  bias: TF.Variable;
  activation: LayerActivation;
  op: LayerOp;
  /** A conv network's first layer: the map shape to reshape the flat rows to. */
  inputShape?: MapShape;
}

function denseVariables(tf: typeof TF, net: Network): DenseLayer[] {
  return net.layers.slice(0, -1).map((_, k) => ({
    kernel: tf.variable(tf.tensor(kernelView(net, k), kernelShape(net, k))),
    bias: tf.variable(tf.tensor1d(biasView(net, k))),
    activation: layerActivation(net, k),
    op: layerOp(net, k),
    inputShape: k === 0 ? net.inputShape : undefined,
  }));
}

/** The conv part of the classifier: rows → map → conv layers → flat rows (channels last). */
function convForward(tf: typeof TF, model: readonly DenseLayer[], x: TF.Tensor2D): { h: TF.Tensor2D; next: number } {
  let map = tf.reshape(x, [x.shape[0], ...model[0].inputShape!]) as TF.Tensor4D;
  let k = 0;
  for (; model[k].op.kind === 'conv'; k++) map = convLayer(tf, map, model[k].kernel, model[k].bias, model[k].op as LayerOp & { kind: 'conv' }, model[k].activation);
  return { h: tf.reshape(map, [x.shape[0], -1]) as TF.Tensor2D, next: k };
}

/**
 * Class probabilities, as tfjs-layers' Dense layers give them (fused activations where tfjs fuses
 * them). With xT (the batch transposed), the first layer's kernel gradient is xT·dz, the product
 * tfjs would form after transposing x itself: the same values, without the transpose.
 */
function forward(tf: typeof TF, model: readonly DenseLayer[], x: TF.Tensor2D, xT?: TF.Tensor2D): TF.Tensor2D {
  let h = x;
  let start = 0;
  if (model[0].inputShape) ({ h, next: start } = convForward(tf, model, x));
  model.forEach((l, k) => {
    if (k < start) return;
    const fused = l.activation.name === 'relu' || l.activation.name === 'linear';
    const activation = fused ? (l.activation.name as 'relu' | 'linear') : undefined;
    if (k === 0 && xT && fused) {
      const first = tf.customGrad((...args: (TF.Tensor | TF.GradSaveFunc)[]) => {
        const [kernel, bias, save] = args as [TF.Tensor2D, TF.Tensor1D, TF.GradSaveFunc];
        const y = tf.fused.matMul({ a: x, b: kernel, bias, activation });
        save([y]);
        return {
          value: y,
          // tfjs' fused gradient: dz = dy·relu'(y), ∂kernel = xᵀ·dz, ∂bias = Σ_rows dz
          gradFunc: (dy, [saved]) => {
            const dz = activation === 'relu' ? tf.mul(dy, tf.step(saved)) : dy;
            return [tf.matMul(xT, dz as TF.Tensor2D), tf.sum(dz, 0)];
          },
        };
      });
      h = first(l.kernel, l.bias) as TF.Tensor2D;
      return;
    }
    h = tf.fused.matMul({ a: h, b: l.kernel as TF.Tensor2D, bias: l.bias, activation }) as TF.Tensor2D;
    if (!fused) h = activate(tf, h, l.activation) as TF.Tensor2D;
  });
  return h;
}

/** Keras' categorical cross-entropy of probabilities: normalised, clipped to [ε, 1 − ε], per sample. */
function categoricalCrossentropy(tf: typeof TF, target: TF.Tensor2D, output: TF.Tensor2D): TF.Tensor1D {
  const p = tf.clipByValue(tf.div(output, tf.sum(output, -1, true)), KERAS_EPSILON, 1 - KERAS_EPSILON);
  return tf.neg(tf.sum(tf.mul(target, tf.log(p)), -1));
}

const KERAS_EPSILON = 1e-7;

/**
 * One pass of Adam over already-shuffled data, batch by batch as tfjs-layers' fit does it (same
 * loss: mean cross-entropy plus the L1 kernel penalty); returns the sample-weighted mean loss and
 * accuracy. Batches are cut from the arrays here, and predictions and loss read back per batch
 * (a copy on the WebAssembly backend), instead of fit's per-batch gather and its callbacks.
 */
function fitEpoch(tf: typeof TF, model: readonly DenseLayer[], optimizer: TF.Optimizer, data: Dataset, batchSize: number, l1: number): { loss: number; accuracy: number } {
  const { features, classes } = data;
  const variables = model.flatMap((l) => [l.kernel, l.bias]);
  const oneHot = new Float32Array(batchSize * classes);
  // the batch and its transpose (for the first kernel's gradient xᵀ·dz), written in place
  // (a conv network's first layer is a convolution: no transpose to stage)
  const conv = model[0].inputShape !== undefined;
  const staged = new Map<number, { x: StagedTensor; xT?: StagedTensor }>();
  const stage = (n: number): { x: StagedTensor; xT?: StagedTensor } => {
    let s = staged.get(n);
    if (!s) staged.set(n, (s = { x: new StagedTensor(tf, [n, features]), xT: conv ? undefined : new StagedTensor(tf, [features, n]) }));
    return s;
  };
  let lossSum = 0;
  let hits = 0;
  try {
    for (let s = 0; s < data.count; s += batchSize) {
      const n = Math.min(batchSize, data.count - s);
      oneHot.fill(0);
      for (let r = 0; r < n; r++) oneHot[r * classes + data.y[s + r]] = 1;
      const rows = data.x.subarray(s * features, (s + n) * features);
      const { x, xT } = stage(n);
      x.fill((v) => v.set(rows));
      xT?.fill((v) => transposeInto(rows, n, features, v));
      let probs: TF.Tensor | undefined;
      const cost = tf.tidy(() => {
        const y = tf.tensor2d(oneHot.subarray(0, n * classes), [n, classes]);
        return optimizer.minimize(
          () => {
            const out = forward(tf, model, x.tensor as TF.Tensor2D, xT?.tensor as TF.Tensor2D | undefined);
            probs = tf.keep(out);
            let loss = tf.mean(categoricalCrossentropy(tf, y, out)) as TF.Scalar;
            if (l1 > 0) for (const l of model) loss = tf.add(loss, tf.mul(l1, tf.sum(tf.abs(l.kernel))));
            return loss;
          },
          true,
          variables,
        )!;
      });
      lossSum += cost.dataSync()[0] * n;
      // Keras' categorical accuracy: argmax of the prediction (the first of equal maxima) against the label
      const p = probs!.dataSync();
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let j = 1; j < classes; j++) if (p[r * classes + j] > p[r * classes + best]) best = j;
        if (best === data.y[s + r]) hits++;
      }
      cost.dispose();
      probs!.dispose();
    }
  } finally {
    for (const { x, xT } of staged.values()) [x, xT].forEach((t) => t?.dispose());
  }
  return { loss: lossSum / data.count, accuracy: hits / data.count };
}

/** a (rows × cols, row-major) transposed into out, four rows at a time. */
function transposeInto(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const [o0, o1, o2, o3] = [r * cols, (r + 1) * cols, (r + 2) * cols, (r + 3) * cols];
    for (let i = 0; i < cols; i++) {
      const t = i * rows + r;
      out[t] = a[o0 + i];
      out[t + 1] = a[o1 + i];
      out[t + 2] = a[o2 + i];
      out[t + 3] = a[o3 + i];
    }
  }
  for (; r < rows; r++) for (let i = 0; i < cols; i++) out[i * rows + r] = a[r * cols + i];
}

/** Predicted class per sample (argmax of the probabilities), in large batches. */
function predict(tf: typeof TF, model: readonly DenseLayer[], data: Dataset, batch = 4096): Int32Array {
  const out = new Int32Array(data.count);
  for (let s = 0; s < data.count; s += batch) {
    const n = Math.min(batch, data.count - s);
    const labels = tf.tidy(() => tf.argMax(forward(tf, model, tf.tensor2d(data.x.subarray(s * data.features, (s + n) * data.features), [n, data.features])), -1));
    out.set(labels.dataSync() as Int32Array, s);
    labels.dispose();
  }
  return out;
}

/** The variables' values as the flat weight and bias arrays of a Network. */
function readVariables(model: readonly DenseLayer[]): { weights: Float32Array; biases: Float32Array } {
  const weights = new Float32Array(model.reduce((a, l) => a + l.kernel.size, 0));
  const biases = new Float32Array(model.reduce((a, l) => a + l.bias.size, 0));
  let w = 0;
  let b = 0;
  for (const l of model) {
    weights.set(l.kernel.dataSync() as Float32Array, w);
    biases.set(l.bias.dataSync() as Float32Array, b);
    w += l.kernel.size;
    b += l.bias.size;
  }
  return { weights, biases };
}
