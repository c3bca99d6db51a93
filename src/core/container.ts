// The .nnvis binary container: a small JSON header plus raw little-endian typed-array
// chunks, so a browser can map a million edge samples without parsing JSON numbers.
// Spec: docs/FORMAT.md. Pure and platform-neutral (runs in Node and in the viewer).

import { crc32 } from './crc32.ts';
import { InputError } from './errors.ts';
import {
  ACTIVATION_DEFAULTS,
  ACTIVATIONS,
  type Activation,
  type ActivationParams,
  type ConvOp,
  type InputOrder,
  type LayerOp,
  type MapShape,
  mapShapes,
  type Network,
  type NetworkKind,
  type Padding,
  weightCount,
} from './network.ts';
import { oneLine, printable } from './text.ts';

/** The version writers write: 2 added a CRC-32 per chunk. */
export const FORMAT_VERSION = 2;
/**
 * 3 added the activations after softmax in ACTIVATIONS and `activationParams`; written only for
 * networks that use them, so every other file stays version 2 and older nnvis keep reading it.
 */
export const ACTIVATIONS_VERSION = 3;
/** Versions this reader understands. */
/** 4 added convolutional networks: `inputShape` and `ops`; written only for them. */
export const CONV_VERSION = 4;
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2, 3, 4];
/** The activations versions 1 and 2 know. */
const CLASSIC_ACTIVATIONS = ACTIVATIONS.slice(0, 5);
/** Magic, u32 version, u32 header length: what a reader needs before anything else. */
export const PREFIX_BYTES = 16;

// "NNVIS\0\r\n": the NUL stops text tools, the CR LF detects line-ending conversion.
const MAGIC = [0x4e, 0x4e, 0x56, 0x49, 0x53, 0x00, 0x0d, 0x0a];
const ALIGN = 16;
const ELEMENT_BYTES = 4; // both dtypes are 32-bit
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const MAX_LAYER_SIZE = 10_000_000;
// Keeps re-encoding (recursive) safe for any meta a decode accepted.
const MAX_META_DEPTH = 100;
const MAX_U32 = 0xffffffff;

const KINDS: readonly NetworkKind[] = ['network', 'importance', 'processed'];
const HEADER_FIELDS = ['format', 'version', 'kind', 'layers', 'classNames', 'activations', 'activationParams', 'inputShape', 'inputOrder', 'ops', 'meta', 'chunks'];
/** Largest kernel, stride or pool window side a conv op may declare. */
const MAX_WINDOW = 1024;
/** Fields of a chunk table entry per version (version 2 added the checksum). */
const CHUNK_FIELDS: Record<number, readonly string[]> = {
  1: ['name', 'dtype', 'length', 'offset'],
  2: ['name', 'dtype', 'length', 'offset', 'crc32'],
  3: ['name', 'dtype', 'length', 'offset', 'crc32'],
  4: ['name', 'dtype', 'length', 'offset', 'crc32'],
};

type ChunkName =
  | 'weights'
  | 'biases'
  | 'nodeImportance'
  | 'edgeImportance'
  | 'nodePositions'
  | 'edgeSampleOffsets'
  | 'edgeSamples';
type DType = 'float32' | 'uint32';

/** All chunks in table and file order (= field order of Network). */
const CHUNKS: readonly { name: ChunkName; dtype: DType }[] = [
  { name: 'weights', dtype: 'float32' },
  { name: 'biases', dtype: 'float32' },
  { name: 'nodeImportance', dtype: 'float32' },
  { name: 'edgeImportance', dtype: 'float32' },
  { name: 'nodePositions', dtype: 'float32' },
  { name: 'edgeSampleOffsets', dtype: 'uint32' },
  { name: 'edgeSamples', dtype: 'float32' },
];
const CHUNK_ORDER = CHUNKS.map((c) => c.name).join(', ');

