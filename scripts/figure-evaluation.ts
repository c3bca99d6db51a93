// The figures of docs/EVALUATION.md from the results.json of an `nnvis evaluate` run (no
// pruning is rerun): every chart evaluate writes, redrawn with the current chart code, and for
// 784-81-49-10 the thesis comparison: our training-accuracy curves with the thesis' values at
// 80, 90 and 95 % pruned as markers, plus that table in markdown on stdout. Usage:
//
//   node bin/run-ts.js scripts/figure-evaluation.ts eval/results.json docs/images eval- [charts]
//
// writes docs/images/eval-accuracy.png, eval-per-class-<method>.png, eval-relative-<method>.png
// (or eval-relevant.png with --classes) and eval-thesis.png; a comma-separated [charts] list
// (e.g. accuracy,thesis,relative-bnn_edge) keeps only those.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { renderCharts } from '../src/cli/commands/evaluate.ts';
import { lineChart, PALETTE, type LineSeries } from '../src/cli/plot.ts';
import type { PruningResult } from '../src/ml/evaluate.ts';
import { PRUNE_METHOD_LABELS, PRUNE_METHODS, type PruneMethod } from '../src/ml/prune.ts';

/** nn_vis' thesis, MNIST 784-81-49-10, gamma+l1, training accuracy with p % of the edges pruned (its overall pruning plot). */
export const THESIS: Partial<Record<PruneMethod, Record<number, number>>> = {
  bnn_edge: { 80: 0.961, 90: 0.883, 95: 0.653 },
  edge: { 80: 0.935, 90: 0.615, 95: 0.408 },
  bnn: { 80: 0.83, 90: 0.476, 95: 0.335 },
};
const AT = [80, 90, 95];

interface Results extends PruningResult {
  layers: number[];
  classNames: string[];
  trainSamples: number;
  testSamples: number;
  config: { classes: number[] | null };
  files: { model: string; importance: Record<string, string> };
}

const [resultsPath, outDir, prefix = 'eval-', only] = process.argv.slice(2);
const wanted = (name: string): boolean => only === undefined || only.split(',').includes(name);
if (!resultsPath || !outDir) {
  console.error('usage: figure-evaluation.ts <results.json> <out-dir> [prefix]');
  process.exit(1);
}
const r = JSON.parse(readFileSync(resultsPath, 'utf8')) as Results;
const subtitle = [
  `${basename(r.files.model)} + ${Object.values(r.files.importance).map((p) => basename(p)).join(' + ')}`,
  `${r.trainSamples} train / ${r.testSamples} test samples · ${r.protocol} protocol`,
];
const written: string[] = [];
for (const [name, chart] of await renderCharts(r, r, r.config.classes ?? undefined, subtitle)) {
  if (!wanted(name)) continue;
  const file = join(outDir, `${prefix}${name}.png`);
  writeFileSync(file, chart.png);
  written.push(file);
}

if (r.layers.join('-') === '784-81-49-10' && wanted('thesis')) {
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
  const file = join(outDir, `${prefix}thesis.png`);
  writeFileSync(file, chart.png);
  written.push(file);

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
}
console.log(`wrote ${written.join(', ')}`);
