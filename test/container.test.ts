import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readNetworkFile, writeNetworkFile } from '../src/cli/network-file.ts';
import { FORMAT_VERSION, decodeNetwork, encodeNetwork } from '../src/core/container.ts';
import { crc32 } from '../src/core/crc32.ts';
import { InputError } from '../src/core/errors.ts';
import { ACTIVATIONS, edgeCount, nodeCount, type Network, type NetworkKind } from '../src/core/network.ts';
import { printable } from '../src/core/text.ts';
import { expectOneLineError, runCli } from './helpers.ts';

const SRC = 'net.nnvis';
const ARRAYS = ['weights', 'biases', 'nodeImportance', 'edgeImportance', 'nodePositions', 'edgeSampleOffsets', 'edgeSamples'] as const;

// ---------------------------------------------------------------------------------------
// Fixtures and helpers

/** A small deterministic network of the given kind (with weights unless `bare`). */
function makeNet(kind: NetworkKind, layers = [3, 4, 2], bare = false): Network {
  const n = nodeCount(layers);
  const e = edgeCount(layers);
  const c = layers[layers.length - 1];
  const ramp = (len: number, scale = 1) => Float32Array.from({ length: len }, (_, i) => (((i * 7) % 11) / 11 - 0.5) * scale);
  const net: Network = { layers, classNames: Array.from({ length: c }, (_, i) => `class ${i}`), meta: { provenance: { tool: 'test', command: 'make' } } };
  if (kind === 'network' || !bare) {
    net.activations = layers.slice(1).map((_, i) => (i === layers.length - 2 ? 'softmax' : 'relu'));
    net.weights = ramp(e);
    net.biases = ramp(n - layers[0], 0.1);
  }
  if (kind !== 'network') {
    net.nodeImportance = ramp(n * c).map(Math.abs);
    net.edgeImportance = ramp(e).map(Math.abs);
  }
  if (kind === 'processed') {
    net.nodePositions = ramp(n * 3, 10);
    net.edgeSampleOffsets = Uint32Array.from({ length: e + 1 }, (_, i) => i * 2); // 2 samples per edge
    net.edgeSamples = ramp(e * 2 * 3, 10);
  }
  return net;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;
const u32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
const setU32 = (bytes: Uint8Array, at: number, v: number) => new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v, true);

type Entry = { name: string; dtype: string; length: number; offset: number; crc32?: number };
type Header = Record<string, unknown> & { chunks: Entry[] };

function headerOf(bytes: Uint8Array): Header {
  return JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + u32(bytes, 12)))) as Header;
}

/**
 * Re-writes the header of a valid encoding (object edit, then optional raw-text edit),
 * moving the chunk data (and numeric offsets) by whole 16-byte steps when it grows, and
 * padding the JSON with spaces when it shrinks, so the chunks stay where they are.
 */
function rewrite(bytes: Uint8Array, edit: (h: Header) => void, editText: (t: string) => string = (t) => t): Uint8Array {
  const dataStart = align16(16 + u32(bytes, 12));
  const header = headerOf(bytes);
  edit(header);
  const grown = new TextEncoder().encode(editText(JSON.stringify(header))).length;
  for (let shift = Math.max(0, align16(16 + grown) - dataStart); ; shift += 16) {
    const h = structuredClone(header);
    if (Array.isArray(h.chunks)) for (const c of h.chunks) if (typeof c?.offset === 'number') c.offset += shift;
    let text = editText(JSON.stringify(h));
    const length = new TextEncoder().encode(text).length;
    if (align16(16 + length) > dataStart + shift) continue;
    if (shift === 0) text += ' '.repeat(dataStart - 16 - length); // JSON allows trailing whitespace
    const encoded = new TextEncoder().encode(text);
    const out = new Uint8Array(bytes.length + shift);
    out.set(bytes.subarray(0, 16));
    setU32(out, 12, encoded.length);
    out.set(encoded, 16);
    out.set(bytes.subarray(dataStart), dataStart + shift);
    return out;
  }
}

/**
 * Lays a header and its chunks' bytes out as the encoder does (compact JSON, each chunk
 * right after the previous one), with fresh checksums in version 2 and none in version 1.
 */
function layout(header: Header, data: Uint8Array[], version: number): Uint8Array {
  const entries = header.chunks.map(({ name, dtype, length }, i) => (version >= 2 ? { name, dtype, length, offset: 0, crc32: crc32(data[i]) } : { name, dtype, length, offset: 0 }));
  for (let start = 0; ; ) {
    let pos = start;
    for (const [i, e] of entries.entries()) {
      e.offset = pos;
      pos = align16(pos + data[i].length);
    }
    const text = new TextEncoder().encode(JSON.stringify({ ...header, version, chunks: entries }));
    if (align16(16 + text.length) !== start) {
      start = align16(16 + text.length);
      continue;
    }
    const out = new Uint8Array(pos);
    out.set([0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a]);
    setU32(out, 8, version);
    setU32(out, 12, text.length);
    out.set(text, 16);
    entries.forEach((e, i) => out.set(data[i], e.offset));
    return out;
  }
}

const chunkBytes = (bytes: Uint8Array, c: Entry) => bytes.subarray(c.offset, c.offset + c.length * 4);

/** The same file with checksums that match its (edited) chunk data. */
function seal(bytes: Uint8Array): Uint8Array {
  const h = headerOf(bytes);
  return layout(h, h.chunks.map((c) => chunkBytes(bytes, c)), 2);
}

/** The same network as a version-1 writer wrote it: no checksums. */
function toV1(bytes: Uint8Array): Uint8Array {
  const h = headerOf(bytes);
  return layout(h, h.chunks.map((c) => chunkBytes(bytes, c)), 1);
}

/** Overwrites element `index` of chunk `name` with a raw value (which breaks its checksum). */
function poke(bytes: Uint8Array, name: string, index: number, value: number, dtype: 'float32' | 'uint32' = 'float32'): Uint8Array {
  const out = bytes.slice();
  const chunk = headerOf(out).chunks.find((c) => c.name === name)!;
  const view = new DataView(out.buffer);
  if (dtype === 'float32') view.setFloat32(chunk.offset + index * 4, value, true);
  else view.setUint32(chunk.offset + index * 4, value, true);
  return out;
}