/** Chunks whose values are importance scores, normalised to [0, 1] (docs/FORMAT.md, Chunks). */
const UNIT_RANGE: readonly ChunkName[] = ['nodeImportance', 'edgeImportance'];

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

/** One chunk table entry; `crc32` from version 2 on. */
interface TableEntry {
  name: ChunkName;
  dtype: DType;
  length: number;
  offset: number;
  crc32?: number;
}

/** What the prefix and header of a file say, all of it checked against the file size. */
interface Head {
  version: number;
  kind: NetworkKind;
  layers: number[];
  classNames: string[];
  activations?: Activation[];
  activationParams?: ActivationParams[];
  inputShape?: MapShape;
  inputOrder?: InputOrder;
  ops?: LayerOp[];
  meta: Network['meta'];
  table: TableEntry[];
}

// ---------------------------------------------------------------------------------------
// Encode

export function encodeNetwork(net: Network): Uint8Array {
  const ctx: Ctx = {
    decoding: false,
    fail: (msg) => {
      throw new Error(`cannot encode network: ${msg}`);
    },
  };
  const { layers, classNames, activations, activationParams } = checkShape(ctx, net.layers, net.classNames, net.activations, net.activationParams);
  const arch = checkArchitecture(ctx, layers, net.inputShape, net.ops, net.inputOrder);
  const metaJson = checkMeta(ctx, net.meta);
  const kind = checkArrays(ctx, net, arch);
  const version = arch
    ? CONV_VERSION
    : activationParams || activations?.some((a) => !CLASSIC_ACTIVATIONS.includes(a))
      ? ACTIVATIONS_VERSION
      : FORMAT_VERSION;

  // Checksums do not depend on where a chunk lands, so they come first.
  const present = CHUNKS.filter((c) => net[c.name] !== undefined).map(({ name, dtype }) => {
    const data = littleEndianBytes(net[name]!, dtype);
    return { name, dtype, length: net[name]!.length, data, crc: crc32(data) };
  });
  // Chunk offsets live in the header, whose length moves the offsets: iterate to the
  // fixed point (lengths only grow, so this stops after a step or two).
  const headerFor = (dataStart: number) => {
    let pos = dataStart;
    const chunks = present.map(({ name, dtype, length, crc }) => {
      const entry = { name, dtype, length, offset: pos, crc32: crc };
      pos = align(pos + length * ELEMENT_BYTES);
      return entry;
    });
    const json =
      `{"format":"nnvis","version":${version},"kind":"${kind}",` +
      `"layers":${JSON.stringify(layers)},"classNames":${JSON.stringify(classNames)},` +
      (activations ? `"activations":${JSON.stringify(activations)},` : '') +
      (activationParams ? `"activationParams":${JSON.stringify(activationParams)},` : '') +
      (arch ? `"inputShape":${JSON.stringify(arch.inputShape)},${arch.inputOrder ? `"inputOrder":"${arch.inputOrder}",` : ''}"ops":${JSON.stringify(arch.ops)},` : '') +
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
  view.setUint32(8, version, true);
  view.setUint32(12, header.text.length, true);
  out.set(header.text, PREFIX_BYTES);
  header.chunks.forEach(({ offset }, i) => out.set(present[i].data, offset));
  return out;
}

/** The bytes of an array as the file stores them (a view on little-endian machines). */
function littleEndianBytes(a: Float32Array | Uint32Array, dtype: DType): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * ELEMENT_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (dtype === 'float32') view.setFloat32(i * ELEMENT_BYTES, a[i], true);
    else view.setUint32(i * ELEMENT_BYTES, a[i], true);
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
  const ctx = decodeCtx(source);
  const head = readHead(ctx, bytes, bytes.length);

  // Checksums before values: a damaged file is reported as damaged, not as odd numbers.
  for (const c of head.table) {
    if (c.crc32 === undefined) continue; // version 1
    const actual = crc32(bytes.subarray(c.offset, c.offset + c.length * ELEMENT_BYTES));
    if (actual !== c.crc32) {
      ctx.fail(`chunk '${c.name}' fails its CRC-32 check (header says ${hex(c.crc32)}, data gives ${hex(actual)}): the file is damaged`);
    }
  }

  // Keys in Network field order, optional ones only when present.
  const net = { layers: head.layers, classNames: head.classNames } as Network;
  if (head.activations) net.activations = head.activations;
  if (head.activationParams) net.activationParams = head.activationParams;
  if (head.inputShape) net.inputShape = head.inputShape;
  if (head.inputOrder) net.inputOrder = head.inputOrder;
  if (head.ops) net.ops = head.ops;
  for (const c of head.table) Object.assign(net, { [c.name]: readChunk(bytes, c.offset, c.length, c.dtype) });
  net.meta = head.meta;
  checkValues(ctx, net);
  return net;
}

