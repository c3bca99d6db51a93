// `npm run figure:training`: the reference's headline comparison — the same 784-81-49-10
// architecture untrained, trained, and trained with L1 regularisation, each with per-class
// importance, processed with the default config and rendered side by side with the same
// camera ("independent" grey, transparent ellipsoids, as in the thesis). Writes
// docs/images/training-comparison.png (and the README's docs/images/hero.png, the trained
// network in class colours) and prints the quality metrics of the three, which
// docs/EVALUATION.md reports. Intermediate files are cached in out/figure-training/.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNetworkFile } from '../src/cli/network-file.ts';
import type { ProcessingStats } from '../src/core/process/run.ts';
import { ML_CODE, runCachedSteps, type Step } from './cached-steps.ts';

const dir = join('out', 'figure-training');
const variants = [
  { name: 'untrained', label: 'untrained', train: ['--untrained'] },
  { name: 'trained', label: 'trained', train: [] },
  { name: 'l1', label: 'trained + L1 (0.001)', train: ['--l1', '0.001'] },
];
const steps: Step[] = variants.flatMap((v) => {
  const model = join(dir, `${v.name}-model.nnvis`);
  const imp = join(dir, `${v.name}-importance.nnvis`);
  const processed = join(dir, `${v.name}-processed.nnvis`);
  return [
    { title: `${v.label}: train`, args: ['train', '--layers', '81,49', '--epochs', '15', '--seed', '1', ...v.train, '-o', model], inputs: [], outputs: [model], code: ML_CODE },
    { title: `${v.label}: importance`, args: ['importance', model, '--seed', '1', '-o', imp], inputs: [model], outputs: [imp], code: ML_CODE },
    { title: `${v.label}: process`, args: ['process', imp, '--seed', '1', '-o', processed], inputs: [imp, 'configs/processing.json'], outputs: [processed], code: ['src/core'] },
  ];
});
const figure = join(dir, 'training-comparison.png');
const processedFiles = variants.map((v) => join(dir, `${v.name}-processed.nnvis`));
steps.push({
  title: 'render the three side by side',
  args: ['compare', ...processedFiles, '--labels', variants.map((v) => v.label).join(','), '--class', 'independent', '--camera', '8', '--width', '800', '--height', '640', '-o', figure],
  inputs: [...processedFiles, 'configs/rendering.json'],
  outputs: [figure],
  code: ['src/viewer', 'src/cli'],
});

const hero = join(dir, 'hero.png');
steps.push({
  title: 'render the trained network, all classes, down the layer axis (README picture)',
  args: ['render', processedFiles[1], '--class', 'all', '--camera', '1', '--width', '1600', '--height', '900', '-o', hero],
  inputs: [processedFiles[1], 'configs/rendering.json'],
  outputs: [hero],
  code: ['src/viewer', 'src/cli'],
});

runCachedSteps(steps, join(dir, '.cache'));
copyFileSync(figure, join('docs', 'images', 'training-comparison.png'));
copyFileSync(hero, join('docs', 'images', 'hero.png'));

console.log('\n| network | test accuracy | ink (after / before) | distortion | class separation (before → after) | samples |');
console.log('|---|---|---|---|---|---|');
for (const [i, v] of variants.entries()) {
  const net = readNetworkFile(processedFiles[i]);
  const stats = (net.meta.processing as { stats: ProcessingStats }).stats;
  const acc = (net.meta.training as { testAccuracy?: number } | undefined)?.testAccuracy;
  const q = stats.quality;
  console.log(`| ${v.label} | ${acc?.toFixed(4) ?? '—'} | ×${q.ink.ratio.toFixed(3)} | ${q.distortion.toFixed(3)} | ${q.classSeparation.before.toFixed(3)} → ${q.classSeparation.after.toFixed(3)} | ${stats.samples} |`);
}
console.log('\nwrote docs/images/training-comparison.png and docs/images/hero.png');
