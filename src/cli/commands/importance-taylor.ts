// `nnvis importance --method taylor` (docs/METHOD.md §3.5): first-order Taylor importance, one
// forward and backward pass over the training samples in this thread, no fine-tuning.
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { encodeNetwork } from '../../core/container.ts';
import { InputError } from '../../core/errors.ts';
import { edgeCount, nodeCount, type Network } from '../../core/network.ts';
import type { Dataset } from '../../ml/data.ts';
import { writeFileAtomicAsync } from '../fs.ts';
import { checkMemory, describeNetwork, networkFileBytes, TFJS_WASM_BYTES } from '../options.ts';

export const IMPORTANCE_METHODS = ['bn', 'taylor'] as const;
export type ImportanceMethod = (typeof IMPORTANCE_METHODS)[number];

/** Commander parser for --method. */
export function parseImportanceMethod(text: string): ImportanceMethod {
  const v = text.trim().toLowerCase();
  if (!(IMPORTANCE_METHODS as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`'${text}' is not an importance method; choose bn (BatchNorm fine-tuning, the default) or taylor (first-order Taylor, no fine-tuning)`);
  }
  return v as ImportanceMethod;
}

/** Samples per forward/backward pass when --batch is not given: larger than BN's 128, since nothing is trained. */
export const TAYLOR_DEFAULT_BATCH = 1024;

/** Options of `importance` that only the BN fine-tuning uses. */
const BN_ONLY = ['type', 'epochs', 'lr', 'threads'] as const;

export interface TaylorCliOptions {
  batch: number;
  seed: number;
  maxMemory: number;
  output: string;
}

/**
 * Computes, writes and summarises Taylor importance for `net` on its training samples.
 * Refuses, in one line, the BN-only options when they were given on the command line.
 */
export async function runTaylorImportance(net: Network, modelPath: string, data: { train: Dataset; description: string }, opts: TaylorCliOptions, cmd: Command): Promise<void> {
  for (const name of BN_ONLY) {
    if (cmd.getOptionValueSource(name) === 'cli') {
      throw new InputError(`--${name} applies to --method bn (fine-tuning) only; --method taylor takes no ${name === 'type' ? 'BN variant' : 'training options'} (drop --${name})`);
    }
  }
  const batch = cmd.getOptionValueSource('batch') === 'cli' ? opts.batch : TAYLOR_DEFAULT_BATCH;
  const { layers } = net;
  // the model as tensors, per batch the activations, probes, gradients and products (≈ 8 copies)
  const tfBytes = 4 * edgeCount(layers) + 8 * 4 * batch * nodeCount(layers) + 50e6;
  checkMemory(
    {
      source: modelPath,
      what: `Taylor importance of ${describeNetwork(layers)}`,
      bytes: statSync(modelPath).size + data.train.x.byteLength + 2 * networkFileBytes(layers, { weights: true, importance: true }) + tfBytes + 400e6,
      fileBytes: networkFileBytes(layers, { weights: true, importance: true }),
      hardLimit: { bytes: TFJS_WASM_BYTES, needs: tfBytes, what: 'TensorFlow.js (WebAssembly) memory' },
      advice: 'use a smaller --batch or a smaller model',
    },
    opts.maxMemory,
  );
  console.log(`importance (first-order Taylor, |a · ∂z_c/∂a|) for ${net.classNames.length} classes on the ${data.train.count} training samples of ${data.description}`);
  const { assembleTaylorImportance, taylorScores } = await import('../../ml/taylor.ts');
  const started = Date.now();
  const scores = await taylorScores(net, data.train, { batchSize: batch });
  const seconds = (Date.now() - started) / 1000;
  const out = assembleTaylorImportance(net, scores, {
    score: 'logit',
    batchSize: batch,
    data: data.description,
    perClass: net.classNames.map((className, c) => ({ className, samples: scores.samples[c] })),
  });
  out.meta.provenance = { tool: 'nnvis', command: 'importance', method: 'taylor', seed: opts.seed, source: modelPath };
  await writeFileAtomicAsync(opts.output, encodeNetwork(out), { flag: '-o' });
  const width = Math.max(5, ...net.classNames.map((n) => n.length));
  console.log(`${'class'.padEnd(width)}  samples`);
  net.classNames.forEach((name, c) => console.log(`${name.padEnd(width)}  ${scores.samples[c]}`));
  console.log(`wrote ${opts.output}: Taylor importance for ${layers.join('-')} (${edgeCount(layers)} edges) in ${seconds.toFixed(1)} s`);
}
