// `npm run bench:process`: wall time, per-phase time and peak memory of `processNetwork`
// (docs/METHOD.md §4, default config) for networks of growing size, each in a fresh process so its
// peak RSS is its own. Targets: 784-81-49-10 under 10 s and 1.5 GB; 1 M edges under 2 minutes
// and 3 GB; cost no worse than linear in samples (compare the µs per sample-iteration column).
// Usage: [THREADS=n] [BACKEND=wasm|js] npm run bench:process [-- --quick | --scale]
//   --quick: the two small networks only; --scale: unpruned networks of about 1, 2 and 4 million
//   edges instead, each with the memory estimate `nnvis process` checks against --max-memory
//   (run when it fits in half of this machine's memory, else reported as refused);
//   THREADS: worker threads for the per-sample work, default one per core;
//   BACKEND: the kernels, default WebAssembly where it runs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { applyConfig, defaultConfig } from '../src/core/config.ts';
import { decodeNetwork, encodeNetwork } from '../src/core/container.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount } from '../src/core/network.ts';
import { processNetwork } from '../src/core/process/run.ts';
import { createProcessing, estimateMemory, sampleCount } from '../src/core/process/state.ts';
import { createWorkerLanes } from '../src/cli/lanes.ts';
import { DEFAULT_MAX_MEMORY_GB } from '../src/cli/options.ts';
import { defaultBackend, inProcessLanes } from '../src/core/process/kernels.ts';
import type { Backend } from '../src/core/process/lanes.ts';

interface Result {
  name: string;
  edges: number;
  prunedEdges: number;
  startSamples: number;
  samples: number;
  sampleIterations: number;
  nodes: number;
  edgesSeconds: number;
  total: number;
  rssMB: number;
  ink: number;
  distortion: number;
  separation: [number, number];
  /** Estimated peak bytes (state.ts, estimateMemory). */
  estimate: number;
}

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--one') {
  // Child: process one network file and print its measurements as JSON.
  const [, , , file, name, prune, threadArg, backend] = process.argv as [string, string, string, string, string, string, string, Backend];
  const threads = Number(threadArg);
  const workerLanes = threads > 1 ? createWorkerLanes(threads, backend) : undefined;
  const lanes = workerLanes ?? inProcessLanes(backend);
  const net = decodeNetwork(readFileSync(file), file);
  const config = applyConfig('processing', defaultConfig('processing'), { prune_percentage: Number(prune) }, 'bench');
  let startSamples = 0;
  let sampleIterations = 0;
  let estimate = 0;
  const t = performance.now();
  const { stats, seconds } = processNetwork(net, config, {
    seed: 1,
    lanes,
    onStart: (state) => {
      startSamples = sampleCount(state);
      estimate = estimateMemory(state);
    },
    onStep: (report, state) => {
      if (report.phase !== 'edges') return;
      sampleIterations += sampleCount(state);
      workerLanes?.collect();
    },
  });
  const result: Result = {
    name,
    edges: stats.edges,
    prunedEdges: stats.prunedEdges,
    startSamples,
    samples: stats.samples,
    sampleIterations,
    nodes: seconds.nodes,
    edgesSeconds: seconds.edges,
    total: (performance.now() - t) / 1000,
    rssMB: process.resourceUsage().maxRSS / 1024,
    ink: stats.quality.ink.ratio,
    distortion: stats.quality.distortion,
    separation: [stats.quality.classSeparation.before, stats.quality.classSeparation.after],
    estimate,
  };
  console.log(JSON.stringify(result));
  await workerLanes?.close();
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const scale = process.argv.includes('--scale');
const threads = Number(process.env.THREADS ?? availableParallelism());
const backend: Backend = (process.env.BACKEND as Backend | undefined) ?? defaultBackend();
if (backend !== 'wasm' && backend !== 'js') throw new Error(`BACKEND must be wasm or js, not ${backend}`);
const cases: [number[], number][] = scale
  ? [
      [[1024, 512, 512, 256, 10], 0],
      [[1536, 1024, 512, 10], 0],
      [[2048, 1536, 512, 10], 0],
    ]
  : [
      [[784, 16, 10], 0],
      [[784, 81, 49, 10], 0],
      ...(quick ? [] : ([[[784, 256, 128, 10], 0], [[1024, 512, 512, 256, 10], 0.9]] as [number[], number][])),
    ];
const results: Result[] = [];
const refused: string[] = [];
for (const [layers, prune] of cases) {
  const name = `${layers.join('-')}${prune ? ` (${prune * 100}% pruned)` : ''}`;
  const net = generateNetwork({ layers, seed: 1, layerDistance: 0.5, layerWidth: 1 });
  if (scale) {
    // with the lanes `nnvis process` would use, so the verdict is the CLI's
    const workers = threads > 1 ? createWorkerLanes(threads, backend) : undefined;
    const estimate = estimateMemory(createProcessing(net, defaultConfig('processing'), 1, workers ?? inProcessLanes(backend)));
    await workers?.close();
    const verdict = estimate > DEFAULT_MAX_MEMORY_GB * 1e9 ? `refused by the default --max-memory ${DEFAULT_MAX_MEMORY_GB} GB` : 'runs with the defaults';
    process.stderr.write(`${name}: ${edgeCount(layers)} edges, estimated peak ${(estimate / 1e9).toFixed(2)} GB: ${verdict}\n`);
    if (estimate > totalmem() / 2) {
      refused.push(`${name} (${edgeCount(layers)} edges): not run, its estimated ${(estimate / 1e9).toFixed(1)} GB exceed half of this machine's memory`);
      continue;
    }
  }
  process.stderr.write(`processing ${name} (${edgeCount(layers)} edges)…\n`);
  const file = `/tmp/nnvis-bench-${layers.join('-')}.nnvis`;
  writeFileSync(file, encodeNetwork(net));
  const out = execFileSync(process.execPath, ['bin/run-ts.js', self, '--one', file, name, String(prune), String(threads), backend], { encoding: 'utf8', maxBuffer: 1 << 20 });
  results.push(JSON.parse(out.trim().split('\n').pop()!));
}

const header = ['network', 'edges', 'samples (start → end)', 'sample-iterations', 'nodes s', 'edges s', 'total s', 'µs / sample-iteration', 'peak RSS', 'estimate', 'ink', 'distortion', 'class separation'];
const rows = results.map((r) => [
  r.name,
  String(r.edges),
  `${(r.startSamples / 1e6).toFixed(2)}M → ${(r.samples / 1e6).toFixed(2)}M`,
  `${(r.sampleIterations / 1e6).toFixed(1)}M`,
  r.nodes.toFixed(2),
  r.edgesSeconds.toFixed(1),
  r.total.toFixed(1),
  ((r.edgesSeconds * 1e6) / r.sampleIterations).toFixed(2),
  `${r.rssMB.toFixed(0)} MB`,
  `${(r.estimate / 1e9).toFixed(2)} GB`,
  `×${r.ink.toFixed(3)}`,
  r.distortion.toFixed(3),
  `${r.separation[0].toFixed(3)} → ${r.separation[1].toFixed(3)}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nnnvis processing benchmark — ${cpus()[0]?.model ?? 'cpu'} (${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB), Node ${process.version}, default config, seed 1, ${threads} thread${threads > 1 ? 's' : ''}, ${backend === 'wasm' ? 'WebAssembly' : 'JS'} kernels\n`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
rows.forEach((r) => console.log(line(r)));
refused.forEach((r) => console.log(r));
