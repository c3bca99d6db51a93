import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `nnvis` command as a user would. */
export function runCli(args: string[], timeout = 300_000): CliResult {
  const r = spawnSync(process.execPath, ['bin/nnvis.js', ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nnvis-test-'));
}

/** A failed command: exit 1 and exactly one line on stderr. */
export function expectOneLineError(r: CliResult): string {
  if (r.code !== 1) throw new Error(`expected exit code 1, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got:\n${r.stderr}`);
  return lines[0];
}
