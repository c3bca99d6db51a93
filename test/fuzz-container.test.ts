// Property-based fuzzing of the .nnvis reader (docs/FORMAT.md): valid files of every kind
// and both versions, then truncated, bit-flipped, inflated, NaN-patched, re-ordered and
// filled with random bytes. The contract for every input:
// - either it decodes to a network that the writer accepts and that round-trips,
// - or it is refused with an InputError (never a TypeError / RangeError) whose message is
//   one printable line starting with the file label;
// - and never slowly (every decode here is timed).
// Where the expected answer is known (a NaN in a crafted file, a checksum left stale), the
// exact message is checked too.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readNetworkFile } from '../src/cli/network-file.ts';
import { decodeNetwork, encodeNetwork } from '../src/core/container.ts';
import { crc32 } from '../src/core/crc32.ts';
import { InputError } from '../src/core/errors.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, nodeCount, type Network } from '../src/core/network.ts';
import { createRng } from '../src/core/random.ts';
import { printable } from '../src/core/text.ts';

const SRC = 'fuzz.nnvis';
/** A file name as hostile as the files: the label in messages must be escaped too. */
const EVIL_SRC = 'dir/\u001b[2Jevil\n\u202e.nnvis';
/** Far above any decode of these small files; catches hangs and runaway loops. */
const SLOW_MS = 1000;

// ---------------------------------------------------------------------------------------
// Byte helpers (the container layout, independent of src/core/container.ts)

type Entry = { name: string; dtype: string; length: number; offset: number; crc32?: number };
type Header = Record<string, unknown> & { chunks: Entry[] };

const align16 = (n: number) => Math.ceil(n / 16) * 16;
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, true);
const headerOf = (b: Uint8Array): Header => JSON.parse(new TextDecoder().decode(b.subarray(16, 16 + u32(b, 12)))) as Header;
const chunkBytes = (b: Uint8Array, c: Entry) => b.subarray(c.offset, c.offset + c.length * 4);
const MAGIC = [0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a];

/** A header and chunk data laid out as the encoder does, with checksums from version 2 on. */
function layout(header: Header, data: Uint8Array[], version: number): Uint8Array {
  const entries = header.chunks.map(({ name, dtype, length }, i) =>
    version >= 2 ? { name, dtype, length, offset: 0, crc32: crc32(data[i]) } : { name, dtype, length, offset: 0 },
  );
  for (let start = 0; ; ) {
    let pos = start;
    entries.forEach((e, i) => {
      e.offset = pos;
      pos = align16(pos + data[i].length);
    });
    const text = new TextEncoder().encode(JSON.stringify({ ...header, version, chunks: entries }));
    if (align16(16 + text.length) !== start) {
      start = align16(16 + text.length);
      continue;
    }
    const out = new Uint8Array(pos);
    out.set(MAGIC);
    setU32(out, 8, version);
    setU32(out, 12, text.length);
    out.set(text, 16);
    entries.forEach((e, i) => out.set(data[i], e.offset));
    return out;
  }
}

const relayout = (b: Uint8Array, version: number) => {
  const h = headerOf(b);
  return layout(h, h.chunks.map((c) => chunkBytes(b, c)), version);
};
const seal = (b: Uint8Array) => relayout(b, 2);
const toV1 = (b: Uint8Array) => relayout(b, 1);

