// Reads a TensorFlow.js layers model: model.json (modelTopology + weightsManifest) and its
// binary weight shards, without the tfjs runtime. Shards of one manifest group are
// concatenated in `paths` order; the group's weights lie back to back in that buffer in
// `weights` order, each little-endian float32 (other dtypes and quantized weights are rejected).
// Shard paths are untrusted: each must stay inside the model's folder (after symlinks), be a
// regular file, and a group's shards must hold exactly its weights' bytes, all checked before
// any shard is read.

import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { Network } from '../../core/network.ts';
import { printable, quoted } from '../../core/text.ts';
import {
  buildNetwork,
  type DenseSpec,
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

interface ManifestWeight {
  name: string;
  shape: number[];
  group: number;
  /** Byte offset inside the group's concatenated shards. */
  offset: number;
}

interface Manifest {
  weights: ManifestWeight[];
  /** Shard paths of each group, as listed. */
  groups: string[][];
  /** Bytes each group's weights need (sum of 4 × shape product). */
  groupBytes: number[];
}

function parseManifest(file: string, manifest: unknown): Manifest {
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
      if (w.quantization !== undefined) {
        fail(file, `weight ${quoted(w.name)} is quantized (${jsonText(w.quantization)}); nnvis reads float32 weights only (convert without quantization)`);
      }
      if (dtype !== 'float32') {
        fail(file, `weight ${quoted(w.name)} has dtype ${jsonText(dtype)}; nnvis reads float32 weights only`);
      }
      const n = valueCount(file, `weight ${quoted(w.name)}`, w.shape);
      total += n;
      if (total > MAX_WEIGHT_VALUES) fail(file, `weightsManifest lists more than ${MAX_WEIGHT_VALUES} weight values; nnvis reads at most that many per model`);
      weights.push({ name: w.name, shape: w.shape as number[], group: g, offset });
      offset += 4 * n;
    });
    groupBytes.push(offset);
  });
  return { weights, groups, groupBytes };
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

export async function readTfjs(file: string): Promise<Network> {
  const json = parseJsonText(file, readModelFile(file, MAX_JSON_BYTES).toString('utf8'));
  if (!isObject(json)) return fail(file, 'is not a TensorFlow.js model.json object');
  const topology = json.modelTopology;
  if (json.format === 'graph-model' || (isObject(topology) && Array.isArray(topology.node))) {
    fail(file, 'is a TensorFlow.js graph model; nnvis reads layers models (tf.LayersModel.save or tensorflowjs_converter --output_format=tfjs_layers_model)');
  }
  if (topology === undefined) fail(file, "has no 'modelTopology' (is it a TensorFlow.js layers model.json?)");
  const chain = parseKerasTopology(file, topology);
  const manifest = parseManifest(file, json.weightsManifest);
  const { weights } = manifest;

  // Which manifest entry holds each dense variable: by name, else (converter renamed them) by order.
  const wanted: { layer: DenseSpec; variable: 'kernel' | 'bias' }[] = [];
  for (const layer of chain.dense) {
    wanted.push({ layer, variable: 'kernel' });
    if (layer.useBias) wanted.push({ layer, variable: 'bias' });
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
  const read = (w: ManifestWeight): Float32Array => {
    const buf = groupBuffer(w.group);
    const n = w.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(w.offset + 4 * i);
    return out;
  };

  const dense: DenseWeights[] = [];
  let e = 0;
  for (const layer of chain.dense) {
    const k = entries[e++] as ManifestWeight;
    if (k.shape.length !== 2) fail(file, `layer ${quoted(layer.name)} kernel ${quoted(k.name)} has shape ${shapeText(k.shape)}; expected [inputs, units]`);
    let bias: Float32Array | null = null;
    let biasShape: number[] | undefined;
    if (layer.useBias) {
      const b = entries[e++] as ManifestWeight;
      if (b.shape.length !== 1) fail(file, `layer ${quoted(layer.name)} bias ${quoted(b.name)} has shape ${shapeText(b.shape)}; expected [units]`);
      bias = read(b);
      biasShape = b.shape;
    }
    dense.push({ name: layer.name, activation: layer.activation, units: layer.units, kernel: read(k), kernelShape: k.shape, bias, biasShape });
  }
  // "model.json" alone says little; name the folder too.
  const source = `${basename(dirname(resolve(file)))}/${basename(file)}`;
  return buildNetwork(file, 'tfjs layers model', chain.inputFeatures, dense, source);
}
