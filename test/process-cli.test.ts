import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNetworkFile } from '../src/cli/network-file.ts';
import { applyConfig, defaultConfig } from '../src/core/config.ts';
import { encodeNetwork } from '../src/core/container.ts';
import { processNetwork } from '../src/core/process/run.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';

let dir: string;
let net: string;

beforeAll(() => {
  dir = tempDir();
  net = join(dir, 'net.nnvis');
  expect(runCli(['generate', '--layers', '25,9,4', '--seed', '2', '-o', net]).code).toBe(0);
});

describe('nnvis process', () => {
  it('writes a processed network with stats, identical to the in-process engine (Node worker runner)', () => {
    const out = join(dir, 'p.nnvis');
    const r = runCli(['process', net, '--set', 'sampling_rate=5', '--seed', '3', '--stats', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*p\.nnvis: 261 edges \(0 pruned\), \d+ samples/);
    expect(r.stdout).toMatch(/ink \(voxels, before → after\)\s+\d+ → \d+/);
    expect(r.stdout).toMatch(/class separation/);
    const processed = readNetworkFile(out);
    expect(processed.edgeSamples!.length).toBeGreaterThan(0);
    const config = applyConfig('processing', defaultConfig('processing'), { sampling_rate: 5 }, 'test');
    const direct = encodeNetwork(processNetwork(readNetworkFile(net), config, { seed: 3 }).network);
    expect(Buffer.compare(readFileSync(out), direct)).toBe(0);
  });

  it.each(['wasm', 'js'])('gives byte-identical output for any thread count (%s kernels)', (backend) => {
    const outs = [1, 2, 3].map((threads) => {
      const out = join(dir, `threads-${backend}-${threads}.nnvis`);
      expect(runCli(['process', net, '--set', 'sampling_rate=5', '--backend', backend, '--threads', String(threads), '-o', out]).code).toBe(0);
      return readFileSync(out);
    });
    expect(Buffer.compare(outs[0], outs[1])).toBe(0);
    expect(Buffer.compare(outs[0], outs[2])).toBe(0);
  });

  it('runs the JS reference kernels with --backend js, records the backend, and names the choices for a wrong one', () => {
    const backendOf = (file: string) => (readNetworkFile(file).meta.processing as { backend: string }).backend;
    const js = join(dir, 'js.nnvis');
    const wasm = join(dir, 'wasm.nnvis');
    expect(runCli(['process', net, '--set', 'sampling_rate=5', '--backend', 'js', '-o', js]).code).toBe(0);
    expect(runCli(['process', net, '--set', 'sampling_rate=5', '-o', wasm]).code).toBe(0);
    expect(backendOf(js)).toBe('js');
    expect(backendOf(wasm)).toBe('wasm');
    expect(readNetworkFile(js).edgeSamples!.length).toBeGreaterThan(0);
    expect(expectOneLineError(runCli(['process', net, '--backend', 'gpu', '-o', join(dir, 'gpu.nnvis')]))).toMatch(/--backend.*'gpu'.*wasm, js/);
  });

  it('rejects bad configs, corrupt files and networks over the memory limit with one line', () => {
    const out = join(dir, 'bad.nnvis');
    expect(expectOneLineError(runCli(['process', net, '--set', 'sampling_rate=50', '-o', out]))).toMatch(/sampling_rate.*\[5, 20\]/);
    expect(expectOneLineError(runCli(['process', net, '--set', 'edge_importance_type=7', '-o', out]))).toMatch(/edge_importance_type.*\[0, 3\]/);
    expect(expectOneLineError(runCli(['process', net, '--threads', '0', '-o', out]))).toMatch(/--threads must be an integer in \[1, 64\]/);
    const corrupt = join(dir, 'corrupt.nnvis');
    writeFileSync(corrupt, 'not a network');
    expect(expectOneLineError(runCli(['process', corrupt, '-o', out]))).toContain(corrupt);
    const big = join(dir, 'big.nnvis');
    expect(runCli(['generate', '--layers', '784,256,128,10', '-o', big]).code).toBe(0);
    const msg = expectOneLineError(runCli(['process', big, '--max-memory', '0.2', '-o', out]));
    expect(msg).toMatch(/784-256-128-10 \(234752 edges, [\d.]+ million samples\) needs about [\d.]+ GB, over the 0\.20 GB limit/);
    expect(msg).toContain('prune_percentage');
    expect(() => readFileSync(out)).toThrow();
  });
});
