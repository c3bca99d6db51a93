// `nnvis import` readers against tiny real model files (made by scripts/make-fixtures.ts).

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import h5wasm, { type Group } from 'h5wasm';
import onnxProto from 'onnx-proto';
import { InputError } from '../src/core/errors.ts';
import { biasView, kernelView, type Network } from '../src/core/network.ts';
import { loadDataFile, MAX_DATA_BYTES } from '../src/ml/data-file.ts';
import { importModel, SUPPORTED_FORMATS } from '../src/ml/import/index.ts';
import { expectOneLineError, runCli, tempDir } from './helpers.ts';

const { onnx } = onnxProto;
const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const expected = JSON.parse(readFileSync(join(FIX, 'tiny-expected.json'), 'utf8')) as {
  layers: number[];
  activations: string[];
  weights: number[];
  biases: number[];
  sampleInput: number[];
};

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nnvis-import-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

async function inputError(p: Promise<unknown> | (() => unknown)): Promise<InputError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).not.toMatch(UNPRINTABLE);
    return err as InputError;
  }
  throw new Error('expected an InputError, got a result');
}

/** Pure forward pass of the imported network (double precision accumulation). */
function forward(net: Network, input: readonly number[]): number[] {
  let x = [...input];
  net.activations?.forEach((act, k) => {
    const w = kernelView(net, k);
    const b = biasView(net, k);
    const rows = net.layers[k];
    const cols = net.layers[k + 1];
    let z = Array.from({ length: cols }, (_, c) => {
      let s = b[c];
      for (let r = 0; r < rows; r++) s += x[r] * w[r * cols + c];
      return s;
    });
    if (act === 'relu') z = z.map((v) => Math.max(0, v));
    else if (act === 'sigmoid') z = z.map((v) => 1 / (1 + Math.exp(-v)));
    else if (act === 'tanh') z = z.map(Math.tanh);
    else if (act === 'softmax') {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, v) => a + v, 0);
      z = e.map((v) => v / sum);
    }
    x = z;
  });
  return x;
}

