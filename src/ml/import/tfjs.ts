// Reads a TensorFlow.js layers model: model.json (modelTopology + weightsManifest) and its
// binary weight shards, without the tfjs runtime. Shards of one manifest group are
// concatenated in `paths` order; the group's weights lie back to back in that buffer in
// `weights` order, each little-endian float32 (other dtypes and quantized weights are rejected).

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Network } from '../../core/network.ts';
import {
  buildNetwork,
  type DenseSpec,
  type DenseWeights,
  fail,
  isObject,
  parseKerasTopology,
  shapeText,
} from './common.ts';

interface ManifestWeight {
  name: string;
  shape: number[];
  group: number;
  /** Byte offset inside the group's concatenated shards. */
  offset: number;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(file, `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(file, `not valid JSON (${(err as Error).message})`);
  }
}

function parseManifest(file: string, manifest: unknown): { weights: ManifestWeight[]; groups: string[][]; groupBytes: number[] } {
  if (!Array.isArray(manifest)) fail(file, `has no weightsManifest list (is it a TensorFlow.js layers model.json?)`);
  const weights: ManifestWeight[] = [];
  const groups: string[][] = [];
  const groupBytes: number[] = [];
  manifest.forEach((group, g) => {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      fail(file, `weightsManifest[${g}] needs 'paths' and 'weights' lists`);
    }
    groups.push(group.paths.map((p) => String(p)));
    let offset = 0;
    group.weights.forEach((w, i) => {
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
        fail(file, `weightsManifest[${g}].weights[${i}] needs 'name' and 'shape'`);
      }
      const dtype = w.dtype ?? 'float32';
      if (w.quantization !== undefined) {
        fail(file, `weight '${w.name}' is quantized (${JSON.stringify(w.quantization)}); nnvis reads float32 weights only (convert without quantization)`);
      }
      if (dtype !== 'float32') {
        fail(file, `weight '${w.name}' has dtype ${String(dtype)}; nnvis reads float32 weights only`);
      }
      const shape = w.shape as unknown[];
      if (!shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
        fail(file, `weight '${w.name}' has invalid shape ${JSON.stringify(w.shape)}`);
      }
      weights.push({ name: w.name, shape: shape as number[], group: g, offset });
      offset += 4 * (shape as number[]).reduce((a, b) => a * b, 1);
    });
    groupBytes.push(offset);
  });
  return { weights, groups, groupBytes };
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
  const json = readJson(file);
  if (!isObject(json)) return fail(file, 'is not a TensorFlow.js model.json object');
  const topology = json.modelTopology;
  if (json.format === 'graph-model' || (isObject(topology) && Array.isArray(topology.node))) {
    fail(file, 'is a TensorFlow.js graph model; nnvis reads layers models (tf.LayersModel.save or tensorflowjs_converter --output_format=tfjs_layers_model)');
  }
  if (topology === undefined) fail(file, "has no 'modelTopology' (is it a TensorFlow.js layers model.json?)");
  const chain = parseKerasTopology(file, topology);
  const { weights, groups, groupBytes } = parseManifest(file, json.weightsManifest);

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
      fail(file, `weightsManifest has no weight '${layer.name}/${variable}' for layer '${layer.name}' (and ${weights.length} weights listed, ${wanted.length} expected)`);
    }
    entries = weights;
  }

  // Load only the groups we need.
  const dir = dirname(resolve(file));
  const buffers = new Map<number, Buffer>();
  const groupBuffer = (g: number): Buffer => {
    let buf = buffers.get(g);
    if (!buf) {
      const parts = groups[g].map((p) => {
        const shardPath = resolve(dir, p);
        try {
          return readFileSync(shardPath);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          return fail(file, `weight shard '${p}' listed in weightsManifest[${g}] cannot be read (${code === 'ENOENT' ? 'missing' : code}: ${shardPath})`);
        }
      });
      buf = Buffer.concat(parts);
      if (buf.length < groupBytes[g]) {
        fail(file, `weight shards of weightsManifest[${g}] (${groups[g].join(', ')}) hold ${buf.length} bytes but the manifest needs ${groupBytes[g]}; truncated shard?`);
      }
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
    if (k.shape.length !== 2) fail(file, `layer '${layer.name}' kernel '${k.name}' has shape ${shapeText(k.shape)}; expected [inputs, units]`);
    let bias: Float32Array | null = null;
    let biasShape: number[] | undefined;
    if (layer.useBias) {
      const b = entries[e++] as ManifestWeight;
      if (b.shape.length !== 1) fail(file, `layer '${layer.name}' bias '${b.name}' has shape ${shapeText(b.shape)}; expected [units]`);
      bias = read(b);
      biasShape = b.shape;
    }
    dense.push({ name: layer.name, activation: layer.activation, units: layer.units, kernel: read(k), kernelShape: k.shape, bias, biasShape });
  }
  // "model.json" alone says little; name the folder too.
  const source = `${basename(dirname(resolve(file)))}/${basename(file)}`;
  return buildNetwork(file, 'tfjs layers model', chain.inputFeatures, dense, source);
}
