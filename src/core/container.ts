// The .nnvis binary container: a small JSON header plus raw little-endian typed-array
// chunks, so a browser can map a million edge samples without parsing JSON numbers.
// Spec: docs/FORMAT.md. Pure and platform-neutral (runs in Node and in the viewer).

import { InputError } from './errors.ts';
import { ACTIVATIONS, kindOf, type Activation, type Network, type NetworkKind } from './network.ts';

export const FORMAT_VERSION = 1;
/** Versions this reader understands. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];

// "NNVIS\0\r\n": the NUL stops text tools, the CR LF detects line-ending conversion.
const MAGIC = [0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a];
const PREFIX_BYTES = 16; // magic, u32 version, u32 header length
const ALIGN = 16;
const ELEMENT_BYTES = 4; // both dtypes are 32-bit
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const MAX_LAYER_SIZE = 10_000_000;
// Keeps re-encoding (recursive) safe for any meta a decode accepted.
const MAX_META_DEPTH = 100;

const KINDS: readonly NetworkKind[] = ['network', 'importance', 'processed'];
const HEADER_FIELDS = ['format', 'version', 'kind', 'layers', 'classNames', 'activations', 'meta', 'chunks'];
const CHUNK_FIELDS = ['name', 'dtype', 'length', 'offset'];

type ChunkName =
  | 'weights'
  | 'biases'
  | 'nodeImportance'
  | 'edgeImportance'
  | 'nodePositions'
  | 'edgeSampleOffsets'
  | 'edgeSamples';
type DType = 'float32' | 'uint32';

/** All chunks in file order (= field order of Network). */
const CHUNKS: readonly { name: ChunkName; dtype: DType }[] = [
  { name: 'weights', dtype: 'float32' },
  { name: 'biases', dtype: 'float32' },
  { name: 'nodeImportance', dtype: 'float32' },
  { name: 'edgeImportance', dtype: 'float32' },
  { name: 'nodePositions', dtype: 'float32' },
  { name: 'edgeSampleOffsets', dtype: 'uint32' },
  { name: 'edgeSamples', dtype: 'float32' },
];