/** Copies fixture files into a fresh folder under tmp; returns that folder. */
function copyFixtures(name: string, files: string[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(join(FIX, f), join(dir, f.split('/').pop() as string));
  return dir;
}

function floatBytes(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

describe('importModel on real fixtures', () => {
  const cases: [string, string][] = [
    ['tiny-tfjs/model.json', 'tiny-tfjs/model.json (tfjs layers model)'],
    ['tiny.h5', 'tiny.h5 (keras h5)'],
    ['tiny-keras3.h5', 'tiny-keras3.h5 (keras h5)'],
    ['tiny.keras', 'tiny.keras (keras v3)'],
    ['tiny-gemm.onnx', 'tiny-gemm.onnx (onnx)'],
    ['tiny-matmul.onnx', 'tiny-matmul.onnx (onnx)'],
  ];
  it.each(cases)('%s gives the exact net', async (file, source) => {
    const net = await importModel(join(FIX, file));
    expect(net.layers).toEqual(expected.layers);
    expect(net.activations).toEqual(expected.activations);
    expect(net.classNames).toEqual(['0', '1', '2']);
    // Bit-exact: Float32Array equality compares every element with Object.is-like strictness.
    expect(net.weights).toEqual(Float32Array.from(expected.weights));
    expect(net.biases).toEqual(Float32Array.from(expected.biases));
    expect(net.meta.provenance).toEqual({ tool: 'nnvis', command: 'import', source });
  });

  it('reads a tfjs model from its folder too', async () => {
    const net = await importModel(join(FIX, 'tiny-tfjs'));
    expect(net.weights).toEqual(Float32Array.from(expected.weights));
  });

  it('the tfjs fixture loads in real tfjs and predicts what our network computes', async () => {
    await tf.setBackend('cpu');
    const dir = join(FIX, 'tiny-tfjs');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const shard = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
    const model = await tf.loadLayersModel({
      load: async () => ({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength) as ArrayBuffer,
      }),
    });
    const inputs = [expected.sampleInput, expected.sampleInput.map((v, i) => v * (i % 2 ? -2 : 1.5))];
    const out = model.predict(tf.tensor2d(inputs)) as tf.Tensor;
    const predicted = (await out.array()) as number[][];
    out.dispose();
    model.dispose();
    const net = await importModel(join(dir, 'model.json'));
    inputs.forEach((input, i) => {
      const ours = forward(net, input);
      ours.forEach((v, c) => expect(predicted[i][c]).toBeCloseTo(v, 6));
    });
  });
});

describe('unsupported models are rejected with the layer, its type and the supported list', () => {
  it.each([
    ['depthwise.h5', 'depthwise_conv2d_1', 'DepthwiseConv2D'],
    ['convtranspose.onnx', 'deconv_0', 'ConvTranspose'],
    ['attention-tfjs/model.json', 'mha', 'MultiHeadAttention'],
  ])('%s', async (file, layer, type) => {
    const err = await inputError(importModel(join(FIX, file)));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`'${layer}'`);
    expect(err.message).toContain(`type ${type}`);
    expect(err.message).toContain('supported');
  });

  it('unsupported activations name the layer and the activation', async () => {
    const dir = copyFixtures('elu', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.modelTopology.config.layers[1].config.activation = 'mish';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/layer 'dense_1' uses activation 'mish'.*supported activations/);
  });

  it('branching functional topologies are rejected', async () => {
    const dir = copyFixtures('branch', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const inbound = (name: string): unknown => [[[name, 0, 0, {}]]];
    json.modelTopology = {
      class_name: 'Functional',
      config: {
        name: 'branchy',
        layers: [
          { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, 6] }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'dense', config: { name: 'dense', units: 5, activation: 'relu' }, inbound_nodes: inbound('in') },
          { class_name: 'Dense', name: 'dense_1', config: { name: 'dense_1', units: 4, activation: 'relu' }, inbound_nodes: inbound('dense') },
          { class_name: 'Dense', name: 'dense_2', config: { name: 'dense_2', units: 3, activation: 'softmax' }, inbound_nodes: inbound('dense') },
        ],
        input_layers: [['in', 0, 0]],
        output_layers: [['dense_2', 0, 0]],
      },
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/layer 'dense' feeds 2 layers \(dense_1, dense_2\)/);
  });

  it('branching ONNX graphs are rejected', async () => {
    const model = onnx.ModelProto.decode(readFileSync(join(FIX, 'tiny-matmul.onnx')));
    model.graph?.node?.push(onnx.NodeProto.create({ opType: 'Relu', name: 'side', input: ['h0'], output: ['side_out'] }));
    const file = join(tmp, 'branch.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/branch\.onnx: tensor 'h0' feeds 2 nodes \(matmul1, side\)/);
  });

  it('kernel shapes that do not chain are rejected', async () => {
    const dir = copyFixtures('units', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[2].shape = [4, 5]; // dense_1 kernel claims [4, 5] instead of [5, 4]
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/layer 'dense_1' kernel has shape \[4, 5\] but the layer has 4 units/);
  });

  it('non-float32 tfjs weights are rejected', async () => {
    const dir = copyFixtures('f16', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[0].quantization = { dtype: 'int4' };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/weight 'dense\/kernel' is quantized as "int4"; allowed/);
  });
});

