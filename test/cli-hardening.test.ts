// Regression tests for hostile or mistaken flags, paths and sizes: every one ends in one
// `nnvis: error:` line (exit 1) and leaves nothing behind; Ctrl-C / SIGTERM during a write
// leaves no temp file.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNetwork } from '../src/core/container.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, nodeCount, type Network } from '../src/core/network.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';

const isRoot = process.getuid?.() === 0;
const noTemps = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('.tmp-'));

/** A small trained-looking network (weights, biases, activations) with or without importance. */
function smallNetwork(layers: number[], importance: boolean): Network {
  const net = generateNetwork({ layers, seed: 1, layerDistance: 0.5, layerWidth: 1 });
  const e = edgeCount(layers);
  const weights = Float32Array.from({ length: e }, (_, i) => Math.sin(i + 1) * 0.5);
  const biases = new Float32Array(nodeCount(layers) - layers[0]);
  const activations = layers.slice(1).map((_, k) => (k === layers.length - 2 ? 'softmax' : 'relu')) as Network['activations'];
  const base = { layers, classNames: net.classNames, weights, biases, activations, meta: {} };
  return importance ? { ...base, nodeImportance: net.nodeImportance, edgeImportance: net.edgeImportance } : base;
}

function csv(features: number, classes: number, rows = 60): string {
  const lines = [[...Array.from({ length: features }, (_, j) => `f${j}`), 'label'].join(',')];
  for (let i = 0; i < rows; i++) lines.push([...Array.from({ length: features }, (_, j) => ((j % classes === i % classes ? 1 : 0) + ((i * 7 + j) % 10) / 30).toFixed(3)), i % classes].join(','));
  return lines.join('\n');
}

describe('4: networks too big for memory are refused up front', () => {
  it.each([
    [['generate', '--layers', '100000,100000'], '--layers 100000,100000: a random network 100000-100000 (10000000000 edges) makes a 120.00 GB .nnvis file, over the 2 GiB (2.15 GB) nnvis can read back; use fewer or smaller layers'],
    [['generate', '--layers', '20000,20000,10'], '--layers 20000,20000,10: a random network 20000-20000-10 (400200000 edges) needs about 3.31 GB of memory, over the 3.00 GB limit; use fewer or smaller layers, or raise --max-memory'],
    [['train', '--layers', '100000,100000'], '--layers 100000,100000: training 784-100000-100000-10 (10079400000 edges) makes a 40.32 GB .nnvis file, over the 2 GiB'],
    [['train', '--layers', '10000,10000', '--max-memory', '500'], 'GB of TensorFlow.js (WebAssembly) memory, over its 4.29 GB limit; use fewer or smaller hidden layers'],
    [['train', '--layers', '6000,6000'], 'needs about 3.90 GB of memory, over the 3.00 GB limit; use fewer or smaller hidden layers, or raise --max-memory'],
  ])('%j', (args, text) => {
    const dir = tempDir();
    const started = Date.now();
    const line = expectOneLineError(runCli([...args, '-o', join(dir, 'out.nnvis')]));
    expect(line).toContain(text);
    expect(line).not.toContain('internal error');
    expect(readdirSync(dir)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(30_000); // refused before any work
  });

  it('importance, evaluate and import check --max-memory too', () => {
    const dir = tempDir();
    const model = join(dir, 'm.nnvis');
    const imp = join(dir, 'imp.nnvis');
    const data = join(dir, 'd.csv');
    writeFileSync(model, encodeNetwork(smallNetwork([6, 5, 3], false)));
    writeFileSync(imp, encodeNetwork(smallNetwork([6, 5, 3], true)));
    writeFileSync(data, csv(6, 3));
    const importance = expectOneLineError(runCli(['importance', model, '--data', data, '--max-memory', '0.1', '-o', join(dir, 'o.nnvis')]));
    expect(importance).toMatch(/^nnvis: error: .*m\.nnvis: importance of 6-5-3 \(45 edges\) on 1 thread needs about 0\.\d\d GB of memory, over the 0\.10 GB limit; use a smaller model, or raise --max-memory$/);
    const evaluate = expectOneLineError(runCli(['evaluate', model, imp, '--methods', 'edge', '--max-memory', '0.1', '-o', join(dir, 'eval')]));
    expect(evaluate).toMatch(/m\.nnvis: evaluating 6-5-3 \(45 edges\) with 1 method needs about 0\.\d\d GB of memory, over the 0\.10 GB limit; evaluate a smaller model, or raise --max-memory$/);
    const imported = expectOneLineError(runCli(['import', 'test/fixtures/tiny-gemm.onnx', '--max-memory', '0.1', '-o', join(dir, 'i.nnvis')]));
    expect(imported).toContain('tiny-gemm.onnx: importing 0.0 MB of model files needs about 0.15 GB of memory, over the 0.10 GB limit');
    expect(readdirSync(dir).sort()).toEqual(['d.csv', 'imp.nnvis', 'm.nnvis']);
  });
});

/** Spawns `nnvis args`, sends `signal` as soon as a temp file shows up in `dir`. */
function interrupt(args: string[], dir: string, signal: NodeJS.Signals): Promise<{ code: number | null; sawTemp: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/nnvis.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let sawTemp = false;
    const poll = setInterval(() => {
      if (!sawTemp && noTemps(dir).length > 0) {
        sawTemp = true;
        child.kill(signal);
      }
    }, 2);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, sawTemp, stderr });
    });
  });
}

