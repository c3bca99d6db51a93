// Reads Keras models:
// - `.h5` / `.hdf5` (model.save in Keras 2, legacy format in Keras 3): root attribute
//   `model_config` (JSON) and group `model_weights/<layer>` whose attribute `weight_names`
//   lists the datasets relative to that group: Keras 2 names them `dense/kernel:0`, Keras 3
//   `sequential/dense/kernel`. The last path segment (without `:0`) says kernel or bias.
// - `.keras` (Keras 3): a zip of `config.json` and `model.weights.h5`, where each layer's
//   variables are datasets `layers/<name>/vars/0` (kernel) and `/1` (bias). The zip is read
//   here (stored or deflate entries, ZIP64 aware); the weights file is extracted to a temp
//   file for h5wasm and removed afterwards.

import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import h5wasm, { type Dataset, type File as H5File, type Group } from 'h5wasm/node';
import type { Network } from '../../core/network.ts';
import { InputError } from '../../core/errors.ts';
import { buildNetwork, type ChainSpec, type DenseWeights, fail, parseKerasTopology, shapeText } from './common.ts';

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 puts its signature at 0, 512, 1024, ... (a user block may precede it). */
export function looksLikeHdf5(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(8);
    for (let off = 0; off <= 8192; off = off === 0 ? 512 : off * 2) {
      if (readSync(fd, buf, 0, 8, off) < 8) return false;
      if (buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** h5wasm reports HDF5 failures as long diagnostic stacks; keep the most specific line. */
function h5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').map((l) => l.trim());
  const frames = lines.filter((l) => /^#\d+:/.test(l));
  const last = frames[frames.length - 1];
  const m = last?.match(/\):\s*(.*)$/);
  return (m?.[1] ?? lines.find((l) => l.length > 0) ?? 'unknown error').slice(0, 200);
}

/** Runs fn with an open HDF5 file, turning HDF5 errors into one-line InputErrors. */
async function withH5<T>(file: string, h5path: string, fn: (f: H5File) => T): Promise<T> {
  const Module = await h5wasm.ready;
  // Without this, HDF5 prints diagnostics to stderr and some failures return bad ids silently.
  Module.activate_throwing_error_handler();
  let f: H5File | undefined;
  try {
    try {
      f = new h5wasm.File(resolve(h5path), 'r');
    } catch (err) {
      return fail(file, `cannot open as HDF5 (${h5Reason(err)})`);
    }
    try {
      return fn(f);
    } catch (err) {
      if (err instanceof InputError) throw err;
      return fail(file, `cannot read HDF5 contents, truncated or corrupt? (${h5Reason(err)})`);
    }
  } finally {
    try {
      f?.close();
    } catch {
      // closing a corrupt file may fail too; nothing left to release
    }
    Module.deactivate_throwing_error_handler();
  }
}

function attrStrings(g: Group, name: string): string[] | undefined {
  const attrs = g.attrs;
  const one = (n: string): string[] => {
    const v = g.get_attribute(n, false);
    const list = Array.isArray(v) ? v : [v];
    // h5py writes bytes as fixed-length NULLPAD strings: drop the padding.
    return list.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)).replace(/\0+$/, ''));
  };
  if (name in attrs) return one(name);
  // h5py splits attributes over 64 KB into name0, name1, ... (Keras save_attributes_to_hdf5_group).
  if (`${name}0` in attrs) {
    const out: string[] = [];
    for (let i = 0; `${name}${i}` in attrs; i++) out.push(...one(`${name}${i}`));
    return out;
  }
  return undefined;
}

function child(g: Group, name: string): Group | Dataset | null {
  // `get` on a missing path raises under the throwing handler; walk with keys() instead.
  let node: Group | Dataset | null = g;
  for (const part of name.split('/')) {
    if (!(node instanceof h5wasm.Group) || !node.keys().includes(part)) return null;
    node = node.get(part) as Group | Dataset | null;
  }
  return node;
}

function readFloats(file: string, ds: Dataset, what: string): { data: Float32Array; shape: number[] } {
  const shape = ds.shape ?? [];
  const value = ds.value;
  if (value instanceof Float32Array) return { data: value, shape };
  if (value instanceof Float64Array) return { data: Float32Array.from(value), shape };
  return fail(file, `${what} (${ds.path}) has dtype ${JSON.stringify(ds.dtype)}; nnvis reads float32 or float64 weights only`);
}

