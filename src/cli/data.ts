// Which labelled data a command uses for a model: the user's --data file, or the MNIST
// digits with the very split the model was trained on (recorded in the file).
import { InputError } from '../core/errors.ts';
import type { Network } from '../core/network.ts';
import { checkDataset, splitDataset, type Dataset } from '../ml/data.ts';
import { loadDataFile } from '../ml/data-file.ts';
import { loadMnist } from '../ml/mnist.ts';

export const DEFAULT_TEST_FRACTION = 0.2;

export interface DataChoice {
  data?: string;
  seed: number;
  testFraction?: number;
}

export interface ResolvedData {
  train: Dataset;
  test: Dataset;
  /** What to record in provenance: "mnist (split seed 7, 20 % test)" or the file. */
  description: string;
}

export function resolveData(net: Network, source: string, choice: DataChoice): ResolvedData {
  const features = net.layers[0];
  const classes = net.layers[net.layers.length - 1];
  const split = net.meta.training?.split as { seed: number; testFraction: number } | undefined;
  const testFraction = choice.testFraction ?? split?.testFraction ?? DEFAULT_TEST_FRACTION;
  const seed = choice.data ? choice.seed : (split?.seed ?? choice.seed);
  let all: Dataset;
  let name: string;
  if (choice.data) {
    all = loadDataFile(choice.data, classes);
    checkDataset(all, features, classes, choice.data);
    name = choice.data;
  } else {
    if (features !== 784 || classes !== 10) {
      throw new InputError(`${source}: the model takes ${features} features and has ${classes} classes, not MNIST's 784 and 10; pass --data FILE (see docs/DATA.md)`);
    }
    all = loadMnist();
    name = 'mnist';
  }
  const { train, test } = splitDataset(all, testFraction, seed);
  for (const [part, d] of [['training', train], ['test', test]] as const) {
    const seen = new Set(d.y);
    if (seen.size < classes) {
      const missing = Array.from({ length: classes }, (_, c) => c).filter((c) => !seen.has(c));
      throw new InputError(`${name}: class ${missing.map((c) => net.classNames[c]).join(', ')} has no samples in the ${part} split; every class needs samples`);
    }
  }
  return { train, test, description: `${name} (${all.count} samples, split seed ${seed}, ${Math.round(testFraction * 100)} % test)` };
}