/** Header object edit; chunk data moves by whole 16-byte steps when the header grows, spaces pad it when it shrinks. */
function rewrite(bytes: Uint8Array, edit: (h: Header) => void): Uint8Array {
  const dataStart = align16(16 + u32(bytes, 12));
  const header = headerOf(bytes);
  edit(header);
  const grown = new TextEncoder().encode(JSON.stringify(header)).length;
  for (let shift = Math.max(0, align16(16 + grown) - dataStart); ; shift += 16) {
    const h = structuredClone(header);
    if (Array.isArray(h.chunks)) for (const c of h.chunks) if (typeof c?.offset === 'number') c.offset += shift;
    let text = JSON.stringify(h);
    const length = new TextEncoder().encode(text).length;
    if (align16(16 + length) > dataStart + shift) continue;
    if (shift === 0) text += ' '.repeat(dataStart - 16 - length);
    const encoded = new TextEncoder().encode(text);
    const out = new Uint8Array(bytes.length + shift);
    out.set(bytes.subarray(0, 16));
    setU32(out, 12, encoded.length);
    out.set(encoded, 16);
    out.set(bytes.subarray(dataStart), dataStart + shift);
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// Valid starting points: every kind, with and without the optional chunks, both versions

function withWeights(net: Network, seed: number): Network {
  const rng = createRng(seed);
  const { layers } = net;
  return {
    ...net,
    activations: layers.slice(1).map((_, i) => (i === layers.length - 2 ? 'softmax' : 'relu')),
    weights: Float32Array.from({ length: edgeCount(layers) }, () => (rng() - 0.5) * 4),
    biases: Float32Array.from({ length: nodeCount(layers) - layers[0] }, () => rng() - 0.5),
  };
}

function processed(layers: number[], seed: number): Network {
  const net = generateNetwork({ layers, seed, layerDistance: 1, layerWidth: 1 });
  const rng = createRng(seed + 1);
  const e = edgeCount(layers);
  const offsets = new Uint32Array(e + 1);
  for (let i = 0; i < e; i++) offsets[i + 1] = offsets[i] + Math.floor(rng() * 4); // 0–3 samples per edge
  const samples = Float32Array.from({ length: offsets[e] * 3 }, () => (rng() - 0.5) * 10);
  return { ...net, edgeSampleOffsets: offsets, edgeSamples: samples, meta: { ...net.meta, processing: { backend: 'js', iterations: 3 } } };
}

const plainNet = withWeights(
  { layers: [5, 4, 3], classNames: ['cat', 'dog', 'bird'], meta: { provenance: { tool: 'nnvis', command: 'train', seed: 2 }, training: { epochs: 3, testAccuracy: 0.91 } } },
  2,
);
const V2_SEEDS: readonly Uint8Array[] = [
  encodeNetwork(plainNet),
  encodeNetwork({ ...plainNet, edgeImportance: generateNetwork({ layers: [5, 4, 3], seed: 9, layerDistance: 1, layerWidth: 1 }).edgeImportance }),
  encodeNetwork(generateNetwork({ layers: [6, 5, 3], seed: 1, layerDistance: 0.5, layerWidth: 1 })),
  encodeNetwork(withWeights(generateNetwork({ layers: [4, 3, 3, 2], seed: 4, layerDistance: 1, layerWidth: 2 }), 4)),
  encodeNetwork(processed([4, 3, 2], 5)),
  encodeNetwork(withWeights(processed([3, 5, 2], 6), 6)),
];
// version 3: a network with parametrised activations
const V3_SEED = encodeNetwork({ ...plainNet, activations: ['leaky_relu', 'softmax'], activationParams: [{ alpha: 0.2 }, {}] });
// version 4: a conv network (4×4 image → conv 2 channels 3×3 same, max-pool → dense 3), kernels as weights
const V4_SEED = encodeNetwork({
  layers: [16, 2, 3],
  classNames: ['a', 'b', 'c'],
  activations: ['relu', 'softmax'],
  inputShape: [4, 4, 1],
  ops: [{ kind: 'conv', kernel: [3, 3], strides: [1, 1], padding: 'same', pool: { kind: 'max', size: [2, 2], strides: [2, 2], padding: 'valid' } }, { kind: 'dense' }],
  weights: Float32Array.from({ length: 18 + 24 }, (_, i) => Math.sin(i)),
  biases: Float32Array.from({ length: 5 }, (_, i) => i / 10),
  meta: {},
});
const SEEDS: readonly Uint8Array[] = [...V2_SEEDS, ...V2_SEEDS.map(toV1), V3_SEED, V4_SEED];
const seedArb = fc.constantFrom(...SEEDS);
const labelArb = fc.constantFrom(SRC, SRC, SRC, EVIL_SRC);

// ---------------------------------------------------------------------------------------
// The contract

let slowest = 0;

/** Decodes `bytes`; returns 'ok' or the refusal message, asserting the contract either way. */
function check(bytes: Uint8Array, label = SRC): string {
  const t0 = performance.now();
  let net: Network;
  try {
    net = decodeNetwork(bytes, label);
  } catch (err) {
    slowest = Math.max(slowest, performance.now() - t0);
    if (!(err instanceof InputError)) throw new Error(`not an InputError: ${String(err)}`, { cause: err });
    const msg = err.message;
    expect(msg.startsWith(`${printable(label, 500)}: `), msg).toBe(true);
    expect(msg, 'one printable line').toBe(printable(msg, Infinity));
    expect(msg.length).toBeLessThan(2600);
    return msg;
  }
  slowest = Math.max(slowest, performance.now() - t0);
  // Accepted: a network the writer takes as it is, and that reads back the same.
  const again = encodeNetwork(net);
  expect(Buffer.from(encodeNetwork(decodeNetwork(again, label))).equals(Buffer.from(again))).toBe(true);
  return 'ok';
}

const property = <T>(arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns: number) => {
  slowest = 0;
  fc.assert(fc.property(arb, body), { numRuns });
  expect(slowest).toBeLessThan(SLOW_MS);
};

describe('fuzzing the container reader', () => {
  it('the starting points are valid', () => {
    for (const b of SEEDS) expect(check(b)).toBe('ok');
    expect(u32(V3_SEED, 8)).toBe(3);
    expect(u32(V4_SEED, 8)).toBe(4);
    expect(new Set(V2_SEEDS.map((b) => headerOf(b).kind))).toEqual(new Set(['network', 'importance', 'processed']));
  });

  it('truncations', () => {
    property(fc.tuple(seedArb, fc.nat(), labelArb), ([b, cut, label]) => {
      const len = cut % (b.length + 1);
      const msg = check(b.subarray(0, len), label);
      // only the final padding may go
      if (len < b.length - 15) expect(msg).not.toBe('ok');
    }, 500);
  });

  it('bit flips anywhere', () => {
    const flips = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 })), { minLength: 1, maxLength: 4 });
    property(fc.tuple(seedArb, flips, labelArb), ([b, edits, label]) => {
      const out = b.slice();
      for (const [at, bit] of edits) out[at % out.length] ^= 1 << bit;
      check(out, label);
    }, 1000);
  });

  it('a flipped bit in the chunk data of a version-2 file is always caught by its checksum', () => {
    property(fc.tuple(fc.constantFrom(...V2_SEEDS), fc.nat(), fc.nat({ max: 7 })), ([b, at, bit]) => {
      const chunks = headerOf(b).chunks.filter((c) => c.length > 0);
      const c = chunks[at % chunks.length];
      const out = b.slice();
      out[c.offset + (at % (c.length * 4))] ^= 1 << bit;
      expect(check(out)).toMatch(new RegExp(`^${SRC}: chunk '${c.name}' fails its CRC-32 check \\(header says 0x[0-9a-f]{8}, data gives 0x[0-9a-f]{8}\\): the file is damaged$`));
    }, 300);
  });

  it('byte overwrites in the header text', () => {
    property(fc.tuple(seedArb, fc.nat(), fc.integer({ min: 0, max: 255 }), labelArb), ([b, at, value, label]) => {
      const out = b.slice();
      out[16 + (at % u32(b, 12))] = value;
      check(out, label);
    }, 400);
  });

  it('inflated lengths, dimensions, counts, offsets and checksums', () => {
    const hostile = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(-1, 0, 1, 0.5, -0, 3, 16, 1e7, 1e7 + 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, 'weights', null, [1e7, 1e7]) },
      { weight: 1, arbitrary: fc.integer({ min: -5, max: 5000 }) },
      { weight: 1, arbitrary: fc.nat() },
      // strings and shapes a careless or hostile writer puts anywhere, control characters included
      { weight: 1, arbitrary: fc.constantFrom('\u001b[31m\n', '\u0085\u202e', 'float32', 'uint32', 'edgeSamples', 'processed', {}, [], [null], { name: 'weights' }) },
      { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })) },
    );
    const path = fc.oneof(
      fc.tuple(fc.constant('layers'), fc.nat({ max: 4 })),
      fc.tuple(fc.constant('chunks'), fc.nat({ max: 7 }), fc.constantFrom('length', 'offset', 'crc32', 'length', 'offset', 'name', 'dtype')),
      fc.tuple(fc.constant('chunks'), fc.nat({ max: 7 })),
      fc.tuple(fc.constantFrom('classNames', 'activations'), fc.nat({ max: 4 })),
      fc.constantFrom<(string | number)[]>(['version'], ['format'], ['kind'], ['layers'], ['classNames'], ['activations'], ['meta'], ['chunks'], ['meta', 'provenance']),
    );
    const count = fc.record({ names: fc.nat({ max: 10_000 }), layersToo: fc.boolean() });
    property(fc.tuple(seedArb, fc.array(fc.tuple(path, hostile), { minLength: 1, maxLength: 3 }), count, fc.boolean()), ([b, edits, { names, layersToo }, countEdit]) => {
      check(
        rewrite(b, (h) => {
          for (const [p, value] of edits) {
            let target: unknown = h;
            for (const key of p.slice(0, -1)) target = (target as Record<string | number, unknown> | null)?.[key];
            if (typeof target === 'object' && target !== null) (target as Record<string | number, unknown>)[p[p.length - 1]] = structuredClone(value); // constants are shared between cases
          }
          if (countEdit) {
            // many classes: the class count and (maybe) the output layer inflated together
            h.classNames = Array.from({ length: names }, (_, i) => `c${i}`);
            if (layersToo && Array.isArray(h.layers)) (h.layers as number[])[(h.layers as number[]).length - 1] = names;
          }
        }),
      );
    }, 600);
  });

  it('hostile values in the conv fields (inputShape, ops) of a version-4 header', () => {
    const hostile = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(-1, 0, 1, 2, 3, 4, 5, 0.5, -0, 1e7, 2 ** 31, 2 ** 32, 2 ** 53, 1e300, null, [], {}, [3], [3, 3, 3], [0, 1], [2 ** 31, 2 ** 31]) },
      { weight: 2, arbitrary: fc.constantFrom('conv', 'dense', 'max', 'avg', 'global', 'same', 'valid', 'SAME', 'full', '\u001b[31m\n', 'kernel') },
      { weight: 1, arbitrary: fc.integer({ min: -3, max: 40 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    );
    const path = fc.oneof(
      fc.tuple(fc.constant('inputShape'), fc.nat({ max: 3 })),
      fc.tuple(fc.constant('ops'), fc.nat({ max: 2 })),
      fc.tuple(fc.constant('ops'), fc.nat({ max: 1 }), fc.constantFrom('kind', 'kernel', 'strides', 'padding', 'pool', 'extra')),
      fc.tuple(fc.constant('ops'), fc.constant(0), fc.constantFrom('kernel', 'strides'), fc.nat({ max: 2 })),
      fc.tuple(fc.constant('ops'), fc.constant(0), fc.constant('pool'), fc.constantFrom('kind', 'size', 'strides', 'padding', 'extra')),
      fc.tuple(fc.constant('ops'), fc.constant(0), fc.constant('pool'), fc.constantFrom('size', 'strides'), fc.nat({ max: 2 })),
      fc.constantFrom<(string | number)[]>(['inputShape'], ['ops'], ['layers', 0], ['layers', 1], ['version']),
    );
    let refused = 0;
    property(fc.tuple(fc.array(fc.tuple(path, hostile), { minLength: 1, maxLength: 3 }), labelArb), ([edits, label]) => {
      const msg = check(
        rewrite(V4_SEED, (h) => {
          for (const [p, value] of edits) {
            let target: unknown = h;
            for (const key of p.slice(0, -1)) target = (target as Record<string | number, unknown> | null)?.[key];
            if (typeof target === 'object' && target !== null) (target as Record<string | number, unknown>)[p[p.length - 1]] = structuredClone(value);
          }
        }),
        label,
      );
      if (msg === 'ok') return;
      refused++;
      // a refusal names the field at fault: a conv field, the layers, the version, or the chunk they no longer fit
      expect(msg.slice(printable(label, 500).length + 2)).toMatch(/^(header field '(inputShape|ops(\[\d\](\.\w+)*)?|layers|version)'|chunk '(weights|biases)'|the kernels)/);
    }, 600);
    // both sides of the contract were exercised: refusals, and edits that still make a valid conv network
    expect(refused).toBeGreaterThan(300);
    expect(refused).toBeLessThan(600);
  });

  it('inflated prefix fields: header length and version', () => {
    const value = fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: -64, max: 64 }), fc.constantFrom(0, 1, 2, 3, 16 * 2 ** 20, 16 * 2 ** 20 + 1, 0xffffffff));
    property(fc.tuple(seedArb, fc.constantFrom(8, 12), value, labelArb), ([b, at, v, label]) => {
      const out = b.slice();
      setU32(out, at, at === 12 && Math.abs(v) <= 64 ? u32(b, 12) + v : v);
      check(out, label);
    }, 300);
  });

  it('NaN, Infinity and out-of-range values patched into float chunks', () => {
    const special = fc.oneof(
      fc.constantFrom(NaN, Infinity, -Infinity, -1.9e23, -2.1e38, 3.4e38, -1, 1.0000001, 2, -1e-45, 0, -0, 1, 0.5),
      fc.nat({ max: 0xffffffff }).map((bits) => new Float32Array(new Uint32Array([bits]).buffer)[0]), // any bit pattern, NaN payloads too
    );
    const mode = fc.constantFrom<'raw' | 'crafted' | 'v1'>('raw', 'crafted', 'v1');
    property(fc.tuple(fc.constantFrom(...V2_SEEDS), fc.nat(), fc.nat(), special, mode), ([b, which, at, value, how]) => {
      const floats = headerOf(b).chunks.filter((c) => c.dtype === 'float32' && c.length > 0);
      const c = floats[which % floats.length];
      const index = at % c.length;
      const patched = b.slice();
      new DataView(patched.buffer).setFloat32(c.offset + index * 4, value, true);
      const stored = new DataView(patched.buffer).getFloat32(c.offset + index * 4, true);
      const original = new DataView(b.buffer).getFloat32(c.offset + index * 4, true);
      const file = how === 'crafted' ? seal(patched) : how === 'v1' ? toV1(patched) : patched;
      const msg = check(file);
      const unit = c.name === 'nodeImportance' || c.name === 'edgeImportance';
      const changed = !Object.is(stored, original) || Number.isNaN(stored);
      if (how === 'raw' && changed && crc32(chunkBytes(patched, c)) !== c.crc32) {
        expect(msg).toMatch(new RegExp(`^${SRC}: chunk '${c.name}' fails its CRC-32 check`));
      } else if (!Number.isFinite(stored)) {
        expect(msg).toBe(`${SRC}: chunk '${c.name}' has a non-finite value (${stored}) at index ${index}`);
      } else if (unit && !(stored >= 0 && stored <= 1)) {
        expect(msg).toMatch(new RegExp(`^${SRC}: chunk '${c.name}' has \\S+ at index ${index}, outside \\[0, 1\\] \\(importance is normalised to 0 … 1\\)$`));
      } else {
        expect(msg).toBe('ok');
      }
    }, 800);
  });

  it('patched edge sample offsets', () => {
    const procs = V2_SEEDS.filter((b) => headerOf(b).kind === 'processed');
    const value = fc.oneof(fc.nat({ max: 0xffffffff }), fc.nat({ max: 40 }), fc.constant(0xffffffff));
    property(fc.tuple(fc.constantFrom(...procs), fc.array(fc.tuple(fc.nat(), value), { minLength: 1, maxLength: 3 }), fc.boolean()), ([b, edits, v1]) => {
      const c = headerOf(b).chunks.find((e) => e.name === 'edgeSampleOffsets')!;
      const patched = b.slice();
      for (const [at, v] of edits) setU32(patched, c.offset + (at % c.length) * 4, v);
      const msg = check(v1 ? toV1(patched) : seal(patched));
      if (msg !== 'ok') expect(msg).toMatch(/^fuzz\.nnvis: chunk 'edgeSampleOffsets' (must start at 0|decreases at index|ends at)/);
    }, 300);
  });

  it('random bytes behind a valid prefix and header', () => {
    property(fc.tuple(seedArb, fc.uint8Array({ maxLength: 2000 }), fc.boolean(), labelArb), ([b, rest, sameLength, label]) => {
      const start = align16(16 + u32(b, 12));
      const body = sameLength ? Uint8Array.from({ length: b.length - start }, (_, i) => rest[i % Math.max(1, rest.length)] ?? 0) : rest;
      const out = new Uint8Array(start + body.length);
      out.set(b.subarray(0, start));
      out.set(body, start);
      const msg = check(out, label);
      // the seeds end exactly at the 16-byte boundary after their last chunk: longer, or
      // shorter by more than the padding, cannot be a valid file
      if (out.length > b.length || out.length < b.length - 15) expect(msg).not.toBe('ok');
    }, 500);
  });

  it('chunk tables shuffled, with and without their data', () => {
    property(fc.tuple(seedArb, fc.infiniteStream(fc.nat()), fc.boolean()), ([b, rand, moveData]) => {
      const h = headerOf(b);
      const order = h.chunks.map((_, i) => i);
      const it = rand[Symbol.iterator]();
      for (let i = order.length - 1; i > 0; i--) {
        const j = it.next().value! % (i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const identity = order.every((v, i) => v === i);
      const out = moveData
        ? layout({ ...h, chunks: order.map((i) => h.chunks[i]) }, order.map((i) => chunkBytes(b, h.chunks[i])), u32(b, 8))
        : rewrite(b, (t) => (t.chunks = order.map((i) => t.chunks[i])));
      const msg = check(out);
      if (identity) expect(msg).toBe('ok');
      else expect(msg).toMatch(/^fuzz\.nnvis: chunk '\w+' is listed after '\w+'; the chunk table must follow the order weights, biases,/);
    }, 200);
  });
});

describe('fuzzing readNetworkFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnvis-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers exactly like decodeNetwork on the same bytes, for damaged files', () => {
    const path = join(dir, 'f.nnvis');
    const damage = fc.oneof(
      fc.nat().map((cut) => (b: Uint8Array) => b.subarray(0, cut % (b.length + 1))),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 })), { minLength: 1, maxLength: 3 }).map((flips) => (b: Uint8Array) => {
        const out = b.slice();
        for (const [at, bit] of flips) out[at % out.length] ^= 1 << bit;
        return out;
      }),
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((extra) => (b: Uint8Array) => Uint8Array.from([...b, ...extra])),
    );
    property(fc.tuple(seedArb, damage), ([b, hurt]) => {
      const bytes = hurt(b);
      writeFileSync(path, bytes);
      const viaDecode = check(bytes, path);
      if (bytes.length > b.length) expect(viaDecode).toMatch(/ unexpected bytes after the last chunk$|CRC-32|header|chunk/);
      let viaFile = 'ok';
      try {
        readNetworkFile(path);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        viaFile = err.message;
      }
      expect(viaFile).toBe(viaDecode);
    }, 300);
  });
});
