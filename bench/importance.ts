// `npm run bench:importance`: training and importance wall time for 784-81-49-10 on MNIST
// on this machine: by default the full 60,000 training / 10,000 test digits (official split);
// TRAIN_SAMPLES=8000 TEST_SAMPLES=2000 takes only the first ones, the size the original target
// was set for (issue: importance for all 10 classes < 60 s on 8,000 training digits).
import { availableParallelism, cpus } from 'node:os';
import { subset } from '../src/ml/data.ts';
import { loadDataset } from '../src/ml/datasets.ts';
import { assembleImportance } from '../src/ml/importance.ts';
import { importanceForClasses } from '../src/ml/parallel.ts';
import { trainNetwork } from '../src/ml/train.ts';

const threads = Number(process.env.THREADS ?? availableParallelism());
const mnist = loadDataset('mnist');
const first = (d: typeof mnist.train, n: number) => (n >= d.count ? d : subset(d, Array.from({ length: n }, (_, i) => i)));
const train = first(mnist.train, Number(process.env.TRAIN_SAMPLES ?? mnist.train.count));
const test = first(mnist.test, Number(process.env.TEST_SAMPLES ?? mnist.test.count));
const target = train.count <= 8000 ? '< 60 s' : '—';
const rows: [string, string, string, string][] = [];

let t = performance.now();
const trained = await trainNetwork(train, test, { layers: [784, 81, 49, 10], epochs: 15, batchSize: 128, learningRate: 0.001, l1: 0, untrained: false, seed: 1 });
const trainSeconds = (performance.now() - t) / 1000;
rows.push([`train 784-81-49-10, 15 epochs, ${train.count} digits`, `${trainSeconds.toFixed(1)} s`, '—', `test accuracy ${trained.testAccuracy.toFixed(4)}`]);

t = performance.now();
const results = await importanceForClasses(
  { net: trained.network, train, test, opts: { flags: ['gamma', 'l1'], epochs: 20, batchSize: 128, learningRate: 0.001, seed: 1 } },
  Array.from({ length: 10 }, (_, c) => c),
  { threads },
);
assembleImportance(trained.network, results, {});
const impSeconds = (performance.now() - t) / 1000;
const meanAcc = results.reduce((a, r) => a + r.testAccuracy, 0) / results.length;
const verdict = target === '—' ? '' : `${impSeconds < 60 ? 'PASS' : 'MISS'}; `;
rows.push([`importance 10 classes × 20 epochs, ${threads} threads`, `${impSeconds.toFixed(1)} s`, target, `${verdict}mean one-vs-rest test acc ${meanAcc.toFixed(4)}`]);

console.log(`\nnnvis importance benchmark — ${cpus()[0]?.model ?? 'cpu'} (${availableParallelism()} cores), Node ${process.version}, tfjs wasm\n`);
const widths = [0, 1, 2, 3].map((i) => Math.max(...[['stage', 'wall time', 'target', 'result'], ...rows].map((r) => r[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(['stage', 'wall time', 'target', 'result']));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
rows.forEach((r) => console.log(line(r)));
