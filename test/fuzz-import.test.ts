// Property-based fuzzing of the model readers (tfjs, Keras .h5 / .keras, ONNX) and the --data
// reader, in-process: each case starts from a valid fixture (test/fixtures) or valid data,
// mutates it (truncations, bit flips, inflated lengths and dims, random bytes behind a valid
// header, mutated JSON fields and protobuf fields, NaN/Inf patched into weights) and calls the
// reader. Every rejection must be an InputError whose message is one printable line starting
// with the file; every success must be a finite, well-formed network (or dataset). fast-check's
// per-case timeout catches hangs. Case counts and times are printed at the end.

import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import h5wasm, { type Group } from 'h5wasm';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import { ACTIVATIONS, type Network } from '../src/core/network.ts';
import type { Dataset } from '../src/ml/data.ts';
import { loadDataFile } from '../src/ml/data-file.ts';
import { readKerasH5, readKerasZip } from '../src/ml/import/keras.ts';
import { readOnnx } from '../src/ml/import/onnx.ts';
import { readTfjs } from '../src/ml/import/tfjs.ts';
import { extractZipEntry, readZipEntries } from '../src/ml/import/zip.ts';

const { onnx } = onnxProto;
const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): Buffer => readFileSync(join(FIX, name));
const expected = JSON.parse(fixture('tiny-expected.json').toString('utf8')) as { layers: number[]; weights: number[]; biases: number[] };

/** fast-check per-case time limit: a reader that hangs fails the property instead of the suite. */
const CASE_TIMEOUT_MS = 20_000;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

let tmp: string;
const stats = new Map<string, { cases: number; ok: number; ms: number }>();
/** NNVIS_FUZZ_VERBOSE=1 lists the distinct rejection messages per format (file names cut off). */
const VERBOSE = Boolean(process.env.NNVIS_FUZZ_VERBOSE);
const messages = new Map<string, Map<string, number>>();

/** Thousands of small files are written: use RAM-backed /dev/shm where there is one (disk I/O dominated otherwise). */
function scratchRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

beforeAll(() => {
  tmp = mkdtempSync(join(scratchRoot(), 'nnvis-fuzz-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  const rows = [...stats].map(([k, s]) => `${k.padEnd(24)} ${String(s.cases).padStart(6)} cases ${String(s.ok).padStart(5)} parsed ${(s.ms / 1000).toFixed(1).padStart(6)} s`);
  const total = [...stats.values()].reduce((a, s) => a + s.cases, 0);
  console.log(`fuzz-import:\n${rows.join('\n')}\n${'total'.padEnd(24)} ${String(total).padStart(6)} cases`);
  if (VERBOSE) {
    for (const [format, seen] of messages) {
      const list = [...seen].sort((a, b) => b[1] - a[1]).map(([m, n]) => `  ${String(n).padStart(5)}  ${m}`);
      console.log(`${format}: ${seen.size} distinct messages\n${list.join('\n')}`);
    }
  }
});

// ---- oracles ------------------------------------------------------------------------------

function checkRejection(err: unknown, file: string, label: string): void {
  if (!(err instanceof InputError)) throw new Error(`${label}: expected an InputError, got ${(err as Error)?.stack ?? String(err)}`);
  const m = err.message;
  if (UNPRINTABLE.test(m)) throw new Error(`${label}: message has control characters: ${JSON.stringify(m)}`);
  if (!m.startsWith(file)) throw new Error(`${label}: message does not start with the file ${file}: ${m}`);
  if (m.length > 2000) throw new Error(`${label}: message is ${m.length} characters long`);
}

function checkNetwork(net: Network, label: string): void {
  const L = net.layers;
  const bad = (why: string): never => {
    throw new Error(`${label}: parsed into a malformed network: ${why}`);
  };
  if (L.length < 2 || !L.every((n) => Number.isInteger(n) && n > 0)) bad(`layers ${JSON.stringify(L)}`);
  let edges = 0;
  let nodes = 0;
  for (let k = 0; k + 1 < L.length; k++) {
    edges += L[k] * L[k + 1];
    nodes += L[k + 1];
  }
  if (net.weights?.length !== edges) bad(`${net.weights?.length} weights for layers ${L}`);
  if (net.biases?.length !== nodes) bad(`${net.biases?.length} biases for layers ${L}`);
  if (net.activations?.length !== L.length - 1 || !net.activations.every((a) => (ACTIVATIONS as readonly string[]).includes(a))) bad('activations');
  if (net.classNames.length !== L[L.length - 1]) bad('class names');
  for (const arr of [net.weights as Float32Array, net.biases as Float32Array]) for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) bad(`non-finite value at ${i}`);
}

function checkDataset(d: Dataset, classes: number, label: string): void {
  const bad = (why: string): never => {
    throw new Error(`${label}: parsed into a malformed dataset: ${why}`);
  };
  if (!(d.count > 0 && d.features > 0) || d.x.length !== d.count * d.features || d.y.length !== d.count) bad('sizes');
  for (let i = 0; i < d.x.length; i++) if (!Number.isFinite(d.x[i])) bad(`feature ${i} not finite`);
  for (let i = 0; i < d.y.length; i++) if (!(d.y[i] >= 0 && d.y[i] < classes)) bad(`label ${d.y[i]}`);
}

/** Runs one case of `format`: a result must be well-formed, a failure a proper InputError. */
async function attempt<T>(format: string, file: string, run: () => Promise<T>, check: (v: T) => void): Promise<T | undefined> {
  const s = stats.get(format) ?? { cases: 0, ok: 0, ms: 0 };
  stats.set(format, s);
  s.cases++;
  const t0 = performance.now();
  try {
    const v = await run();
    check(v);
    s.ok++;
    return v;
  } catch (err) {
    if (err instanceof Error && err.message.includes('parsed into a malformed')) throw err;
    checkRejection(err, file, `${format} case ${s.cases}`);
    if (VERBOSE) {
      const seen = messages.get(format) ?? new Map<string, number>();
      messages.set(format, seen);
      const m = (err as Error).message.slice(file.length).replace(/\d+/g, 'N').slice(0, 150);
      seen.set(m, (seen.get(m) ?? 0) + 1);
    }
    return undefined;
  } finally {
    s.ms += performance.now() - t0;
  }
}

const model = (format: string, file: string, run: () => Promise<Network>): Promise<Network | undefined> =>
  attempt(format, file, run, (n) => checkNetwork(n, `${format} case ${stats.get(format)?.cases}`));

async function assertProperty<T>(arb: fc.Arbitrary<T>, numRuns: number, predicate: (v: T) => Promise<void>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      await predicate(v);
    }),
    { numRuns, timeout: CASE_TIMEOUT_MS, endOnFailure: true },
  );
}