/** `poke`, then checksums fixed: a crafted file rather than a damaged one. */
const craft = (bytes: Uint8Array, name: string, index: number, value: number, dtype: 'float32' | 'uint32' = 'float32') => seal(poke(bytes, name, index, value, dtype));

/** A processed [2, 2] network exactly as the version-1 encoder (before checksums) wrote it. */
const V1_PROCESSED = Buffer.from(
  'Tk5WSVMADQoBAAAAuwIAAHsiZm9ybWF0Ijoibm52aXMiLCJ2ZXJzaW9uIjoxLCJraW5kIjoicHJvY2Vzc2VkIiwibGF5ZXJzIjpbMiwyXSwiY2xhc3NOYW1lcyI6WyJjYXQiLCJkb2ciXSwiYWN0aXZhdGlvbnMiOlsic29mdG1heCJdLCJtZXRhIjp7Im5vdGUiOiJ3cml0dGVuIGJ5IHRoZSB2ZXJzaW9uLTEgZW5jb2RlciIsInByb3ZlbmFuY2UiOnsiY29tbWFuZCI6InByb2Nlc3MiLCJzZWVkIjoxLCJ0b29sIjoibm52aXMifX0sImNodW5rcyI6W3sibmFtZSI6IndlaWdodHMiLCJkdHlwZSI6ImZsb2F0MzIiLCJsZW5ndGgiOjQsIm9mZnNldCI6NzIwfSx7Im5hbWUiOiJiaWFzZXMiLCJkdHlwZSI6ImZsb2F0MzIiLCJsZW5ndGgiOjIsIm9mZnNldCI6NzM2fSx7Im5hbWUiOiJub2RlSW1wb3J0YW5jZSIsImR0eXBlIjoiZmxvYXQzMiIsImxlbmd0aCI6OCwib2Zmc2V0Ijo3NTJ9LHsibmFtZSI6ImVkZ2VJbXBvcnRhbmNlIiwiZHR5cGUiOiJmbG9hdDMyIiwibGVuZ3RoIjo0LCJvZmZzZXQiOjc4NH0seyJuYW1lIjoibm9kZVBvc2l0aW9ucyIsImR0eXBlIjoiZmxvYXQzMiIsImxlbmd0aCI6MTIsIm9mZnNldCI6ODAwfSx7Im5hbWUiOiJlZGdlU2FtcGxlT2Zmc2V0cyIsImR0eXBlIjoidWludDMyIiwibGVuZ3RoIjo1LCJvZmZzZXQiOjg0OH0seyJuYW1lIjoiZWRnZVNhbXBsZXMiLCJkdHlwZSI6ImZsb2F0MzIiLCJsZW5ndGgiOjE1LCJvZmZzZXQiOjg4MH1dfQAAAAAAAAAAPwAAoL8AAABAAAAAgAAAAD4AAAC/AAAAAAAAAAAAAIA/AACAPgAAAD8AAEA/AACAPwAAAAAAAAAAAACAPwAAgD4AACA/AACAPwAAAAAAAIC/AAAAAAAAAD8AAIC/AAAAAAAAAL8AAIA/AAAAAAAAAD8AAIA/AAAAAAAAAL8AAAAAAgAAAAIAAAADAAAABQAAAAAAAAAAAAAAAAAAAAAAgL8AAEC/AAAAvwAAgL4AAAAAAACAPgAAAD8AAEA/AACAPwAAoD8AAMA/AADgPwAAAEAAABBAAAAgQAAAAAA=',
  'base64',
);

function decodeError(bytes: Uint8Array): string {
  try {
    decodeNetwork(bytes, SRC);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected decode to fail');
}

const rawBytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSameNetwork(actual: Network, expected: Network): void {
  expect(actual.layers).toEqual(expected.layers);
  expect(actual.classNames).toEqual(expected.classNames);
  expect(actual.activations).toEqual(expected.activations);
  expect(actual.meta).toEqual(JSON.parse(JSON.stringify(expected.meta)));
  for (const name of ARRAYS) {
    const a = actual[name];
    const e = expected[name];
    if (e === undefined) {
      expect(a).toBeUndefined();
      continue;
    }
    expect(a?.constructor).toBe(e.constructor);
    expect(rawBytes(a!).equals(rawBytes(e)), name).toBe(true); // bit-equal, so -0 and subnormals too
  }
}

/** The robustness contract: a valid network that re-encodes, or one-line InputError. */
function decodesSafely(bytes: Uint8Array): void {
  let net: Network;
  try {
    net = decodeNetwork(bytes, SRC);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    expect(err.message.startsWith(`${SRC}: `)).toBe(true);
    expect(err.message).toBe(printable(err.message, Infinity)); // one line, no control characters
    return;
  }
  expectSameNetwork(decodeNetwork(encodeNetwork(net), SRC), net);
}

// ---------------------------------------------------------------------------------------
// Arbitraries

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true }); // incl. -0, subnormals, ±3.4e38
const unit = fc.float({ min: 0, max: 1, noNaN: true }); // importance, incl. subnormals
const f32s = (len: number, values = f32) => fc.array(values, { minLength: len, maxLength: len }).map((a) => Float32Array.from(a));
const maybe = <T>(on: boolean, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => (on ? arb : fc.constant(undefined));

const metaArb = fc.record(
  {
    provenance: fc.record({ tool: fc.string(), command: fc.string({ unit: 'grapheme' }), seed: fc.integer() }, { requiredKeys: ['tool', 'command'] }),
    config: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    note: fc.string({ unit: 'binary' }),
  },
  { requiredKeys: [] },
);

const networkArb: fc.Arbitrary<Network> = fc
  .record({
    layers: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 4 }),
    kind: fc.constantFrom<NetworkKind>('network', 'importance', 'processed'),
    withWeights: fc.boolean(),
    withPositions: fc.boolean(),
    withEdgeImportance: fc.boolean(),
  })
  .chain(({ layers, kind, withWeights, withPositions, withEdgeImportance }) => {
    const n = nodeCount(layers);
    const e = edgeCount(layers);
    const c = layers[layers.length - 1];
    const weights = kind === 'network' || withWeights;
    return fc
      .record({
        classNames: fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { minLength: c, maxLength: c }),
        activations: maybe(weights, fc.array(fc.constantFrom(...ACTIVATIONS), { minLength: layers.length - 1, maxLength: layers.length - 1 })),
        weights: maybe(weights, f32s(e)),
        biases: maybe(weights, f32s(n - layers[0])),
        nodeImportance: maybe(kind !== 'network', f32s(n * c, unit)),
        edgeImportance: maybe(kind !== 'network' || withEdgeImportance, f32s(e, unit)),
        nodePositions: maybe(kind === 'processed' || withPositions, f32s(n * 3)),
        samplesPerEdge: maybe(kind === 'processed', fc.array(fc.nat({ max: 3 }), { minLength: e, maxLength: e })),
        meta: metaArb,
      })
      .chain(({ samplesPerEdge, ...rest }) => {
        const offsets = samplesPerEdge && Uint32Array.from([0, ...samplesPerEdge.map(((s) => (v: number) => (s += v))(0))]);
        const samples = offsets ? offsets[offsets.length - 1] : 0;
        return maybe(offsets !== undefined, f32s(samples * 3)).map((edgeSamples) => {
          const net: Network = { layers, classNames: rest.classNames, meta: rest.meta };
          if (rest.activations) net.activations = rest.activations;
          for (const name of ['weights', 'biases', 'nodeImportance', 'edgeImportance', 'nodePositions'] as const) {
            if (rest[name]) net[name] = rest[name];
          }
          if (offsets) {
            net.edgeSampleOffsets = offsets;
            net.edgeSamples = edgeSamples;
          }
          return net;
        });
      });
  });