const REQUIRED: Record<NetworkKind, readonly (ChunkName | 'activations')[]> = {
  network: ['weights', 'biases', 'activations'],
  importance: ['nodeImportance', 'edgeImportance'],
  processed: ['nodeImportance', 'edgeImportance', 'nodePositions', 'edgeSampleOffsets', 'edgeSamples'],
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** How a check reports: decode names the file and the header, encode names the fields. */
interface Ctx {
  fail: (msg: string) => never;
  decoding: boolean;
}

const field = (ctx: Ctx, name: string): string => (ctx.decoding ? `header field '${name}'` : `'${name}'`);
const chunkLabel = (ctx: Ctx, name: string): string => (ctx.decoding ? `chunk '${name}'` : `'${name}'`);

// ---------------------------------------------------------------------------------------
// Encode

export function encodeNetwork(net: Network): Uint8Array {
  const ctx: Ctx = {
    decoding: false,
    fail: (msg) => {
      throw new Error(`cannot encode network: ${msg}`);
    },
  };
  const { layers, classNames, activations } = checkShape(ctx, net.layers, net.classNames, net.activations);
  const metaJson = checkMeta(ctx, net.meta);
  const kind = checkArrays(ctx, net);

  const present = CHUNKS.filter((c) => net[c.name] !== undefined);
  // Chunk offsets live in the header, whose length moves the offsets: iterate to the
  // fixed point (lengths only grow, so this stops after a step or two).
  const headerFor = (dataStart: number) => {
    let pos = dataStart;
    const chunks = present.map(({ name, dtype }) => {
      const length = net[name]!.length;
      const entry = { name, dtype, length, offset: pos };
      pos = align(pos + length * ELEMENT_BYTES);
      return entry;
    });
    const json =
      `{"format":"nnvis","version":${FORMAT_VERSION},"kind":"${kind}",` +
      `"layers":${JSON.stringify(layers)},"classNames":${JSON.stringify(classNames)},` +
      (activations ? `"activations":${JSON.stringify(activations)},` : '') +
      `"meta":${metaJson},"chunks":${JSON.stringify(chunks)}}`;
    return { text: new TextEncoder().encode(json), chunks, end: pos };
  };
  let dataStart = 0;
  let header = headerFor(dataStart);
  while (align(PREFIX_BYTES + header.text.length) !== dataStart) {
    dataStart = align(PREFIX_BYTES + header.text.length);
    header = headerFor(dataStart);
  }
  if (header.text.length > MAX_HEADER_BYTES) {
    ctx.fail(`header (class names + meta) is ${header.text.length} bytes, over the 16 MiB limit`);
  }

  const out = new Uint8Array(header.end); // zero-filled: all padding is zeros
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, header.text.length, true);
  out.set(header.text, PREFIX_BYTES);
  for (const { name, dtype, offset } of header.chunks) {
    const a = net[name]!;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    } else {
      for (let i = 0; i < a.length; i++) {
        if (dtype === 'float32') view.setFloat32(offset + i * ELEMENT_BYTES, a[i], true);
        else view.setUint32(offset + i * ELEMENT_BYTES, a[i], true);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Decode

/**
 * Parses and fully validates a container. On a little-endian platform the returned
 * typed arrays are views into `bytes` (zero-copy) wherever alignment allows, so do not
 * mutate `bytes` afterwards. Throws InputError(`${source}: ...`) on the first problem.
 */
export function decodeNetwork(bytes: Uint8Array, source: string): Network {
  const ctx: Ctx = {
    decoding: true,
    fail: (msg) => {
      throw new InputError(`${source}: ${msg.replace(/[\r\n]+/g, ' ')}`);
    },
  };
  const fail: Ctx['fail'] = ctx.fail;

  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    const head = String.fromCharCode(...bytes.subarray(0, 9));
    if (head.startsWith('NNVIS\0\n') || head.startsWith('NNVIS\0\r\r\n')) {
      fail('corrupted nnvis file (bad magic: its line endings were converted; copy it in binary mode)');
    }
    fail('not an nnvis file (bad magic)');
  }
  if (bytes.length < PREFIX_BYTES) fail(`truncated: ${bytes.length} bytes, less than the 16-byte file prefix`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    const newer = version > FORMAT_VERSION ? '; it was written by a newer nnvis, upgrade to read it' : '';
    fail(`unsupported format version ${version} (this nnvis reads version ${SUPPORTED_VERSIONS.join(', ')}${newer})`);
  }
  const headerBytes = view.getUint32(12, true);
  if (headerBytes > MAX_HEADER_BYTES) fail(`header length ${headerBytes} exceeds the 16 MiB limit`);
  if (PREFIX_BYTES + headerBytes > bytes.length) {
    fail(`truncated: header length ${headerBytes} runs past the end of the file (${bytes.length} bytes)`);
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes));
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isPlainObject(header)) fail('header is not a JSON object');
  const unknown = Object.keys(header).find((k) => !HEADER_FIELDS.includes(k));
  if (unknown !== undefined) fail(`header has unknown field ${show(unknown)}`);
  if (header.format !== 'nnvis') fail(`header field 'format' is ${show(header.format)}, expected "nnvis"`);
  if (header.version !== version) {
    fail(`header field 'version' is ${show(header.version)} but the file prefix says ${version}`);
  }
  const kind = header.kind as NetworkKind;
  if (!KINDS.includes(kind)) fail(`header field 'kind' is ${show(header.kind)}, expected one of ${KINDS.join(', ')}`);
  const shape = checkShape(ctx, header.layers, header.classNames, header.activations);
  checkMeta(ctx, header.meta);

  // Chunk table: everything about sizes is checked against the file before any copy.
  const chunks = header.chunks;
  if (!Array.isArray(chunks)) fail(`header field 'chunks' is ${show(chunks)}, expected an array`);
  const dataStart = align(PREFIX_BYTES + headerBytes);
  const table: { name: ChunkName; dtype: DType; length: number; offset: number }[] = [];
  chunks.forEach((entry: unknown, i) => {
    if (!isPlainObject(entry)) return fail(`chunk table entry ${i} is ${show(entry)}, expected an object`);
    const extra = Object.keys(entry).find((k) => !CHUNK_FIELDS.includes(k));
    if (extra !== undefined) fail(`chunk table entry ${i} has unknown field ${show(extra)}`);
    const spec = CHUNKS.find((c) => c.name === entry.name);
    if (!spec) fail(`chunk table entry ${i} has unknown name ${show(entry.name)} (known: ${CHUNKS.map((c) => c.name).join(', ')})`);
    const { name, dtype } = spec;
    if (table.some((c) => c.name === name)) fail(`chunk '${name}' appears twice in the chunk table`);
    if (entry.dtype !== dtype) fail(`chunk '${name}' has dtype ${show(entry.dtype)}, expected "${dtype}"`);
    const { length, offset } = entry;
    if (!isCount(length)) fail(`chunk '${name}' has length ${show(length)}, expected a non-negative integer`);
    if (!isCount(offset)) fail(`chunk '${name}' has offset ${show(offset)}, expected a non-negative integer`);
    if (offset % ALIGN !== 0) fail(`chunk '${name}' offset ${offset} is not 16-byte aligned`);
    if (offset < dataStart) fail(`chunk '${name}' offset ${offset} lies inside the header (chunks start at ${dataStart})`);
    // Division form: length * 4 could exceed 2^53 for hostile lengths.
    if (offset > bytes.length || length > (bytes.length - offset) / ELEMENT_BYTES) {
      fail(`truncated: chunk '${name}' (${length} ${dtype} values at offset ${offset}) runs past the end of the file (${bytes.length} bytes)`);
    }
    table.push({ name, dtype, length, offset });
  });
  const byStart = [...table].sort((a, b) => a.offset - b.offset);
  let end = dataStart;
  for (let i = 0; i < byStart.length; i++) {
    const c = byStart[i];
    if (i > 0 && c.offset < end) fail(`chunks '${byStart[i - 1].name}' and '${c.name}' overlap`);
    end = Math.max(end, c.offset + c.length * ELEMENT_BYTES);
  }

  const arrays: Partial<Record<ChunkName, Float32Array | Uint32Array>> = {};
  for (const c of table) arrays[c.name] = readChunk(bytes, c.offset, c.length, c.dtype);
  // Keys in Network field order, optional ones only when present.
  const net = { layers: shape.layers, classNames: shape.classNames } as Network;
  if (shape.activations) net.activations = shape.activations;
  for (const { name } of CHUNKS) {
    if (arrays[name]) Object.assign(net, { [name]: arrays[name] });
  }
  net.meta = header.meta as Network['meta'];
  checkArrays(ctx, net, kind);
  // Last, so a chunk missing from the table is reported as such rather than as leftovers.
  if (bytes.length > align(end)) fail(`${bytes.length - end} unexpected bytes after the last chunk`);
  return net;
}

