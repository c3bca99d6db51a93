import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { encodeNetwork } from '../../core/container.ts';
import { InputError } from '../../core/errors.ts';
import { edgeCount, isConvNet, nodeCount } from '../../core/network.ts';
import { printable } from '../../core/text.ts';
import { IMPORTANCE_FLAGS, type ImportanceFlag } from '../../ml/importance-flags.ts';
import type { DatasetName } from '../../ml/datasets.ts';
import { parseDatasetName, resolveData } from '../data.ts';
import { checkOutputFile, writeFileAtomicAsync } from '../fs.ts';
import { readNetworkFile } from '../network-file.ts';
import { checkMemory, describeNetwork, maxMemoryOption, networkFileBytes, parseIntIn, parseNumberIn, parseSeed, TFJS_WASM_BYTES } from '../options.ts';
import { progressBar } from '../progress.ts';
import { parseImportanceMethod, runTaylorImportance, type ImportanceMethod } from './importance-taylor.ts';

interface ImportanceFlags {
  method: ImportanceMethod;
  type: ImportanceFlag[];
  epochs?: number;
  batch: number;
  lr: number;
  seed: number;
  data?: string;
  dataset?: DatasetName;
  testFraction?: number;
  threads: number;
  maxMemory: number;
  output: string;
}

/** A worker thread with TensorFlow.js started and a class fine-tuning, beyond its arrays. */
const WORKER_BASE_BYTES = 100e6;
/** The main process with the data loaded. */
const MAIN_BASE_BYTES = 400e6;

/**
 * Peak bytes of `importance`. Each worker gets a copy of the model file's buffer and of
 * the data, and holds the frozen kernels as tensors plus a batch's activations and their
 * gradients; the main process holds the model, the data and the result twice (arrays and
 * encoded). One thread runs in the main process, without the copies. Measured peak RSS
 * (--epochs 1, 1,500 samples): 784-81-49-10 0.41 GB on 1 thread, 0.69 GB on 2 (estimates
 * 0.45, 0.70); 784-3000-3000-10 0.74 GB on 1, 1.05 GB on 2 (estimates 0.76, 1.19).
 */
function importanceMemory(layers: readonly number[], modelBytes: number, dataBytes: number, batch: number, threads: number): { tfBytes: number; bytes: number } {
  const e = edgeCount(layers);
  const tfBytes = 4 * e + 8 * batch * nodeCount(layers) * 4 + 50e6;
  const result = networkFileBytes(layers, { weights: true, importance: true });
  const main = modelBytes + dataBytes + 2 * result + MAIN_BASE_BYTES;
  const worker = modelBytes + dataBytes + tfBytes + WORKER_BASE_BYTES;
  return { tfBytes, bytes: threads > 1 ? main + threads * worker : main + tfBytes };
}

function parseFlags(text: string): ImportanceFlag[] {
  const items = text.split(',').map((s) => s.trim().toLowerCase());
  const bad = items.find((s) => !(IMPORTANCE_FLAGS as readonly string[]).includes(s));
  if (bad !== undefined) throw new InvalidArgumentError(`--type: '${bad}' is not one of ${IMPORTANCE_FLAGS.join(', ')} (combine with commas, e.g. gamma,l1)`);
  return [...new Set(items)] as ImportanceFlag[];
}