const encodedArb = networkArb.map(encodeNetwork);

// ---------------------------------------------------------------------------------------

describe('container round trip', () => {
  it('decode(encode(x)) equals x, and encoding is deterministic', () => {
    fc.assert(
      fc.property(networkArb, (net) => {
        const bytes = encodeNetwork(net);
        expect(rawBytes(encodeNetwork(net)).equals(rawBytes(bytes))).toBe(true);
        expect(bytes.length % 16).toBe(0);
        const back = decodeNetwork(bytes, SRC);
        expectSameNetwork(back, net);
        expect(rawBytes(encodeNetwork(back)).equals(rawBytes(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('writes the documented prefix and a readable JSON header', () => {
    const bytes = encodeNetwork(makeNet('network'));
    expect([...bytes.subarray(0, 8)]).toEqual([0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a]);
    expect(FORMAT_VERSION).toBe(2);
    expect(u32(bytes, 8)).toBe(FORMAT_VERSION);
    const h = headerOf(bytes);
    expect(Object.keys(h)).toEqual(['format', 'version', 'kind', 'layers', 'classNames', 'activations', 'meta', 'chunks']);
    expect(h.version).toBe(2);
    expect(h.chunks.map((c) => [c.name, c.dtype, c.length])).toEqual([
      ['weights', 'float32', 20],
      ['biases', 'float32', 6],
    ]);
    const start = align16(16 + u32(bytes, 12));
    expect(h.chunks.map((c) => c.offset)).toEqual([start, align16(start + 80)]);
    for (const c of h.chunks) {
      expect(Object.keys(c)).toEqual(['name', 'dtype', 'length', 'offset', 'crc32']);
      expect(c.crc32).toBe(crc32(chunkBytes(bytes, c)));
    }
    // the test helpers lay files out exactly as the encoder does
    expect(rawBytes(seal(bytes)).equals(rawBytes(bytes))).toBe(true);
  });

  it('CRC-32 is the standard one', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(0xffffffff);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        // pieces chain, and the 4-byte fast path agrees with the byte-wise tail
        expect(crc32(b, crc32(a))).toBe(crc32(Uint8Array.from([...a, ...b])));
        expect(crc32(Uint8Array.from([...a, ...b]))).toBe([...a, ...b].reduce((c, x) => crc32(Uint8Array.of(x), c), 0));
      }),
      { numRuns: 200 },
    );
  });

  it('reads version-1 files (no checksums), as the version-1 encoder wrote them', () => {
    const net = decodeNetwork(V1_PROCESSED, SRC);
    expect(net.layers).toEqual([2, 2]);
    expect(net.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(net.edgeSampleOffsets!)).toEqual([0, 2, 2, 3, 5]);
    expect(Array.from(net.nodeImportance!)).toEqual([1, 0.25, 0.5, 0.75, 1, 0, 0, 1]);
    expect(net.meta).toEqual({ note: 'written by the version-1 encoder', provenance: { command: 'process', seed: 1, tool: 'nnvis' } });
    // re-writing gives version 2 with the same data, and toV1 reproduces the old bytes
    const again = encodeNetwork(net);
    expect(u32(again, 8)).toBe(2);
    expectSameNetwork(decodeNetwork(again, SRC), net);
    expect(rawBytes(toV1(again)).equals(rawBytes(V1_PROCESSED))).toBe(true);
    fc.assert(
      fc.property(networkArb, (n) => expectSameNetwork(decodeNetwork(toV1(encodeNetwork(n)), SRC), n)),
      { numRuns: 100 },
    );
  });

  it('sorts meta keys, so equal meta gives equal bytes', () => {
    const a = { ...makeNet('network'), meta: { b: 1, a: { y: 2, x: [1, { d: 0, c: 0 }] } } };
    const b = { ...makeNet('network'), meta: { a: { x: [1, { c: 0, d: 0 }], y: 2 }, b: 1 } };
    expect(rawBytes(encodeNetwork(a)).equals(rawBytes(encodeNetwork(b)))).toBe(true);
  });

  it('returns zero-copy views when aligned, and copies when not', () => {
    const net = makeNet('processed');
    const bytes = encodeNetwork(net);
    const back = decodeNetwork(bytes, SRC);
    expect(back.edgeSamples!.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const fromOdd = decodeNetwork(shifted.subarray(1), SRC);
    expect(fromOdd.edgeSamples!.buffer).not.toBe(shifted.buffer);
    expectSameNetwork(fromOdd, net);
  });

  it('handles a processed network with a million edge samples', () => {
    const layers = [784, 100, 10];
    const e = edgeCount(layers);
    const net = makeNet('processed', layers);
    const samples = 1_000_000;
    net.edgeSampleOffsets = Uint32Array.from({ length: e + 1 }, (_, i) => Math.floor((i * samples) / e));
    net.edgeSamples = new Float32Array(samples * 3).fill(1.5);
    const bytes = encodeNetwork(net);
    const back = decodeNetwork(bytes, SRC);
    expect(back.edgeSamples!.length).toBe(samples * 3);
    expect(back.edgeSamples!.buffer).toBe(bytes.buffer);
  });
});

describe('container encode validation', () => {
  const bad = (net: Network, message: RegExp) => expect(() => encodeNetwork(net)).toThrow(message);

  it('refuses inconsistent networks with a clear message', () => {
    bad({ ...makeNet('network'), weights: new Float32Array(19) }, /^cannot encode network: 'weights' has 19 values but layers \[3,4,2\] need 20 \(one per edge\)$/);
    bad({ ...makeNet('network'), classNames: ['a'] }, /'classNames' has 1 names but the output layer has 2 nodes/);
    bad({ ...makeNet('network'), layers: [3, 0, 2] }, /'layers'\[1\] is 0, expected an integer from 1 to 10000000/);
    bad({ ...makeNet('network'), biases: undefined }, /a 'network' network requires weights, biases, activations; missing: biases/);
    bad({ ...makeNet('importance'), activations: undefined }, /weights, biases and activations must be present together/);
    bad({ ...makeNet('importance'), nodeImportance: Float32Array.of(NaN, ...new Float32Array(17)) }, /'nodeImportance' has a non-finite value \(NaN\) at index 0/);
    bad({ ...makeNet('processed'), edgeSampleOffsets: new Uint32Array(21) }, /'edgeSampleOffsets' ends at 0 but edgeSamples holds 40 samples/);
    bad({ ...makeNet('network'), weights: Array(20).fill(0) as unknown as Float32Array }, /'weights' must be a Float32Array/);
  });

  it('refuses meta that is not plain JSON', () => {
    bad({ ...makeNet('network'), meta: { training: { loss: [0.5, NaN] } } }, /'meta.training.loss\[1\]' is NaN \(not finite\); meta must be plain JSON/);
    bad({ ...makeNet('network'), meta: { at: new Date(0) } }, /'meta.at' is a Date object/);
    bad({ ...makeNet('network'), meta: { n: 1n } }, /'meta.n' is a bigint/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    bad({ ...makeNet('network'), meta: cyclic }, /'meta.self' is a reference back to itself/);
    // undefined properties are dropped like JSON.stringify does
    expect(decodeNetwork(encodeNetwork({ ...makeNet('network'), meta: { a: undefined, b: 1 } }), SRC).meta).toEqual({ b: 1 });
  });
});

describe('container decode errors', () => {
  const network = encodeNetwork(makeNet('network'));
  const importance = encodeNetwork(makeNet('importance'));
  const processed = encodeNetwork(makeNet('processed', [3, 4, 2], true));
  const expectError = (bytes: Uint8Array, message: RegExp | string) => {
    const msg = decodeError(bytes);
    if (typeof message === 'string') expect(msg).toBe(`${SRC}: ${message}`);
    else expect(msg).toMatch(message);
  };

  it('bad magic, text-mode damage, versions, header length', () => {
    expectError(new TextEncoder().encode('{"layers": [1, 2]}'), 'not an nnvis file (bad magic)');
    expectError(new Uint8Array(0), 'not an nnvis file (bad magic)');
    const lf = Uint8Array.from([...network.subarray(0, 6), ...network.subarray(7)]);
    expectError(lf, /^net\.nnvis: corrupted nnvis file \(bad magic: its line endings were converted/);
    const v5 = network.slice();
    setU32(v5, 8, 5);
    expectError(v5, 'unsupported format version 5 (this nnvis reads versions 1, 2, 3 and 4; it was written by a newer nnvis, upgrade to read it)');
    const v0 = network.slice();
    setU32(v0, 8, 0);
    expectError(v0, 'unsupported format version 0 (this nnvis reads versions 1, 2, 3 and 4)');
    // a version-2 header behind a version-1 prefix and the other way round
    const v1 = network.slice();
    setU32(v1, 8, 1);
    expectError(v1, `header field 'version' is 2 but the file prefix says 1`);
    const v2 = toV1(network);
    setU32(v2, 8, 2);
    expectError(v2, `header field 'version' is 1 but the file prefix says 2`);
    const huge = network.slice();
    setU32(huge, 12, 0xffffffff);
    expectError(huge, 'header length 4294967295 exceeds the 16 MiB limit');
    expectError(network.subarray(0, 40), /^net\.nnvis: truncated: header length \d+ runs past the end of the file \(40 bytes\)$/);
    expectError(network.subarray(0, 12), 'truncated: 12 bytes, less than the 16-byte file prefix');
  });

  it('header JSON and schema', () => {
    expectError(rewrite(network, () => {}, (t) => `x${t}`), /^net\.nnvis: header is not valid UTF-8 JSON \(/);
    const badUtf8 = network.slice();
    badUtf8[Buffer.from(badUtf8).indexOf('class 0')] = 0xff;
    expectError(badUtf8, /header is not valid UTF-8 JSON/);
    expectError(rewrite(network, (h) => (h.extra = 1)), `header has unknown field "extra"`);
    expectError(rewrite(network, (h) => (h.version = 1)), `header field 'version' is 1 but the file prefix says 2`);
    expectError(rewrite(network, (h) => (h.classNames = ['\u001b[2J\u202e', 7])), `header field 'classNames'[1] is 7, expected a string`);
    expectError(rewrite(network, (h) => (h.kind = '\u001b[31mred\u0085')), `header field 'kind' is "\\u001b[31mred\\x85", expected one of network, importance, processed`);
    expectError(rewrite(network, (h) => (h.kind = 'model')), `header field 'kind' is "model", expected one of network, importance, processed`);
    expectError(rewrite(network, (h) => (h.layers = [3])), `header field 'layers' is [3], expected an array of at least 2 layer sizes`);
    expectError(rewrite(network, (h) => (h.layers = [3, 1e8, 2])), `header field 'layers'[1] is 100000000, expected an integer from 1 to 10000000`);
    expectError(rewrite(network, (h) => (h.layers = [3, 4.5, 2])), /'layers'\[1\] is 4.5/);
    expectError(rewrite(network, (h) => (h.classNames = ['a', 'b', 'c'])), `header field 'classNames' has 3 names but the output layer has 2 nodes`);
    expectError(rewrite(network, (h) => (h.activations = ['relu', 'mish'])), /header field 'activations'\[1\] is "mish", expected one of linear, relu/);
    expectError(rewrite(network, (h) => (h.meta = [])), `header field 'meta' is [], expected a JSON object`);
    expectError(rewrite(network, () => {}, (t) => t.replace('"meta":{', '"meta":{"x":1e999,')), `header field 'meta.x' is Infinity (not finite); meta must be plain JSON`);
    const deep = '['.repeat(200) + ']'.repeat(200);
    expectError(rewrite(network, () => {}, (t) => t.replace('"meta":{', `"meta":{"d":${deep},`)), /is nested deeper than 100 levels/);
  });

  it('chunk table', () => {
    expectError(rewrite(network, (h) => (h.chunks[0].name = 'kernel')), /^net\.nnvis: chunk table entry 0 has unknown name "kernel" \(known: weights, biases/);
    expectError(rewrite(network, (h) => (h.chunks[0].dtype = 'uint32')), `chunk 'weights' has dtype "uint32", expected "float32"`);
    expectError(rewrite(network, (h) => h.chunks.push({ ...h.chunks[0] })), `chunk 'weights' appears twice in the chunk table`);
    expectError(rewrite(network, (h) => (h.chunks[1].length = -1)), `chunk 'biases' has length -1, expected a non-negative integer`);
    expectError(rewrite(network, (h) => (h.chunks[1].length = 1e300)), /chunk 'biases' has length 1e\+300/);
    expectError(rewrite(network, (h) => (h.chunks[1].offset += 4)), /chunk 'biases' offset \d+ is not 16-byte aligned/);
    expectError(rewrite(network, (h) => (h.chunks[0].offset = 0)), /chunk 'weights' offset 0 lies inside the header \(chunks start at \d+\)/);
    expectError(rewrite(network, (h) => (h.chunks[1].offset += 1600)), /^net\.nnvis: truncated: chunk 'biases' \(6 float32 values at offset \d+\) runs past the end of the file/);
    const start = headerOf(network).chunks[0].offset;
    expectError(rewrite(network, (h) => (h.chunks[1].offset = h.chunks[0].offset)), `chunks 'weights' and 'biases' overlap ('biases' starts at ${start}, 'weights' ends at ${start + 80})`);
    expectError(rewrite(network, (h) => (h.chunks[1].offset = h.chunks[0].offset + 64)), `chunks 'weights' and 'biases' overlap ('biases' starts at ${start + 64}, 'weights' ends at ${start + 80})`);
    expectError(Uint8Array.from([...network, ...new Uint8Array(32)]), /unexpected bytes after the last chunk/);
    // the padding at the very end may be lost without harm
    expect(() => decodeNetwork(network.subarray(0, network.length - 8), SRC)).not.toThrow();
  });

  it('chunk order and placement', () => {
    // the table in another order than the format's, with the data moved along
    const h = headerOf(importance);
    const swapped = layout({ ...h, chunks: [h.chunks[1], h.chunks[0], ...h.chunks.slice(2)] }, [1, 0, 2, 3].map((i) => chunkBytes(importance, h.chunks[i])), 2);
    expectError(swapped, `chunk 'weights' is listed after 'biases'; the chunk table must follow the order weights, biases, nodeImportance, edgeImportance, nodePositions, edgeSampleOffsets, edgeSamples`);
    expectError(toV1(swapped), /^net\.nnvis: chunk 'weights' is listed after 'biases'; the chunk table must follow the order/);
    expectError(rewrite(importance, (t) => t.chunks.reverse()), /chunk 'nodeImportance' is listed after 'edgeImportance'/);
    expectError(rewrite(network, (t) => t.chunks.push({ ...t.chunks[1], name: 'weights' })), `chunk 'weights' appears twice in the chunk table`);
    // offsets: in table order, no gaps, no pointing back into earlier data
    const [w, b, ni, ei] = h.chunks;
    expectError(rewrite(importance, (t) => ([t.chunks[2].offset, t.chunks[3].offset] = [ei.offset, ni.offset])), `chunk 'nodeImportance' offset ${ei.offset} leaves a gap: it must start at ${ni.offset}, the first 16-byte boundary after chunk 'biases'`);
    expectError(rewrite(importance, (t) => (t.chunks[2].offset = w.offset + 16)), `chunk 'nodeImportance' offset ${w.offset + 16} is before chunk 'biases' (offset ${b.offset}); chunk data must follow the table order`);
    expectError(rewrite(importance, (t) => (t.chunks[1].offset += 16)), `chunk 'biases' offset ${b.offset + 16} leaves a gap: it must start at ${b.offset}, the first 16-byte boundary after chunk 'weights'`);
    expectError(rewrite(network, (t) => (t.chunks[0].offset += 16)), /^net\.nnvis: chunk 'weights' offset \d+ leaves a gap: it must start at \d+, the first 16-byte boundary after the header$/);
  });

  it('checksums (version 2)', () => {
    const [w] = headerOf(network).chunks;
    expectError(rewrite(network, (t) => delete t.chunks[0].crc32), `chunk 'weights' has no 'crc32' (required from format version 2 on)`);
    for (const bad of [-1, 2 ** 32, 1.5, '12', null]) {
      expectError(rewrite(network, (t) => (t.chunks[0].crc32 = bad as number)), `chunk 'weights' has crc32 ${JSON.stringify(bad)}, expected an integer from 0 to 4294967295`);
    }
    expectError(rewrite(toV1(network), (t) => (t.chunks[0].crc32 = 0)), `chunk table entry 0 has unknown field "crc32" (version 1 files have no checksums)`);
    expectError(rewrite(network, (t) => ((t.chunks[0] as unknown as Record<string, unknown>).sha = 1)), `chunk table entry 0 has unknown field "sha" (allowed: name, dtype, length, offset, crc32)`);
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    const flipped = rewrite(network, (t) => (t.chunks[0].crc32 = (w.crc32! ^ 1) >>> 0));
    expectError(flipped, `chunk 'weights' fails its CRC-32 check (header says ${hex((w.crc32! ^ 1) >>> 0)}, data gives ${hex(w.crc32!)}): the file is damaged`);
    // one flipped bit in the data, even one that leaves a valid value
    const damaged = network.slice();
    damaged[w.offset + 5] ^= 0x10;
    expectError(damaged, new RegExp(`^net\\.nnvis: chunk 'weights' fails its CRC-32 check \\(header says ${hex(w.crc32!)}, data gives 0x[0-9a-f]{8}\\): the file is damaged$`));
    expect(() => decodeNetwork(toV1(damaged), SRC)).not.toThrow(); // version 1 cannot tell
    // checksums come before values: a NaN in a damaged file is reported as damage
    expectError(poke(importance, 'nodeImportance', 5, NaN), /^net\.nnvis: chunk 'nodeImportance' fails its CRC-32 check/);
  });

  it('chunk lengths vs layers, with huge layers guarded', () => {
    expectError(rewrite(network, (h) => (h.chunks[0].length = 19)), /^net\.nnvis: chunk 'weights' declares 19 float32 values but the header's layers \[3,4,2\] need 20 \(one per edge\)$/);
    expectError(
      rewrite(network, (h) => (h.layers = [1e7, 1e7, 2])),
      `chunk 'weights' declares 20 float32 values but the header's layers [10000000,10000000,2] need 100000020000000 (one per edge)`,
    );
    const many = rewrite(network, (h) => {
      h.layers = [...Array(2000).fill(1e7), 2];
      h.activations = Array(2000).fill('relu');
    });
    expectError(many, /^net\.nnvis: chunk 'weights' declares 20 float32 values but the header's layers \[10000000,.*,\.\.\.\] need more than 2\^53 \(one per edge\)$/);
    expectError(rewrite(importance, (h) => (h.chunks[2].length = 17)), /chunk 'nodeImportance' declares 17 float32 values but the header's layers \[3,4,2\] need 18 \(nodes × classes\)/);
  });

  it('kinds', () => {
    expectError(rewrite(network, (h) => h.chunks.pop()), `the header declares kind 'network', which requires weights, biases, activations; missing: biases`);
    expectError(rewrite(importance, (h) => (h.kind = 'processed')), /declares kind 'processed', which requires .*; missing: nodePositions, edgeSampleOffsets, edgeSamples$/);
    expectError(rewrite(processed, (h) => (h.kind = 'importance')), `the header declares kind 'importance' but its chunks make a 'processed' network`);
    expectError(rewrite(importance, (h) => delete h.activations), `weights, biases and activations must be present together`);
  });

  it('values: non-finite floats, importance ranges and sample offsets', () => {
    for (const v1 of [false, true]) {
      const edit = (bytes: Uint8Array, name: string, index: number, value: number, dtype: 'float32' | 'uint32' = 'float32') =>
        v1 ? toV1(poke(bytes, name, index, value, dtype)) : craft(bytes, name, index, value, dtype);
      expectError(edit(importance, 'nodeImportance', 5, NaN), `chunk 'nodeImportance' has a non-finite value (NaN) at index 5`);
      expectError(edit(processed, 'edgeSamples', 7, -Infinity), `chunk 'edgeSamples' has a non-finite value (-Infinity) at index 7`);
      expectError(edit(processed, 'nodePositions', 4, Infinity), `chunk 'nodePositions' has a non-finite value (Infinity) at index 4`);
      expectError(edit(network, 'biases', 2, NaN), `chunk 'biases' has a non-finite value (NaN) at index 2`);
      expectError(edit(importance, 'nodeImportance', 3, -1.9e23), `chunk 'nodeImportance' has -1.9e+23 at index 3, outside [0, 1] (importance is normalised to 0 … 1)`);
      expectError(edit(importance, 'edgeImportance', 0, -2.1e38), `chunk 'edgeImportance' has -2.1e+38 at index 0, outside [0, 1] (importance is normalised to 0 … 1)`);
      expectError(edit(importance, 'edgeImportance', 19, 1.0000001), `chunk 'edgeImportance' has 1.0000001 at index 19, outside [0, 1] (importance is normalised to 0 … 1)`);
      expectError(edit(importance, 'edgeImportance', 1, -1e-45), /chunk 'edgeImportance' has -1e-45 at index 1, outside \[0, 1\]/);
      expectError(edit(processed, 'edgeSampleOffsets', 0, 1, 'uint32'), `chunk 'edgeSampleOffsets' must start at 0, got 1`);
      expectError(edit(processed, 'edgeSampleOffsets', 3, 1, 'uint32'), `chunk 'edgeSampleOffsets' decreases at index 3 (1 after 4)`);
      expectError(edit(processed, 'edgeSampleOffsets', 20, 39, 'uint32'), `chunk 'edgeSampleOffsets' ends at 39 but edgeSamples holds 40 samples`);
      expectError(edit(processed, 'edgeSampleOffsets', 20, 0xffffffff, 'uint32'), `chunk 'edgeSampleOffsets' ends at 4294967295 but edgeSamples holds 40 samples`);
      // the bounds are allowed: 0, -0 and 1; weights and positions may be any finite value
      for (const ok of [0, -0, 1, 2 ** -149]) expect(() => decodeNetwork(edit(importance, 'edgeImportance', 4, ok), SRC)).not.toThrow();
      expect(() => decodeNetwork(edit(processed, 'nodePositions', 4, -3.4e38), SRC)).not.toThrow();
      expect(() => decodeNetwork(edit(network, 'weights', 4, 3.4e38), SRC)).not.toThrow();
    }
  });
});

describe('container corruption properties', () => {
  it('every truncation of a few fixed files', () => {
    for (const bytes of [encodeNetwork(makeNet('network')), encodeNetwork(makeNet('processed'))]) {
      for (let len = 0; len <= bytes.length; len++) decodesSafely(bytes.slice(0, len));
    }
  });

  it('random truncations', () => {
    fc.assert(
      fc.property(encodedArb, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (bytes, cuts) => {
        for (const cut of cuts) decodesSafely(bytes.slice(0, cut % (bytes.length + 1)));
      }),
      { numRuns: 150 },
    );
  });

  it('random byte overwrites and bit flips', () => {
    const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), flip: fc.boolean() });
    fc.assert(
      fc.property(encodedArb, fc.array(edit, { minLength: 1, maxLength: 6 }), (bytes, edits) => {
        const out = bytes.slice();
        for (const { at, value, flip } of edits) {
          const i = at % out.length;
          out[i] = flip ? out[i] ^ (1 << (value & 7)) : value;
        }
        decodesSafely(out);
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes, with and without a valid prefix', () => {
    const prefix = (headerLength: number) => {
      const p = new Uint8Array(16);
      p.set([0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a]);
      setU32(p, 8, 1);
      setU32(p, 12, headerLength);
      return p;
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat({ max: 420 }), fc.boolean(), (rest, headerLength, withPrefix) => {
        decodesSafely(withPrefix ? Uint8Array.from([...prefix(headerLength), ...rest]) : rest);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.uint8Array({ maxLength: 200 }), (json, rest) => {
        const text = new TextEncoder().encode(JSON.stringify(json));
        decodesSafely(Uint8Array.from([...prefix(text.length), ...text, ...rest]));
      }),
      { numRuns: 300 },
    );
  });

  it('hostile header values in valid files', () => {
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.integer({ min: -20, max: 5000 }),
      fc.constantFrom(1e7, 1e8, 2 ** 32, 2 ** 53, 1e300, -1, 0.5, -0, [1e7, 1e7], [1e7, 1e7, 1], 'float32', 'uint32', 'weights', 'edgeSamples', 'processed'),
    );
    const path = fc.oneof(
      fc.constantFrom<(string | number)[]>(['kind'], ['layers'], ['classNames'], ['activations'], ['meta'], ['chunks'], ['version'], ['format']),
      fc.tuple(fc.constantFrom('layers', 'classNames', 'activations'), fc.nat({ max: 4 })),
      fc.tuple(fc.constant('chunks'), fc.nat({ max: 7 }), fc.constantFrom('name', 'dtype', 'length', 'offset')),
    );
    fc.assert(
      fc.property(encodedArb, fc.array(fc.tuple(path, hostile), { minLength: 1, maxLength: 3 }), fc.nat(), (bytes, edits, nanAt) => {
        decodesSafely(
          rewrite(bytes, (h) => {
            for (const [p, value] of edits) {
              let target: unknown = h;
              for (const key of p.slice(0, -1)) target = (target as Record<string | number, unknown> | null)?.[key];
              if (typeof target === 'object' && target !== null) (target as Record<string | number, unknown>)[p[p.length - 1]] = value;
            }
          }),
        );
        // NaN in a random float chunk: damage when the checksum is left, a crafted value when fixed
        const floats = headerOf(bytes).chunks.filter((c) => c.dtype === 'float32' && c.length > 0);
        const chunk = floats[nanAt % floats.length];
        expect(decodeError(poke(bytes, chunk.name, nanAt % chunk.length, NaN))).toMatch(new RegExp(`^${SRC}: chunk '${chunk.name}' fails its CRC-32 check`));
        const msg = decodeError(craft(bytes, chunk.name, nanAt % chunk.length, NaN));
        expect(msg).toBe(`${SRC}: chunk '${chunk.name}' has a non-finite value (NaN) at index ${nanAt % chunk.length}`);
      }),
      { numRuns: 400 },
    );
  });
});

describe('network files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnvis-container-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes atomically and reads back', () => {
    const path = join(dir, 'net.nnvis');
    const net = makeNet('processed');
    writeNetworkFile(path, net);
    expectSameNetwork(readNetworkFile(path), net);
    const before = readFileSync(path);
    expect(() => writeNetworkFile(path, { ...net, weights: new Float32Array(3) })).toThrow(/cannot encode network: 'weights' has 3 values/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reports missing and corrupt files as InputError naming the path', () => {
    const missing = join(dir, 'nope.nnvis');
    expect(() => readNetworkFile(missing)).toThrow(new InputError(`${missing}: file not found`));
    expect(() => readNetworkFile(dir)).toThrow(new InputError(`${dir}: is a directory, expected a .nnvis file (a regular file)`));
    expect(() => readNetworkFile(join(dir, 'nope', 'x.nnvis'))).toThrow(new InputError(`${join(dir, 'nope', 'x.nnvis')}: file not found`));
    const garbage = join(dir, 'garbage.nnvis');
    writeFileSync(garbage, 'hello');
    expect(() => readNetworkFile(garbage)).toThrow(new InputError(`${garbage}: not an nnvis file (bad magic)`));
    writeFileSync(garbage, '');
    expect(() => readNetworkFile(garbage)).toThrow(new InputError(`${garbage}: not an nnvis file (bad magic)`));
    writeFileSync(garbage, encodeNetwork(makeNet('network')).subarray(0, 12));
    expect(() => readNetworkFile(garbage)).toThrow(new InputError(`${garbage}: truncated: 12 bytes, less than the 16-byte file prefix`));
  });

  it('refuses what is not a regular file without reading it: /dev/zero, FIFOs', () => {
    expect(() => readNetworkFile('/dev/zero')).toThrow(new InputError('/dev/zero: is a character device, expected a .nnvis file (a regular file)'));
    const fifo = join(dir, 'fifo.nnvis');
    execFileSync('mkfifo', [fifo]); // nobody ever writes to it: opening it would wait forever
    expect(() => readNetworkFile(fifo)).toThrow(new InputError(`${fifo}: is a FIFO (named pipe), expected a .nnvis file (a regular file)`));
  });

  it('checks the header against the file size before reading the rest', () => {
    // a header that promises more than the file holds
    const net = encodeNetwork(makeNet('importance'));
    const short = join(dir, 'short.nnvis');
    writeFileSync(short, net.subarray(0, headerOf(net).chunks[2].offset + 8));
    expect(() => readNetworkFile(short)).toThrow(/^.*short\.nnvis: truncated: chunk 'nodeImportance' \(18 float32 values at offset \d+\) runs past the end of the file \(\d+ bytes\)$/);
    // a 3 GB (sparse) file behind a small valid network: refused without reading 3 GB
    const padded = join(dir, 'padded.nnvis');
    writeFileSync(padded, net);
    truncateSync(padded, 3e9);
    let t = performance.now();
    expect(() => readNetworkFile(padded)).toThrow(new InputError(`${padded}: ${3e9 - (headerOf(net).chunks[3].offset + 80)} unexpected bytes after the last chunk`));
    expect(performance.now() - t).toBeLessThan(2000);
    // a consistent header for 4.4 GB of weights, more than a Buffer holds
    const huge = join(dir, 'huge.nnvis');
    const layers = [1_100_000, 1000];
    const text = (start: number) =>
      JSON.stringify({
        format: 'nnvis', version: 2, kind: 'network', layers, classNames: layers.slice(1).flatMap((c) => Array.from({ length: c }, (_, i) => String(i))), activations: ['softmax'], meta: {},
        chunks: [
          { name: 'weights', dtype: 'float32', length: 1.1e9, offset: start, crc32: 0 },
          { name: 'biases', dtype: 'float32', length: 1000, offset: align16(start + 4.4e9), crc32: 0 },
        ],
      });
    let start = 0;
    while (align16(16 + text(start).length) !== start) start = align16(16 + text(start).length);
    const head = new Uint8Array(16 + text(start).length);
    head.set([0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a]);
    setU32(head, 8, 2);
    setU32(head, 12, text(start).length);
    head.set(new TextEncoder().encode(text(start)), 16);
    writeFileSync(huge, head);
    const size = align16(start + 4.4e9) + 4000;
    truncateSync(huge, size);
    t = performance.now();
    expect(() => readNetworkFile(huge)).toThrow(new InputError(`${huge}: is ${size} bytes, more than the 4294967296 bytes this Node.js can hold in memory`));
    expect(performance.now() - t).toBeLessThan(2000);
    rmSync(huge);
    rmSync(padded);
  });

  it('reads version-1 files', () => {
    const v1 = join(dir, 'v1.nnvis');
    writeFileSync(v1, V1_PROCESSED);
    expectSameNetwork(readNetworkFile(v1), decodeNetwork(V1_PROCESSED, SRC));
  });

  it('escapes file names in messages', () => {
    const odd = join(dir, 'odd\u001b[31m\n.nnvis');
    writeFileSync(odd, 'hello');
    expect(() => readNetworkFile(odd)).toThrow(new InputError(`${dir}/odd\\x1b[31m\\n.nnvis: not an nnvis file (bad magic)`));
  });
});

// The hostile files of the hardening work, as a user meets them: `nnvis inspect`, exit 1, one line.
describe('nnvis inspect on hostile files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnvis-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const importance = encodeNetwork(makeNet('importance'));
  const processed = encodeNetwork(makeNet('processed'));

  it.each([
    ['/dev/zero', () => '/dev/zero', 'nnvis: error: /dev/zero: is a character device, expected a .nnvis file (a regular file)'],
    ['a directory', () => dir, `nnvis: error: ${dir}: is a directory, expected a .nnvis file (a regular file)`],
    [
      'impossible node importance',
      () => file('node-importance.nnvis', craft(importance, 'nodeImportance', 7, -1.9e23)),
      `nnvis: error: ${dir}/node-importance.nnvis: chunk 'nodeImportance' has -1.9e+23 at index 7, outside [0, 1] (importance is normalised to 0 … 1)`,
    ],
    [
      'impossible edge importance',
      () => file('edge-importance.nnvis', craft(importance, 'edgeImportance', 3, -2.1e38)),
      `nnvis: error: ${dir}/edge-importance.nnvis: chunk 'edgeImportance' has -2.1e+38 at index 3, outside [0, 1] (importance is normalised to 0 … 1)`,
    ],
    [
      'a non-finite position',
      () => file('position.nnvis', craft(processed, 'nodePositions', 2, NaN)),
      `nnvis: error: ${dir}/position.nnvis: chunk 'nodePositions' has a non-finite value (NaN) at index 2`,
    ],
    [
      'chunks out of order',
      () => {
        const h = headerOf(importance);
        return file('order.nnvis', layout({ ...h, chunks: [h.chunks[0], h.chunks[1], h.chunks[3], h.chunks[2]] }, [0, 1, 3, 2].map((i) => chunkBytes(importance, h.chunks[i])), 2));
      },
      `nnvis: error: ${dir}/order.nnvis: chunk 'nodeImportance' is listed after 'edgeImportance'; the chunk table must follow the order weights, biases, nodeImportance, edgeImportance, nodePositions, edgeSampleOffsets, edgeSamples`,
    ],
    [
      'a CRC mismatch',
      () => {
        const damaged = processed.slice();
        damaged[headerOf(processed).chunks[6].offset + 40] ^= 4;
        return file('damaged.nnvis', damaged);
      },
      new RegExp(`^nnvis: error: ${dir}/damaged\\.nnvis: chunk 'edgeSamples' fails its CRC-32 check \\(header says 0x[0-9a-f]{8}, data gives 0x[0-9a-f]{8}\\): the file is damaged$`),
    ],
  ])('%s', (_, path, expected) => {
    const line = expectOneLineError(runCli(['inspect', path()]));
    if (typeof expected === 'string') expect(line).toBe(expected);
    else expect(line).toMatch(expected);
  });

  it('a FIFO', () => {
    const fifo = join(dir, 'fifo.nnvis');
    execFileSync('mkfifo', [fifo]);
    expect(expectOneLineError(runCli(['inspect', fifo], 20_000))).toBe(`nnvis: error: ${fifo}: is a FIFO (named pipe), expected a .nnvis file (a regular file)`);
  });

  it('a version-1 file is still readable', () => {
    const r = runCli(['inspect', file('v1.nnvis', V1_PROCESSED)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind:        processed network (bundled)');
    expect(r.stdout).toContain('classes:     2 (cat, dog)');
    expect(r.stdout).toContain('edge samples: 5');
  });

  it('escapes the strings of a file, in text and in JSON', () => {
    const evil = '\u001b[31m\n';
    const net = { ...makeNet('network'), classNames: [`red${evil}`, 'rtl\u202e\u0085'], meta: { [`key${evil}`]: `value${evil}\u2028`, importance: { perClass: [{ className: `c${evil}` }, null] } } };
    const path = file('evil.nnvis', encodeNetwork(net));
    const r = runCli(['inspect', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('classes:     2 (red\\x1b[31m\\n, rtl\\u202e\\x85)');
    expect(r.stdout).toContain('key\\x1b[31m\\n: "value\\u001b[31m\\n\\u2028"');
    expect(r.stdout).toContain('  class c\\x1b[31m\\n: {"className":"c\\u001b[31m\\n"}');
    expect(r.stdout).toContain('  class ?: null');
    const clean = (out: string) => out.split('\n').every((line) => line === printable(line, Infinity)); // nothing raw but newlines
    expect(clean(r.stdout)).toBe(true);
    const j = runCli(['inspect', '--json', path]);
    expect(j.code).toBe(0);
    expect(clean(j.stdout)).toBe(true);
    const summary = JSON.parse(j.stdout) as { classes: string[]; meta: Record<string, unknown> };
    expect(summary.classes).toEqual(net.classNames);
    expect(summary.meta[`key${evil}`]).toBe(`value${evil}\u2028`);
  });
});
