import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { encodeNetwork } from '../../core/container.ts';
import { InputError } from '../../core/errors.ts';
import { activationText, edgeCount } from '../../core/network.ts';
import { importModel, SUPPORTED_FORMATS } from '../../ml/import/index.ts';
import { checkOutputFile, writeFileAtomicAsync } from '../fs.ts';
import { checkMemory, describeNetwork, maxMemoryOption, networkFileBytes } from '../options.ts';

/**
 * The files an import reads: the model (a directory stands for its model.json) and, for a
 * TensorFlow.js model.json, the weight shards its manifest names. Best effort: the
 * importer itself reports a missing or malformed file.
 */
function importInputs(model: string): string[] {
  const out = [model];
  let json = model;
  try {
    if (statSync(model).isDirectory()) out.push((json = join(model, 'model.json')));
    if (extname(json).toLowerCase() !== '.json' || statSync(json).size > 64 * 1024 * 1024) return out;
    const manifest = (JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest?: { paths?: unknown[] }[] }).weightsManifest;
    for (const group of Array.isArray(manifest) ? manifest : []) {
      for (const p of Array.isArray(group?.paths) ? group.paths : []) if (typeof p === 'string') out.push(join(dirname(json), p));
    }
  } catch {
    // unreadable or not JSON: the importer says so
  }
  return out;
}

function fileSize(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/**
 * Rough peak bytes of an import, from the input sizes: the file as read, the parsed
 * tensors, the network's arrays and the encoded output (≈ 4 × the weights) plus the runtime.
 */
const importMemoryBytes = (inputBytes: number): number => 4 * inputBytes + 150e6;

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('read a trained dense or convolutional classifier (TensorFlow.js, Keras .h5/.keras, ONNX) into an .nnvis file')
    .argument('<model>', 'model.json (TensorFlow.js layers), .h5 / .keras (Keras) or .onnx')
    .option('--class-names <names>', 'comma-separated class names, one per output unit')
    .addOption(maxMemoryOption())
    .requiredOption('-o, --output <file>', 'output .nnvis file')
    .addHelpText('after', `\nSupported: ${SUPPORTED_FORMATS}\n\nExample:\n  nnvis import my-model/model.json -o model.nnvis`)
    .action(async (model: string, opts: { output: string; classNames?: string; maxMemory: number }) => {
      const inputs = importInputs(model);
      checkOutputFile(opts.output, { inputs, example: 'model.nnvis' });
      const inputBytes = [...new Set(inputs)].reduce((a, p) => a + fileSize(p), 0);
      checkMemory(
        { source: model, what: `importing ${(inputBytes / 1e6).toFixed(1)} MB of model files`, bytes: importMemoryBytes(inputBytes), advice: 'import a smaller model' },
        opts.maxMemory,
      );
      const net = await importModel(model);
      if (opts.classNames) {
        const names = opts.classNames.split(',').map((s) => s.trim());
        const classes = net.layers[net.layers.length - 1];
        if (names.length !== classes) {
          throw new InputError(`--class-names: got ${names.length} names but ${model} has ${classes} output units`);
        }
        net.classNames = names;
      }
      const fileBytes = networkFileBytes(net.layers, { weights: true });
      checkMemory({ source: model, what: `the imported ${describeNetwork(net.layers)}`, bytes: 0, fileBytes, advice: 'import a smaller model' }, opts.maxMemory);
      await writeFileAtomicAsync(opts.output, encodeNetwork(net), { flag: '-o' });
      const conversions = net.meta.provenance?.conversions;
      for (const note of Array.isArray(conversions) ? conversions : []) console.log(`  ${note}`);
      const activations = net.activations?.map((_, k) => activationText(net, k)).join(', ');
      console.log(`wrote ${opts.output}: ${net.layers.join('-')} (${edgeCount(net.layers)} edges, activations ${activations})`);
    });
}