export function registerImportance(program: Command): void {
  program
    .command('importance')
    .description('estimate per-class node and edge importance by BatchNormalization fine-tuning (docs/METHOD.md §3), or first-order Taylor (--method taylor, §3.5)')
    .argument('<model>', '.nnvis network with weights (from nnvis train or nnvis import)')
    .option('--method <name>', 'bn: BatchNorm fine-tuning (nn_vis\' method); taylor: first-order Taylor |a · ∂z_c/∂a|, one pass, no fine-tuning', parseImportanceMethod, 'bn' as ImportanceMethod)
    .option('--type <flags>', `BN variant, any of ${IMPORTANCE_FLAGS.join(', ')}`, parseFlags, ['gamma', 'l1'] as ImportanceFlag[])
    .option('--epochs <n>', 'fine-tuning epochs per class (default 20; 3 for a conv network)', parseIntIn('--epochs', 1, 1000))
    .option('--batch <n>', 'batch size', parseIntIn('--batch', 1, 10000), 128)
    .option('--lr <rate>', 'Adam learning rate', parseNumberIn('--lr', 0, 1, true), 0.001)
    .option('--seed <n>', 'seed for the one-vs-rest sampling and batch order', parseSeed, 0)
    .option('--dataset <name>', 'built-in data set, mnist or fashion; default: the one the model was trained on (else mnist), with its recorded split', parseDatasetName)
    .option('--data <file>', 'your own labelled data instead (.csv or .json, docs/DATA.md), split per class seeded by --seed')
    .option('--test-fraction <f>', 'share of --data held out for the per-class test loss/accuracy (default 0.2; --data only)', parseNumberIn('--test-fraction', 0, 0.9, true))
    .option('--threads <n>', 'worker threads, classes run in parallel (default: one per core, fewer where --max-memory asks)', parseIntIn('--threads', 1, 256), availableParallelism())
    .addOption(maxMemoryOption())
    .requiredOption('-o, --output <file>', 'output .nnvis file (network + importance)')
    .addHelpText(
      'after',
      '\nFor every class c: BN layers on the input of every dense layer, a 2-unit "c vs rest" head\n' +
        'initialised from the old output, only BN trainable, fine-tuned on balanced one-vs-rest data.\n' +
        'Node importance = |gamma| normalised per layer; edge importance = |w| normalised per layer.\n\n' +
        'After fine-tuning, each BN layer\'s moving mean/variance is recomputed over the class\'s training\n' +
        'data, so the reported train and test loss/accuracy are those of the model in inference mode.\n' +
        'On the 60,000 MNIST training digits the default 20 epochs give about the reference\'s number of\n' +
        'Adam steps (~1,900 per class). A conv network gets a BN layer per pixel on its input and per channel\n' +
        'on every feature map; its classes are fine-tuned one by one (default 3 epochs).\n\n' +
        '--method taylor: per node and class the mean over that class\'s training samples of |a · ∂z_c/∂a|\n' +
        '(a the node\'s output, z_c the class logit), normalised per layer like BN; no --type/--epochs/--lr/--threads.\n\n' +
        'Examples:\n  nnvis importance model.nnvis --type gamma,l1 --epochs 20 --seed 1 -o imp.nnvis\n  nnvis importance model.nnvis --method taylor -o imp-taylor.nnvis',
    )
    .action(async (modelPath: string, opts: ImportanceFlags, cmd: Command) => {
      checkOutputFile(opts.output, { inputs: [modelPath, opts.data], example: 'imp.nnvis' });
      const net = readNetworkFile(modelPath);
      if (!net.weights || !net.biases || !net.activations) throw new InputError(`${modelPath}: holds no weights; importance needs a trained network (nnvis train or nnvis import)`);
      if (net.layers.length < 2) throw new InputError(`${modelPath}: needs at least one dense layer`);
      const { train, test, description } = resolveData(net, modelPath, opts);
      if (opts.method === 'taylor') {
        if (isConvNet(net)) throw new InputError(`${printable(modelPath, 500)}: --method taylor supports dense networks only; this one has conv layers (use --method bn)`);
        return runTaylorImportance(net, modelPath, { train, description }, opts, cmd);
      }
      const epochs = opts.epochs ?? (isConvNet(net) ? 3 : 20);
      const classes = net.classNames.length;
      const estimate = (threads: number) =>
        importanceMemory(net.layers, statSync(modelPath).size, (train.count + test.count) * train.features * 4, opts.batch, threads);
      let threads = Math.min(opts.threads, classes);
      // the default thread count gives way to --max-memory; an explicit --threads is kept (and refused if too big)
      if (cmd.getOptionValueSource('threads') === 'default') {
        const wanted = threads;
        while (threads > 1 && estimate(threads).bytes > opts.maxMemory * 1e9) threads--;
        if (threads < wanted && estimate(threads).bytes <= opts.maxMemory * 1e9) {
          console.error(`nnvis: note: ${threads} of ${wanted} threads, to stay under --max-memory ${opts.maxMemory} GB (about ${(estimate(threads).bytes / 1e9).toFixed(2)} GB); raise --max-memory for more`);
        }
      }
      const memory = estimate(threads);
      checkMemory(
        {
          source: modelPath,
          what: `importance of ${describeNetwork(net.layers)} on ${threads} thread${threads > 1 ? 's' : ''}`,
          bytes: memory.bytes,
          fileBytes: networkFileBytes(net.layers, { weights: true, importance: true }),
          hardLimit: { bytes: TFJS_WASM_BYTES, needs: memory.tfBytes, what: 'TensorFlow.js (WebAssembly) memory per thread' },
          advice: threads > 1 ? 'use fewer --threads or a smaller model' : 'use a smaller model',
        },
        opts.maxMemory,
      );
      const jobOpts = { flags: opts.type, epochs, batchSize: opts.batch, learningRate: opts.lr, seed: opts.seed };
      console.log(`importance (${opts.type.join('+') || 'plain'}) for ${classes} classes × ${epochs} epochs on ${description}, ${threads} threads`);
      const { assembleImportance } = await import('../../ml/importance.ts');
      const { importanceForClasses } = await import('../../ml/parallel.ts');
      const started = Date.now();
      const bar = progressBar('importance', classes * epochs);
      const epochsDone = new Map<number, number>();
      const results = await importanceForClasses({ net, train, test, opts: jobOpts }, Array.from({ length: classes }, (_, c) => c), {
        threads,
        onEpoch: (c, epoch, loss) => {
          epochsDone.set(c, epoch);
          const done = [...epochsDone.values()].reduce((a, b) => a + b, 0);
          bar.update(done, { info: `class ${net.classNames[c]} epoch ${epoch} loss ${loss.toFixed(4)}` });
        },
        onClassDone: (r) => {
          if (!process.stderr.isTTY) console.log(`class ${net.classNames[r.classIndex]}: test accuracy ${r.testAccuracy.toFixed(4)}, test loss ${r.testLoss.toFixed(4)}`);
        },
      });
      bar.stop();
      const seconds = (Date.now() - started) / 1000;
      const out = assembleImportance(net, results, {
        type: opts.type,
        epochs,
        batchSize: opts.batch,
        learningRate: opts.lr,
        seed: opts.seed,
        data: description,
        perClass: results.map((r) => ({
          className: net.classNames[r.classIndex],
          trainLoss: r.trainLoss,
          trainAccuracy: r.trainAccuracy,
          testLoss: r.testLoss,
          testAccuracy: r.testAccuracy,
        })),
      });
      out.meta.provenance = { tool: 'nnvis', command: 'importance', seed: opts.seed, source: modelPath };
      await writeFileAtomicAsync(opts.output, encodeNetwork(out), { flag: '-o' });
      const width = Math.max(5, ...net.classNames.map((n) => n.length));
      console.log(`${'class'.padEnd(width)}  train acc  test acc  train loss  test loss`);
      for (const r of results) {
        console.log(`${net.classNames[r.classIndex].padEnd(width)}  ${r.trainAccuracy.toFixed(4).padEnd(10)} ${r.testAccuracy.toFixed(4).padEnd(9)} ${r.trainLoss.toFixed(4).padEnd(11)} ${r.testLoss.toFixed(4)}`);
      }
      console.log(`wrote ${opts.output}: importance for ${net.layers.join('-')} (${edgeCount(net.layers)} edges) in ${seconds.toFixed(1)} s`);
    });
}