// ---- byte mutations -----------------------------------------------------------------------

type ByteMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; flips: [number, number][] }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'inflate'; at: number; value: number; wide: boolean }
  | { kind: 'tail'; keep: number; junk: Uint8Array }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array };

const BIG = [0xffffffff, 0x7fffffff, 0x80000000, 0xfffffffe, 1_000_000_000, 0x10000, 0xffff, 1, 0];

/** Mutations of a `len`-byte file; positions are drawn inside [from, to) when given. */
function byteMutation(len: number, from = 0, to = len): fc.Arbitrary<ByteMutation> {
  const pos = fc.integer({ min: from, max: Math.max(from, to - 1) });
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 0, max: len - 1 }) }),
    fc.record({ kind: fc.constant('flip' as const), flips: fc.array(fc.tuple(pos, fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }) }),
    fc.record({ kind: fc.constant('overwrite' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('inflate' as const), at: pos, value: fc.constantFrom(...BIG), wide: fc.boolean() }),
    fc.record({ kind: fc.constant('tail' as const), keep: fc.integer({ min: 0, max: len }), junk: fc.uint8Array({ maxLength: 4096 }) }),
    fc.record({ kind: fc.constant('splice' as const), at: pos, remove: fc.integer({ min: 0, max: 64 }), insert: fc.uint8Array({ maxLength: 64 }) }),
  );
}

/** Applies m to a copy of src; positions beyond a (shorter) src are wrapped into it. */
function mutateBytes(src: Buffer, m: ByteMutation): Buffer {
  const b = Buffer.from(src);
  if (b.length < 8) return Buffer.concat([b, 'junk' in m ? m.junk : Buffer.alloc(0)]);
  const at = (i: number): number => i % b.length;
  switch (m.kind) {
    case 'truncate':
      return b.subarray(0, at(m.at));
    case 'flip':
      for (const [i, bit] of m.flips) b[at(i)] ^= 1 << bit;
      return b;
    case 'overwrite':
      b.set(m.bytes.subarray(0, b.length - at(m.at)), at(m.at));
      return b;
    case 'inflate': {
      const p = Math.min(at(m.at), b.length - (m.wide ? 8 : 4));
      if (m.wide) b.writeBigUInt64LE(BigInt(m.value) * (m.value > 0xffff ? 0x100000000n : 1n), p);
      else b.writeUInt32LE(m.value, p);
      return b;
    }
    case 'tail':
      return Buffer.concat([b.subarray(0, m.keep), m.junk]);
    case 'splice':
      return Buffer.concat([b.subarray(0, at(m.at)), m.insert, b.subarray(at(m.at) + m.remove)]);
  }
}