/**
 * Reads the 16-byte prefix of a file of `fileSize` bytes (`prefix` = its first
 * min(16, fileSize) bytes or more) and returns how many bytes prefix + header take, so a
 * reader can fetch exactly those before committing to the rest. Throws InputError like
 * `decodeNetwork` for a bad magic, an unsupported version or a header length the file
 * cannot hold.
 */
export function containerHeadBytes(prefix: Uint8Array, fileSize: number, source: string): number {
  return PREFIX_BYTES + readPrefix(decodeCtx(source), prefix, fileSize).headerBytes;
}

/**
 * Everything `decodeNetwork` checks without the chunk data (FORMAT.md, Validation, steps
 * 1–6), for a file of `fileSize` bytes whose first `containerHeadBytes` bytes are `head`:
 * the header and chunk table against the file size, lengths against layers, kinds and
 * trailing bytes. After it passes, the file's size is what its header declares (give or
 * take the final padding), so reading it all allocates nothing the header did not justify.
 */
export function checkContainerHead(head: Uint8Array, fileSize: number, source: string): void {
  readHead(decodeCtx(source), head, fileSize);
}

function decodeCtx(source: string): Ctx {
  const label = printable(source, 500);
  return {
    decoding: true,
    fail: (msg) => {
      // oneLine is the last line of defence; file strings in `msg` went through show().
      throw new InputError(`${label}: ${oneLine(msg)}`);
    },
  };
}

/** Step 1: magic, version, header length; `bytes` holds the first min(16, fileSize) bytes or more. */
function readPrefix(ctx: Ctx, bytes: Uint8Array, fileSize: number): { version: number; headerBytes: number } {
  const fail: Ctx['fail'] = ctx.fail;
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    const head = String.fromCharCode(...bytes.subarray(0, 9));
    if (head.startsWith('NNVIS\0\n') || head.startsWith('NNVIS\0\r\r\n')) {
      fail('corrupted nnvis file (bad magic: its line endings were converted; copy it in binary mode)');
    }
    fail('not an nnvis file (bad magic)');
  }
  if (fileSize < PREFIX_BYTES || bytes.length < PREFIX_BYTES) {
    fail(`truncated: ${fileSize} bytes, less than the 16-byte file prefix`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    const newer = version > SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] ? '; it was written by a newer nnvis, upgrade to read it' : '';
    fail(`unsupported format version ${version} (this nnvis reads versions ${SUPPORTED_VERSIONS.slice(0, -1).join(', ')} and ${SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]}${newer})`);
  }
  const headerBytes = view.getUint32(12, true);
  if (headerBytes > MAX_HEADER_BYTES) fail(`header length ${headerBytes} exceeds the 16 MiB limit`);
  if (PREFIX_BYTES + headerBytes > fileSize) {
    fail(`truncated: header length ${headerBytes} runs past the end of the file (${fileSize} bytes)`);
  }
  return { version, headerBytes };
}

