import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';

describe('nnvis CLI', () => {
  it('--help lists the working subcommands', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    const commands = [...r.stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
    expect(commands).toEqual(['generate', 'inspect', 'import', 'predict', 'train', 'importance', 'evaluate', 'process', 'view', 'render', 'compare', 'help']);
  });

  it('generate writes byte-identical files for the same seed', () => {
    const dir = tempDir();
    const a = join(dir, 'a.nnvis');
    const b = join(dir, 'b.nnvis');
    expect(runCli(['generate', '--layers', '20,9,4', '--seed', '7', '-o', a]).code).toBe(0);
    expect(runCli(['generate', '--layers', '20,9,4', '--seed', '7', '-o', b]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(runCli(['generate', '--layers', '20,9,4', '--seed', '8', '-o', b]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(false);
  });

  it('inspect describes a generated file', () => {
    const dir = tempDir();
    const file = join(dir, 'n.nnvis');
    runCli(['generate', '--layers', '20,9,4', '--seed', '3', '--set', 'layer_width=0.5', '-o', file]);
    const r = runCli(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind:        network + importance');
    expect(r.stdout).toContain('layers:      20 - 9 - 4');
    expect(r.stdout).toContain('edges:       216');
    expect(r.stdout).toContain('classes:     4');
    expect(r.stdout).toContain('"layer_width":0.5');
    const json = JSON.parse(runCli(['inspect', '--json', file]).stdout);
    expect(json.nodeImportanceRanges[2]).toEqual({ min: 0, max: 1 });
    expect(json.meta.provenance.seed).toBe(3);
  });

  it('imports a real model and inspects it', () => {
    const dir = tempDir();
    const out = join(dir, 'm.nnvis');
    const r = runCli(['import', 'test/fixtures/tiny-gemm.onnx', '--class-names', 'cat,dog,bird', '-o', out]);
    expect(r.code).toBe(0);
    const s = runCli(['inspect', out]).stdout;
    expect(s).toContain('kind:        network (weights only)');
    expect(s).toContain('layers:      6 - 5 - 4 - 3');
    expect(s).toContain('cat, dog, bird');
  });

  it.each([
    [['generate', '--layers', '784,x', '-o', 'OUT'], '--layers'],
    [['generate', '--layers', '784', '-o', 'OUT'], '--layers needs at least'],
    [['generate', '--seed', '-1', '-o', 'OUT'], '--seed'],
    [['generate', '--set', 'sampling_rate=30', '-o', 'OUT'], "'sampling_rate' = 30"],
    [['generate', '--set', 'colour=red', '-o', 'OUT'], "unknown processing key 'colour'"],
    [['generate', '--config', 'missing.json', '-o', 'OUT'], 'missing.json: config file not found'],
    [['import', 'test/fixtures/convtranspose.onnx', '-o', 'OUT'], 'ConvTranspose'],
    [['import', 'test/fixtures/depthwise.h5', '-o', 'OUT'], 'has type DepthwiseConv2D'],
    [['import', 'test/fixtures/tiny-gemm.onnx', '--class-names', 'a,b', '-o', 'OUT'], '--class-names'],
    [['inspect', 'nowhere.nnvis'], 'nowhere.nnvis: file not found'],
  ])('fails cleanly: %j', (args, text) => {
    const dir = tempDir();
    const out = join(dir, 'out.nnvis');
    const line = expectOneLineError(runCli(args.map((a) => (a === 'OUT' ? out : a))));
    expect(line).toContain(text);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a corrupted file in one line', () => {
    const dir = tempDir();
    const file = join(dir, 'n.nnvis');
    runCli(['generate', '--layers', '5,3', '-o', file]);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    expect(expectOneLineError(runCli(['inspect', file]))).toContain(file);
  });

  it('reads --config files', () => {
    const dir = tempDir();
    const cfg = join(dir, 'p.json');
    writeFileSync(cfg, JSON.stringify({ layer_distance: 0.25 }));
    const out = join(dir, 'n.nnvis');
    expect(runCli(['generate', '--layers', '4,2', '--config', cfg, '-o', out]).code).toBe(0);
    expect(runCli(['inspect', out]).stdout).toContain('"layer_distance":0.25');
    writeFileSync(cfg, JSON.stringify({ layer_distance: 2 }));
    expect(expectOneLineError(runCli(['generate', '--layers', '4,2', '--config', cfg, '-o', join(dir, 'x.nnvis')]))).toContain(`${cfg}: processing key 'layer_distance' = 2`);
    expect(existsSync(join(dir, 'x.nnvis'))).toBe(false);
  });
});