// ---- JSON mutations -----------------------------------------------------------------------

type Json = unknown;
// 1,000 deep: three mutations can nest it into itself, and 3,000 still fits JSON.stringify's stack
const DEEP = JSON.parse(`${'['.repeat(1000)}1${']'.repeat(1000)}`) as Json;
const EVIL_STRINGS = [
  '',
  '../../../../etc/passwd',
  '/etc/passwd',
  '/dev/zero',
  'evil\n\u001b[31mnnvis: error: fake\u001b[0m\r\nsecond line',
  '\u202eeman\u2066',
  'x'.repeat(5000),
  'model.json',
  '.',
  '..',
  'a\u0000b',
];
const weirdValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, -1, 0, 0.5, 3, 1e9, 1e300, -1e300, 2 ** 53 + 2, [], {}, [1e9, 1e9], [-1, 5], [null, 6], [6, 5, 4], ['a', 1], DEEP, 'relu', 'elu', 'Dense', 'Conv2D', 'float16', 'Functional'),
  fc.constantFrom<Json>(...EVIL_STRINGS),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const jsonMutation = fc.record({ pick: fc.nat(), op: fc.constantFrom('replace', 'replace', 'delete', 'duplicate'), value: weirdValue });
type JsonMutation = { pick: number; op: string; value: Json };

function jsonPaths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (prefix.length > 40) return out;
  if (Array.isArray(v)) v.forEach((x, i) => jsonPaths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) jsonPaths(x, [...prefix, k], out);
  return out;
}