function readChunk(bytes: Uint8Array, offset: number, length: number, dtype: DType): Float32Array | Uint32Array {
  const start = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN) {
    // A view when aligned; otherwise one copy (slice gives a fresh, aligned buffer).
    const aligned = start % ELEMENT_BYTES === 0;
    const buffer = aligned ? bytes.buffer : bytes.slice(offset, offset + length * ELEMENT_BYTES).buffer;
    const at = aligned ? start : 0;
    return dtype === 'float32' ? new Float32Array(buffer, at, length) : new Uint32Array(buffer, at, length);
  }
  const out = dtype === 'float32' ? new Float32Array(length) : new Uint32Array(length);
  const view = new DataView(bytes.buffer, start, length * ELEMENT_BYTES);
  for (let i = 0; i < length; i++) {
    out[i] = dtype === 'float32' ? view.getFloat32(i * ELEMENT_BYTES, true) : view.getUint32(i * ELEMENT_BYTES, true);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Checks shared by encode and decode, so a file we write is always a file we read.

function checkShape(
  ctx: Ctx,
  layers: unknown,
  classNames: unknown,
  activations: unknown,
): { layers: number[]; classNames: string[]; activations?: Activation[] } {
  const fail: Ctx['fail'] = ctx.fail;
  if (!Array.isArray(layers) || layers.length < 2) {
    fail(`${field(ctx, 'layers')} is ${show(layers)}, expected an array of at least 2 layer sizes`);
  }
  // Index loops, not forEach: a sparse array from a JS caller must not skip its holes.
  for (let i = 0; i < layers.length; i++) {
    const n: unknown = layers[i];
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_LAYER_SIZE) {
      fail(`${field(ctx, 'layers')}[${i}] is ${show(n)}, expected an integer from 1 to ${MAX_LAYER_SIZE}`);
    }
  }
  const classes = layers[layers.length - 1] as number;
  if (!Array.isArray(classNames)) fail(`${field(ctx, 'classNames')} is ${show(classNames)}, expected an array of strings`);
  for (let i = 0; i < classNames.length; i++) {
    if (typeof classNames[i] !== 'string') fail(`${field(ctx, 'classNames')}[${i}] is ${show(classNames[i])}, expected a string`);
  }
  if (classNames.length !== classes) {
    fail(`${field(ctx, 'classNames')} has ${classNames.length} names but the output layer has ${classes} nodes`);
  }
  if (activations !== undefined) {
    if (!Array.isArray(activations) || activations.length !== layers.length - 1) {
      fail(`${field(ctx, 'activations')} must be an array of ${layers.length - 1} (one per dense layer of ${fmtLayers(layers)})`);
    }
    for (let i = 0; i < activations.length; i++) {
      if (!ACTIVATIONS.includes(activations[i] as Activation)) {
        fail(`${field(ctx, 'activations')}[${i}] is ${show(activations[i])}, expected one of ${ACTIVATIONS.join(', ')}`);
      }
    }
  }
  return { layers, classNames, activations };
}

