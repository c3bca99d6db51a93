import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { edgeCount } from '../../core/network.ts';
import { importModel, SUPPORTED_FORMATS } from '../../ml/import/index.ts';
import { writeNetworkFile } from '../network-file.ts';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('read a trained dense classifier (TensorFlow.js, Keras .h5/.keras, ONNX) into an .nnvis file')
    .argument('<model>', 'model.json (TensorFlow.js layers), .h5 / .keras (Keras) or .onnx')
    .option('--class-names <names>', 'comma-separated class names, one per output unit')
    .requiredOption('-o, --output <file>', 'output .nnvis file')
    .addHelpText('after', `\nSupported: ${SUPPORTED_FORMATS}\n\nExample:\n  nnvis import my-model/model.json -o model.nnvis`)
    .action(async (model: string, opts: { output: string; classNames?: string }) => {
      const net = await importModel(model);
      if (opts.classNames) {
        const names = opts.classNames.split(',').map((s) => s.trim());
        const classes = net.layers[net.layers.length - 1];
        if (names.length !== classes) {
          throw new InputError(`--class-names: got ${names.length} names but ${model} has ${classes} output units`);
        }
        net.classNames = names;
      }
      writeNetworkFile(opts.output, net);
      console.log(`wrote ${opts.output}: ${net.layers.join('-')} (${edgeCount(net.layers)} edges, activations ${net.activations?.join(', ')})`);
    });
}