function mutateJson(src: Json, muts: JsonMutation[], focus?: (p: (string | number)[]) => boolean): Json {
  let doc = structuredClone(src);
  for (const m of muts) {
    const all = jsonPaths(doc);
    const paths = focus ? all.filter(focus) : all;
    if (paths.length === 0) continue;
    const path = paths[m.pick % paths.length];
    // values are cloned: fast-check hands out the same constant objects again in later cases
    if (path.length === 0) {
      doc = structuredClone(m.value);
      continue;
    }
    let parent = doc as Record<string | number, Json>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
    const key = path[path.length - 1];
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (m.op === 'duplicate' && Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
    else parent[key] = structuredClone(m.value);
  }
  return doc;
}

// ---- float locations and zips -------------------------------------------------------------

function floatBytes(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

/** Byte offsets of each layer's kernel and bias inside a file that stores them as raw float32. */
function weightRuns(bytes: Buffer): { offset: number; count: number }[] {
  const runs: { offset: number; count: number }[] = [];
  const L = expected.layers;
  let w = 0;
  let b = 0;
  for (let k = 0; k + 1 < L.length; k++) {
    const kernel = expected.weights.slice(w, (w += L[k] * L[k + 1]));
    const bias = expected.biases.slice(b, (b += L[k + 1]));
    for (const values of [kernel, bias]) {
      const at = bytes.indexOf(floatBytes(values));
      if (at >= 0) runs.push({ offset: at, count: values.length });
    }
  }
  return runs;
}

const patchValue = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38, -1e-45, 0);
const weightPatch = fc.record({ run: fc.nat(), index: fc.nat(), value: patchValue });

function patchWeights(src: Buffer, runs: { offset: number; count: number }[], p: { run: number; index: number; value: number }): Buffer {
  const b = Buffer.from(src);
  const r = runs[p.run % runs.length];
  b.writeFloatLE(p.value, r.offset + 4 * (p.index % r.count));
  return b;
}

/** A zip of the entries, each stored or deflated, with correct CRCs and sizes. */
function zip(entries: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(e.deflate ? 8 : 0, 8);
    head.writeUInt32LE(crc32(e.data), 14);
    head.writeUInt32LE(body.length, 18);
    head.writeUInt32LE(e.data.length, 22);
    head.writeUInt16LE(name.length, 26);
    parts.push(head, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(e.deflate ? 8 : 0, 10);
    c.writeUInt32LE(crc32(e.data), 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

// ---- TensorFlow.js ------------------------------------------------------------------------

describe('fuzz: TensorFlow.js model.json + shard', () => {
  const json = JSON.parse(fixture('tiny-tfjs/model.json').toString('utf8')) as Json;
  const shard = fixture('tiny-tfjs/group1-shard1of1.bin');
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = join(tmp, 'tfjs', 'model');
    mkdirSync(dir, { recursive: true });
    file = join(dir, 'model.json');
    // A decoy of the right size beside the model folder: reading it would parse "successfully".
    writeFileSync(join(tmp, 'tfjs', 'decoy.bin'), shard);
  });

  let shardOnDisk: Buffer | undefined;
  const write = (doc: Json | Buffer, bin: Buffer = shard): void => {
    writeFileSync(file, Buffer.isBuffer(doc) ? doc : (JSON.stringify(doc) ?? 'null'));
    if (bin !== shardOnDisk) writeFileSync(join(dir, 'group1-shard1of1.bin'), bin);
    shardOnDisk = bin;
  };

  /** A parse that succeeded must not have used a shard outside the folder. */
  const staysInside = (doc: Json): void => {
    const manifest = (doc as { weightsManifest?: { paths?: unknown[] }[] })?.weightsManifest;
    for (const g of Array.isArray(manifest) ? manifest : []) {
      for (const p of Array.isArray(g?.paths) ? g.paths : []) {
        const rel = relative(dir, resolve(dir, String(p)));
        expect(isAbsolute(String(p)) || rel.startsWith('..')).toBe(false);
      }
    }
  };

  it('mutated model.json fields (topology and manifest)', async () => {
    await assertProperty(fc.array(jsonMutation, { minLength: 1, maxLength: 3 }), 1500, async (muts) => {
      const doc = mutateJson(json, muts);
      write(doc);
      if (await model('tfjs json fields', file, () => readTfjs(file))) staysInside(doc);
    });
  });

  it('mutated weightsManifest entries (paths, shapes, dtypes)', async () => {
    const inManifest = (p: (string | number)[]): boolean => p[0] === 'weightsManifest';
    await assertProperty(fc.array(jsonMutation, { minLength: 1, maxLength: 3 }), 600, async (muts) => {
      const doc = mutateJson(json, muts, inManifest);
      write(doc);
      if (await model('tfjs manifest', file, () => readTfjs(file))) staysInside(doc);
    });
  });

  it('mutated bytes of model.json and of the shard', async () => {
    const text = fixture('tiny-tfjs/model.json');
    const arb = fc.oneof(
      fc.record({ target: fc.constant('json' as const), m: byteMutation(text.length) }),
      fc.record({ target: fc.constant('shard' as const), m: byteMutation(shard.length) }),
    );
    await assertProperty(arb, 700, async ({ target, m }) => {
      if (target === 'json') write(mutateBytes(text, m));
      else write(json, mutateBytes(shard, m));
      await model('tfjs bytes', file, () => readTfjs(file));
    });
  });

  it('NaN / Inf patched into the shard is refused naming the layer', async () => {
    const runs = weightRuns(shard);
    expect(runs.length).toBe(6);
    await assertProperty(weightPatch, 200, async (p) => {
      write(json, patchWeights(shard, runs, p));
      const net = await model('tfjs NaN/Inf', file, () => readTfjs(file));
      if (!Number.isFinite(p.value)) expect(net).toBeUndefined();
    });
  });
});

// ---- Keras HDF5 ---------------------------------------------------------------------------

describe('fuzz: Keras .h5', () => {
  for (const [name, runs] of [
    ['tiny.h5', 450],
    ['tiny-keras3.h5', 350],
  ] as const) {
    it(`mutated bytes of ${name}`, async () => {
      const src = fixture(name);
      const file = join(tmp, `fuzz-${name}`);
      await assertProperty(byteMutation(src.length, 8), runs, async (m) => {
        writeFileSync(file, mutateBytes(src, m));
        await model(`h5 bytes ${name}`, file, () => readKerasH5(file));
      });
    });

    it(`NaN / Inf patched into ${name} is refused naming the layer`, async () => {
      const src = fixture(name);
      const spots = weightRuns(src);
      expect(spots.length).toBe(6);
      const file = join(tmp, `nan-${name}`);
      await assertProperty(weightPatch, 100, async (p) => {
        writeFileSync(file, patchWeights(src, spots, p));
        const net = await model(`h5 NaN/Inf ${name}`, file, () => readKerasH5(file));
        if (!Number.isFinite(p.value)) expect(net).toBeUndefined();
      });
    });
  }

  it('generated .h5 files with garbage attributes, dtypes and shapes', async () => {
    const h5 = await h5wasm.ready;
    h5.activate_throwing_error_handler();
    const config = JSON.parse(
      JSON.stringify({
        class_name: 'Sequential',
        config: {
          name: 'sequential',
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 6], name: 'in' } },
            { class_name: 'Dense', config: { name: 'dense', units: 5, activation: 'relu' } },
            { class_name: 'Dense', config: { name: 'dense_1', units: 3, activation: 'softmax' } },
          ],
        },
      }),
    ) as Json;
    const fixed = (g: Group, name: string, value: string | string[]): void => {
      const list = Array.isArray(value) ? value : [value];
      const dtype = `A${Math.max(1, ...list.map((v) => Buffer.byteLength(v)))}`;
      if (Array.isArray(value)) g.create_attribute(name, list, [list.length], dtype);
      else g.create_attribute(name, value, null, dtype);
    };
    type AttrChoice = { kind: 'ok' | 'absent' | 'ints' | 'string'; n?: number; s?: string };
    const attrValue: fc.Arbitrary<AttrChoice> = fc.oneof(
      fc.constant<AttrChoice>({ kind: 'absent' }),
      fc.record({ kind: fc.constant('ints' as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('string' as const), s: fc.oneof(fc.constantFrom(...EVIL_STRINGS), fc.string({ unit: 'binary-ascii', maxLength: 30 })) }),
    );
    /** Mostly the valid choice, so some files parse and the rest fail one way at a time. */
    const usually = <T,>(ok: T, other: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: fc.constant(ok), weight: 3 }, { arbitrary: other, weight: 1 });
    const arb = fc.record({
      config: usually<AttrChoice>({ kind: 'ok' }, attrValue),
      configMuts: usually<JsonMutation[]>([], fc.array(jsonMutation, { minLength: 1, maxLength: 2 })),
      weightNames: usually<AttrChoice>({ kind: 'ok' }, attrValue),
      dtype: usually('<f4', fc.constantFrom('<f8', '<i4', '<B')),
      kernelShape: usually<number[]>([6, 5], fc.constantFrom<number[]>([5, 6], [30], [1, 30], [6, 5, 1])),
      dropBias: usually(false, fc.constant(true)),
      extra: usually<string | undefined>(undefined, fc.constantFrom('gamma:0', 'kernel:1', '\u001b[2Jkernel')),
    });
    type Choice = typeof arb extends fc.Arbitrary<infer T> ? T : never;
    const file = join(tmp, 'generated.h5');
    let n = 0;
    const generate = (c: Choice): void => {
      const path = `/gen-${n++}.h5`;
      const f = new h5wasm.File(path, 'w');
      const setAttr = (g: Group, name: string, v: AttrChoice, ok: () => void): void => {
        if (v.kind === 'ok') ok();
        else if (v.kind === 'ints') g.create_attribute(name, new Int32Array(v.n ?? 1), [v.n ?? 1], '<i4');
        else if (v.kind === 'string') fixed(g, name, v.s ?? '');
      };
      setAttr(f, 'model_config', c.config, () => fixed(f, 'model_config', JSON.stringify(mutateJson(config, c.configMuts)) ?? 'null'));
      const mw = f.create_group('model_weights');
      for (const [layer, rows, cols] of [
        ['dense', 6, 5],
        ['dense_1', 5, 3],
      ] as const) {
        const g = mw.create_group(layer).create_group(layer);
        const names = [`${layer}/kernel:0`, ...(c.dropBias ? [] : [`${layer}/bias:0`]), ...(c.extra ? [`${layer}/${c.extra}`] : [])];
        setAttr(mw.get(layer) as Group, 'weight_names', c.weightNames, () => fixed(mw.get(layer) as Group, 'weight_names', names));
        const shape = layer === 'dense' ? c.kernelShape : [rows, cols];
        const count = shape.reduce((a, b) => a * b, 1);
        const typed = c.dtype === '<f8' ? new Float64Array(count).fill(0.25) : c.dtype === '<i4' ? new Int32Array(count) : c.dtype === '<B' ? new Uint8Array(count) : new Float32Array(count).fill(0.5);
        g.create_dataset({ name: 'kernel:0', data: typed, shape: [...shape], dtype: c.dtype });
        if (!c.dropBias) g.create_dataset({ name: 'bias:0', data: new Float32Array(cols), shape: [cols] });
        if (c.extra) g.create_dataset({ name: c.extra, data: new Float32Array(cols), shape: [cols] });
      }
      f.close();
      writeFileSync(file, h5.FS.readFile(path));
      h5.FS.unlink(path);
    };
    generate({ config: { kind: 'ok' }, configMuts: [], weightNames: { kind: 'ok' }, dtype: '<f4', kernelShape: [6, 5], dropBias: false, extra: undefined });
    expect((await readKerasH5(file)).layers).toEqual([6, 5, 3]);
    await assertProperty(arb, 250, async (c) => {
      generate(c);
      await model('h5 generated', file, () => readKerasH5(file));
    });
  });
});