function parseConfig(file: string, text: string, where: string): ChainSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(file, `${where} is not valid JSON (${(err as Error).message})`);
  }
  return parseKerasTopology(file, json);
}

function readH5Model(file: string, f: H5File): Network {
  const configText = attrStrings(f, 'model_config');
  if (!configText) {
    const weightsOnly = f.keys().includes('layers') || 'layer_names' in f.attrs;
    fail(
      file,
      weightsOnly
        ? "holds weights only (no 'model_config' attribute); save the whole model with model.save('model.keras') or model.save('model.h5')"
        : "has no 'model_config' attribute; is it a Keras model saved with model.save('model.h5')?",
    );
  }
  const chain = parseConfig(file, configText[0], "attribute 'model_config'");
  const root = child(f, 'model_weights');
  if (!(root instanceof h5wasm.Group)) return fail(file, "has no 'model_weights' group (saved without weights?)");

  const dense: DenseWeights[] = chain.dense.map((layer) => {
    const g = child(root, layer.name);
    if (!(g instanceof h5wasm.Group)) fail(file, `no weights for layer '${layer.name}' (expected group 'model_weights/${layer.name}')`);
    let names = attrStrings(g, 'weight_names');
    if (!names) names = g.paths().map((p) => p.replace(/^\//, '').slice(g.path.length)).filter((p) => child(g, p) instanceof h5wasm.Dataset);
    let kernel: { data: Float32Array; shape: number[] } | undefined;
    let bias: { data: Float32Array; shape: number[] } | null = null;
    for (const n of names) {
      const variable = n.split('/').pop()?.replace(/:\d+$/, '');
      if (variable !== 'kernel' && variable !== 'bias') {
        fail(file, `layer '${layer.name}' has weight '${n}'; a Dense layer has only kernel and bias`);
      }
      const ds = child(g, n);
      if (!(ds instanceof h5wasm.Dataset)) fail(file, `layer '${layer.name}' lists weight '${n}' but 'model_weights/${layer.name}/${n}' is missing`);
      const v = readFloats(file, ds, `layer '${layer.name}' ${variable}`);
      if (variable === 'kernel') kernel = v;
      else bias = v;
    }
    if (!kernel) return fail(file, `layer '${layer.name}' has no kernel in 'model_weights/${layer.name}'`);
    if (layer.useBias && !bias) fail(file, `layer '${layer.name}' has use_bias but no bias in 'model_weights/${layer.name}'`);
    return denseWeights(layer, kernel, bias);
  });
  return buildNetwork(file, 'keras h5', chain.inputFeatures, dense);
}

function denseWeights(
  layer: { name: string; activation: DenseWeights['activation']; units: number },
  kernel: { data: Float32Array; shape: number[] },
  bias: { data: Float32Array; shape: number[] } | null | undefined,
): DenseWeights {
  return { name: layer.name, activation: layer.activation, units: layer.units, kernel: kernel.data, kernelShape: kernel.shape, bias: bias?.data ?? null, biasShape: bias?.shape };
}

export async function readKerasH5(file: string): Promise<Network> {
  if (!looksLikeHdf5(file)) fail(file, 'is not an HDF5 file (no HDF5 signature)');
  return withH5(file, file, (f) => readH5Model(file, f));
}

// ---------------------------------------------------------------------------------------------
// Minimal zip reader (central directory; stored and deflate entries; ZIP64 sizes/offsets).

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function readZipEntries(file: string, buf: Buffer): ZipEntry[] {
  const bad = (why: string): never => fail(file, `is not a readable zip archive (${why}); a .keras file is a zip`);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end of central directory record; truncated?');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) bad('ZIP64 locator missing');
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    if (rec + 56 > buf.length || buf.readUInt32LE(rec) !== 0x06064b50) bad('ZIP64 end record missing');
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) bad('central directory entry broken');
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: only the fields that are 0xffffffff above, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) {
          size = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (localOffset === 0xffffffff) localOffset = Number(buf.readBigUInt64LE(q));
      }
      x += 4 + len;
    }
    entries.push({ name, method, crc, compressedSize, size, localOffset });
    p = xEnd + commentLen;
  }
  return entries;
}