describe('6: Ctrl-C or SIGTERM during the write leaves no temp file', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during generate', async (signal, exitCode) => {
    const dir = tempDir();
    const out = join(dir, 'out.nnvis');
    // 256 MB to write: long enough to catch the temp file in the act
    const r = await interrupt(['generate', '--layers', '8000,8000,10', '-o', out], dir, signal);
    expect(r.sawTemp).toBe(true);
    expect(r.code).toBe(exitCode);
    expect(noTemps(dir)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('SIGINT while a folder output is staged removes the temp folder', async () => {
    const dir = tempDir();
    const script = join(dir, 'write-dir.mts');
    const fsModule = new URL('../src/cli/fs.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { writeFilesAtomic } from ${JSON.stringify(fsModule)};\n` +
        `const big = new Uint8Array(256 * 1024 * 1024);\n` +
        `await writeFilesAtomic(${JSON.stringify(join(dir, 'results'))}, new Map([['a.json', '{}'], ['b.bin', big], ['c.bin', big]]));\n`,
    );
    const r = await new Promise<{ code: number | null; sawTemp: boolean }>((resolve) => {
      const child = spawn(process.execPath, ['bin/run-ts.js', script], { stdio: 'ignore' });
      let sawTemp = false;
      const poll = setInterval(() => {
        if (!sawTemp && existsSync(join(dir, 'results.tmp-' + child.pid, 'a.json'))) {
          sawTemp = true;
          child.kill('SIGINT');
        }
      }, 2);
      child.on('exit', (code) => {
        clearInterval(poll);
        resolve({ code, sawTemp });
      });
    });
    expect(r.sawTemp).toBe(true);
    expect(r.code).toBe(130);
    expect(readdirSync(dir)).toEqual(['write-dir.mts']);
  }, 120_000);
});

describe('writeFilesAtomic into an existing folder', () => {
  it('replaces the named files, keeps the others, leaves no temp files', async () => {
    const { writeFilesAtomic } = await import('../src/cli/fs.ts');
    const dir = tempDir();
    writeFileSync(join(dir, 'mine.txt'), 'keep');
    writeFileSync(join(dir, 'results.json'), 'old');
    await writeFilesAtomic(dir, new Map([['results.json', 'new'], ['results.csv', 'a,b\n']]));
    expect(readdirSync(dir).sort()).toEqual(['mine.txt', 'results.csv', 'results.json']);
    expect(readFileSync(join(dir, 'results.json'), 'utf8')).toBe('new');
    expect(readFileSync(join(dir, 'mine.txt'), 'utf8')).toBe('keep');
    const link = join(dir, 'link.json');
    symlinkSync(join(dir, 'mine.txt'), link);
    await expect(writeFilesAtomic(dir, new Map([['results.json', 'newer'], ['link.json', 'x']]))).rejects.toThrow(/link\.json: is a symbolic link/);
    expect(readFileSync(join(dir, 'results.json'), 'utf8')).toBe('new'); // all or nothing
    expect(noTemps(dir)).toEqual([]);
  });
});