// ---- Keras 3 .keras zip -------------------------------------------------------------------

describe('fuzz: Keras .keras zip', () => {
  const src = fixture('tiny.keras');
  const entries = readZipEntries('tiny.keras', src);
  const part = (name: string): Buffer => extractZipEntry('tiny.keras', src, entries.find((e) => e.name === name)!, 1 << 30);
  const config = JSON.parse(part('config.json').toString('utf8')) as Json;
  const weights = part('model.weights.h5');
  const metadata = part('metadata.json');
  const cdStart = src.readUInt32LE(src.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 16);

  it('every single-byte change in the central directory and end record', async () => {
    const file = join(tmp, 'sweep.keras');
    for (let i = cdStart; i < src.length; i++) {
      for (const v of new Set([0x00, 0xff, src[i] ^ 0x80])) {
        const b = Buffer.from(src);
        b[i] = v;
        writeFileSync(file, b);
        await model('keras cd sweep', file, () => readKerasZip(file));
      }
    }
  });

  it('mutated bytes anywhere, and in the zip structures', async () => {
    const file = join(tmp, 'fuzz.keras');
    const arb = fc.oneof(byteMutation(src.length), byteMutation(src.length, cdStart), byteMutation(src.length, 0, 120));
    await assertProperty(arb, 450, async (m) => {
      writeFileSync(file, mutateBytes(src, m));
      await model('keras bytes', file, () => readKerasZip(file));
    });
  });

  it('rebuilt zips (stored or deflated, valid CRCs) with mutated config.json or model.weights.h5', async () => {
    const file = join(tmp, 'rebuilt.keras');
    const runs = weightRuns(weights);
    expect(runs.length).toBe(6);
    const arb = fc.record({
      deflate: fc.boolean(),
      what: fc.oneof(
        fc.record({ kind: fc.constant('config' as const), muts: fc.array(jsonMutation, { minLength: 1, maxLength: 3 }) }),
        fc.record({ kind: fc.constant('weights' as const), m: byteMutation(weights.length, 8) }),
        fc.record({ kind: fc.constant('nan' as const), p: weightPatch }),
        fc.record({ kind: fc.constant('drop' as const), name: fc.constantFrom('config.json', 'model.weights.h5') }),
      ),
    });
    await assertProperty(arb, 350, async ({ deflate, what }) => {
      let cfg = Buffer.from(JSON.stringify(config));
      let w = weights;
      if (what.kind === 'config') cfg = Buffer.from(JSON.stringify(mutateJson(config, what.muts)) ?? 'null');
      else if (what.kind === 'weights') w = mutateBytes(weights, what.m);
      else if (what.kind === 'nan') w = patchWeights(weights, runs, what.p);
      const all = [
        { name: 'metadata.json', data: metadata, deflate },
        { name: 'config.json', data: cfg, deflate },
        { name: 'model.weights.h5', data: w, deflate },
      ].filter((e) => what.kind !== 'drop' || e.name !== what.name);
      writeFileSync(file, zip(all));
      const net = await model('keras rebuilt', file, () => readKerasZip(file));
      if (what.kind === 'nan' && !Number.isFinite(what.p.value)) expect(net).toBeUndefined();
    });
  });
});

