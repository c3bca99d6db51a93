// The step cache behind `npm start` and the figure scripts: re-runs only what changed, and
// an interrupted step leaves neither a key nor a half-written output.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Step } from '../scripts/cached-steps.ts';
import { tempDir } from './helpers.ts';

const driver = (steps: Step[], cache: string) => [
  '--import',
  'tsx',
  '-e',
  `import('./scripts/cached-steps.ts').then((m) => m.runCachedSteps(${JSON.stringify(steps)}, ${JSON.stringify(cache)}))`,
];

describe('cached pipeline steps', () => {
  it('skips a step whose arguments, inputs and code are unchanged, and re-runs it when an input changes', () => {
    const dir = tempDir();
    const net = join(dir, 'net.nnvis');
    const config = join(dir, 'processing.json');
    writeFileSync(config, '{"sampling_rate": 5}');
    const steps: Step[] = [
      { title: 'generate', args: ['generate', '--layers', '9,4,3', '--seed', '1', '-o', net], inputs: [], outputs: [net], code: ['src/core'] },
      { title: 'process', args: ['process', net, '--config', config, '-o', join(dir, 'p.nnvis')], inputs: [net, config], outputs: [join(dir, 'p.nnvis')], code: ['src/core'] },
    ];
    const run = () => spawnSync(process.execPath, driver(steps, join(dir, 'cache')), { encoding: 'utf8' });
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout.match(/\(cached/g)).toBeNull();
    const second = run();
    expect(second.stdout.match(/\(cached/g)).toHaveLength(2);
    writeFileSync(config, '{"sampling_rate": 6}');
    const third = run();
    expect(third.stdout.match(/\(cached/g)).toHaveLength(1);
    expect(third.stdout).toContain('$ nnvis process');
  });

  it('reports a failed optional step in one line and runs the rest (the demo without a browser)', () => {
    const dir = tempDir();
    const net = join(dir, 'net.nnvis');
    const steps: Step[] = [
      { title: 'render', args: ['render', join(dir, 'missing.nnvis'), '-o', join(dir, 'x.png')], inputs: [], outputs: [join(dir, 'x.png')], code: [], optional: 'the viewer still works' },
      { title: 'generate', args: ['generate', '--layers', '9,4,3', '-o', net], inputs: [], outputs: [net], code: [] },
    ];
    const r = spawnSync(process.execPath, driver(steps, join(dir, 'cache')), { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`skipped: ${join(dir, 'missing.nnvis')}: file not found; the viewer still works\n`);
    expect(r.stderr).toBe('');
    expect(existsSync(net)).toBe(true);
  });

  it('leaves no key and no output when a step is interrupted', async () => {
    const dir = tempDir();
    const net = join(dir, 'big.nnvis');
    expect(spawnSync(process.execPath, ['bin/nnvis.js', 'generate', '--layers', '784,81,49,10', '-o', net]).status).toBe(0);
    const out = join(dir, 'p.nnvis');
    const steps: Step[] = [{ title: 'process', args: ['process', net, '-o', out], inputs: [net], outputs: [out], code: [] }];
    const child = spawn(process.execPath, driver(steps, join(dir, 'cache')), { stdio: 'pipe', detached: true });
    let output = '';
    // awaited from spawn on: a step that ended before the signal still resolves it
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const started = new Promise<void>((r) =>
      child.stdout.on('data', (d) => {
        output += d;
        if (output.includes('$ nnvis process')) r();
      }),
    );
    await started;
    await new Promise((r) => setTimeout(r, 500));
    process.kill(-child.pid!, 'SIGINT'); // Ctrl-C reaches the whole process group
    expect(await exited).not.toBe(0);
    expect(output).toContain('$ nnvis process');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(join(dir, 'cache'))).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
