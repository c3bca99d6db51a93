// Dense MNIST classifiers (ReLU hidden, softmax out, Adam; docs/METHOD.md §2), deterministic for a seed.
import { defaultClassNames, type Network } from '../core/network.ts';
import { createRng, shuffle } from '../core/random.ts';
import { subset, type Dataset } from './data.ts';
import { accuracy, classReport, confusionMatrix, type ClassReport } from './metrics.ts';
import { defaultActivations, initialWeights, predictClasses, readDenseWeights, toTfModel } from './model.ts';
import { initTf, type tf as TF } from './tf.ts';

export interface TrainOptions {
  /** Full layer sizes, input and output included. */
  layers: number[];
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
    ...initialWeights(opts.layers, opts.seed),
    meta: {},
  };
  const model = toTfModel(tf, net, opts.l1);
  model.compile({ optimizer: tf.train.adam(opts.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const history: EpochStats[] = [];
  const rng = createRng(opts.seed ^ 0x5eed);
  const epochs = opts.untrained ? 0 : opts.epochs;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const stats = await fitEpoch(tf, model, subset(train, shuffle(rng, Array.from({ length: train.count }, (_, i) => i))), opts.batchSize);
    const entry = { epoch, ...stats };
    history.push(entry);
    onEpoch?.(entry);
  }
  Object.assign(net, readDenseWeights(model, opts.layers));
  const trainPred = predictClasses(tf, model, train);
  const testPred = predictClasses(tf, model, test);
  model.dispose();
  return {
    network: net,
    history,
    trainAccuracy: accuracy(trainPred, train.y),
    testAccuracy: accuracy(testPred, test.y),
    report: classReport(confusionMatrix(testPred, test.y, classNames.length), classNames),
  };
}

/** One pass over already-shuffled data; returns the sample-weighted mean loss and accuracy. */
async function fitEpoch(tf: typeof TF, model: TF.LayersModel, data: Dataset, batchSize: number): Promise<{ loss: number; accuracy: number }> {
  const x = tf.tensor2d(data.x, [data.count, data.features]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(data.y, 'int32'), data.classes).toFloat());
  const h = await model.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
  x.dispose();
  y.dispose();
  return { loss: h.history.loss[0] as number, accuracy: (h.history.acc ?? h.history.accuracy)[0] as number };
}