// ---- ONNX ---------------------------------------------------------------------------------

describe('fuzz: ONNX', () => {
  for (const name of ['tiny-gemm.onnx', 'tiny-matmul.onnx']) {
    it(`mutated bytes of ${name}`, async () => {
      const src = fixture(name);
      const file = join(tmp, `fuzz-${name}`);
      await assertProperty(byteMutation(src.length), 700, async (m) => {
        writeFileSync(file, mutateBytes(src, m));
        await model(`onnx bytes ${name}`, file, () => readOnnx(file));
      });
    });
  }

  it('NaN / Inf patched into the initializers is refused naming the layer', async () => {
    const file = join(tmp, 'nan.onnx');
    await assertProperty(fc.record({ name: fc.constantFrom('tiny-gemm.onnx', 'tiny-matmul.onnx'), p: weightPatch }), 200, async ({ name, p }) => {
      const src = fixture(name);
      const runs = weightRuns(src);
      expect(runs.length).toBeGreaterThanOrEqual(3); // the Gemm model stores its first kernel transposed
      writeFileSync(file, patchWeights(src, runs, p));
      const net = await model('onnx NaN/Inf', file, () => readOnnx(file));
      if (!Number.isFinite(p.value)) expect(net).toBeUndefined();
    });
  });

  it('mutated protobuf fields: dims, raw data, op types, names, attributes', async () => {
    const evil = fc.oneof(fc.constantFrom(...EVIL_STRINGS), fc.string({ unit: 'binary', maxLength: 30 }));
    const dims = fc.oneof(
      fc.constantFrom<number[]>([1e9, 1e9], [-1, 5], [0, 5], [2 ** 40, 2 ** 40], [2 ** 53, 1], [6, 5], [5, 6], [30], [], [6, 5, 1]),
      fc.array(fc.integer({ min: -3, max: 40 }), { maxLength: 4 }),
    );
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('dims' as const), i: fc.nat(), dims }),
      fc.record({ kind: fc.constant('raw' as const), i: fc.nat(), cut: fc.integer({ min: -8, max: 8 }), junk: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ kind: fc.constant('floats' as const), i: fc.nat(), extra: fc.array(fc.constantFrom(Number.NaN, Infinity, 1, 0), { maxLength: 3 }), drop: fc.nat({ max: 3 }) }),
      fc.record({ kind: fc.constant('dtype' as const), i: fc.nat(), type: fc.integer({ min: 0, max: 25 }) }),
      fc.record({ kind: fc.constant('opType' as const), i: fc.nat(), s: fc.oneof(evil, fc.constantFrom('Gemm', 'MatMul', 'Add', 'Relu', 'Softmax', 'Identity', 'Constant', 'Flatten', 'Conv')) }),
      fc.record({ kind: fc.constant('name' as const), i: fc.nat(), s: evil }),
      fc.record({ kind: fc.constant('input' as const), i: fc.nat(), j: fc.nat({ max: 2 }), s: fc.oneof(evil, fc.constantFrom('x', 'h0', 'h1', 'input', '')) }),
      fc.record({ kind: fc.constant('attr' as const), i: fc.nat(), name: fc.constantFrom('transA', 'transB', 'alpha', 'beta', 'axis'), int: fc.integer({ min: -2, max: 3 }), f: fc.constantFrom(1, 0.5, Number.NaN) }),
      fc.record({ kind: fc.constant('graphInput' as const), dims }),
      fc.record({ kind: fc.constant('output' as const), s: evil }),
      fc.record({ kind: fc.constant('dropNode' as const), i: fc.nat() }),
    );
    const file = join(tmp, 'fields.onnx');
    await assertProperty(fc.record({ name: fc.constantFrom('tiny-gemm.onnx', 'tiny-matmul.onnx'), muts: fc.array(mutation, { minLength: 1, maxLength: 3 }) }), 1000, async ({ name, muts }) => {
      const m = onnx.ModelProto.decode(fixture(name));
      const g = m.graph!;
      const inits = g.initializer!;
      const nodes = g.node!;
      for (const x of muts) {
        const t = inits[('i' in x ? x.i : 0) % inits.length];
        const node = nodes.length > 0 ? nodes[('i' in x ? x.i : 0) % nodes.length] : undefined;
        switch (x.kind) {
          case 'dims':
            t.dims = x.dims;
            break;
          case 'raw': {
            const raw = Buffer.from(t.rawData ?? []);
            t.rawData = x.cut < 0 ? raw.subarray(0, Math.max(0, raw.length + x.cut)) : Buffer.concat([raw, x.junk.subarray(0, x.cut)]);
            break;
          }
          case 'floats':
            t.floatData = [...(t.floatData ?? []).slice(x.drop), ...x.extra];
            break;
          case 'dtype':
            t.dataType = x.type;
            break;
          case 'opType':
            if (node) node.opType = x.s;
            break;
          case 'name':
            if (node) node.name = x.s;
            break;
          case 'input':
            if (node) node.input = [...(node.input ?? [])].map((v, j) => (j === x.j ? x.s : v));
            break;
          case 'attr':
            if (node) node.attribute = [...(node.attribute ?? []), onnx.AttributeProto.create({ name: x.name, i: x.int, f: x.f, type: x.name === 'alpha' || x.name === 'beta' ? 1 : 2 })];
            break;
          case 'graphInput': {
            const shape = g.input?.[0]?.type?.tensorType?.shape;
            if (shape) shape.dim = x.dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d }));
            break;
          }
          case 'output':
            if (g.output?.[0]) g.output[0].name = x.s;
            break;
          case 'dropNode':
            if (nodes.length > 0) nodes.splice(x.i % nodes.length, 1);
            break;
        }
      }
      writeFileSync(file, onnx.ModelProto.encode(m).finish());
      await model('onnx fields', file, () => readOnnx(file));
    });
  });
});

