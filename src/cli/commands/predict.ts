import { extname } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { rowsInNodeOrder, type Network } from '../../core/network.ts';
import { printable } from '../../core/text.ts';
import { importModel, SUPPORTED_FORMATS } from '../../ml/import/index.ts';
import { readNetworkFile } from '../network-file.ts';

/** Rows per forward pass: large batches, bounded memory. */
const BATCH = 4096;

/** The model as nnvis reads it: an .nnvis file as stored, any other model through `import`. */
async function readModel(path: string): Promise<Network> {
  const net = extname(path).toLowerCase() === '.nnvis' ? readNetworkFile(path) : await importModel(path);
  if (!net.weights || !net.biases || !net.activations) throw new InputError(`${printable(path, 500)}: holds no weights; predict needs a trained network (nnvis train or nnvis import)`);
  return net;
}

/** Class probabilities of every sample, [count × classes] row-major, from our own forward pass. */
export async function predictProbabilities(net: Network, x: Float32Array, count: number): Promise<Float32Array> {
  const { initTf } = await import('../../ml/tf.ts');
  const { forwardProbabilities } = await import('../../ml/conv.ts');
  const tf = await initTf();
  const features = net.layers[0];
  const classes = net.layers[net.layers.length - 1];
  const out = new Float32Array(count * classes);
  for (let s = 0; s < count; s += BATCH) {
    const n = Math.min(BATCH, count - s);
    const p = tf.tidy(() => forwardProbabilities(tf, net, tf.tensor2d(x.subarray(s * features, (s + n) * features), [n, features])));
    out.set(p.dataSync() as Float32Array, s * classes);
    p.dispose();
  }
  return out;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description("print nnvis' class probabilities for every sample, to check that nnvis reads your model as your framework does")
    .argument('<model>', '.nnvis file, or a model nnvis can import (model.json, .h5, .keras, .onnx)')
    .requiredOption('--data <file>', 'samples: .csv (features, optionally then a label), .json ({"x": [[…]]}, "y" optional), .npy (features) or .npz (x, y optional)')
    .option('--json', 'print {"probabilities": [[…], …]} instead of CSV')
    .addHelpText(
      'after',
      '\nPrints one row per sample: the probability of each class, in the order of the model\'s outputs\n' +
        '(CSV with the class names as header, or JSON). The model is read exactly as `nnvis import` reads it\n' +
        '(BatchNormalization folded, a 1-unit sigmoid output as 2 classes), so the numbers should match your\n' +
        "framework's predictions to float32 rounding. Labels in the data file are allowed and ignored.\n\n" +
        `${SUPPORTED_FORMATS}\n\nExamples:\n  nnvis predict model.onnx --data samples.npy\n  nnvis predict model.nnvis --data samples.csv --json > probabilities.json`,
    )
    .action(async (model: string, opts: { data: string; json?: boolean }) => {
      const net = await readModel(model);
      const { loadDataFile } = await import('../../ml/data-file.ts');
      const features = net.layers[0];
      const classes = net.layers[net.layers.length - 1];
      const data = loadDataFile(opts.data, classes, { features });
      if (data.features !== features) {
        throw new InputError(`${printable(opts.data, 500)}: samples have ${data.features} features but ${printable(model, 500)}'s input layer has ${features}`);
      }
      const p = await predictProbabilities(net, rowsInNodeOrder(net, data.x, data.count), data.count);
      const rows = Array.from({ length: data.count }, (_, i) => Array.from(p.subarray(i * classes, (i + 1) * classes)));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ probabilities: rows })}\n`);
        return;
      }
      const header = net.classNames.map((c) => JSON.stringify(printable(c, 100))).join(',');
      process.stdout.write(`${header}\n${rows.map((r) => r.map((v) => v.toPrecision(7)).join(',')).join('\n')}\n`);
    });
}
