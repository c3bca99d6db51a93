// Reads Keras models:
// - `.h5` / `.hdf5` (model.save in Keras 2, legacy format in Keras 3): root attribute
//   `model_config` (JSON) and group `model_weights/<layer>` whose attribute `weight_names`
//   lists the datasets relative to that group: Keras 2 names them `dense/kernel:0`, Keras 3
//   `sequential/dense/kernel`. The last path segment (without `:0`) says kernel or bias.
// - `.keras` (Keras 3): a zip of `config.json` and `model.weights.h5`, where each layer's
//   variables are datasets `layers/<name>/vars/0` (kernel) and `/1` (bias). The zip is read
//   by zip.ts; the weights are handed to the HDF5 reader as bytes, never written to disk.
// HDF5 itself is read in a worker (h5.ts); this file works on the object tree it returns,
// checks every dataset's type and shape from its metadata, then reads just those datasets.

import { closeSync, openSync, readSync } from 'node:fs';
import type { Network } from '../../core/network.ts';
import { printable, quoted } from '../../core/text.ts';
import {
  buildNetwork,
  type ChainSpec,
  type DenseSpec,
  type DenseWeights,
  type NormSpec,
  type NormWeights,
  fail,
  MAX_JSON_BYTES,
  MAX_MODEL_FILE_BYTES,
  parseJsonText,
  parseKerasTopology,
  readModelFile,
  shapeText,
  valueCount,
} from './common.ts';
import { type H5DatasetInfo, type H5File, type H5Group, type H5Node, withH5 } from './h5.ts';
import { extractZipEntry, readZipEntries, type ZipEntry } from './zip.ts';

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096, 8192];