// ---- --data CSV / JSON --------------------------------------------------------------------

describe('fuzz: --data CSV and JSON', () => {
  const CLASSES = 3;
  const rows = Array.from({ length: 24 }, (_, i) => [...Array.from({ length: 6 }, (_, j) => Math.round(Math.sin(i * 7 + j) * 1000) / 1000), i % CLASSES]);
  const csv = `f0,f1,f2,f3,f4,f5,label\n${rows.map((r) => r.join(',')).join('\n')}\n`;
  const json = { x: rows.map((r) => r.slice(0, 6)), y: rows.map((r) => r[6]) } as Json;
  const cell = fc.oneof(
    fc.constantFrom('NaN', 'Infinity', '-inf', '', ' ', 'abc', '1e999', '-1e999', '0x10', '"1"', '１', '1e-400', '3', '-1', '2.5', '2', '\u001b[2J', '1;2'),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  const csvMutation = fc.oneof(
    fc.record({ kind: fc.constant('cell' as const), line: fc.nat(), col: fc.nat({ max: 7 }), value: cell }),
    fc.record({ kind: fc.constant('dropCell' as const), line: fc.nat() }),
    fc.record({ kind: fc.constant('addCell' as const), line: fc.nat(), value: cell }),
    fc.record({ kind: fc.constant('line' as const), line: fc.nat(), value: fc.string({ unit: 'binary-ascii', maxLength: 60 }) }),
    fc.record({ kind: fc.constant('header' as const), value: fc.oneof(fc.constantFrom(...EVIL_STRINGS), fc.string({ unit: 'binary', maxLength: 40 })) }),
    fc.record({ kind: fc.constant('bytes' as const), m: byteMutation(csv.length) }),
  );

  it('mutated CSV', async () => {
    const file = join(tmp, 'data.csv');
    await assertProperty(fc.array(csvMutation, { minLength: 1, maxLength: 3 }), 1100, async (muts) => {
      let text = csv;
      for (const m of muts) {
        const lines = text.split('\n');
        const at = 'line' in m ? m.line % lines.length : 0;
        const cells = lines[at].split(',');
        if (m.kind === 'cell') cells[m.col % Math.max(1, cells.length)] = m.value;
        else if (m.kind === 'dropCell') cells.pop();
        else if (m.kind === 'addCell') cells.push(m.value);
        if (m.kind === 'cell' || m.kind === 'dropCell' || m.kind === 'addCell') lines[at] = cells.join(',');
        else if (m.kind === 'line') lines.splice(at, 0, m.value);
        else if (m.kind === 'header') lines[0] = m.value;
        text = m.kind === 'bytes' ? mutateBytes(Buffer.from(text), m.m).toString('latin1') : lines.join('\n');
      }
      writeFileSync(file, text, 'latin1');
      await attempt('data csv', file, async () => loadDataFile(file, CLASSES), (d) => checkDataset(d, CLASSES, 'data csv'));
    });
  });

  it('mutated JSON', async () => {
    const file = join(tmp, 'data.json');
    const text = Buffer.from(JSON.stringify(json));
    const arb = fc.oneof(
      fc.record({ kind: fc.constant('fields' as const), muts: fc.array(jsonMutation, { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('bytes' as const), m: byteMutation(text.length) }),
    );
    await assertProperty(arb, 900, async (c) => {
      writeFileSync(file, c.kind === 'fields' ? (JSON.stringify(mutateJson(json, c.muts)) ?? 'null') : mutateBytes(text, c.m));
      await attempt('data json', file, async () => loadDataFile(file, CLASSES), (d) => checkDataset(d, CLASSES, 'data json'));
    });
  });
});