describe('7: unusable output and config paths get one line', () => {
  const dir = tempDir();
  const existingDir = join(dir, 'out');
  mkdirSync(existingDir);
  const file = join(dir, 'file.nnvis');
  writeFileSync(file, 'not a folder');
  const cases: [string, string[], string][] = [
    ['-o DIR', ['-o', existingDir], `-o ${existingDir}: is a directory; give a file path such as ${existingDir}/net.nnvis`],
    ['-o DIR/', ['-o', `${existingDir}/`], `-o ${existingDir}/: ends in a slash, which names a directory; give a file path such as ${existingDir}/net.nnvis`],
    ['-o FILE/x', ['-o', join(file, 'x.nnvis')], `-o ${file}/x.nnvis: ${file} is not a directory; give a path inside a directory`],
    ["-o ''", ['-o', ''], "-o '': empty path; give a file path such as net.nnvis"],
    ['-o /proc/x', ['-o', '/proc/x.nnvis'], '-o /proc/x.nnvis: cannot write'],
    ['--config DIR', ['--config', existingDir, '-o', join(dir, 'a.nnvis')], `--config ${existingDir}: is a directory; give a JSON file such as configs/processing.json`],
    ['--config /dev/zero', ['--config', '/dev/zero', '-o', join(dir, 'a.nnvis')], '--config /dev/zero: is not a regular file; give a JSON file such as configs/processing.json'],
  ];
  it.each(cases)('%s', (_name, args, text) => {
    const line = expectOneLineError(runCli(['generate', '--layers', '4,2', ...args]));
    expect(line.startsWith(`nnvis: error: ${text}`), line).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['file.nnvis', 'out']);
    expect(readdirSync(existingDir)).toEqual([]);
  });

  // chmod does not stop root: there, a read-only bind mount in a private mount namespace does.
  it('a read-only directory', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const args = ['generate', '--layers', '4,2', '-o', join(ro, 'x.nnvis')];
    if (isRoot) {
      const shell = `mount --bind ${ro} ${ro} && mount -o remount,ro,bind ${ro} && exec "$@"`;
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', shell, 'sh', process.execPath, 'bin/nnvis.js', ...args], { encoding: 'utf8' });
      expect(expectOneLineError({ code: r.status, stdout: r.stdout, stderr: r.stderr })).toMatch(new RegExp(`^nnvis: error: -o ${ro}/x.nnvis: cannot write`));
    } else {
      chmodSync(ro, 0o555);
      try {
        expect(expectOneLineError(runCli(args))).toBe(`nnvis: error: -o ${ro}/x.nnvis: cannot write in ${ro} (permission denied)`);
      } finally {
        chmodSync(ro, 0o755);
      }
    }
    expect(readdirSync(ro)).toEqual([]);
  });

  it('train and evaluate check their outputs before any work', () => {
    expect(expectOneLineError(runCli(['train', '-o', existingDir]))).toBe(`nnvis: error: -o ${existingDir}: is a directory; give a file path such as ${existingDir}/model.nnvis`);
    expect(expectOneLineError(runCli(['train', '--export-tfjs', file, '-o', join(dir, 'm.nnvis')]))).toBe(
      `nnvis: error: --export-tfjs ${file}: exists and is a file; --export-tfjs takes an output directory`,
    );
  });
});

describe('8: an existing output that is not a regular file is refused', () => {
  it('symbolic links, FIFOs and sockets stay as they are', async () => {
    const dir = tempDir();
    const target = join(dir, 'target.nnvis');
    writeFileSync(target, 'keep me');
    const link = join(dir, 'link.nnvis');
    symlinkSync(target, link);
    const fifo = join(dir, 'fifo.nnvis');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const socket = join(dir, 'socket.nnvis');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      expect(expectOneLineError(runCli(['generate', '--layers', '4,2', '-o', link]))).toBe(
        `nnvis: error: -o ${link}: is a symbolic link (to ${target}); nnvis replaces only regular files, so give the target path or another name`,
      );
      expect(expectOneLineError(runCli(['generate', '--layers', '4,2', '-o', fifo]))).toBe(`nnvis: error: -o ${fifo}: is a named pipe (FIFO); nnvis replaces only regular files, so give another path`);
      expect(expectOneLineError(runCli(['generate', '--layers', '4,2', '-o', socket]))).toBe(`nnvis: error: -o ${socket}: is a socket; nnvis replaces only regular files, so give another path`);
    } finally {
      server.close();
    }
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(noTemps(dir)).toEqual([]);
  });

  // As root a rename would replace a device node, so root tests on a node of its own (mknod);
  // others cannot replace /dev/null anyway, so they test on it directly.
  it('a device node', () => {
    const dir = tempDir();
    const device = isRoot ? join(dir, 'null.nnvis') : '/dev/null';
    if (isRoot) expect(spawnSync('mknod', [device, 'c', '1', '3']).status).toBe(0);
    expect(expectOneLineError(runCli(['generate', '--layers', '4,2', '-o', device]))).toBe(
      `nnvis: error: -o ${device}: is a character device; nnvis replaces only regular files, so give another path`,
    );
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir)).toEqual(isRoot ? ['null.nnvis'] : []);
  });
});