/** Validates meta as plain JSON and returns its canonical text (sorted keys). */
function checkMeta(ctx: Ctx, meta: unknown): string {
  if (!isPlainObject(meta)) ctx.fail(`${field(ctx, 'meta')} is ${show(meta)}, expected a JSON object`);
  const stack: object[] = [];
  const walk = (v: unknown, path: string): string | undefined => {
    const bad = (what: string): never => ctx.fail(`${field(ctx, path)} is ${what}; meta must be plain JSON`);
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : bad(`${v} (not finite)`);
      case 'undefined':
        return undefined; // dropped inside objects, like JSON.stringify does
      case 'object': {
        if (v === null) return 'null';
        if (stack.includes(v)) bad('a reference back to itself');
        if (stack.length >= MAX_META_DEPTH) bad(`nested deeper than ${MAX_META_DEPTH} levels`);
        stack.push(v);
        let text: string;
        if (Array.isArray(v)) {
          text = `[${v.map((x, i) => walk(x, `${path}[${i}]`) ?? bad('undefined')).join(',')}]`;
        } else if (isPlainObject(v)) {
          const parts: string[] = [];
          for (const key of Object.keys(v).sort()) {
            const s = walk(v[key], `${path}.${key}`);
            if (s !== undefined) parts.push(`${JSON.stringify(key)}:${s}`);
          }
          text = `{${parts.join(',')}}`;
        } else {
          text = bad(`a ${v.constructor?.name ?? 'non-plain'} object`);
        }
        stack.pop();
        return text;
      }
      default:
        return bad(`a ${typeof v}`);
    }
  };
  return walk(meta, 'meta')!;
}

