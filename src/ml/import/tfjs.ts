// Reads a TensorFlow.js layers model: model.json (modelTopology + weightsManifest) and its
// binary weight shards, without the tfjs runtime. Shards of one manifest group are
// concatenated in `paths` order; the group's weights lie back to back in that buffer in
// `weights` order, each little-endian float32, or quantized as tfjs-converter writes them
// (uint8 / uint16 with scale and min, float16) and dequantized as tf.io.decodeWeights does.
// Shard paths are untrusted: each must stay inside the model's folder (after symlinks), be a
// regular file, and a group's shards must hold exactly its weights' bytes, all checked before
// any shard is read.

import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { Network } from '../../core/network.ts';
import { printable, quoted } from '../../core/text.ts';
import { readGraphModel } from './tfjs-graph.ts';
import {
  buildNetwork,
  type NormSpec,
  type NormWeights,
  type DenseWeights,
  fail,
  isObject,
  jsonText,
  MAX_JSON_BYTES,
  MAX_MODEL_FILE_BYTES,
  MAX_WEIGHT_VALUES,
  nameList,
  parseJsonText,
  parseKerasTopology,
  readModelFile,
  shapeText,
  valueCount,
} from './common.ts';

export interface ManifestWeight {
  name: string;
  shape: number[];
  group: number;
  /** Byte offset inside the group's concatenated shards. */
  offset: number;
  /** Stored as float32, or quantized: value = q · scale + min (uint8, uint16), or half floats. */
  quantization?: { dtype: 'uint8' | 'uint16'; scale: number; min: number } | { dtype: 'float16' };
}

const QUANTIZED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

export interface Manifest {
  weights: ManifestWeight[];
  /** Shard paths of each group, as listed. */
  groups: string[][];
  /** Bytes each group's weights need (sum of 4 × shape product). */
  groupBytes: number[];
}

export function parseManifest(file: string, manifest: unknown): Manifest {
  if (!Array.isArray(manifest)) fail(file, `has no weightsManifest list (is it a TensorFlow.js layers model.json?)`);
  const weights: ManifestWeight[] = [];
  const groups: string[][] = [];
  const groupBytes: number[] = [];
  let total = 0;
  manifest.forEach((group, g) => {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      fail(file, `weightsManifest[${g}] needs 'paths' and 'weights' lists`);
    }
    groups.push(
      group.paths.map((p, i) => {
        if (typeof p !== 'string' || p === '' || p.includes('\0') || p.length > 4096) {
          fail(file, `weightsManifest[${g}].paths[${i}] is ${jsonText(p)}; expected a shard file name relative to the model's folder`);
        }
        return p;
      }),
    );
    let offset = 0;
    group.weights.forEach((w, i) => {
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
        fail(file, `weightsManifest[${g}].weights[${i}] needs 'name' and 'shape'`);
      }
      const dtype = w.dtype ?? 'float32';
      if (dtype !== 'float32') {
        fail(file, `weight ${quoted(w.name)} has dtype ${jsonText(dtype)}; nnvis reads float32 weights (plain or quantized) only`);
      }
      const quantization = parseQuantization(file, w.name, w.quantization);
      const n = valueCount(file, `weight ${quoted(w.name)}`, w.shape);
      total += n;
      if (total > MAX_WEIGHT_VALUES) fail(file, `weightsManifest lists more than ${MAX_WEIGHT_VALUES} weight values; nnvis reads at most that many per model`);
      weights.push({ name: w.name, shape: w.shape as number[], group: g, offset, quantization });
      offset += (quantization ? QUANTIZED_BYTES[quantization.dtype] : 4) * n;
    });
    groupBytes.push(offset);
  });
  return { weights, groups, groupBytes };
}

function parseQuantization(file: string, name: string, q: unknown): ManifestWeight['quantization'] {
  if (q === undefined) return undefined;
  const allowed = "allowed: {dtype: 'uint8' | 'uint16', scale, min} or {dtype: 'float16'}";
  if (!isObject(q)) return fail(file, `weight ${quoted(name)} has quantization ${jsonText(q)}; ${allowed}`);
  if (q.dtype === 'float16') return { dtype: 'float16' };
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16') return fail(file, `weight ${quoted(name)} is quantized as ${jsonText(q.dtype)}; ${allowed}`);
  const { scale, min } = q;
  if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
    return fail(file, `weight ${quoted(name)} is quantized as ${q.dtype} with scale ${jsonText(scale)} and min ${jsonText(min)}; both must be finite numbers`);
  }
  return { dtype: q.dtype, scale, min };
}