/** HDF5 puts its signature at 0, 512, 1024, ... (a user block may precede it). */
export function looksLikeHdf5(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(8);
    for (const off of SIGNATURE_OFFSETS) {
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

export function looksLikeHdf5Bytes(bytes: Uint8Array): boolean {
  return SIGNATURE_OFFSETS.some((off) => off + 8 <= bytes.length && HDF5_SIGNATURE.equals(bytes.subarray(off, off + 8)));
}

const TYPE_NAMES = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];

/** The node at a '/'-separated path below g, or null. */
function child(g: H5Group, path: string): H5Node | null {
  let node: H5Node = g;
  for (const part of path.split('/')) {
    if (node.kind !== 'group') return null;
    const next: H5Node | undefined = node.children.find((c) => c.name === part);
    if (!next) return null;
    node = next;
  }
  return node;
}

function hasAttr(g: H5Group, name: string): boolean {
  return g.attrs.some(([n]) => n === name);
}

/** A string (list) attribute; h5py splits those over 64 KB into name0, name1, ... */
function attrStrings(file: string, g: H5Group, name: string): string[] | undefined {
  const one = (n: string): string[] => {
    const value = g.attrs.find(([k]) => k === n)?.[1];
    if (!value) return [];
    if ('other' in value) return fail(file, `attribute ${quoted(n)} of ${quoted(g.path)} is ${printable(value.other, 60)}; expected a string`);
    return value.strings;
  };
  if (hasAttr(g, name)) return one(name);
  if (hasAttr(g, `${name}0`)) {
    const out: string[] = [];
    for (let i = 0; hasAttr(g, `${name}${i}`); i++) out.push(...one(`${name}${i}`));
    return out;
  }
  return undefined;
}

/** Every dataset below g, with its path relative to g. */
function datasetsUnder(g: H5Group): string[] {
  const out: string[] = [];
  const visit = (n: H5Group, prefix: string): void => {
    for (const c of n.children) {
      if (c.kind === 'dataset') out.push(prefix + c.name);
      else if (c.kind === 'group') visit(c, `${prefix}${c.name}/`);
    }
  };
  visit(g, '');
  return out;
}

/** Every group below g (depth first). */
function groupsUnder(g: H5Group): H5Group[] {
  const out: H5Group[] = [];
  const visit = (n: H5Group): void => {
    for (const c of n.children) {
      if (c.kind === 'group') {
        out.push(c);
        visit(c);
      }
    }
  };
  visit(g);
  return out;
}

/** Checks a weight dataset from its metadata alone: float32/64, little-endian, sane shape. */
function floatDataset(file: string, node: H5Node | null, what: string, missing: string): H5DatasetInfo {
  if (!node || node.kind !== 'dataset') return fail(file, missing);
  const where = `${what} (${quoted(node.path)})`;
  if (node.type !== 1 || (node.size !== 4 && node.size !== 8)) {
    const type = `${TYPE_NAMES[node.type] ?? `type ${node.type}`}${node.size * 8}`;
    fail(file, `${where} has dtype ${printable(type, 30)}; nnvis reads float32 or float64 weights only`);
  }
  if (!node.littleEndian) fail(file, `${where} is big-endian; nnvis reads little-endian float32 or float64 weights only`);
  const shape = node.shape ?? [];
  const n = valueCount(file, where, shape);
  if (n !== node.total) fail(file, `${where} has ${node.total} values but shape ${shapeText(shape)}`);
  return node;
}

/** A BatchNormalization's datasets: gamma and beta only where the layer has scale and center. */
interface WantedNorm {
  spec: NormSpec;
  gamma: H5DatasetInfo | null;
  beta: H5DatasetInfo | null;
  mean: H5DatasetInfo;
  variance: H5DatasetInfo;
}

interface Wanted {
  layer: DenseSpec;
  kernel: H5DatasetInfo;
  bias: H5DatasetInfo | null;
  inputNorms: WantedNorm[];
  outputNorms: WantedNorm[];
}

const NORM_VARIABLES = ['gamma', 'beta', 'moving_mean', 'moving_variance'] as const;

/** The variables a BatchNormalization saves, in Keras' order. */
function normVariables(n: NormSpec): (typeof NORM_VARIABLES)[number][] {
  return NORM_VARIABLES.filter((v) => (v === 'gamma' ? n.scale : v === 'beta' ? n.center : true));
}

function wantedNorm(file: string, spec: NormSpec, byVariable: Map<string, H5DatasetInfo>, at: string): WantedNorm {
  const get = (v: string): H5DatasetInfo => {
    const d = byVariable.get(v);
    if (!d) return fail(file, `BatchNormalization ${quoted(spec.name)} has no ${v} in ${at}; folding it needs gamma, beta, moving_mean and moving_variance (as its scale and center say)`);
    if ((d.shape ?? []).length !== 1) fail(file, `BatchNormalization ${quoted(spec.name)} ${v} has shape ${shapeText(d.shape ?? [])}; expected [features]`);
    return d;
  };
  return { spec, gamma: spec.scale ? get('gamma') : null, beta: spec.center ? get('beta') : null, mean: get('moving_mean'), variance: get('moving_variance') };
}

/** Reads the chosen datasets in one go and pairs them into DenseWeights. */
async function loadWeights(h: H5File, wanted: Wanted[]): Promise<DenseWeights[]> {
  const normInfos = (n: WantedNorm): H5DatasetInfo[] => [n.gamma, n.beta, n.mean, n.variance].filter((d): d is H5DatasetInfo => d !== null);
  const infos = wanted.flatMap((w) => [...w.inputNorms.flatMap(normInfos), w.kernel, ...(w.bias ? [w.bias] : []), ...w.outputNorms.flatMap(normInfos)]);
  const values = await h.read(infos.map((d) => d.path));
  let i = 0;
  const next = (d: H5DatasetInfo): { data: Float32Array; shape: number[] } => {
    const v = values[i++];
    return { data: v instanceof Float32Array ? v : Float32Array.from(v), shape: d.shape ?? [] };
  };
  const norm = (n: WantedNorm): NormWeights => ({
    name: n.spec.name,
    epsilon: n.spec.epsilon,
    gamma: n.gamma ? next(n.gamma).data : null,
    beta: n.beta ? next(n.beta).data : null,
    mean: next(n.mean).data,
    variance: next(n.variance).data,
  });
  return wanted.map((w) => {
    const inputNorms = w.inputNorms.map(norm);
    const kernel = next(w.kernel);
    const bias = w.bias ? next(w.bias) : null;
    const outputNorms = w.outputNorms.map(norm);
    const { name, conv, activation, params, units, softmaxAfter } = w.layer;
    return { name, conv, activation, params, units, softmaxAfter, kernel: kernel.data, kernelShape: kernel.shape, bias: bias?.data ?? null, biasShape: bias?.shape, inputNorms, outputNorms };
  });
}

function parseConfig(file: string, text: string, where: string, keras3: boolean): ChainSpec {
  return parseKerasTopology(file, parseJsonText(file, text, where), { keras3 });
}

async function readH5Model(file: string, h: H5File): Promise<Network> {
  const f = h.root;
  const configText = attrStrings(file, f, 'model_config');
  if (!configText || configText.length === 0) {
    const weightsOnly = f.children.some((c) => c.name === 'layers') || hasAttr(f, 'layer_names');
    fail(
      file,
      weightsOnly
        ? "holds weights only (no 'model_config' attribute); save the whole model with model.save('model.keras') or model.save('model.h5')"
        : "has no 'model_config' attribute; is it a Keras model saved with model.save('model.h5')?",
    );
  }
  const chain = parseConfig(file, configText.join(''), "attribute 'model_config'", (attrStrings(file, f, 'keras_version')?.[0] ?? '').startsWith('3'));
  const root = child(f, 'model_weights');
  if (root?.kind !== 'group') return fail(file, "has no 'model_weights' group (saved without weights?)");

  // a nested model's layers lie in its group: model_weights/<model>/<layer>
  const groupOf = (name: string): H5Node | null => child(root, name) ?? groupsUnder(root).find((g) => g.path.endsWith(`/${name}`)) ?? null;
  const normOf = (spec: NormSpec): WantedNorm => {
    const g = groupOf(spec.name);
    const at = `'model_weights/${printable(spec.name)}'`;
    if (g?.kind !== 'group') return fail(file, `no weights for BatchNormalization ${quoted(spec.name)} (expected group ${at})`);
    const byVariable = new Map<string, H5DatasetInfo>();
    for (const n of attrStrings(file, g, 'weight_names') ?? datasetsUnder(g)) {
      const variable = n.split('/').pop()?.replace(/:\d+$/, '') ?? '';
      byVariable.set(variable, floatDataset(file, child(g, n), `BatchNormalization ${quoted(spec.name)} ${variable}`, `BatchNormalization ${quoted(spec.name)} lists weight ${quoted(n)} but ${at} has no such dataset`));
    }
    return wantedNorm(file, spec, byVariable, at);
  };
  const wanted = chain.dense.map((layer): Wanted => {
    const g = groupOf(layer.name);
    const at = `'model_weights/${printable(layer.name)}'`;
    if (g?.kind !== 'group') return fail(file, `no weights for layer ${quoted(layer.name)} (expected group ${at})`);
    const names = attrStrings(file, g, 'weight_names') ?? datasetsUnder(g);
    let kernel: H5DatasetInfo | undefined;
    let bias: H5DatasetInfo | null = null;
    for (const n of names) {
      const variable = n.split('/').pop()?.replace(/:\d+$/, '');
      if (variable !== 'kernel' && variable !== 'bias') {
        fail(file, `layer ${quoted(layer.name)} has weight ${quoted(n)}; a ${layer.conv ? 'Conv2D' : 'Dense'} layer has only kernel and bias`);
      }
      const ds = floatDataset(file, child(g, n), `layer ${quoted(layer.name)} ${variable}`, `layer ${quoted(layer.name)} lists weight ${quoted(n)} but ${at} has no such dataset`);
      if (variable === 'kernel') kernel = ds;
      else bias = ds;
    }
    if (!kernel) return fail(file, `layer ${quoted(layer.name)} has no kernel in ${at}`);
    if (layer.useBias && !bias) fail(file, `layer ${quoted(layer.name)} has use_bias but no bias in ${at}`);
    return { layer, kernel, bias, inputNorms: layer.inputNorms.map(normOf), outputNorms: layer.outputNorms.map(normOf) };
  });
  return buildNetwork(file, 'keras h5', chain.inputFeatures, await loadWeights(h, wanted), undefined, chain.inputShape);
}

export async function readKerasH5(file: string): Promise<Network> {
  const bytes = readModelFile(file);
  if (!looksLikeHdf5Bytes(bytes)) fail(file, 'is not an HDF5 file (no HDF5 signature)');
  return withH5(file, bytes, (h) => readH5Model(file, h));
}

async function readKeras3Weights(file: string, h: H5File, chain: ChainSpec): Promise<Network> {
  const f = h.root;
  const varsOf = (name: string, what: string): H5Group => {
    const candidates = [`layers/${name}/vars`, `_layer_checkpoint_dependencies/${name}/vars`];
    const vars =
      candidates.map((c) => child(f, c)).find((g): g is H5Group => g?.kind === 'group') ??
      // Nested models: any '.../<name>/vars' group.
      groupsUnder(f).find((g) => g.path.endsWith(`/${name}/vars`));
    if (!vars) return fail(file, `model.weights.h5 has no weights for ${what} ${quoted(name)} (expected group 'layers/${printable(name)}/vars')`);
    return vars;
  };
  const normOf = (spec: NormSpec): WantedNorm => {
    const vars = varsOf(spec.name, 'BatchNormalization');
    const variables = normVariables(spec);
    if (vars.children.length !== variables.length) {
      fail(file, `BatchNormalization ${quoted(spec.name)} has ${vars.children.length} variables in ${quoted(vars.path)}, expected ${variables.length} (${variables.join(', ')})`);
    }
    const byVariable = new Map<string, H5DatasetInfo>();
    variables.forEach((v, i) => {
      const missing = `model.weights.h5 is missing dataset ${quoted(`${vars.path}/${i}`)} for BatchNormalization ${quoted(spec.name)}`;
      byVariable.set(v, floatDataset(file, child(vars, String(i)), `BatchNormalization ${quoted(spec.name)} ${v}`, missing));
    });
    return wantedNorm(file, spec, byVariable, quoted(vars.path));
  };
  const wanted = chain.dense.map((layer): Wanted => {
    const vars = varsOf(layer.name, 'layer');
    const expected = layer.useBias ? 2 : 1;
    if (vars.children.length !== expected) {
      fail(file, `layer ${quoted(layer.name)} has ${vars.children.length} variables in ${quoted(vars.path)}, expected ${expected} (kernel${layer.useBias ? ', bias' : ''})`);
    }
    const get = (i: number): H5DatasetInfo =>
      floatDataset(
        file,
        child(vars, String(i)),
        `layer ${quoted(layer.name)} ${i === 0 ? 'kernel' : 'bias'}`,
        `model.weights.h5 is missing dataset ${quoted(`${vars.path}/${i}`)} for layer ${quoted(layer.name)}`,
      );
    const kernel = get(0);
    const bias = layer.useBias ? get(1) : null;
    if (bias && (bias.shape ?? []).length !== 1) fail(file, `layer ${quoted(layer.name)} bias has shape ${shapeText(bias.shape ?? [])}; expected [units]`);
    return { layer, kernel, bias, inputNorms: layer.inputNorms.map(normOf), outputNorms: layer.outputNorms.map(normOf) };
  });
  return buildNetwork(file, 'keras v3', chain.inputFeatures, await loadWeights(h, wanted), undefined, chain.inputShape);
}

export async function readKerasZip(file: string): Promise<Network> {
  const buf = readModelFile(file);
  const entries = readZipEntries(file, buf);
  const entry = (name: string): ZipEntry => {
    const e = entries.find((x) => x.name === name);
    if (!e) {
      const hint = name === 'model.weights.h5' && entries.some((x) => x.name.endsWith('.npz')) ? ' (npz weights are not supported)' : '';
      return fail(file, `zip has no '${name}'${hint}; a Keras 3 .keras file holds config.json and model.weights.h5`);
    }
    return e;
  };
  const config = extractZipEntry(file, buf, entry('config.json'), MAX_JSON_BYTES).toString('utf8');
  const chain = parseConfig(file, config, 'config.json', true);
  const weights = extractZipEntry(file, buf, entry('model.weights.h5'), MAX_MODEL_FILE_BYTES);
  if (!looksLikeHdf5Bytes(weights)) fail(file, 'model.weights.h5 inside the zip is not an HDF5 file');
  return withH5(file, weights, (h) => readKeras3Weights(file, h, chain), 'model.weights.h5');
}
