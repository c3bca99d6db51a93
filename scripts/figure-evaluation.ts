// The thesis comparison of docs/EVALUATION.md: our training-accuracy pruning curves (from an
// `nnvis evaluate` results.json of 784-81-49-10 on MNIST) with the thesis' values at 80, 90
// and 95 % pruned as markers, and the table of both. Usage:
//
//   node bin/run-ts.js scripts/figure-evaluation.ts eval/results.json docs/images/eval-thesis.png
import { readFileSync, writeFileSync } from 'node:fs';
import { lineChart, PALETTE, type LineSeries } from '../src/cli/plot.ts';
import { PRUNE_METHOD_LABELS, PRUNE_METHODS, type PruneMethod } from '../src/ml/prune.ts';

/** nn_vis' thesis, MNIST 784-81-49-10, gamma+l1, training accuracy with p % of the edges pruned (its overall pruning plot). */
const THESIS: Partial<Record<PruneMethod, Record<number, number>>> = {
  bnn_edge: { 80: 0.961, 90: 0.883, 95: 0.653 },
  edge: { 80: 0.935, 90: 0.615, 95: 0.408 },
  bnn: { 80: 0.83, 90: 0.476, 95: 0.335 },
};
const AT = [80, 90, 95];

interface Results {
  percentages: number[];
  protocol: string;
  layers: number[];
  trainSamples: number;
  methods: { method: PruneMethod; accuracy: number[]; trainAccuracy?: number[] }[];
}

const [resultsPath, outPath] = process.argv.slice(2);
if (!resultsPath || !outPath) {
  console.error('usage: figure-evaluation.ts <results.json> <out.png>');
  process.exit(1);
}
const r = JSON.parse(readFileSync(resultsPath, 'utf8')) as Results;
const colour = (m: PruneMethod): string => PALETTE[PRUNE_METHODS.indexOf(m) % PALETTE.length];
const series: LineSeries[] = [];
for (const m of r.methods) {
  if (m.method === 'random' || !m.trainAccuracy) continue;
  series.push({ name: PRUNE_METHOD_LABELS[m.method], x: r.percentages, y: m.trainAccuracy, color: colour(m.method) });
  const thesis = THESIS[m.method];
  if (thesis) series.push({ name: PRUNE_METHOD_LABELS[m.method], x: AT, y: AT.map((p) => thesis[p]), points: 'thesis (nn_vis), 80/90/95 %', color: colour(m.method) });
}
const chart = await lineChart({
  title: 'Train accuracy vs. edges pruned, with the thesis',
  subtitle: [`${r.layers.join('-')} on MNIST, ${r.trainSamples} training digits, ${r.protocol} protocol`, 'lines: nnvis; markers: the thesis at 80, 90 and 95 %'],
  xTitle: 'edges pruned (%)',
  yTitle: 'train accuracy',
  xDomain: [0, 100],
  yDomain: [0, 1],
  legendTitle: 'edge scoring method',
  series,
});
writeFileSync(outPath, chart.png);
writeFileSync(outPath.replace(/\.png$/, '.svg'), chart.svg);

// the table (markdown)
const at = (m: { trainAccuracy?: number[] }, p: number): string => {
  const i = r.percentages.indexOf(p);
  return i >= 0 && m.trainAccuracy ? m.trainAccuracy[i].toFixed(3) : '—';
};
console.log(`| method | ${AT.map((p) => `${p} % nnvis | ${p} % thesis`).join(' | ')} |`);
console.log(`|---|${AT.map(() => '---|---').join('|')}|`);
for (const m of r.methods) {
  const t = THESIS[m.method];
  console.log(`| \`${m.method}\` | ${AT.map((p) => `${at(m, p)} | ${t ? t[p].toFixed(3) : '—'}`).join(' | ')} |`);
}
console.log(`wrote ${outPath}`);