describe('9: an output that is one of the inputs is refused', () => {
  it('import, process, generate --config and hard links', () => {
    const dir = tempDir();
    const onnx = join(dir, 'm.onnx');
    copyFileSync('test/fixtures/tiny-gemm.onnx', onnx);
    const before = readFileSync(onnx);
    expect(expectOneLineError(runCli(['import', onnx, '-o', onnx]))).toBe(
      `nnvis: error: -o ${onnx}: is the same file as the input; writing it would overwrite that input, so give another output path`,
    );
    expect(readFileSync(onnx).equals(before)).toBe(true);

    const net = join(dir, 'a.nnvis');
    expect(runCli(['generate', '--layers', '4,2', '-o', net]).code).toBe(0);
    const bytes = readFileSync(net);
    expect(expectOneLineError(runCli(['process', net, '-o', net]))).toContain(`-o ${net}: is the same file as the input;`);
    const hard = join(dir, 'hard.nnvis');
    linkSync(net, hard);
    expect(expectOneLineError(runCli(['process', net, '-o', hard]))).toBe(
      `nnvis: error: -o ${hard}: is the same file as the input ${net}; writing it would overwrite that input, so give another output path`,
    );
    expect(readFileSync(net).equals(bytes)).toBe(true);

    const cfg = join(dir, 'p.json');
    writeFileSync(cfg, '{}');
    expect(expectOneLineError(runCli(['generate', '--config', cfg, '-o', cfg]))).toContain(`-o ${cfg}: is the same file as the input;`);
    expect(readFileSync(cfg, 'utf8')).toBe('{}');

    const tfjs = join(dir, 'tfjs');
    mkdirSync(tfjs);
    for (const f of readdirSync('test/fixtures/tiny-tfjs')) copyFileSync(join('test/fixtures/tiny-tfjs', f), join(tfjs, f));
    const shard = readdirSync(tfjs).find((f) => f.endsWith('.bin'))!;
    expect(expectOneLineError(runCli(['import', join(tfjs, 'model.json'), '-o', join(tfjs, shard)]))).toContain(`is the same file as the input`);
    expect(noTemps(dir)).toEqual([]);
  });
});

describe('11: --set and config values are reported as written', () => {
  it.each([
    ['sampling_rate=1e309', "--set: processing key 'sampling_rate' = 1e309 is invalid; allowed: a number in [5, 20]"],
    ['sampling_rate=-1e309', "--set: processing key 'sampling_rate' = -1e309 is invalid; allowed: a number in [5, 20]"],
    ['sampling_rate=NaN', "--set: processing key 'sampling_rate' = NaN is invalid; allowed: a number in [5, 20]"],
    ['sampling_rate=Infinity', "--set: processing key 'sampling_rate' = Infinity is invalid; allowed: a number in [5, 20]"],
    ['sampling_rate=1e400000', "--set: processing key 'sampling_rate' = 1e400000 is invalid; allowed: a number in [5, 20]"],
    ['sampling_rate=ten', "--set: processing key 'sampling_rate' = ten is invalid; allowed: a number in [5, 20]"],
    ['sampling_rate=', "--set: processing key 'sampling_rate' = '' (empty) is invalid; allowed: a number in [5, 20]"],
    ['smoothing_iterations=8.5', "--set: processing key 'smoothing_iterations' = 8.5 is invalid; allowed: an integer in [0, 16]"],
    ['sampling\u001b[31m=1', "--set: unknown processing key 'sampling\\x1b[31m'; allowed keys:"],
  ])('--set %s', (pair, text) => {
    const dir = tempDir();
    const line = expectOneLineError(runCli(['generate', '--layers', '4,2', '--set', pair, '-o', join(dir, 'o.nnvis')]));
    expect(line.startsWith(`nnvis: error: ${text}`)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a config file number is quoted from the file', () => {
    const dir = tempDir();
    const cfg = join(dir, 'p.json');
    writeFileSync(cfg, '{"layer_width": 1e309, "sampling_rate": 10}');
    expect(expectOneLineError(runCli(['generate', '--layers', '4,2', '--config', cfg, '-o', join(dir, 'o.nnvis')]))).toBe(
      `nnvis: error: ${cfg}: processing key 'layer_width' = 1e309 is invalid; allowed: a number in (0, 1]`,
    );
  });
});

describe('12: a reader that closes the pipe early', () => {
  it('`nnvis render --help | head` stops quietly with the SIGPIPE status, no stack trace', async () => {
    const child = spawn(process.execPath, ['bin/nnvis.js', 'render', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });
});
