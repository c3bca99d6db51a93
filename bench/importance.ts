// `npm run bench:importance`: wall and CPU time of training, importance and pruning evaluation
// for 784-81-49-10 on MNIST on this machine, against the targets: by default the full 60,000
// training / 10,000 test digits (official split); TRAIN_SAMPLES=8000 TEST_SAMPLES=2000 takes only
// the first ones. THREADS=n sets the importance worker threads (default one per core).
// The load average is printed at the start and the end: on a shared machine other work slows
// every row (CPU time, summed over all threads, is the steadier number).
import { availableParallelism, cpus, loadavg } from 'node:os';
import { subset } from '../src/ml/data.ts';
import { loadDataset } from '../src/ml/datasets.ts';
import { evaluatePruning } from '../src/ml/evaluate.ts';
import { assembleImportance } from '../src/ml/importance.ts';
import { importanceForClasses } from '../src/ml/parallel.ts';
import type { PruneMethod } from '../src/ml/prune.ts';
import { trainNetwork } from '../src/ml/train.ts';

const threads = Number(process.env.THREADS ?? availableParallelism());
const mnist = loadDataset('mnist');
const first = (d: typeof mnist.train, n: number) => (n >= d.count ? d : subset(d, Array.from({ length: n }, (_, i) => i)));
const train = first(mnist.train, Number(process.env.TRAIN_SAMPLES ?? mnist.train.count));
const test = first(mnist.test, Number(process.env.TEST_SAMPLES ?? mnist.test.count));
const full = train.count === mnist.train.count && test.count === mnist.test.count;
const rows: string[][] = [];
const load0 = loadavg();

/** Runs a stage and adds its row: wall time, CPU time (all threads), target and verdict. */
async function stage<T>(name: string, targetSeconds: number, run: () => Promise<T>, result: (r: T) => string): Promise<T> {
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const r = await run();
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const verdict = full ? (seconds < targetSeconds ? 'PASS' : 'MISS') : '—';
  rows.push([name, `${seconds.toFixed(1)} s`, `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`, `< ${targetSeconds} s`, verdict, result(r)]);
  return r;
}

const trained = await stage(
  `train 784-81-49-10, 15 epochs, ${train.count} digits`,
  60,
  () => trainNetwork(train, test, { layers: [784, 81, 49, 10], epochs: 15, batchSize: 128, learningRate: 0.001, l1: 0, untrained: false, seed: 1 }),
  (r) => `test accuracy ${r.testAccuracy.toFixed(4)}`,
);
const results = await stage(
  `importance 10 classes × 20 epochs, ${threads} thread${threads > 1 ? 's' : ''}`,
  60,
  () =>
    importanceForClasses(
      { net: trained.network, train, test, opts: { flags: ['gamma', 'l1'], epochs: 20, batchSize: 128, learningRate: 0.001, seed: 1 } },
      Array.from({ length: 10 }, (_, c) => c),
      { threads },
    ),
  (r) => `mean one-vs-rest test accuracy ${(r.reduce((a, x) => a + x.testAccuracy, 0) / r.length).toFixed(4)}`,
);
const importance = assembleImportance(trained.network, results, {});
const methods: PruneMethod[] = ['bnn_edge', 'edge', 'bnn', 'random'];
await stage(
  `evaluate ${methods.length} methods, step 5 %, train + test accuracy`,
  30,
  () => evaluatePruning(trained.network, importance, test, { methods, step: 5, seed: 0, train }),
  (r) => `test accuracy at 50 %: ${r.methods.map((m) => `${m.method} ${m.accuracy[10].toFixed(4)}`).join(', ')}`,
);

const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(', ');
console.log(`\nnnvis ML benchmark — ${cpus()[0]?.model ?? 'cpu'} (${availableParallelism()} cores), Node ${process.version}, tfjs wasm`);
console.log(`load average ${load(load0)} at the start, ${load(loadavg())} at the end\n`);
const header = ['stage', 'wall time', 'CPU time', 'target', 'wall ok', 'result'];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
rows.forEach((r) => console.log(line(r)));