describe('corrupt or missing inputs are one-line InputErrors naming the file', () => {
  it('missing file', async () => {
    const err = await inputError(importModel(join(tmp, 'absent.h5')));
    expect(err.message).toContain('absent.h5: file not found');
  });

  it('unknown extension lists the supported formats', async () => {
    const file = join(tmp, 'model.pt');
    writeFileSync(file, 'not a model');
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/model\.pt: unknown model format '\.pt'; supported: .*\.json.*\.h5.*\.keras.*\.onnx/);
    expect(SUPPORTED_FORMATS).toContain('.onnx');
  });

  it('truncated .h5', async () => {
    const file = join(tmp, 'truncated.h5');
    const bytes = readFileSync(join(FIX, 'tiny.h5'));
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await inputError(importModel(file));
    expect(err.message).toContain('truncated.h5:');
  });

  it.each([
    ['text.h5', 'hello', 'text.h5: is neither an HDF5 file nor a zip archive'],
    ['garbage.onnx', 'this is not an onnx model, just text\n', 'garbage.onnx: is not a valid ONNX model'],
    ['broken.json', '{"modelTopology": ', 'broken.json: not valid JSON'],
  ])('a %s holding text', async (name, text, message) => {
    const file = join(tmp, name);
    writeFileSync(file, text);
    const err = await inputError(importModel(file));
    expect(err.message).toContain(message);
  });

  it('truncated .keras zip', async () => {
    const file = join(tmp, 'truncated.keras');
    const bytes = readFileSync(join(FIX, 'tiny.keras'));
    writeFileSync(file, bytes.subarray(0, bytes.length - 40));
    const err = await inputError(importModel(file));
    expect(err.message).toContain('truncated.keras:');
  });

  it('missing tfjs shard', async () => {
    const dir = copyFixtures('noshard', ['tiny-tfjs/model.json']);
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/model\.json: weight shard 'group1-shard1of1\.bin' .* cannot be read \(missing/);
  });

  it('truncated tfjs shard', async () => {
    const dir = copyFixtures('shortshard', ['tiny-tfjs/model.json']);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), readFileSync(join(FIX, 'tiny-tfjs/group1-shard1of1.bin')).subarray(0, 100));
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/model\.json: weight shards .* hold 100 bytes but the manifest needs 296/);
  });

  it('NaN in a tfjs shard names the layer and the index', async () => {
    const dir = copyFixtures('nan-tfjs', ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
    const shard = readFileSync(join(dir, 'group1-shard1of1.bin'));
    // dense_1/kernel starts after dense/kernel (30 floats) and dense/bias (5 floats); poison element 7.
    shard.writeFloatLE(Number.NaN, 4 * (30 + 5 + 7));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), shard);
    const err = await inputError(importModel(join(dir, 'model.json')));
    expect(err.message).toMatch(/model\.json: layer 'dense_1' kernel has a non-finite value \(NaN\) at index 7 \(row 1, column 3\)/);
  });

  it('Infinity in a .h5 bias names the layer and the index', async () => {
    const file = join(tmp, 'inf.h5');
    const bytes = readFileSync(join(FIX, 'tiny.h5'));
    const bias2 = expected.biases.slice(9, 12); // dense_2 bias: after 5 + 4 biases
    const at = bytes.indexOf(floatBytes(bias2));
    expect(at).toBeGreaterThan(0);
    bytes.writeFloatLE(Number.POSITIVE_INFINITY, at + 4);
    writeFileSync(file, bytes);
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/inf\.h5: layer 'dense_2' bias has a non-finite value \(Infinity\) at index 1/);
  });

  it('NaN in an ONNX rawData initializer', async () => {
    const file = join(tmp, 'nan.onnx');
    const bytes = readFileSync(join(FIX, 'tiny-matmul.onnx'));
    const kernel0 = expected.weights.slice(0, 30);
    const at = bytes.indexOf(floatBytes(kernel0));
    expect(at).toBeGreaterThan(0);
    bytes.writeFloatLE(Number.NaN, at + 4 * 29);
    writeFileSync(file, bytes);
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/nan\.onnx: layer 'matmul0' kernel has a non-finite value \(NaN\) at index 29/);
  });
});

// ---- regression tests for crafted and corrupt inputs (one per reported case) ---------------

