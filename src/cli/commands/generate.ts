import type { Command } from 'commander';
import { encodeNetwork } from '../../core/container.ts';
import { InputError } from '../../core/errors.ts';
import { generateMemoryBytes, generateNetwork } from '../../core/generate.ts';
import { edgeCount } from '../../core/network.ts';
import { checkOutputFile, writeFileAtomicAsync } from '../fs.ts';
import { checkMemory, collect, describeNetwork, loadConfig, maxMemoryOption, networkFileBytes, parseIntList, parseSeed } from '../options.ts';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write a random network with random class importance (docs/METHOD.md §6), for trying the pipeline without a model')
    .option('--layers <sizes>', 'nodes per layer, input first, classes last', parseIntList('--layers'), [784, 81, 49, 10])
    .option('--seed <n>', 'random seed; the same seed gives a byte-identical file', parseSeed, 0)
    .option('--config <file>', 'processing config (layer_distance, layer_width are used)')
    .option('--set <key=value>', 'override one processing config value (repeatable)', collect, [])
    .addOption(maxMemoryOption())
    .requiredOption('-o, --output <file>', 'output .nnvis file')
    .addHelpText('after', '\nExample:\n  nnvis generate --layers 784,81,49,10 --seed 7 -o net.nnvis')
    .action(async (opts: { layers: number[]; seed: number; config?: string; set: string[]; maxMemory: number; output: string }) => {
      if (opts.layers.length < 2) throw new InputError('--layers needs at least an input and an output layer, e.g. 784,10');
      checkOutputFile(opts.output, { inputs: [opts.config], example: 'net.nnvis' });
      const config = loadConfig('processing', opts);
      checkMemory(
        {
          source: `--layers ${opts.layers.join(',')}`,
          what: `a random network ${describeNetwork(opts.layers)}`,
          bytes: generateMemoryBytes(opts.layers),
          fileBytes: networkFileBytes(opts.layers, { importance: true, positions: true }),
          advice: 'use fewer or smaller layers',
        },
        opts.maxMemory,
      );
      const net = generateNetwork({
        layers: opts.layers,
        seed: opts.seed,
        layerDistance: config.layer_distance as number,
        layerWidth: config.layer_width as number,
      });
      await writeFileAtomicAsync(opts.output, encodeNetwork(net), { flag: '-o' });
      console.log(`wrote ${opts.output}: random network ${opts.layers.join('-')}, ${edgeCount(opts.layers)} edges, seed ${opts.seed}`);
    });
}
