import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import type { Network } from '../../core/network.ts';
import { selectClasses, splitDataset, unbalance } from '../../ml/data.ts';
import { loadMnist, MNIST_CLASS_NAMES } from '../../ml/mnist.ts';
import { DEFAULT_TEST_FRACTION } from '../data.ts';
import { writeFileAtomic } from '../fs.ts';
import { writeNetworkFile } from '../network-file.ts';
import { parseIntIn, parseIntList, parseNumberIn, parseSeed } from '../options.ts';
import { progressBar } from '../progress.ts';
import { join } from 'node:path';

interface TrainFlags {
  layers: number[];
  epochs: number;
  batch: number;
  lr: number;
  l1: number;
  untrained?: boolean;
  classes?: number[];
  unbalanced?: number;
  otherFraction: number;
  testFraction: number;
  seed: number;
  output: string;
  exportTfjs?: string;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a dense MNIST classifier (ReLU hidden layers, softmax output, Adam; SPEC §2) on the 10,000 bundled digits')
    .option('--layers <sizes>', 'hidden layer sizes (input 784 and output 10 are implied)', parseIntList('--layers'), [81, 49])
    .option('--epochs <n>', 'training epochs', parseIntIn('--epochs', 1, 1000), 15)
    .option('--batch <n>', 'batch size', parseIntIn('--batch', 1, 10000), 128)
    .option('--lr <rate>', 'Adam learning rate', parseNumberIn('--lr', 0, 1, true), 0.001)
    .option('--l1 <strength>', 'L1 kernel regularisation on every dense layer (reference: 0.001)', parseNumberIn('--l1', 0, 1), 0)
    .option('--untrained', 'keep the random initialisation (no training), for comparison')
    .option('--classes <digits>', 'train only on these digits, e.g. 0,1,2', parseIntList('--classes', 0))
    .option('--unbalanced <digit>', 'all samples of this digit plus --other-fraction of every other digit', parseIntIn('--unbalanced', 0, 9))
    .option('--other-fraction <f>', 'share of the other digits kept with --unbalanced', parseNumberIn('--other-fraction', 0, 1), 0.1)
    .option('--test-fraction <f>', 'share of each digit held out for testing (stratified, seeded split)', parseNumberIn('--test-fraction', 0, 0.9, true), DEFAULT_TEST_FRACTION)
    .option('--seed <n>', 'seed for the split, initial weights and batch order', parseSeed, 0)
    .option('--export-tfjs <dir>', 'also write a standard TensorFlow.js layers model (model.json + weights.bin)')
    .requiredOption('-o, --output <file>', 'output .nnvis file (network with weights and the training report)')
    .addHelpText(
      'after',
      '\nData: the 10,000 MNIST digits of the `mnist` package, split per digit into training and test\n' +
        '(--test-fraction, seeded by --seed); the split is recorded so importance/evaluate reuse it.\n\n' +
        'Example:\n  nnvis train --layers 81,49 --epochs 15 --seed 1 -o model.nnvis',
    )
    .action(async (opts: TrainFlags) => {
      if (opts.classes?.some((c) => c > 9)) throw new InputError(`--classes: digits are 0–9; got ${opts.classes.join(',')}`);
      if (opts.classes && opts.unbalanced !== undefined) throw new InputError('--classes and --unbalanced cannot be combined');
      const layers = [784, ...opts.layers, 10];
      let { train, test } = splitDataset(loadMnist(), opts.testFraction, opts.seed);
      let variant = 'balanced';
      if (opts.classes) {
        train = selectClasses(train, opts.classes);
        test = selectClasses(test, opts.classes);
        variant = `classes ${opts.classes.join(',')}`;
      } else if (opts.unbalanced !== undefined) {
        train = unbalance(train, opts.unbalanced, opts.otherFraction);
        variant = `unbalanced: all of ${opts.unbalanced}, ${opts.otherFraction} of the others`;
      }
      if (opts.untrained) variant = 'untrained';
      console.log(`training ${layers.join('-')} on ${train.count} digits (${variant}), testing on ${test.count}`);
      const { trainNetwork } = await import('../../ml/train.ts');
      const bar = progressBar('train', opts.untrained ? 0 : opts.epochs);
      const result = await trainNetwork(
        train,
        test,
        { layers, epochs: opts.epochs, batchSize: opts.batch, learningRate: opts.lr, l1: opts.l1, untrained: !!opts.untrained, seed: opts.seed, classNames: MNIST_CLASS_NAMES },
        (s) => {
          bar.update(s.epoch, { info: `loss ${s.loss.toFixed(4)} acc ${s.accuracy.toFixed(4)}` });
          if (!process.stderr.isTTY) console.log(`epoch ${s.epoch}/${opts.epochs}: loss ${s.loss.toFixed(4)}, accuracy ${s.accuracy.toFixed(4)}`);
        },
      );
      bar.stop();
      const net = result.network;
      net.meta = {
        provenance: { tool: 'nnvis', command: 'train', seed: opts.seed },
        training: {
          dataset: 'mnist',
          split: { seed: opts.seed, testFraction: opts.testFraction },
          variant,
          trainSamples: train.count,
          testSamples: test.count,
          epochs: opts.untrained ? 0 : opts.epochs,
          batchSize: opts.batch,
          learningRate: opts.lr,
          l1: opts.l1,
          trainAccuracy: result.trainAccuracy,
          testAccuracy: result.testAccuracy,
          history: result.history,
          report: result.report,
        },
      };
      if (opts.exportTfjs) await exportTfjs(net, opts.exportTfjs);
      writeNetworkFile(opts.output, net);
      console.log(`train accuracy ${result.trainAccuracy.toFixed(4)}, test accuracy ${result.testAccuracy.toFixed(4)}`);
      console.log('class  precision  recall  f1      support');
      for (const r of result.report) {
        console.log(`${r.className.padEnd(6)} ${r.precision.toFixed(4).padEnd(10)} ${r.recall.toFixed(4).padEnd(7)} ${r.f1.toFixed(4).padEnd(7)} ${r.support}`);
      }
      console.log(`wrote ${opts.output}${opts.exportTfjs ? ` and ${join(opts.exportTfjs, 'model.json')}` : ''}`);
    });
}

/** A standard tfjs layers model (model.json + weights.bin), loadable with tf.loadLayersModel. */
async function exportTfjs(net: Network, dir: string): Promise<void> {
  const { toTfModel } = await import('../../ml/model.ts');
  const tf = await (await import('../../ml/tf.ts')).initTf();
  const model = toTfModel(tf, net);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: 'nnvis', convertedBy: null, weightsManifest };
      writeFileAtomic(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}