/** A copy of the tfjs fixture in a fresh folder, model.json changed by `edit`; returns model.json. */
function tfjsCopy(name: string, edit: (json: { weightsManifest: { paths: string[]; weights: { shape: number[] }[] }[]; modelTopology: { config: { layers: { class_name: string; config: { name: string } }[] } } }) => void): string {
  const dir = copyFixtures(name, ['tiny-tfjs/model.json', 'tiny-tfjs/group1-shard1of1.bin']);
  const file = join(dir, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/** `nnvis import MODEL -o OUT`: one error line, exit 1, no output file. Returns the line. */
function cliRejects(model: string): string {
  const out = join(dirname(model), 'out.nnvis');
  const line = expectOneLineError(runCli(['import', model, '-o', out], 120_000));
  expect(line).toMatch(/^nnvis: error: /);
  expect(line).not.toMatch(UNPRINTABLE);
  expect(existsSync(out)).toBe(false);
  return line;
}

describe('1. tfjs weight shards must stay inside the model folder and match the manifest', () => {
  const shardPath = (p: string) => (j: Parameters<Parameters<typeof tfjsCopy>[1]>[0]) => {
    j.weightsManifest[0].paths = [p];
  };

  it('a ../ traversal path is refused before anything is read (CLI)', () => {
    const file = tfjsCopy('trav', shardPath('../../../../../../../../etc/passwd'));
    expect(cliRejects(file)).toBe(
      `nnvis: error: ${file}: weight shard '../../../../../../../../etc/passwd' (weightsManifest[0].paths[0]) points outside the model's folder; shards must be files inside the model's folder, named relative to it`,
    );
  });

  it('an absolute path is refused (CLI)', () => {
    const file = tfjsCopy('abs', shardPath('/etc/passwd'));
    expect(cliRejects(file)).toContain(`${file}: weight shard '/etc/passwd' (weightsManifest[0].paths[0]) is an absolute path;`);
  });

  it('/dev/zero as a shard is refused without reading it (CLI)', () => {
    const file = tfjsCopy('zero', shardPath('/dev/zero'));
    expect(cliRejects(file)).toContain(`${file}: weight shard '/dev/zero' (weightsManifest[0].paths[0]) is an absolute path;`);
  });

  it('a symlink in the folder to /dev/zero is refused after resolving it (CLI)', () => {
    const file = tfjsCopy('zerolink', shardPath('zero.bin'));
    symlinkSync('/dev/zero', join(dirname(file), 'zero.bin'));
    expect(cliRejects(file)).toContain(`${file}: weight shard 'zero.bin' (weightsManifest[0].paths[0]) resolves to /dev/zero, outside the model's folder (a symlink?);`);
  });

  it('a symlink to a valid shard outside the folder is refused too', async () => {
    const outside = join(tmp, 'outside-shard.bin');
    copyFileSync(join(FIX, 'tiny-tfjs/group1-shard1of1.bin'), outside);
    const file = tfjsCopy('outlink', shardPath('link.bin'));
    symlinkSync(outside, join(dirname(file), 'link.bin'));
    const err = await inputError(importModel(file));
    expect(err.message).toContain(`weight shard 'link.bin' (weightsManifest[0].paths[0]) resolves to ${outside}, outside the model's folder`);
  });

  it('a shard larger than the manifest needs is refused (CLI)', () => {
    const file = tfjsCopy('big', () => {});
    writeFileSync(join(dirname(file), 'group1-shard1of1.bin'), Buffer.alloc(300));
    expect(cliRejects(file)).toBe(
      `nnvis: error: ${file}: weight shards of weightsManifest[0] (group1-shard1of1.bin) hold 300 bytes but the manifest needs 296; shards must hold exactly the listed weights`,
    );
  });

  it('a directory or FIFO named as a shard is refused without blocking', async () => {
    const file = tfjsCopy('dirshard', shardPath('sub'));
    mkdirSync(join(dirname(file), 'sub'));
    expect((await inputError(importModel(file))).message).toContain("weight shard 'sub' (weightsManifest[0].paths[0]) is not a regular file");
    const fifoFile = tfjsCopy('fifoshard', shardPath('pipe.bin'));
    if (spawnSync('mkfifo', [join(dirname(fifoFile), 'pipe.bin')]).status === 0) {
      expect((await inputError(importModel(fifoFile))).message).toContain("weight shard 'pipe.bin' (weightsManifest[0].paths[0]) is not a regular file");
    }
  });

  it('huge shapes are refused up front with their size', async () => {
    const file = tfjsCopy('hugeshape', (j) => {
      j.weightsManifest[0].weights[0].shape = [1e9, 1e9];
    });
    const err = await inputError(importModel(file));
    expect(err.message).toContain("weight 'dense/kernel' has shape [1000000000, 1000000000] (1.00e+18 values); nnvis reads at most 100000000 weights per model");
  });
});

describe('2. strings from files are escaped and capped in messages', () => {
  const EVIL = 'Evil\n\u001b[31mnnvis: error: fake\u001b[0m\r\nsecond line';
  const SHOWN = "'Evil\\n\\x1b[31mnnvis: error: fake\\x1b[0m\\r\\nsecond line'";

  function onnxWithOp(opType: string): string {
    const model = onnx.ModelProto.decode(readFileSync(join(FIX, 'tiny-matmul.onnx')));
    model.graph!.node![1].opType = opType;
    const dir = mkdtempSync(join(tmp, 'evil-onnx-'));
    const file = join(dir, 'evil.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    return file;
  }

  it('a multi-line ONNX op type with terminal escape codes stays on one escaped line (CLI)', () => {
    const file = onnxWithOp(EVIL);
    const line = cliRejects(file);
    expect(line).toContain(`${file}: node 'add0' has type ${SHOWN}, which nnvis cannot show; supported: Gemm, MatMul`);
    expect(line).not.toContain('\u001b');
  });

  it('a 100,000-character op type is cut', async () => {
    const err = await inputError(importModel(onnxWithOp('X'.repeat(100_000))));
    expect(err.message.length).toBeLessThan(500);
    expect(err.message).toContain(`'${'X'.repeat(60)}…'`);
  });

  it('ONNX node names, Keras/tfjs layer names and class names are escaped', async () => {
    const model = onnx.ModelProto.decode(readFileSync(join(FIX, 'tiny-matmul.onnx')));
    model.graph!.node![1].opType = 'LSTM';
    model.graph!.node![1].name = EVIL;
    const file = join(tmp, 'evil-name.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    expect((await inputError(importModel(file))).message).toContain(`node ${SHOWN} has type LSTM`);

    const named = tfjsCopy('evil-layer', (j) => {
      j.modelTopology.config.layers[1].config.name = EVIL;
      j.modelTopology.config.layers[1].class_name = 'Conv\u001b[2J2D';
    });
    expect((await inputError(importModel(named))).message).toContain(`layer ${SHOWN} has type 'Conv\\x1b[2J2D', which nnvis cannot show`);
  });

  it('CSV cells and JSON keys from --data files are escaped', async () => {
    const csv = join(tmp, 'evil.csv');
    writeFileSync(csv, `a,b,label\n1,2,0\n1,\u001b[2J\u202e,1\n`);
    expect((await inputError(() => loadDataFile(csv, 3))).message).toBe(`${csv}: feature 1 of sample 1 (line 3) is not a finite number ('\\x1b[2J\\u202e')`);
    const json = join(tmp, 'evil.json');
    writeFileSync(json, JSON.stringify({ [EVIL]: 1 }));
    expect((await inputError(() => loadDataFile(json, 3))).message).toContain("found keys 'Evil\\n\\x1b[31mnnvis: error: fake\\x1b[…'");
  });
});

describe('3. corrupt .keras zips are InputErrors, never crashes', () => {
  const src = readFileSync(join(FIX, 'tiny.keras'));
  const cd = src.readUInt32LE(src.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 16);

  it('one changed byte in the central directory (extra-field length) (CLI)', () => {
    // Crashed with `internal error: The value of "offset" is out of range` (exit 2).
    const bytes = Buffer.from(src);
    bytes[cd + 31] = 0xff;
    const dir = mkdtempSync(join(tmp, 'cd-'));
    const file = join(dir, 'broken.keras');
    writeFileSync(file, bytes);
    expect(cliRejects(file)).toBe(
      `nnvis: error: ${file}: is not a readable zip archive (central directory entry 0 name and extra fields lies outside the archive; truncated?); a .keras file is a zip`,
    );
  });

  /** tiny.keras with model.weights.h5 deflated; `edit` changes its central directory entry. */
  function deflated(edit: (entry: { method: number; size: number }) => void, data?: Buffer): Buffer {
    const weights = data ?? Buffer.alloc(1 << 20);
    const body = deflateRawSync(weights);
    const entry = { method: 8, size: weights.length };
    edit(entry);
    const name = Buffer.from('model.weights.h5');
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(entry.method, 8);
    head.writeUInt32LE(crc32(weights), 14);
    head.writeUInt32LE(body.length, 18);
    head.writeUInt32LE(entry.size, 22);
    head.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(entry.method, 10);
    c.writeUInt32LE(crc32(weights), 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(entry.size, 24);
    c.writeUInt16LE(name.length, 28);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + name.length, 12);
    end.writeUInt32LE(30 + name.length + body.length, 16);
    return Buffer.concat([head, name, body, c, name, end]);
  }

  it.each([
    ['a deflate bomb (1 MiB declared as 100 bytes)', (e: { size: number }) => (e.size = 100), "zip entry 'model.weights.h5' inflates to more than its declared 100 bytes; corrupt?"],
    ['a declared size over the limit', (e: { size: number }) => (e.size = 0xfffffff0), "zip entry 'model.weights.h5' is 4294967280 bytes uncompressed; nnvis reads entries of at most 1073741824 bytes"],
    ['an unsupported compression method', (e: { method: number }) => (e.method = 12), "zip entry 'model.weights.h5' uses compression method 12; only stored (0) and deflate (8) are supported"],
  ])('%s', async (_name, edit, message) => {
    const file = join(tmp, 'bomb.keras');
    // config.json is read first, so this zip holds only the weights: put them in a zip with a config.
    const zip = deflated(edit);
    writeFileSync(file, zip);
    const err = await inputError(importModel(file));
    expect(err.message).toMatch(/zip has no 'config\.json'|zip entry/);
    // With a config present, the weights entry itself is checked.
    const { readZipEntries, extractZipEntry } = await import('../src/ml/import/zip.ts');
    const entry = readZipEntries(file, zip)[0];
    expect((await inputError(() => extractZipEntry(file, zip, entry, 1 << 30))).message).toBe(`${file}: ${message}`);
  });

  it('truncated inflate data', async () => {
    const { readZipEntries, extractZipEntry } = await import('../src/ml/import/zip.ts');
    const zip = deflated(() => {}, Buffer.from('x'.repeat(5000)));
    const entry = readZipEntries('t.keras', zip)[0];
    entry.compressedSize -= 10;
    expect((await inputError(() => extractZipEntry('t.keras', zip, entry, 1 << 30))).message).toMatch(/^t\.keras: zip entry 'model\.weights\.h5' (cannot be inflated|inflates to|has \d+ bytes, expected)/);
  });
});

describe('4. no temporary files: HDF5 is read from memory', () => {
  const leftovers = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith('tsx-'));

  it('importing .keras and .h5 writes nothing under the temp directory (CLI)', () => {
    const tmpDir = tempDir();
    const out = tempDir();
    for (const model of ['tiny.keras', 'tiny.h5']) {
      const r = spawnSync(process.execPath, ['bin/nnvis.js', 'import', join(FIX, model), '-o', join(out, `${model}.nnvis`)], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmpDir } });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(leftovers(tmpDir)).toEqual([]);
    rmSync(tmpDir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('Ctrl-C during a .keras import leaves nothing under the temp directory (CLI)', async () => {
    // Ctrl-C at several moments, from start-up to the end of the import (about 0.8 s here):
    // the exit is awaited from spawn on, so a run that finished first is counted, not waited for.
    const tmpDir = tempDir();
    const outcomes: string[] = [];
    for (const delay of [100, 400, 700, 1000, 1500]) {
      const out = join(tempDir(), 'x.nnvis');
      const child = spawn(process.execPath, ['bin/nnvis.js', 'import', join(FIX, 'tiny.keras'), '-o', out], { env: { ...process.env, TMPDIR: tmpDir }, stdio: 'ignore' });
      const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(signal ?? String(code))));
      const timer = setTimeout(() => child.kill('SIGINT'), delay);
      outcomes.push(await exited);
      clearTimeout(timer);
      expect(leftovers(tmpDir)).toEqual([]);
      // interrupted: no output at all; finished: the whole file
      if (outcomes.at(-1) !== '0') expect(existsSync(out)).toBe(false);
    }
    expect(outcomes.some((o) => o === 'SIGINT' || o === '130')).toBe(true);
    rmSync(tmpDir, { recursive: true, force: true });
  }, 60_000);
});

describe('5. other corrupt inputs', () => {
  /** A Keras 2 .h5 like tiny.h5 made in memory with h5wasm, then changed by `edit`. */
  async function h5With(name: string, edit: (f: Group) => void): Promise<string> {
    const h5 = await h5wasm.ready;
    const path = `/${name}`;
    const f = new h5wasm.File(path, 'w');
    edit(f);
    f.close();
    const file = join(tmp, name);
    writeFileSync(file, h5.FS.readFile(path));
    h5.FS.unlink(path);
    return file;
  }
  const config = JSON.stringify({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'dense', units: 3, batch_input_shape: [null, 2] } }] } });

  it('.h5 whose model_config is not a string', async () => {
    const file = await h5With('intconfig.h5', (f) => f.create_attribute('model_config', new Int32Array([1, 2]), [2], '<i4'));
    expect((await inputError(importModel(file))).message).toBe(`${file}: attribute 'model_config' of '/' is integer; expected a string`);
  });

  it('.h5 whose model_config is garbage', async () => {
    const file = await h5With('badconfig.h5', (f) => f.create_attribute('model_config', '{"class_name": \u001b', null, 'A16'));
    expect((await inputError(importModel(file))).message).toMatch(/badconfig\.h5: attribute 'model_config' is not valid JSON \(/);
  });

  it('.h5 with integer weights or garbage weight_names', async () => {
    const file = await h5With('intweights.h5', (f) => {
      f.create_attribute('model_config', config, null, `A${config.length}`);
      const g = f.create_group('model_weights').create_group('dense');
      g.create_attribute('weight_names', ['dense/kernel:0'], [1], 'A14');
      g.create_group('dense').create_dataset({ name: 'kernel:0', data: new Int32Array(6), shape: [2, 3], dtype: '<i4' });
    });
    expect((await inputError(importModel(file))).message).toBe(
      `${file}: layer 'dense' kernel ('/model_weights/dense/dense/kernel:0') has dtype integer32; nnvis reads float32 or float64 weights only`,
    );
    const names = await h5With('intnames.h5', (f) => {
      f.create_attribute('model_config', config, null, `A${config.length}`);
      f.create_group('model_weights').create_group('dense').create_attribute('weight_names', new Int32Array([7]), [1], '<i4');
    });
    expect((await inputError(importModel(names))).message).toBe(`${names}: attribute 'weight_names' of '/model_weights/dense' is integer; expected a string`);
  });

  it('ONNX raw_data shorter than its dims', async () => {
    const model = onnx.ModelProto.decode(readFileSync(join(FIX, 'tiny-matmul.onnx')));
    const w = model.graph!.initializer!.find((t) => t.name === 'W0')!;
    w.rawData = (w.rawData as Uint8Array).subarray(0, 12);
    const file = join(tmp, 'short-raw.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    expect((await inputError(importModel(file))).message).toBe(`${file}: node 'matmul0' weight B ('W0') has 12 bytes of raw data, shape [6, 5] needs 120`);
  });

  it('ONNX dims of 1e9 × 1e9 are refused up front with the size, without allocating', async () => {
    const model = onnx.ModelProto.decode(readFileSync(join(FIX, 'tiny-matmul.onnx')));
    model.graph!.initializer!.find((t) => t.name === 'W0')!.dims = [1e9, 1e9];
    const file = join(tmp, 'huge-dims.onnx');
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const err = await inputError(importModel(file));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(process.memoryUsage().rss - before).toBeLessThan(200e6);
    expect(err.message).toBe(`${file}: node 'matmul0' weight B ('W0') has shape [1000000000, 1000000000] (1.00e+18 values); nnvis reads at most 100000000 weights per model`);
  });

  it('NaN in .keras weights names the layer', async () => {
    const { readZipEntries } = await import('../src/ml/import/zip.ts');
    const bytes = Buffer.from(src());
    const e = readZipEntries('tiny.keras', bytes).find((x) => x.name === 'model.weights.h5')!;
    const start = e.localOffset + 30 + bytes.readUInt16LE(e.localOffset + 26) + bytes.readUInt16LE(e.localOffset + 28);
    const data = bytes.subarray(start, start + e.size);
    const at = data.indexOf(floatBytes(expected.biases.slice(0, 5)));
    expect(at).toBeGreaterThan(0);
    data.writeFloatLE(Number.NaN, at + 8);
    // Stored entry: fix both CRCs so the zip is valid and only the value is wrong.
    bytes.writeUInt32LE(crc32(data), e.localOffset + 14);
    const cd = bytes.readUInt32LE(bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 16);
    for (let p = cd; p < bytes.length - 46; p++) if (bytes.readUInt32LE(p) === 0x02014b50 && bytes.readUInt32LE(p + 42) === e.localOffset) bytes.writeUInt32LE(crc32(data), p + 16);
    const file = join(tmp, 'nan.keras');
    writeFileSync(file, bytes);
    expect((await inputError(importModel(file))).message).toBe(`${file}: layer 'dense' bias has a non-finite value (NaN) at index 2`);
    function src(): Buffer {
      return readFileSync(join(FIX, 'tiny.keras'));
    }
  });

  it('model files that are FIFOs or huge are refused without reading', async () => {
    const fifo = join(tmp, 'pipe.onnx');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      expect((await inputError(importModel(fifo))).message).toBe(`${fifo}: is not a regular file (a device, FIFO or socket); give the model file (.json (TensorFlow.js), .h5/.hdf5 (Keras HDF5), .keras (Keras 3), .onnx (ONNX))`);
    }
    const huge = join(tmp, 'huge.onnx');
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 31); // sparse: no disk used
    expect((await inputError(importModel(huge))).message).toBe(`${huge}: is 2147483648 bytes; nnvis reads a model file of at most 1073741824 bytes`);
    rmSync(huge);
  });

  describe('--data files', () => {
    const data = (name: string, text: string): string => {
      const file = join(tmp, name);
      writeFileSync(file, text);
      return file;
    };
    it.each([
      ['NaN feature', 'nan.csv', 'a,b,label\n1,2,0\n1,NaN,1\n', "feature 1 of sample 1 (line 3) is not a finite number ('NaN')"],
      ['empty cell', 'empty.csv', '1,2,0\n1,,1\n', 'feature 1 of sample 1 (line 2) is not a finite number (empty)'],
      ['ragged row', 'ragged.csv', '1,2,0\n1,2,3,1\n', 'sample 1 (line 2) has 3 features, the first has 2 (every line: the features, then the label)'],
      ['a second non-numeric line', 'text.csv', 'a,b,label\n1,2,0\nx,y,1\n', "feature 0 of sample 1 (line 3) is not a finite number ('x')"],
      ['label out of range', 'label.csv', '1,2,0\n1,2,3\n', 'sample 1 (line 2) has label 3; allowed: integers 0–2'],
      ['fractional label', 'frac.csv', '1,2,0\n1,2,1.5\n', 'sample 1 (line 2) has label 1.5; allowed: integers 0–2'],
      ['beyond float32', 'f32.csv', '1,2,0\n1,1e39,1\n', "feature 1 of sample 1 (line 2) is '1e39', beyond the float32 range (±3.403e+38)"],
      ['hex is not a number', 'hex.csv', '1,2,0\n1,0x10,1\n', "feature 1 of sample 1 (line 2) is not a finite number ('0x10')"],
      ['JSON null', 'null.json', 'null', 'expected {"x": [[features…], …], "y": [labels…]}, got null'],
      ['JSON x not a list', 'xstr.json', '{"x": "abc", "y": []}', '"x" is "abc", not a list; expected {"x": [[features…], …], "y": [labels…]}'],
      ['JSON ragged', 'ragged.json', '{"x": [[1, 2], [1]], "y": [0, 1]}', 'sample 1 has 1 features, the first has 2'],
      ['JSON string feature', 'strf.json', '{"x": [[1, "2"]], "y": [0]}', 'feature 1 of sample 0 is not a finite number ("2")'],
      ['JSON beyond float32', 'f32.json', '{"x": [[1, -1e300]], "y": [0]}', 'feature 1 of sample 0 is -1e+300, beyond the float32 range (±3.403e+38)'],
      ['JSON label out of range', 'label.json', '{"x": [[1, 2]], "y": [-1]}', 'sample 0 has label -1; allowed: integers 0–2'],
      ['JSON empty features', 'nofeat.json', '{"x": [[]], "y": [0]}', 'x[0] has no features'],
    ])('%s', async (_name, file, text, message) => {
      const path = data(file, text);
      expect((await inputError(() => loadDataFile(path, 3))).message).toBe(`${path}: ${message}`);
    });

    it('a BOM before a header-less CSV keeps the first sample', () => {
      const d = loadDataFile(data('bom.csv', '\ufeff1,2,0\n3,4,1\n'), 3);
      expect(d.count).toBe(2);
      expect(Array.from(d.x)).toEqual([1, 2, 3, 4]);
    });

    it('huge files, devices and directories are refused before reading', async () => {
      const huge = data('huge.csv', '');
      truncateSync(huge, MAX_DATA_BYTES + 1);
      expect((await inputError(() => loadDataFile(huge, 3))).message).toBe(`${huge}: is ${MAX_DATA_BYTES + 1} bytes; nnvis reads a data file of at most ${MAX_DATA_BYTES} bytes`);
      rmSync(huge);
      const zero = join(tmp, 'zero.csv');
      symlinkSync('/dev/zero', zero);
      expect((await inputError(() => loadDataFile(zero, 3))).message).toBe(`${zero}: is not a regular file (a device, FIFO or socket); expected a data file`);
      const dir = join(tmp, 'dir.json');
      mkdirSync(dir);
      expect((await inputError(() => loadDataFile(dir, 3))).message).toBe(`${dir}: is a directory; expected a data file`);
    });
  });
});