/** Steps 1–6 of FORMAT.md's Validation: all but checksums and values. */
function readHead(ctx: Ctx, bytes: Uint8Array, fileSize: number): Head {
  const fail: Ctx['fail'] = ctx.fail;
  const { version, headerBytes } = readPrefix(ctx, bytes, fileSize);
  // Only checkContainerHead can get fewer bytes than the file size promised: the file shrank meanwhile.
  if (bytes.length < PREFIX_BYTES + headerBytes) {
    fail(`truncated: header length ${headerBytes} runs past the end of the file (${bytes.length} bytes)`);
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes));
    header = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the offending text: escape it like any file string.
    fail(`header is not valid UTF-8 JSON (${printable(err instanceof Error ? err.message : String(err), 120)})`);
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
  // (activation names are read in any version: an older nnvis refuses the new ones by name anyway)
  if (version < ACTIVATIONS_VERSION && header.activationParams !== undefined) {
    fail(`header has unknown field "activationParams" (version ${version} files have none; it came in version ${ACTIVATIONS_VERSION})`);
  }
  const shape = checkShape(ctx, header.layers, header.classNames, header.activations, header.activationParams);
  const convField = (['inputShape', 'inputOrder', 'ops'] as const).find((f) => header[f] !== undefined);
  if (version < CONV_VERSION && convField) {
    fail(`header has unknown field "${convField}" (version ${version} files have none; it came in version ${CONV_VERSION})`);
  }
  const arch = checkArchitecture(ctx, shape.layers, header.inputShape, header.ops, header.inputOrder);
  checkMeta(ctx, header.meta);

  // Chunk table: everything about sizes is checked against the file before any copy.
  const chunks = header.chunks;
  if (!Array.isArray(chunks)) fail(`header field 'chunks' is ${show(chunks)}, expected an array`);
  const fields = CHUNK_FIELDS[version];
  // First the entries and their order, so a reordered table is reported as such...
  const specs = chunks.map((entry: unknown, i) => {
    if (!isPlainObject(entry)) return fail(`chunk table entry ${i} is ${show(entry)}, expected an object`);
    const extra = Object.keys(entry).find((k) => !fields.includes(k));
    if (extra !== undefined) {
      const why = extra === 'crc32' ? ` (version ${version} files have no checksums)` : ` (allowed: ${fields.join(', ')})`;
      fail(`chunk table entry ${i} has unknown field ${show(extra)}${why}`);
    }
    const order = CHUNKS.findIndex((c) => c.name === entry.name);
    if (order < 0) fail(`chunk table entry ${i} has unknown name ${show(entry.name)} (known: ${CHUNK_ORDER})`);
    return { entry, order };
  });
  for (let i = 1; i < specs.length; i++) {
    const [prev, cur] = [CHUNKS[specs[i - 1].order].name, CHUNKS[specs[i].order].name];
    if (specs[i].order === specs[i - 1].order || specs.slice(0, i - 1).some((s) => s.order === specs[i].order)) {
      fail(`chunk '${cur}' appears twice in the chunk table`);
    }
    if (specs[i].order < specs[i - 1].order) {
      fail(`chunk '${cur}' is listed after '${prev}'; the chunk table must follow the order ${CHUNK_ORDER}`);
    }
  }
  // ...then each entry's fields and place, against the file size before any copy.
  const dataStart = align(PREFIX_BYTES + headerBytes);
  const table: TableEntry[] = [];
  let end = dataStart; // where the previous chunk's data ends
  for (const { entry, order } of specs) {
    const { name, dtype } = CHUNKS[order];
    const prev = table[table.length - 1];
    if (entry.dtype !== dtype) fail(`chunk '${name}' has dtype ${show(entry.dtype)}, expected "${dtype}"`);
    const { length, offset } = entry;
    if (!isCount(length)) fail(`chunk '${name}' has length ${show(length)}, expected a non-negative integer`);
    if (!isCount(offset)) fail(`chunk '${name}' has offset ${show(offset)}, expected a non-negative integer`);
    let crc: number | undefined;
    if (version >= 2) {
      if (entry.crc32 === undefined) fail(`chunk '${name}' has no 'crc32' (required from format version 2 on)`);
      if (!isCount(entry.crc32) || entry.crc32 > MAX_U32) {
        fail(`chunk '${name}' has crc32 ${show(entry.crc32)}, expected an integer from 0 to ${MAX_U32}`);
      }
      crc = entry.crc32;
    }
    if (offset % ALIGN !== 0) fail(`chunk '${name}' offset ${offset} is not 16-byte aligned`);
    if (offset < dataStart) fail(`chunk '${name}' offset ${offset} lies inside the header (chunks start at ${dataStart})`);
    // Division form: length * 4 could exceed 2^53 for hostile lengths.
    if (offset > fileSize || length > (fileSize - offset) / ELEMENT_BYTES) {
      fail(`truncated: chunk '${name}' (${length} ${dtype} values at offset ${offset}) runs past the end of the file (${fileSize} bytes)`);
    }
    // Chunks follow each other in table order with only alignment padding between them.
    if (prev && offset < prev.offset) {
      fail(`chunk '${name}' offset ${offset} is before chunk '${prev.name}' (offset ${prev.offset}); chunk data must follow the table order`);
    }
    if (prev && offset < end) fail(`chunks '${prev.name}' and '${name}' overlap ('${name}' starts at ${offset}, '${prev.name}' ends at ${end})`);
    if (offset !== align(end)) {
      const after = prev ? `chunk '${prev.name}'` : 'the header';
      fail(`chunk '${name}' offset ${offset} leaves a gap: it must start at ${align(end)}, the first 16-byte boundary after ${after}`);
    }
    table.push(crc === undefined ? { name, dtype, length, offset } : { name, dtype, length, offset, crc32: crc });
    end = offset + length * ELEMENT_BYTES;
  }

  const lengths: Partial<Record<ChunkName, number>> = {};
  for (const c of table) lengths[c.name] = c.length;
  checkLayout(ctx, shape.layers, lengths, shape.activations !== undefined, arch, kind);
  // After the kinds, so a chunk missing from the table is reported as such rather than as leftovers.
  if (fileSize > align(end)) fail(`${fileSize - end} unexpected bytes after the last chunk`);
  return { version, kind, ...shape, ...arch, meta: header.meta as Network['meta'], table };
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
  activationParams: unknown,
): { layers: number[]; classNames: string[]; activations?: Activation[]; activationParams?: ActivationParams[] } {
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
  if (activationParams === undefined) return { layers, classNames, activations };
  const name = field(ctx, 'activationParams');
  if (activations === undefined) fail(`${name} is given without 'activations'`);
  if (!Array.isArray(activationParams) || activationParams.length !== layers.length - 1) {
    fail(`${name} must be an array of ${layers.length - 1} objects (one per dense layer of ${fmtLayers(layers)})`);
  }
  // Canonical copies (keys in a fixed order), so a file re-encodes to the same bytes.
  const params = Array.from(activationParams, (p: unknown, i): ActivationParams => {
    const act = (activations as Activation[])[i];
    const allowed = Object.keys(ACTIVATION_DEFAULTS[act] ?? {});
    if (!isPlainObject(p)) return fail(`${name}[${i}] is ${show(p)}, expected an object`);
    const out: ActivationParams = {};
    for (const key of Object.keys(p)) {
      if (!allowed.includes(key)) fail(`${name}[${i}] has ${show(key)}, but ${act} takes ${allowed.length > 0 ? allowed.join(', ') : 'no parameters'}`);
      if (typeof p[key] !== 'number' || !Number.isFinite(p[key])) fail(`${name}[${i}].${key} is ${show(p[key])}, expected a finite number`);
    }
    for (const key of allowed as (keyof ActivationParams)[]) if (p[key] !== undefined) out[key] = p[key] as number;
    return out;
  });
  return { layers, classNames, activations, activationParams: params };
}