function extractZipEntry(file: string, buf: Buffer, e: ZipEntry): Buffer {
  const h = e.localOffset;
  if (h + 30 > buf.length || buf.readUInt32LE(h) !== 0x04034b50) fail(file, `zip entry '${e.name}' has no local header; truncated?`);
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  if (start + e.compressedSize > buf.length) fail(file, `zip entry '${e.name}' runs past the end of the file; truncated?`);
  const raw = buf.subarray(start, start + e.compressedSize);
  let data: Buffer;
  if (e.method === 0) data = raw;
  else if (e.method === 8) {
    try {
      data = inflateRawSync(raw);
    } catch (err) {
      return fail(file, `zip entry '${e.name}' cannot be inflated (${(err as Error).message})`);
    }
  } else return fail(file, `zip entry '${e.name}' uses compression method ${e.method}; only stored and deflate are supported`);
  if (data.length !== e.size) fail(file, `zip entry '${e.name}' has ${data.length} bytes, expected ${e.size}; corrupt?`);
  if (crc32(data) !== e.crc) fail(file, `zip entry '${e.name}' fails its CRC check; the file is corrupt`);
  return data;
}

function readKeras3Weights(file: string, f: H5File, chain: ChainSpec): Network {
  const dense: DenseWeights[] = chain.dense.map((layer) => {
    const candidates = [`layers/${layer.name}/vars`, `_layer_checkpoint_dependencies/${layer.name}/vars`];
    let vars = candidates.map((c) => child(f, c)).find((g) => g instanceof h5wasm.Group) as Group | undefined;
    if (!vars) {
      // Nested models: any '.../<name>/vars' group.
      const path = f.paths().find((p) => p.endsWith(`/${layer.name}/vars`));
      const g = path ? child(f, path.replace(/^\//, '')) : null;
      if (g instanceof h5wasm.Group) vars = g;
    }
    if (!vars) return fail(file, `model.weights.h5 has no weights for layer '${layer.name}' (expected group 'layers/${layer.name}/vars')`);
    const names = vars.keys();
    const expected = layer.useBias ? 2 : 1;
    if (names.length !== expected) {
      fail(file, `layer '${layer.name}' has ${names.length} variables in '${vars.path}', expected ${expected} (kernel${layer.useBias ? ', bias' : ''})`);
    }
    const get = (i: number): { data: Float32Array; shape: number[] } => {
      const ds = child(vars, String(i));
      if (!(ds instanceof h5wasm.Dataset)) return fail(file, `model.weights.h5 is missing dataset '${vars.path}/${i}' for layer '${layer.name}'`);
      return readFloats(file, ds, `layer '${layer.name}' ${i === 0 ? 'kernel' : 'bias'}`);
    };
    const kernel = get(0);
    const bias = layer.useBias ? get(1) : null;
    if (bias && bias.shape.length !== 1) fail(file, `layer '${layer.name}' bias has shape ${shapeText(bias.shape)}; expected [units]`);
    return denseWeights(layer, kernel, bias);
  });
  return buildNetwork(file, 'keras v3', chain.inputFeatures, dense);
}

export async function readKerasZip(file: string): Promise<Network> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    return fail(file, `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const entries = readZipEntries(file, buf);
  const entry = (name: string): ZipEntry => {
    const e = entries.find((x) => x.name === name);
    if (!e) {
      const hint = name === 'model.weights.h5' && entries.some((x) => x.name.endsWith('.npz')) ? ' (npz weights are not supported)' : '';
      return fail(file, `zip has no '${name}'${hint}; a Keras 3 .keras file holds config.json and model.weights.h5`);
    }
    return e;
  };
  const chain = parseConfig(file, extractZipEntry(file, buf, entry('config.json')).toString('utf8'), 'config.json');
  const weights = extractZipEntry(file, buf, entry('model.weights.h5'));
  const dir = mkdtempSync(join(tmpdir(), 'nnvis-keras-'));
  try {
    const h5path = join(dir, 'model.weights.h5');
    writeFileSync(h5path, weights);
    if (!looksLikeHdf5(h5path)) fail(file, 'model.weights.h5 inside the zip is not an HDF5 file');
    return await withH5(file, h5path, (f) => readKeras3Weights(file, f, chain));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