/** IEEE half float → number, as tfjs' float16 decoder gives it. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** A shard after its checks: where it really is and how big it is. */
interface Shard {
  listed: string;
  real: string;
  size: number;
}

/**
 * Finds every group's shards and checks them before any is read: each path is relative, stays
 * inside the model's folder after resolving symlinks, names a regular file, and the shards of
 * a group hold exactly the bytes its weights need.
 */
function locateShards(file: string, { groups, groupBytes }: Manifest): Shard[][] {
  const dir = dirname(resolve(file));
  let realDir: string;
  try {
    realDir = realpathSync.native(dir);
  } catch (err) {
    return fail(file, `cannot resolve the model's folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const inside = (root: string, p: string): boolean => {
    const rel = relative(root, p);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  };
  return groups.map((paths, g) => {
    const shards = paths.map((p, i): Shard => {
      const where = `weight shard ${quoted(p)} (weightsManifest[${g}].paths[${i}])`;
      const rule = "shards must be files inside the model's folder, named relative to it";
      if (isAbsolute(p) || /^[a-zA-Z]:/.test(p) || p.startsWith('\\')) fail(file, `${where} is an absolute path; ${rule}`);
      const lexical = resolve(dir, p);
      if (!inside(dir, lexical)) fail(file, `${where} points outside the model's folder; ${rule}`);
      let real: string;
      try {
        real = realpathSync.native(lexical);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return fail(file, `weight shard ${quoted(p)} listed in weightsManifest[${g}] cannot be read (${code === 'ENOENT' ? 'missing' : code}: ${printable(lexical, 500)})`);
      }
      if (!inside(realDir, real)) fail(file, `${where} resolves to ${printable(real, 200)}, outside the model's folder (a symlink?); ${rule}`);
      let size: number;
      try {
        const st = statSync(real);
        if (!st.isFile()) fail(file, `${where} is not a regular file; ${rule}`);
        size = st.size;
      } catch (err) {
        if (err instanceof InputError) throw err;
        return fail(file, `weight shard ${quoted(p)} listed in weightsManifest[${g}] cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      return { listed: p, real, size };
    });
    const have = shards.reduce((a, s) => a + s.size, 0);
    if (have !== groupBytes[g]) {
      fail(
        file,
        `weight shards of weightsManifest[${g}] (${nameList(paths)}) hold ${have} bytes but the manifest needs ${groupBytes[g]}; ${have < groupBytes[g] ? 'truncated shard?' : 'shards must hold exactly the listed weights'}`,
      );
    }
    return shards;
  });
}

/** Manifest names for one variable of a layer: "dense/kernel", "dense/kernel:0", "sequential/dense/kernel". */
function findByName(weights: ManifestWeight[], layer: string, variable: string): ManifestWeight | undefined {
  const matches = (n: string): boolean => {
    const s = n.replace(/:\d+$/, '');
    return s === `${layer}/${variable}` || s.endsWith(`/${layer}/${variable}`);
  };
  return weights.find((w) => matches(w.name));
}

/** Reads manifest weights (dequantized): every shard checked first, each group loaded once, only when needed. */
export function weightReader(file: string, manifest: Manifest): (w: ManifestWeight) => Float32Array {
  // Check every shard first, then load only the groups we need, each exactly its checked size.
  const shards = locateShards(file, manifest);
  const buffers = new Map<number, Buffer>();
  const groupBuffer = (g: number): Buffer => {
    let buf = buffers.get(g);
    if (!buf) {
      const parts = shards[g].map((s) => {
        const bytes = readModelFile(s.real, MAX_MODEL_FILE_BYTES, `${file} (weight shard ${quoted(s.listed)})`);
        if (bytes.length !== s.size) fail(file, `weight shard ${quoted(s.listed)} changed size while being read`);
        return bytes;
      });
      buf = Buffer.concat(parts);
      buffers.set(g, buf);
    }
    return buf;
  };
  return (w: ManifestWeight): Float32Array => {
    const buf = groupBuffer(w.group);
    const n = w.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    const q = w.quantization;
    if (!q) for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(w.offset + 4 * i);
    else if (q.dtype === 'float16') for (let i = 0; i < n; i++) out[i] = halfToFloat(buf.readUInt16LE(w.offset + 2 * i));
    else if (q.dtype === 'uint8') for (let i = 0; i < n; i++) out[i] = buf[w.offset + i] * q.scale + q.min;
    else for (let i = 0; i < n; i++) out[i] = buf.readUInt16LE(w.offset + 2 * i) * q.scale + q.min;
    return out;
  };

}

export async function readTfjs(file: string): Promise<Network> {
  const json = parseJsonText(file, readModelFile(file, MAX_JSON_BYTES).toString('utf8'));
  if (!isObject(json)) return fail(file, 'is not a TensorFlow.js model.json object');
  const topology = json.modelTopology;
  if (json.format === 'graph-model' || (isObject(topology) && Array.isArray(topology.node))) {
    return readGraphModel(file, topology, json.weightsManifest);
  }
  if (topology === undefined) fail(file, "has no 'modelTopology' (is it a TensorFlow.js layers model.json?)");
  const chain = parseKerasTopology(file, topology);
  const manifest = parseManifest(file, json.weightsManifest);
  const { weights } = manifest;

  // Which manifest entry holds each variable, in model order: by name, else (converter renamed them) by order.
  const wanted: { layer: { name: string }; variable: string }[] = [];
  const normVariables = (n: NormSpec): void => {
    for (const variable of [...(n.scale ? ['gamma'] : []), ...(n.center ? ['beta'] : []), 'moving_mean', 'moving_variance']) wanted.push({ layer: n, variable });
  };
  for (const layer of chain.dense) {
    layer.inputNorms.forEach(normVariables);
    wanted.push({ layer, variable: 'kernel' });
    if (layer.useBias) wanted.push({ layer, variable: 'bias' });
    layer.outputNorms.forEach(normVariables);
  }
  let entries = wanted.map(({ layer, variable }) => findByName(weights, layer.name, variable));
  if (entries.some((e) => e === undefined)) {
    if (weights.length !== wanted.length) {
      const i = entries.findIndex((e) => e === undefined);
      const { layer, variable } = wanted[i];
      fail(file, `weightsManifest has no weight ${quoted(`${layer.name}/${variable}`)} for layer ${quoted(layer.name)} (and ${weights.length} weights listed, ${wanted.length} expected)`);
    }
    entries = weights;
  }

  const read = weightReader(file, manifest);

  const dense: DenseWeights[] = [];
  let e = 0;
  const vector = (n: NormSpec, what: string): Float32Array => {
    const w = entries[e++] as ManifestWeight;
    if (w.shape.length !== 1) fail(file, `BatchNormalization ${quoted(n.name)} ${what} ${quoted(w.name)} has shape ${shapeText(w.shape)}; expected [features]`);
    return read(w);
  };
  const norm = (n: NormSpec): NormWeights => ({
    name: n.name,
    epsilon: n.epsilon,
    gamma: n.scale ? vector(n, 'gamma') : null,
    beta: n.center ? vector(n, 'beta') : null,
    mean: vector(n, 'moving_mean'),
    variance: vector(n, 'moving_variance'),
  });
  for (const layer of chain.dense) {
    const inputNorms = layer.inputNorms.map(norm);
    const k = entries[e++] as ManifestWeight;
    if (k.shape.length !== (layer.conv ? 4 : 2)) {
      fail(file, `layer ${quoted(layer.name)} kernel ${quoted(k.name)} has shape ${shapeText(k.shape)}; expected ${layer.conv ? '[kernel height, kernel width, input channels, filters]' : '[inputs, units]'}`);
    }
    let bias: Float32Array | null = null;
    let biasShape: number[] | undefined;
    if (layer.useBias) {
      const b = entries[e++] as ManifestWeight;
      if (b.shape.length !== 1) fail(file, `layer ${quoted(layer.name)} bias ${quoted(b.name)} has shape ${shapeText(b.shape)}; expected [units]`);
      bias = read(b);
      biasShape = b.shape;
    }
    const kernel = read(k);
    const outputNorms = layer.outputNorms.map(norm);
    dense.push({ ...layer, kernel, kernelShape: k.shape, bias, biasShape, inputNorms, outputNorms });
  }
  // "model.json" alone says little; name the folder too.
  const source = `${basename(dirname(resolve(file)))}/${basename(file)}`;
  return buildNetwork(file, 'tfjs layers model', chain.inputFeatures, dense, source, chain.inputShape);
}