interface Architecture {
  inputShape: MapShape;
  inputOrder?: InputOrder;
  ops: LayerOp[];
}

/**
 * A conv network's input shape and ops (docs/FORMAT.md, "Convolutional networks"), as canonical
 * copies; undefined for a dense network (neither given). A conv op reads the input or a conv
 * layer's map, the last op is dense, and every map keeps at least one pixel.
 */
function checkArchitecture(ctx: Ctx, layers: number[], inputShape: unknown, ops: unknown, inputOrder: unknown): Architecture | undefined {
  const fail: Ctx['fail'] = ctx.fail;
  if (inputShape === undefined && ops === undefined) {
    if (inputOrder !== undefined) fail(`${field(ctx, 'inputOrder')} is given without ${field(ctx, 'inputShape')}; only a conv network has an input order`);
    return undefined;
  }
  if (inputShape === undefined) fail(`${field(ctx, 'ops')} is given without ${field(ctx, 'inputShape')}`);
  if (ops === undefined) fail(`${field(ctx, 'inputShape')} is given without ${field(ctx, 'ops')}`);
  const sideList = (v: unknown, n: number, name: string, max: number): number[] => {
    if (!Array.isArray(v) || v.length !== n || !v.every((d) => Number.isInteger(d) && d >= 1 && d <= max)) {
      fail(`${field(ctx, name)} is ${show(v)}, expected ${n} integers from 1 to ${max}`);
    }
    return [...(v as number[])];
  };
  const shape = sideList(inputShape, 3, 'inputShape', MAX_LAYER_SIZE) as MapShape;
  if (shape[0] * shape[1] * shape[2] !== layers[0]) {
    fail(`${field(ctx, 'inputShape')} ${show(shape)} holds ${shape[0] * shape[1] * shape[2]} values but the input layer has ${layers[0]} nodes`);
  }
  if (!Array.isArray(ops) || ops.length !== layers.length - 1) fail(`${field(ctx, 'ops')} must be an array of ${layers.length - 1} ops (one per layer gap of ${fmtLayers(layers)})`);
  const padding = (p: unknown, at: string): Padding => (p === 'same' || p === 'valid' ? p : fail(`${field(ctx, at)} is ${show(p)}, expected "same" or "valid"`));
  const out: LayerOp[] = [];
  for (let k = 0; k < ops.length; k++) {
    const op: unknown = ops[k];
    const name = `ops[${k}]`;
    if (!isPlainObject(op)) return fail(`${field(ctx, name)} is ${show(op)}, expected an object`);
    const keys = op.kind === 'conv' ? ['kind', 'kernel', 'strides', 'padding', 'pool'] : ['kind'];
    const extra = Object.keys(op).find((key) => !keys.includes(key));
    if (extra !== undefined) fail(`${field(ctx, name)} has ${show(extra)} (allowed: ${keys.join(', ')})`);
    if (op.kind === 'dense') {
      out.push({ kind: 'dense' });
      continue;
    }
    if (op.kind !== 'conv') fail(`${field(ctx, `${name}.kind`)} is ${show(op.kind)}, expected "conv" or "dense"`);
    if (k > 0 && out[k - 1].kind !== 'conv') fail(`${field(ctx, name)} is a conv op after a dense layer; conv layers read the input or another conv layer`);
    const conv: ConvOp = {
      kind: 'conv',
      kernel: sideList(op.kernel, 2, `${name}.kernel`, MAX_WINDOW) as [number, number],
      strides: sideList(op.strides, 2, `${name}.strides`, MAX_WINDOW) as [number, number],
      padding: padding(op.padding, `${name}.padding`),
    };
    if (op.pool !== undefined) {
      const pool: unknown = op.pool;
      if (!isPlainObject(pool)) return fail(`${field(ctx, `${name}.pool`)} is ${show(pool)}, expected an object`);
      const poolKeys = pool.kind === 'global' ? ['kind'] : ['kind', 'size', 'strides', 'padding'];
      const extraKey = Object.keys(pool).find((key) => !poolKeys.includes(key));
      if (extraKey !== undefined) fail(`${field(ctx, `${name}.pool`)} has ${show(extraKey)} (allowed: ${poolKeys.join(', ')})`);
      if (pool.kind === 'global') conv.pool = { kind: 'global' };
      else if (pool.kind === 'max' || pool.kind === 'avg') {
        conv.pool = {
          kind: pool.kind,
          size: sideList(pool.size, 2, `${name}.pool.size`, MAX_WINDOW) as [number, number],
          strides: sideList(pool.strides, 2, `${name}.pool.strides`, MAX_WINDOW) as [number, number],
          padding: padding(pool.padding, `${name}.pool.padding`),
        };
      } else fail(`${field(ctx, `${name}.pool.kind`)} is ${show(pool.kind)}, expected "max", "avg" or "global"`);
    }
    out.push(conv);
  }
  if (out[out.length - 1].kind !== 'dense') fail(`${field(ctx, `ops[${out.length - 1}]`)} is a conv op; the output layer must be dense (one node per class)`);
  if (!out.some((op) => op.kind === 'conv')) fail(`${field(ctx, 'ops')} has no conv op; a dense network has neither 'inputShape' nor 'ops'`);
  const maps = mapShapes({ layers, inputShape: shape, ops: out });
  const empty = maps.findIndex(([h, w]) => h < 1 || w < 1);
  if (empty > 0) {
    const [ih, iw] = maps[empty - 1];
    fail(`${field(ctx, `ops[${empty - 1}]`)} leaves an empty map; its kernel or pool is larger than the ${ih}×${iw} map it reads`);
  }
  if (!Number.isSafeInteger(weightCount({ layers, inputShape: shape, ops: out }))) fail('the kernels hold more than 2^53 weights');
  if (inputOrder !== undefined && inputOrder !== 'chw') fail(`${field(ctx, 'inputOrder')} is ${show(inputOrder)}, expected "chw" (or no field: channels last)`);
  return { inputShape: shape, ...(inputOrder ? { inputOrder } : {}), ops: out };
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
            const s = walk(v[key], `${path}.${printable(key, 40)}`);
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

/** Encode's checks of the arrays: types, then the same layout and value rules as decode. */
function checkArrays(ctx: Ctx, net: Network, arch: Architecture | undefined): NetworkKind {
  const lengths: Partial<Record<ChunkName, number>> = {};
  for (const { name, dtype } of CHUNKS) {
    const a = net[name];
    if (a === undefined) continue;
    const Ctor = dtype === 'float32' ? Float32Array : Uint32Array;
    if (!(a instanceof Ctor)) ctx.fail(`${chunkLabel(ctx, name)} must be a ${Ctor.name}`);
    lengths[name] = a.length;
  }
  const kind = checkLayout(ctx, net.layers, lengths, net.activations !== undefined, arch);
  checkValues(ctx, net);
  return kind;
}

/**
 * Chunk lengths against layers, kind requirements and groups: everything that needs only
 * the lengths, so a reader can check it before reading any chunk. Returns the kind.
 */
function checkLayout(
  ctx: Ctx,
  layers: number[],
  lengths: Partial<Record<ChunkName, number>>,
  hasActivations: boolean,
  arch: Architecture | undefined,
  declared?: NetworkKind,
): NetworkKind {
  const fail: Ctx['fail'] = ctx.fail;
  const classes = layers[layers.length - 1];
  // Safe arithmetic: hostile layers like [1e7, 1e7, ...] must not lose precision.
  let nodes = 0;
  let edges = 0;
  for (let k = 0; k < layers.length; k++) {
    nodes = safe(nodes + layers[k]);
    if (k + 1 < layers.length) edges = safe(edges + layers[k] * layers[k + 1]);
  }
  const expected: Partial<Record<ChunkName, [number, string]>> = {
    weights: arch ? [weightCount({ layers, ...arch }), 'the kernels of the conv and dense layers'] : [edges, 'one per edge'],
    biases: [nodes - layers[0], 'one per non-input node'],
    nodeImportance: [safe(nodes * classes), 'nodes × classes'],
    edgeImportance: [edges, 'one per edge'],
    nodePositions: [safe(nodes * 3), 'nodes × 3'],
    edgeSampleOffsets: [safe(edges + 1), 'edges + 1'],
  };
  for (const { name, dtype } of CHUNKS) {
    const length = lengths[name];
    const rule = expected[name];
    if (length === undefined || !rule || length === rule[0]) continue;
    const has = ctx.decoding ? `chunk '${name}' declares ${length} ${dtype} values` : `'${name}' has ${length} values`;
    const need = Number.isFinite(rule[0]) ? String(rule[0]) : 'more than 2^53';
    fail(`${has} but ${ctx.decoding ? "the header's " : ''}layers ${fmtLayers(layers)} need ${need} (${rule[1]})`);
  }
  if (lengths.edgeSamples !== undefined && lengths.edgeSamples % 3 !== 0) {
    fail(`${chunkLabel(ctx, 'edgeSamples')} has ${lengths.edgeSamples} values, not a multiple of 3 (x, y, z per sample)`);
  }

  const has = (name: ChunkName | 'activations') => (name === 'activations' ? hasActivations : lengths[name] !== undefined);
  // The rule of kindOf (network.ts), on presence alone.
  const actual: NetworkKind = has('edgeSamples') ? 'processed' : has('nodeImportance') ? 'importance' : 'network';
  const kind = declared ?? actual;
  const missing = REQUIRED[kind].filter((name) => !has(name));
  if (missing.length > 0) {
    const subject = ctx.decoding ? `the header declares kind '${kind}', which` : `a '${kind}' network`;
    fail(`${subject} requires ${REQUIRED[kind].join(', ')}; missing: ${missing.join(', ')}`);
  }
  if (has('weights') !== has('biases') || has('weights') !== has('activations')) {
    fail('weights, biases and activations must be present together');
  }
  if (has('edgeSampleOffsets') !== has('edgeSamples')) fail('edgeSampleOffsets and edgeSamples must be present together');
  if (declared !== undefined && actual !== declared) {
    fail(`the header declares kind '${declared}' but its chunks make a '${actual}' network`);
  }
  return kind;
}

/** Values: every float finite, importance in [0, 1], sample offsets a partition of the samples. */
function checkValues(ctx: Ctx, net: Network): void {
  const fail: Ctx['fail'] = ctx.fail;
  for (const { name, dtype } of CHUNKS) {
    const a = net[name];
    if (a === undefined || dtype !== 'float32') continue;
    const unit = UNIT_RANGE.includes(name);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      // One comparison pair per value on the fast path; NaN fails both.
      if (unit ? v >= 0 && v <= 1 : v - v === 0) continue;
      if (!Number.isFinite(v)) fail(`${chunkLabel(ctx, name)} has a non-finite value (${v}) at index ${i}`);
      fail(`${chunkLabel(ctx, name)} has ${shortFloat(v)} at index ${i}, outside [0, 1] (importance is normalised to 0 … 1)`);
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

/** A value from the file quoted for a one-line message: JSON, escaped, cut short. */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return printable(s, 60);
}

/** The shortest decimal that reads back as the same float32 (-1.9e+23, not -1.8999999e+23). */
function shortFloat(v: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const s = Number(v.toPrecision(digits));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function fmtLayers(layers: readonly unknown[]): string {
  return `[${layers.slice(0, 10).join(',')}${layers.length > 10 ? ',...' : ''}]`;
}
