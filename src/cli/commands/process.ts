import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Option, type Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import type { Backend } from '../../core/process/lanes.ts';
import type { ProcessingStats, ProcessingTimes } from '../../core/process/run.ts';
import type { StepReport } from '../../core/process/state.ts';
import { wasmAvailable } from '../../core/process/wasm/module.ts';
import { checkOutputFile, writeFileAtomicAsync } from '../fs.ts';
import type { ProcessJob } from '../process-worker.ts';
import { readNetworkFile } from '../network-file.ts';
import { collect, loadConfig, maxMemoryOption, parseIntIn, parseSeed } from '../options.ts';
import { progressBar, type Progress } from '../progress.ts';

interface ProcessOpts {
  config?: string;
  set: string[];
  seed: number;
  output: string;
  stats?: boolean;
  maxMemory: number;
  threads: number;
  backend?: Backend;
}

type WorkerMessage =
  | { type: 'start'; estimate: number; nodeIterations: number; edgeIterations: number; samples: number; edges: number }
  | { type: 'step'; report: StepReport }
  | { type: 'done'; bytes: Uint8Array; stats: ProcessingStats; seconds: ProcessingTimes }
  | { type: 'error'; message: string; input: boolean };

export function registerProcess(program: Command): void {
  program
    .command('process')
    .description('cluster nodes by class and bundle edges in 3D (docs/METHOD.md §4): network or importance file in, processed network out')
    .argument('<file>', '.nnvis network (random importance, docs/METHOD.md §6, is drawn when it has none) or network with importance')
    .option('--config <file>', 'processing config (default: configs/processing.json)')
    .option('--set <key=value>', 'override one processing value, e.g. --set prune_percentage=0.5 (repeatable)', collect, [])
    .option('--seed <n>', 'seed for random importance and noise; the same seed gives a byte-identical file', parseSeed, 0)
    .option('--stats', 'print the quality metrics (ink, distortion, class separation, node clustering) and counts')
    .option('--threads <n>', 'threads for the per-sample work (the output is the same for any count; default: one per core)', parseIntIn('--threads', 1, 64), availableParallelism())
    .addOption(
      new Option('--backend <name>', 'kernels for the per-sample work: wasm (WebAssembly SIMD, ~2.5× faster) or js (the portable reference); results differ in float rounding only (default: wasm where supported)').choices(['wasm', 'js']),
    )
    .addOption(maxMemoryOption())
    .requiredOption('-o, --output <file>', 'output processed .nnvis file')
    .addHelpText(
      'after',
      `
Phases: node advection in each layer plane until the node bandwidth limit, edges rebuilt
from the new node positions, then edge advection (re-sampled and smoothed each step) until
the edge bandwidth limit. Parameters: docs/CONFIG.md; method and deviations: docs/PROCESSING.md.

Examples:
  nnvis process importance.nnvis -o processed.nnvis --stats
  nnvis process importance.nnvis --set prune_percentage=0.8 --set sampling_rate=10 -o fast.nnvis`,
    )
    .action(async (file: string, opts: ProcessOpts) => {
      checkOutputFile(opts.output, { inputs: [file, opts.config], example: 'processed.nnvis' });
      readNetworkFile(file); // fail fast on a missing or corrupt file, before starting a worker
      if (opts.backend === 'wasm' && !wasmAvailable()) throw new InputError('--backend wasm: WebAssembly SIMD is not available in this Node.js; use --backend js');
      const config = loadConfig('processing', opts);
      const started = performance.now();
      const result = await runWorker({ input: file, config, seed: opts.seed, maxMemoryBytes: opts.maxMemory * 1e9, threads: opts.threads, backend: opts.backend });
      await writeFileAtomicAsync(opts.output, result.bytes, { flag: '-o' });
      const { stats, seconds } = result;
      const q = stats.quality;
      console.log(
        `wrote ${opts.output}: ${stats.edges} edges (${stats.prunedEdges} pruned), ${stats.samples} samples, ` +
          `${stats.nodeIterations} node + ${stats.edgeIterations} edge iterations in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
          `(nodes ${seconds.nodes.toFixed(1)} s, edges ${seconds.edges.toFixed(1)} s)`,
      );
      if (opts.stats) {
        const rows: [string, string][] = [
          ['edges', `${stats.edges}`],
          ['pruned edges', `${stats.prunedEdges}`],
          ['samples', `${stats.samples}`],
          ['grid cells (per layer gap)', `${stats.gridCells}`],
          ['iterations (nodes / edges)', `${stats.nodeIterations} / ${stats.edgeIterations}`],
          ['ink (voxels, before → after)', `${q.ink.before} → ${q.ink.after}  (×${q.ink.ratio.toFixed(3)})`],
          ['distortion (length / straight)', q.distortion.toFixed(3)],
          ['class separation (before → after)', `${q.classSeparation.before.toFixed(3)} → ${q.classSeparation.after.toFixed(3)}`],
          ['node clustering (before → after)', `${q.nodeClustering.before.toFixed(3)} → ${q.nodeClustering.after.toFixed(3)}  (per hidden layer: ${q.nodeClustering.perLayer.map((r) => r.toFixed(3)).join(', ') || '—'})`],
          ['time (nodes / edges / metrics)', `${seconds.nodes.toFixed(2)} s / ${seconds.edges.toFixed(2)} s / ${seconds.metrics.toFixed(2)} s`],
        ];
        for (const [k, v] of rows) console.log(`  ${k.padEnd(34)} ${v}`);
      }
    });
}

function runWorker(job: ProcessJob): Promise<{ bytes: Uint8Array; stats: ProcessingStats; seconds: ProcessingTimes }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('../../ml/ts-worker.js', import.meta.url), {
      workerData: { module: new URL('../process-worker.ts', import.meta.url).href, job },
    });
    let bar: Progress | undefined;
    let phase = '';
    let offset = 0;
    let nodeIterations = 0;
    worker.on('message', (msg: WorkerMessage) => {
      switch (msg.type) {
        case 'start':
          nodeIterations = msg.nodeIterations;
          bar = progressBar('process', msg.nodeIterations + msg.edgeIterations, '{bar} {percentage}% | {value}/{total} iterations | ETA {eta_formatted} | {info}');
          console.error(`processing ${msg.edges} edges, ${msg.samples} samples (about ${(msg.estimate / 1e9).toFixed(2)} GB peak)`);
          break;
        case 'step':
          if (msg.report.phase !== phase) {
            phase = msg.report.phase;
            offset = phase === 'edges' ? nodeIterations : 0;
          }
          bar?.update(offset + msg.report.iteration, { info: `${phase}: bandwidth ${msg.report.bandwidth.toFixed(4)} (stops below ${msg.report.limit.toFixed(4)})` });
          break;
        case 'done':
          bar?.stop();
          resolve(msg);
          void worker.terminate();
          break;
        case 'error':
          bar?.stop();
          reject(msg.input ? new InputError(msg.message) : new Error(msg.message));
          void worker.terminate();
          break;
      }
    });
    worker.on('error', (err) => {
      bar?.stop();
      reject(err);
    });
  });
}