/** Array lengths vs layers, kind requirements, finite floats, monotone offsets. */
function checkArrays(ctx: Ctx, net: Network, declared?: NetworkKind): NetworkKind {
  const fail: Ctx['fail'] = ctx.fail;
  const { layers } = net;
  const classes = layers[layers.length - 1];
  // Safe arithmetic: hostile layers like [1e7, 1e7, ...] must not lose precision.
  let nodes = 0;
  let edges = 0;
  for (let k = 0; k < layers.length; k++) {
    nodes = safe(nodes + layers[k]);
    if (k + 1 < layers.length) edges = safe(edges + layers[k] * layers[k + 1]);
  }
  const expected: Partial<Record<ChunkName, [number, string]>> = {
    weights: [edges, 'one per edge'],
    biases: [nodes - layers[0], 'one per non-input node'],
    nodeImportance: [safe(nodes * classes), 'nodes × classes'],
    edgeImportance: [edges, 'one per edge'],
    nodePositions: [safe(nodes * 3), 'nodes × 3'],
    edgeSampleOffsets: [safe(edges + 1), 'edges + 1'],
  };
  for (const { name, dtype } of CHUNKS) {
    const a = net[name];
    if (a === undefined) continue;
    const Ctor = dtype === 'float32' ? Float32Array : Uint32Array;
    if (!(a instanceof Ctor)) fail(`${chunkLabel(ctx, name)} must be a ${Ctor.name}`);
    const rule = expected[name];
    if (rule && a.length !== rule[0]) {
      const has = ctx.decoding ? `chunk '${name}' declares ${a.length} ${dtype} values` : `'${name}' has ${a.length} values`;
      const need = Number.isFinite(rule[0]) ? String(rule[0]) : 'more than 2^53';
      fail(`${has} but ${ctx.decoding ? "the header's " : ''}layers ${fmtLayers(layers)} need ${need} (${rule[1]})`);
    }
  }
  if (net.edgeSamples && net.edgeSamples.length % 3 !== 0) {
    fail(`${chunkLabel(ctx, 'edgeSamples')} has ${net.edgeSamples.length} values, not a multiple of 3 (x, y, z per sample)`);
  }

  const kind = declared ?? kindOf(net);
  const missing = REQUIRED[kind].filter((name) => net[name] === undefined);
  if (missing.length > 0) {
    const subject = ctx.decoding ? `the header declares kind '${kind}', which` : `a '${kind}' network`;
    fail(`${subject} requires ${REQUIRED[kind].join(', ')}; missing: ${missing.join(', ')}`);
  }
  if ((net.weights === undefined) !== (net.biases === undefined) || (net.weights === undefined) !== (net.activations === undefined)) {
    fail('weights, biases and activations must be present together');
  }
  if ((net.edgeSampleOffsets === undefined) !== (net.edgeSamples === undefined)) {
    fail('edgeSampleOffsets and edgeSamples must be present together');
  }
  if (declared !== undefined && kindOf(net) !== declared) {
    fail(`the header declares kind '${declared}' but its chunks make a '${kindOf(net)}' network`);
  }

  for (const { name, dtype } of CHUNKS) {
    const a = net[name];
    if (a === undefined || dtype !== 'float32') continue;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) fail(`${chunkLabel(ctx, name)} has a non-finite value (${a[i]}) at index ${i}`);
    }
  }
  const offsets = net.edgeSampleOffsets;
  if (offsets) {
    const label = chunkLabel(ctx, 'edgeSampleOffsets');
    const samples = net.edgeSamples!.length / 3;
    if (offsets[0] !== 0) fail(`${label} must start at 0, got ${offsets[0]}`);
    for (let i = 1; i < offsets.length; i++) {
      if (offsets[i] < offsets[i - 1]) fail(`${label} decreases at index ${i} (${offsets[i]} after ${offsets[i - 1]})`);
    }
    const last = offsets[offsets.length - 1];
    if (last !== samples) fail(`${label} ends at ${last} but edgeSamples holds ${samples} samples`);
  }
  return kind;
}

// ---------------------------------------------------------------------------------------
// Helpers

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Exact below 2^53, Infinity above: enough to say "does not match". */
function safe(n: number): number {
  return n <= Number.MAX_SAFE_INTEGER ? n : Infinity;
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A value quoted for a one-line message, cut short. */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function fmtLayers(layers: readonly unknown[]): string {
  return `[${layers.slice(0, 10).join(',')}${layers.length > 10 ? ',...' : ''}]`;
}
