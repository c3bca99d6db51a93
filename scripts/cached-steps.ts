// Runs `nnvis` steps in order, skipping a step whose arguments and input files are the
// same as at its last successful run. A step's key is written only after it succeeded
// (and the CLI writes its outputs atomically), so Ctrl-C never leaves a stale entry.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Step {
  title: string;
  args: string[];
  /** Files whose content the result depends on (configs included). */
  inputs: string[];
  /** Files that must exist for a cached result to count. */
  outputs: string[];
  /** Source files and folders whose code makes the result; editing them re-runs the step. */
  code: string[];
  /** If set, a failure of this step is reported in one line with this advice, and the rest runs on. */
  optional?: string;
}

/** The code behind training, importance and evaluation (not the bundling or the viewer). */
export const ML_CODE = ['src/ml', 'src/core/network.ts', 'src/core/container.ts', 'src/core/config.ts'];

const hash = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function codeHash(path: string): string {
  if (statSync(path).isFile()) return hash(readFileSync(path));
  const files = readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort();
  return hash(files.map((f) => `${f}\0${hash(readFileSync(f))}`).join('\n'));
}

export function runCachedSteps(steps: Step[], cacheDir: string): void {
  mkdirSync(cacheDir, { recursive: true });
  for (const [i, step] of steps.entries()) {
    const key = hash(JSON.stringify({ args: step.args, inputs: step.inputs.map((f) => hash(readFileSync(f))), code: step.code.map(codeHash) }));
    const keyFile = join(cacheDir, `${hash(step.args.join('\0')).slice(0, 16)}.key`);
    const header = `\n=== ${i + 1}/${steps.length} ${step.title}`;
    if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key && step.outputs.every((f) => existsSync(f))) {
      console.log(`${header}\n(cached: same inputs and settings as last time; delete ${cacheDir} to redo it)`);
      continue;
    }
    rmSync(keyFile, { force: true });
    console.log(`${header}\n$ nnvis ${step.args.join(' ')}`);
    const t = Date.now();
    // An optional step's stderr is held back so its failure can be told in one line.
    const r = spawnSync(process.execPath, ['bin/nnvis.js', ...step.args], { stdio: ['inherit', 'inherit', step.optional ? 'pipe' : 'inherit'], encoding: 'utf8' });
    if (r.status !== 0 && step.optional) {
      const why = (r.stderr ?? '').trim().split('\n').pop()?.replace(/^nnvis: (internal )?error: /, '') || `exit ${r.status ?? r.signal}`;
      console.log(`skipped: ${why}; ${step.optional}`);
      continue;
    }
    if (step.optional) process.stderr.write(r.stderr ?? '');
    if (r.status !== 0) {
      console.error(`step ${i + 1} failed (exit ${r.status ?? r.signal})`);
      process.exit(r.status ?? 1);
    }
    writeFileSync(keyFile, key);
    console.log(`(${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
}
