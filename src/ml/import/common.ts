// Shared by the model importers: reading a Keras-style layer topology (Keras 2, Keras 3 and
// TensorFlow.js all serialize the same `{class_name, config}` shape) into a chain of dense
// layers, and turning per-layer kernels/biases into a checked `Network`.
//
// Every problem with the user's file is an `InputError` whose one-line message starts with
// the file as given and names the layer or key at fault.

import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import {
  ACTIVATION_DEFAULTS,
  type Activation,
  type ActivationParams,
  defaultClassNames,
  type LayerOp,
  type MapShape,
  mapShapes,
  type Network,
  type Padding,
  type Pool,
  weightCount,
} from '../../core/network.ts';
import { InputError } from '../../core/errors.ts';
import { printable, quoted } from '../../core/text.ts';

export const SUPPORTED_LAYERS =
  'Dense, Conv2D (stride any, dilation 1, one group), MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, InputLayer, Flatten, Reshape (to an image or flat), Dropout, Activation, ReLU, LeakyReLU, ELU, Softmax, BatchNormalization (folded), nested Sequential/Functional models (chains only)';
export const SUPPORTED_ACTIVATIONS =
  'linear, relu, sigmoid, tanh, softmax, leaky_relu, elu, selu, gelu, gelu_new (tanh approximation), swish / silu, softplus, hard_sigmoid';

/** A BatchNormalization layer as the topology describes it; folded into a dense layer at import. */
export interface NormSpec {
  name: string;
  /** The normalised axis as saved: -1 (channels last) or 1. */
  axis: number;
  epsilon: number;
  /** Keras' center / scale: without them there is no beta / gamma. */
  center: boolean;
  scale: boolean;
}

/** A Conv2D layer's geometry and the pooling after it; channelsFirst: the file's data_format. */
export interface ConvSpec {
  kernel: [number, number];
  strides: [number, number];
  padding: Padding;
  pool?: Pool;
  channelsFirst: boolean;
}

/** One dense (or, with `conv`, Conv2D) layer of the chain, as the topology describes it (no weights yet). */
export interface DenseSpec {
  name: string;
  units: number;
  conv?: ConvSpec;
  activation: Activation;
  params?: ActivationParams;
  useBias: boolean;
  /** BatchNormalization layers on this layer's input (after the previous activation), in order. */
  inputNorms: NormSpec[];
  /** BatchNormalization layers between the product and the activation, in order. */
  outputNorms: NormSpec[];
  /** Softmax follows this (last) layer's own activation. */
  softmaxAfter?: boolean;
}

export interface ChainSpec {
  /** Input feature count when the topology declares it (product of non-batch dims). */
  inputFeatures?: number;
  /** A conv network's declared input, as [height, width, channels] whatever the file's data_format. */
  inputShape?: MapShape;
  dense: DenseSpec[];
}

/** A BatchNormalization's inference statistics (gamma / beta null without scale / center). */
export interface NormWeights {
  name: string;
  epsilon: number;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
}

/** Kernel [inputs, units] row-major (Keras layout) and optional bias, ready for checking. */
export interface DenseWeights {
  name: string;
  /** A Conv2D layer: kernel [kh, kw, cin, cout] (Keras layout). */
  conv?: ConvSpec;
  activation: Activation;
  params?: ActivationParams;
  /** Folded into the kernel's rows (input side) and columns (pre-activation side). */
  inputNorms?: NormWeights[];
  outputNorms?: NormWeights[];
  softmaxAfter?: boolean;
  /** Units the topology declares, checked against the kernel when given. */
  units?: number;
  kernel: Float32Array;
  kernelShape: readonly number[];
  /** null → the layer has no bias (zeros). */
  bias: Float32Array | null;
  biasShape?: readonly number[];
}

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Largest model file any reader loads (bytes). */
export const MAX_MODEL_FILE_BYTES = 1024 * 1024 * 1024;
/** Largest model.json / config.json (bytes). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** Most weight values (kernels + biases, all layers) a model may have; refused before allocating. */
export const MAX_WEIGHT_VALUES = 100_000_000;
/** Most units in one layer (the .nnvis container's limit too). */
export const MAX_LAYER_UNITS = 10_000_000;

export function fail(file: string, message: string): never {
  throw new InputError(`${printable(file, 1000)}: ${message}`);
}

/** A file-supplied shape for a message: each dim printable, at most 8 shown. */
export function shapeText(shape: readonly unknown[]): string {
  const dims = shape.slice(0, 8).map((d) => (d === null ? 'None' : typeof d === 'number' ? String(d) : printable(JSON.stringify(d) ?? String(d), 20)));
  if (shape.length > 8) dims.push(`… ${shape.length} dims`);
  return `[${dims.join(', ')}]`;
}

/** A file-supplied JSON value for a message: short, printable, never throwing (deep or cyclic values). */
export function jsonText(value: unknown, max = 60): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  return printable(text ?? String(value), max);
}

/** A file-supplied type name (layer class, op type): as is when it looks like one, else quoted. */
export function typeName(name: unknown): string {
  const s = String(name);
  return /^[A-Za-z_][\w.]{0,59}$/.test(s) ? s : quoted(s, 60);
}

/** Up to `max` file-supplied names, printable, comma-separated, with a count of the rest. */
export function nameList(names: readonly unknown[], max = 5): string {
  const shown = names.slice(0, max).map((n) => printable(n, 40));
  if (names.length > max) shown.push(`… ${names.length - max} more`);
  return shown.join(', ');
}

/**
 * Number of values a weight of `shape` holds, refused before anything is allocated when a dim
 * is not a non-negative integer or the count exceeds MAX_WEIGHT_VALUES.
 */
export function valueCount(file: string, what: string, shape: readonly unknown[]): number {
  if (!shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    fail(file, `${what} has invalid shape ${shapeText(shape)}; dims must be non-negative integers`);
  }
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (n > MAX_WEIGHT_VALUES) {
    fail(file, `${what} has shape ${shapeText(shape)} (${n.toPrecision(3)} values); nnvis reads at most ${MAX_WEIGHT_VALUES} weights per model`);
  }
  return n;
}

/**
 * Reads a whole model file after checking it is a regular file (not a device, FIFO or
 * directory) of at most `max` bytes. Opens non-blocking and reads exactly the size it saw,
 * so a file swapped for /dev/zero or a FIFO cannot stall or grow memory.
 */
export function readModelFile(file: string, max = MAX_MODEL_FILE_BYTES, shown = file, kind = 'model file'): Buffer {
  const reason = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? printable(String(err));
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) fail(shown, `${st.isDirectory() ? 'is a directory' : 'is not a regular file (a device, FIFO or socket)'}; expected a ${kind}`);
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    return fail(shown, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read file (${reason(err)})`);
  }
  if (size > max) fail(shown, `is ${size} bytes; nnvis reads a ${kind} of at most ${max} bytes`);
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== size) fail(shown, 'changed while being read');
    const buf = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) fail(shown, `ended after ${at} of ${size} bytes while being read`);
      at += n;
    }
    return buf;
  } catch (err) {
    if (err instanceof InputError) throw err;
    return fail(shown, `cannot read file (${reason(err)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** JSON.parse with the file named on failure; `where` says which part ("config.json"). */
export function parseJsonText(file: string, text: string, where = 'file'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(file, `${where === 'file' ? '' : `${where} is `}not valid JSON (${printable((err as Error).message, 120)})`);
  }
}

/** Which Keras wrote the file: Keras 3 changed hard_sigmoid from clip(0.2x + 0.5) to relu6(x + 3) / 6. */
export interface KerasDialect {
  keras3: boolean;
}

export interface ParsedActivation {
  activation: Activation;
  params?: ActivationParams;
}

/** Maps a Keras/tfjs activation value to ours; anything else is an InputError. */
export function parseActivation(file: string, layer: string, value: unknown, dialect: KerasDialect = { keras3: false }): ParsedActivation {
  let name: unknown = value;
  // Keras 3 may serialize built-ins as {"class_name": "function", "config": "relu", ...}.
  if (isObject(value) && typeof value.config === 'string') name = value.config;
  if (name === undefined || name === null) return { activation: 'linear' };
  if (typeof name === 'string') {
    switch (name.toLowerCase()) {
      case 'linear':
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'softmax':
      case 'selu':
      case 'softplus':
        return { activation: name.toLowerCase() as Activation };
      case 'gelu':
        return { activation: 'gelu' };
      case 'gelu_new':
        return { activation: 'gelu_tanh' };
      case 'swish':
      case 'silu':
        return { activation: 'swish' };
      case 'elu':
        return { activation: 'elu', params: { alpha: 1 } };
      case 'leaky_relu':
        // keras.activations.leaky_relu's default negative_slope
        return { activation: 'leaky_relu', params: { alpha: 0.2 } };
      case 'hard_sigmoid':
      case 'hardsigmoid':
        return { activation: 'hard_sigmoid', params: dialect.keras3 ? { alpha: 1 / 6, beta: 0.5 } : { alpha: 0.2, beta: 0.5 } };
    }
  }
  const shown = typeof name === 'string' ? quoted(name) : jsonText(name);
  return fail(
    file,
    `layer ${quoted(layer)} uses activation ${shown}, which nnvis cannot show; supported activations: ${SUPPORTED_ACTIVATIONS}`,
  );
}

interface KerasLayer {
  className: string;
  name: string;
  config: Json;
  raw: Json;
}

function readLayers(file: string, list: unknown, where: string): KerasLayer[] {
  if (!Array.isArray(list)) fail(file, `${where} has no 'layers' list`);
  return list.map((raw, i) => {
    if (!isObject(raw) || typeof raw.class_name !== 'string') fail(file, `${where}.layers[${i}] has no class_name`);
    const config = isObject(raw.config) ? raw.config : {};
    const name =
      typeof config.name === 'string' ? config.name : typeof raw.name === 'string' ? raw.name : `#${i}`;
    return { className: raw.class_name, name, config, raw };
  });
}

const POOL_LAYERS = new Set(['MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D']);
const ACCEPTED_LAYERS = new Set(['Dense', 'Conv2D', ...POOL_LAYERS, 'InputLayer', 'Flatten', 'Reshape', 'Dropout', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'BatchNormalization']);
/** Activations that commute with max-pooling (monotonic, non-decreasing): an activation may follow a max-pool. */
export const MONOTONIC: readonly Activation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'leaky_relu', 'elu', 'selu', 'softplus', 'hard_sigmoid'];

/** A 2-D window argument (kernel_size, strides, pool_size): a number or a pair of positive integers. */
function pairConfig(file: string, layer: KerasLayer, keys: string[], dflt?: [number, number]): [number, number] {
  const key = keys.find((k) => layer.config[k] !== undefined && layer.config[k] !== null);
  const v = key === undefined ? dflt : layer.config[key];
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d >= 1 && d <= 1024)) {
    return fail(file, `layer ${quoted(layer.name)} (${layer.className}) has ${key ?? keys[0]} ${jsonText(v)}; expected a positive integer or a pair of them (at most 1024)`);
  }
  return pair as [number, number];
}

function paddingConfig(file: string, layer: KerasLayer): Padding {
  const p = layer.config.padding ?? 'valid';
  if (p !== 'same' && p !== 'valid') fail(file, `layer ${quoted(layer.name)} (${layer.className}) has padding ${jsonText(p)}; nnvis reads 'same' and 'valid'`);
  return p;
}

function channelsFirstConfig(file: string, layer: KerasLayer): boolean {
  const f = layer.config.data_format ?? layer.config.dataFormat ?? 'channels_last';
  if (f !== 'channels_last' && f !== 'channels_first') fail(file, `layer ${quoted(layer.name)} (${layer.className}) has data_format ${jsonText(f)}; expected channels_last or channels_first`);
  return f === 'channels_first';
}

/** A Conv2D layer's geometry; refuses dilation and groups, which nnvis does not show. */
function parseConv(file: string, layer: KerasLayer): ConvSpec {
  const c = layer.config;
  const dilation = pairConfig(file, layer, ['dilation_rate', 'dilationRate'], [1, 1]);
  if (dilation[0] !== 1 || dilation[1] !== 1) fail(file, `layer ${quoted(layer.name)} (Conv2D) has dilation_rate ${jsonText(c.dilation_rate ?? c.dilationRate)}; nnvis reads Conv2D with dilation 1 only`);
  if (c.groups !== undefined && c.groups !== 1) fail(file, `layer ${quoted(layer.name)} (Conv2D) has groups ${jsonText(c.groups)}: a grouped convolution; nnvis reads Conv2D with one group only`);
  return {
    kernel: pairConfig(file, layer, ['kernel_size', 'kernelSize']),
    strides: pairConfig(file, layer, ['strides'], [1, 1]),
    padding: paddingConfig(file, layer),
    channelsFirst: channelsFirstConfig(file, layer),
  };
}

function unsupportedLayer(file: string, layer: KerasLayer): never {
  return fail(
    file,
    `layer ${quoted(layer.name)} has type ${typeName(layer.className)}, which nnvis cannot show; supported: ${SUPPORTED_LAYERS}`,
  );
}

/** Names of the layers whose outputs feed `layer`, from Keras 2/tfjs or Keras 3 inbound_nodes. */
function inboundNames(file: string, layer: KerasLayer): string[] {
  const nodes = layer.raw.inbound_nodes;
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes)) fail(file, `layer ${quoted(layer.name)} has malformed inbound_nodes`);
  if (nodes.length > 1) {
    fail(file, `layer ${quoted(layer.name)} is called ${nodes.length} times (shared layer); nnvis shows chains of dense layers only`);
  }
  const node = nodes[0];
  const names: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 64) fail(file, `layer ${quoted(layer.name)} has inbound_nodes nested deeper than 64 levels`);
    if (Array.isArray(v)) {
      // Keras 2 / tfjs: [layerName, nodeIndex, tensorIndex, kwargs]
      if (typeof v[0] === 'string' && typeof v[1] === 'number') names.push(v[0]);
      else v.forEach((x) => visit(x, depth + 1));
    } else if (isObject(v)) {
      // Keras 3: {"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}}
      const history = isObject(v.config) ? v.config.keras_history : undefined;
      if (Array.isArray(history) && typeof history[0] === 'string') names.push(history[0]);
      else Object.values(v).forEach((x) => visit(x, depth + 1));
    }
  };
  visit(node, 0);
  return names;
}

function endpointNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  if (typeof value[0] === 'string') return [value[0]]; // Keras 3 single endpoint: [name, 0, 0]
  return value.flatMap((v) => (Array.isArray(v) && typeof v[0] === 'string' ? [v[0]] : []));
}

/** Orders a functional model's layers along its single path input → output; rejects branches. */
function functionalChain(file: string, layers: KerasLayer[], config: Json): KerasLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputs = endpointNames(config.input_layers);
  const outputs = endpointNames(config.output_layers);
  if (inputs.length !== 1 || outputs.length !== 1) {
    fail(
      file,
      `model has ${inputs.length} inputs and ${outputs.length} outputs; nnvis shows chains of dense layers with one input and one output only`,
    );
  }
  const consumers = new Map<string, KerasLayer[]>();
  for (const layer of layers) {
    const ins = inboundNames(file, layer);
    if (ins.length > 1) {
      fail(file, `layer ${quoted(layer.name)} (${typeName(layer.className)}) merges ${ins.length} inputs (${nameList(ins)}); nnvis shows chains of dense layers only`);
    }
    for (const src of ins) {
      if (!byName.has(src)) fail(file, `layer ${quoted(layer.name)} takes input from unknown layer ${quoted(src)}`);
      const list = consumers.get(src);
      if (list) list.push(layer);
      else consumers.set(src, [layer]);
    }
  }
  let current = byName.get(inputs[0]);
  if (!current) return fail(file, `input layer ${quoted(inputs[0])} is not among the model's layers`);
  const chain: KerasLayer[] = [current];
  for (;;) {
    const next: KerasLayer[] = consumers.get(current.name) ?? [];
    if (next.length > 1) {
      fail(file, `layer ${quoted(current.name)} feeds ${next.length} layers (${nameList(next.map((l) => l.name))}); nnvis shows chains of dense layers only`);
    }
    if (next.length === 0) break;
    current = next[0];
    chain.push(current);
  }
  if (current.name !== outputs[0]) {
    fail(file, `the path from input ${quoted(inputs[0])} ends at ${quoted(current.name)}, not at the output ${quoted(outputs[0])}; nnvis shows chains of dense layers only`);
  }
  const unused = layers.filter((l) => !chain.includes(l));
  if (unused.length > 0) {
    fail(file, `layer ${quoted(unused[0].name)} is not on the path from input to output; nnvis shows chains of dense layers only`);
  }
  return chain;
}

function declaredShape(config: Json): (number | null)[] | undefined {
  const batch = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(batch)) return batch as (number | null)[];
  const input = config.input_shape;
  if (Array.isArray(input)) return [null, ...(input as (number | null)[])];
  return undefined;
}

/** A BatchNormalization layer's config: feature axis only, epsilon as saved (Keras default 1e-3). */
function parseNorm(file: string, layer: KerasLayer): NormSpec {
  const c = layer.config;
  const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
  if (axis !== -1 && axis !== 1 && axis !== 3) {
    fail(file, `layer ${quoted(layer.name)} (BatchNormalization) normalises axis ${jsonText(c.axis)}; nnvis folds BatchNormalization over the feature axis (-1) of dense layers or the channel axis of conv layers only`);
  }
  const epsilon = c.epsilon ?? 1e-3;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) fail(file, `layer ${quoted(layer.name)} (BatchNormalization) has epsilon ${jsonText(epsilon)}; expected a non-negative number`);
  return { name: layer.name, axis: axis as number, epsilon, center: c.center !== false, scale: c.scale !== false };
}

function numberConfig(file: string, layer: KerasLayer, keys: string[], dflt: number): number {
  const key = keys.find((k) => layer.config[k] !== undefined && layer.config[k] !== null);
  const v = key === undefined ? dflt : layer.config[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, `layer ${quoted(layer.name)} (${layer.className}) has ${key} ${jsonText(v)}; expected a number`);
  return v;
}

/** The activation an activation layer applies (Activation, ReLU, LeakyReLU, ELU, Softmax). */
function layerActivationOf(file: string, layer: KerasLayer, dialect: KerasDialect): ParsedActivation {
  switch (layer.className) {
    case 'LeakyReLU':
      // tfjs and Keras 2 call the slope alpha, Keras 3 negative_slope; both default to 0.3
      return { activation: 'leaky_relu', params: { alpha: numberConfig(file, layer, ['negative_slope', 'alpha'], 0.3) } };
    case 'ELU':
      return { activation: 'elu', params: { alpha: numberConfig(file, layer, ['alpha'], 1) } };
    case 'ReLU': {
      const c = layer.config;
      const max = c.max_value ?? c.maxValue;
      const threshold = c.threshold ?? 0;
      if ((max !== undefined && max !== null) || threshold !== 0) {
        fail(file, `layer ${quoted(layer.name)} (ReLU) has max_value ${jsonText(max ?? null)} and threshold ${jsonText(threshold)}; nnvis reads ReLU layers without max_value or threshold only`);
      }
      const slope = numberConfig(file, layer, ['negative_slope'], 0);
      return slope === 0 ? { activation: 'relu' } : { activation: 'leaky_relu', params: { alpha: slope } };
    }
    case 'Softmax': {
      const axis = Array.isArray(layer.config.axis) && layer.config.axis.length === 1 ? layer.config.axis[0] : (layer.config.axis ?? -1);
      if (axis !== -1 && axis !== 1) fail(file, `layer ${quoted(layer.name)} (Softmax) has axis ${jsonText(layer.config.axis)}; only the feature axis (-1) is supported`);
      return { activation: 'softmax' };
    }
    default:
      return parseActivation(file, layer.name, layer.config.activation, dialect);
  }
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** A model's layers in order along its one path; nested models (Sequential inside Functional, …) spliced in. */
function modelLayers(file: string, model: Json, depth: number): KerasLayer[] {
  if (depth > 16) fail(file, 'models are nested deeper than 16 levels');
  const className = String(model.class_name);
  const config = model.config;
  let layers: KerasLayer[];
  const accepted = (l: KerasLayer): boolean => ACCEPTED_LAYERS.has(l.className) || MODEL_CLASSES.has(l.className) || unsupportedLayer(file, l);
  if (className === 'Sequential') {
    // Keras 1 stored the layer list directly as config.
    layers = readLayers(file, Array.isArray(config) ? config : isObject(config) ? config.layers : undefined, 'Sequential config');
    layers.forEach(accepted);
  } else if (className === 'Functional' || className === 'Model') {
    if (!isObject(config)) return fail(file, `${className} model has no config`);
    layers = readLayers(file, config.layers, `${className} config`);
    layers.forEach(accepted);
    layers = functionalChain(file, layers, config);
  } else {
    return fail(file, `model class ${typeName(className)} is not supported; nnvis reads Sequential and functional models made of ${SUPPORTED_LAYERS}`);
  }
  return layers.flatMap((l) => (MODEL_CLASSES.has(l.className) ? modelLayers(file, l.raw, depth + 1) : [l]));
}

/**
 * Parses a Keras / tfjs model topology (`{class_name, config}`, or tfjs-converter's
 * `{model_config: {...}}` wrapper) into its chain of dense layers. Rejects every layer type
 * outside SUPPORTED_LAYERS before looking at the structure, so the message names the real culprit.
 */
export function parseKerasTopology(file: string, topology: unknown, dialect: KerasDialect = { keras3: false }): ChainSpec {
  let model = topology;
  if (isObject(model) && isObject(model.model_config)) model = model.model_config;
  if (!isObject(model) || typeof model.class_name !== 'string') {
    return fail(file, `model topology has no class_name (expected a Keras Sequential or functional model)`);
  }
  const config = model.config;
  const layers = modelLayers(file, model, 0);

  let shape: (number | null)[] | undefined;
  if (isObject(config)) {
    const build = isObject(model.build_config) ? model.build_config.input_shape : config.build_input_shape;
    if (Array.isArray(build)) shape = build as (number | null)[];
  }
  let flattened = false;
  const dense: DenseSpec[] = [];
  let inputFeatures: number | undefined;
  let inputShape: MapShape | undefined;
  // BatchNormalization layers after an activation (or before the first Dense): they go on the next layer's input.
  let pending: NormSpec[] = [];
  let afterActivation = true;
  for (const layer of layers) {
    const declared = declaredShape(layer.config);
    if (dense.length === 0 && declared) shape = declared;
    switch (layer.className) {
      case 'InputLayer':
      case 'Dropout':
        break;
      case 'Flatten':
        flattened = true;
        break;
      case 'Reshape': {
        // flat rows → image before the first layer, or a conv map → flat rows (a Flatten)
        const target = layer.config.target_shape ?? layer.config.targetShape;
        const dims = Array.isArray(target) ? target : [];
        const prev = dense[dense.length - 1];
        if (dense.length === 0 && dims.length === 3 && dims.every((d) => Number.isInteger(d) && d >= 1)) shape = [null, ...(dims as number[])];
        else if (prev?.conv && !flattened && dims.length === 1) flattened = true;
        else fail(file, `layer ${quoted(layer.name)} (Reshape) has target_shape ${jsonText(target)}; nnvis reads a Reshape of the input to [height, width, channels] before the first layer, or of a conv map to one dimension`);
        break;
      }
      case 'Conv2D': {
        const prev = dense[dense.length - 1];
        if (prev && !prev.conv) fail(file, `layer ${quoted(layer.name)} (Conv2D) follows Dense layer ${quoted(prev.name)}; nnvis reads conv layers before the dense ones only`);
        if (flattened) fail(file, `layer ${quoted(layer.name)} (Conv2D) follows a Flatten; nnvis reads conv layers on image inputs only`);
        if (pending.length > 0) fail(file, `BatchNormalization ${quoted(pending[0].name)} comes before Conv2D ${quoted(layer.name)}; nnvis folds BatchNormalization into the conv layer before it only`);
        const filters = layer.config.filters;
        if (typeof filters !== 'number' || !Number.isInteger(filters) || filters < 1 || filters > MAX_LAYER_UNITS) {
          fail(file, `layer ${quoted(layer.name)} (Conv2D) has invalid filters ${jsonText(filters, 40)}; expected an integer from 1 to ${MAX_LAYER_UNITS}`);
        }
        const conv = parseConv(file, layer);
        if (dense.length === 0) {
          const dims = shape?.slice(1);
          if (!dims || dims.length !== 3 || !dims.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)) {
            fail(file, `layer ${quoted(layer.name)} (Conv2D) needs a declared image input [height, width, channels]; the model declares ${shape ? shapeText(shape) : 'no input shape'}`);
          }
          const [a, b, c] = dims as number[];
          inputShape = conv.channelsFirst ? [b, c, a] : [a, b, c];
          inputFeatures = a * b * c;
        } else if (prev!.conv!.channelsFirst !== conv.channelsFirst) {
          fail(file, `layer ${quoted(layer.name)} (Conv2D) is ${conv.channelsFirst ? 'channels_first' : 'channels_last'} but ${quoted(prev!.name)} is not; nnvis reads one data_format per model`);
        }
        const { activation, params } = parseActivation(file, layer.name, layer.config.activation, dialect);
        dense.push({ name: layer.name, units: filters, conv, activation, params, useBias: layer.config.use_bias !== false, inputNorms: [], outputNorms: [] });
        afterActivation = activation !== 'linear';
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D':
      case 'GlobalAveragePooling2D': {
        const prev = dense[dense.length - 1];
        if (!prev?.conv || flattened) fail(file, `layer ${quoted(layer.name)} (${layer.className}) does not follow a Conv2D layer; nnvis reads pooling right after a conv layer (and its activation) only`);
        if (prev.conv.pool) fail(file, `layer ${quoted(layer.name)} (${layer.className}) is the second pooling after Conv2D ${quoted(prev.name)}; nnvis reads one pooling per conv layer`);
        if (pending.length > 0) fail(file, `BatchNormalization ${quoted(pending[0].name)} comes between Conv2D ${quoted(prev.name)}'s activation and ${quoted(layer.name)}; nnvis folds BatchNormalization before the activation only`);
        if (channelsFirstConfig(file, layer) !== prev.conv.channelsFirst) fail(file, `layer ${quoted(layer.name)} (${layer.className}) has another data_format than Conv2D ${quoted(prev.name)}`);
        if (layer.className === 'GlobalAveragePooling2D') {
          if (layer.config.keepdims === true) fail(file, `layer ${quoted(layer.name)} (GlobalAveragePooling2D) has keepdims true; nnvis reads it with keepdims false`);
          prev.conv.pool = { kind: 'global' };
          flattened = true;
        } else {
          const size = pairConfig(file, layer, ['pool_size', 'poolSize'], [2, 2]);
          prev.conv.pool = { kind: layer.className === 'MaxPooling2D' ? 'max' : 'avg', size, strides: pairConfig(file, layer, ['strides'], size), padding: paddingConfig(file, layer) };
        }
        break;
      }
      case 'BatchNormalization': {
        const norm = parseNorm(file, layer);
        const prev = dense[dense.length - 1];
        if (prev?.conv && (afterActivation || prev.conv.pool || flattened)) {
          fail(file, `BatchNormalization ${quoted(layer.name)} follows Conv2D ${quoted(prev.name)}'s ${prev.conv.pool ? 'pooling' : flattened ? 'Flatten' : 'activation'}; nnvis folds BatchNormalization into a conv layer between the convolution and its activation only`);
        }
        const channelAxis = prev?.conv ? (prev.conv.channelsFirst ? [1] : [-1, 3]) : [-1, 1];
        if (!channelAxis.includes(norm.axis)) {
          fail(file, `BatchNormalization ${quoted(layer.name)} normalises axis ${norm.axis}; ${prev?.conv ? `Conv2D ${quoted(prev.name)} keeps its channels on axis ${channelAxis.join(' or ')}` : 'nnvis folds BatchNormalization over the feature axis (-1) of dense layers only'}`);
        }
        if (prev && !afterActivation) prev.outputNorms.push(norm);
        else pending.push(norm);
        break;
      }
      case 'Activation':
      case 'ReLU':
      case 'LeakyReLU':
      case 'ELU':
      case 'Softmax': {
        const { activation: act, params } = layerActivationOf(file, layer, dialect);
        const prev = dense[dense.length - 1];
        if (!prev) fail(file, `layer ${quoted(layer.name)} (${layer.className} ${act}) comes before any Dense layer; nnvis shows activations of dense layers only`);
        if (act === 'linear') break;
        if (prev.conv && (prev.conv.pool || flattened)) {
          // max-pooling commutes with a non-decreasing activation: max(f(x)) = f(max(x))
          if (prev.conv.pool?.kind !== 'max' || flattened || !MONOTONIC.includes(act) || prev.activation !== 'linear') {
            fail(file, `layer ${quoted(layer.name)} (${layer.className} ${act}) comes after Conv2D ${quoted(prev.name)}'s ${flattened ? 'Flatten' : `${prev.conv.pool!.kind} pooling`}; nnvis reads a conv layer's activation before its pooling (or a monotonic one after max-pooling)`);
          }
        }
        if (prev.activation !== 'linear' || pending.length > 0) {
          // Softmax on top of the output layer's activation (e.g. ReLU then Softmax): an identity layer carries it
          if (act === 'softmax' && !prev.softmaxAfter && pending.length === 0) {
            prev.softmaxAfter = true;
            break;
          }
          fail(file, `layer ${quoted(layer.name)} (${layer.className} ${act}) follows layer ${quoted(prev.name)} which already has activation ${prev.activation}; nnvis shows one activation per dense layer (or an activation then Softmax on the output)`);
        }
        prev.activation = act;
        prev.params = params;
        afterActivation = true;
        break;
      }
      case 'Dense': {
        const units = layer.config.units;
        if (typeof units !== 'number' || !Number.isInteger(units) || units < 1 || units > MAX_LAYER_UNITS) {
          fail(file, `layer ${quoted(layer.name)} (Dense) has invalid units ${printable(JSON.stringify(units) ?? String(units), 40)}; expected an integer from 1 to ${MAX_LAYER_UNITS}`);
        }
        const prev = dense[dense.length - 1];
        if (prev?.softmaxAfter) fail(file, `layer ${quoted(layer.name)} (Dense) follows the Softmax after layer ${quoted(prev.name)}'s activation; nnvis accepts an activation then Softmax on the output layer only`);
        if (prev?.conv && !flattened) fail(file, `layer ${quoted(layer.name)} (Dense) reads Conv2D ${quoted(prev.name)}'s feature map without Flatten or GlobalAveragePooling2D; nnvis reads dense layers on flat inputs only`);
        if (prev?.conv && pending.length > 0) fail(file, `BatchNormalization ${quoted(pending[0].name)} comes between Conv2D ${quoted(prev.name)} and Dense ${quoted(layer.name)}; nnvis folds BatchNormalization before a conv layer's activation only`);
        if (dense.length === 0 && shape) {
          const dims = shape.slice(1);
          if (dims.length > 1 && !flattened) {
            fail(file, `layer ${quoted(layer.name)} (Dense) gets a ${dims.length}-D input ${shapeText(shape)} without Flatten; nnvis shows chains of dense layers on flat inputs only`);
          }
          if (dims.length > 0 && dims.every((d) => typeof d === 'number')) {
            inputFeatures = (dims as number[]).reduce((a, b) => a * b, 1);
          }
        }
        const { activation, params } = parseActivation(file, layer.name, layer.config.activation, dialect);
        dense.push({ name: layer.name, units, activation, params, useBias: layer.config.use_bias !== false, inputNorms: pending, outputNorms: [] });
        pending = [];
        afterActivation = activation !== 'linear';
        break;
      }
      default:
        unsupportedLayer(file, layer);
    }
  }
  if (pending.length > 0 && dense.length > 0) {
    const last = dense[dense.length - 1];
    fail(file, `BatchNormalization ${quoted(pending[0].name)} comes after the activation of the last Dense layer ${quoted(last.name)}, so no dense layer follows to fold it into; nnvis folds BatchNormalization between dense layers only`);
  }
  if (dense.length === 0) fail(file, `model has no Dense layer; supported: ${SUPPORTED_LAYERS}`);
  const last = dense[dense.length - 1];
  if (last.conv) fail(file, `the model ends with Conv2D ${quoted(last.name)}; nnvis reads classifiers whose output layer is Dense`);
  return { inputFeatures, inputShape, dense };
}

function checkFinite(file: string, layer: string, what: string, values: Float32Array, cols?: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      const at = cols ? ` (row ${Math.floor(i / cols)}, column ${i % cols})` : '';
      fail(file, `layer ${quoted(layer)} ${what} has a non-finite value (${v}) at index ${i}${at}`);
    }
  }
}

/**
 * Checks the kernels chain up (inputs of layer k = units of layer k - 1), biases match, all
 * values are finite, and builds the Network with weights/biases in edge/node order.
 */
export function buildNetwork(
  file: string,
  format: string,
  inputFeatures: number | undefined,
  layers: readonly DenseWeights[],
  sourceName: string = basename(file),
  inputShape?: MapShape,
): Network {
  if (layers.length === 0) fail(file, 'model has no dense layers');
  if (layers[0].conv && !inputShape) fail(file, `layer ${quoted(layers[0].name)} is a conv layer but the model declares no image input shape`);
  const sizes: number[] = [];
  // the feature map after the conv layers so far (channels last)
  let map: MapShape | undefined = inputShape;
  layers = layers.map((l, k) => (k > 0 && layers[k - 1].conv && !l.conv && l.kernelShape.length === 2 && layers[k - 1].conv!.channelsFirst ? channelsLastRows(l, mapAfter(layers, k, inputShape!)) : l));
  for (let k = 0; k < layers.length; k++) {
    const l = layers[k];
    if (l.conv) {
      map = checkConvLayer(file, l, k === 0 ? undefined : layers[k - 1], map!, sizes);
      continue;
    }
    const shape = l.kernelShape;
    if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      fail(file, `layer ${quoted(l.name)} kernel has shape ${shapeText(shape)}; expected [inputs, units]`);
    }
    if (shape[0] > MAX_LAYER_UNITS || shape[1] > MAX_LAYER_UNITS) {
      fail(file, `layer ${quoted(l.name)} kernel has shape ${shapeText(shape)}; nnvis reads layers of at most ${MAX_LAYER_UNITS} units`);
    }
    const [rows, cols] = shape;
    if (l.kernel.length !== rows * cols) {
      fail(file, `layer ${quoted(l.name)} kernel has ${l.kernel.length} values but shape ${shapeText(shape)}`);
    }
    if (l.units !== undefined && cols !== l.units) {
      fail(file, `layer ${quoted(l.name)} kernel has shape ${shapeText(shape)} but the layer has ${l.units} units`);
    }
    const afterConv = k > 0 && layers[k - 1].conv !== undefined;
    const expectedRows = k === 0 ? inputFeatures : afterConv ? map![0] * map![1] * map![2] : sizes[k];
    if (expectedRows !== undefined && rows !== expectedRows) {
      const from = k === 0 ? 'the model input has' : afterConv ? `the flattened ${map!.join('×')} map of conv layer ${quoted(layers[k - 1].name)} has` : `layer ${quoted(layers[k - 1].name)} outputs`;
      fail(file, `layer ${quoted(l.name)} kernel has shape ${shapeText(shape)} but ${from} ${expectedRows} features`);
    }
    if (k === 0) sizes.push(rows);
    sizes.push(cols);
    if (l.bias) {
      const bshape = l.biasShape ?? [l.bias.length];
      if (l.bias.length !== cols) {
        fail(file, `layer ${quoted(l.name)} bias has shape ${shapeText(bshape)} but the layer has ${cols} units`);
      }
    }
    checkFinite(file, l.name, 'kernel', l.kernel, cols);
    if (l.bias) checkFinite(file, l.name, 'bias', l.bias);
    for (const n of l.inputNorms ?? []) checkNorm(file, l.name, n, rows, 'inputs');
    for (const n of l.outputNorms ?? []) checkNorm(file, l.name, n, cols, 'units');
  }
  const notes: string[] = [];
  // a conv kernel [kh, kw, cin, cout] folds as the [kh · kw · cin, cout] matrix it is in memory
  const finished = layers.map((l) => (l.conv ? { ...foldNorms(file, { ...l, kernelShape: [l.kernel.length / l.kernelShape[3], l.kernelShape[3]] }, notes), kernelShape: l.kernelShape } : foldNorms(file, l, notes)));
  const last = finished[finished.length - 1];
  if (last.softmaxAfter) {
    const n = sizes[sizes.length - 1];
    const identity = new Float32Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    finished.push({ name: `${last.name} (softmax)`, activation: 'softmax', kernel: identity, kernelShape: [n, n], bias: null });
    sizes.push(n);
    notes.push(`added an identity layer of ${n} units with softmax after layer ${quoted(last.name)}, whose own activation (${last.activation}) comes before the Softmax`);
  }
  const out = finished[finished.length - 1];
  if (sizes[sizes.length - 1] === 1 && out.activation === 'sigmoid') {
    // softmax([0, z]) = [1 − σ(z), σ(z)]: exactly the probabilities of class 0 and class 1
    const rows = out.kernelShape[0];
    const kernel = new Float32Array(rows * 2);
    for (let i = 0; i < rows; i++) kernel[i * 2 + 1] = out.kernel[i];
    finished[finished.length - 1] = { ...out, activation: 'softmax', kernel, kernelShape: [rows, 2], bias: Float32Array.of(0, out.bias?.[0] ?? 0) };
    sizes[sizes.length - 1] = 2;
    notes.push(`read the 1-unit sigmoid output of layer ${quoted(out.name)} as 2 classes: class 1 with probability p, class 0 with 1 − p (a 2-unit softmax over [0, z])`);
  }
  layers = finished;
  const conv = layers.some((l) => l.conv);
  // a channels-first model reads its data rows as (c, h, w); one input channel is the same either way
  const inputOrder = layers[0].conv?.channelsFirst && inputShape![2] > 1 ? { inputOrder: 'chw' as const } : {};
  const arch = conv ? { inputShape: inputShape!, ...inputOrder, ops: layers.map((l): LayerOp => (l.conv ? convOp(l.conv) : { kind: 'dense' })) } : {};
  const total = layers.reduce((a, l) => a + l.kernel.length, 0);
  let nodes = 0;
  for (let k = 0; k < layers.length; k++) nodes += sizes[k + 1];
  if (total + nodes > MAX_WEIGHT_VALUES) fail(file, `model has ${total + nodes} weights; nnvis reads at most ${MAX_WEIGHT_VALUES} weights per model`);
  const weights = new Float32Array(total);
  const biases = new Float32Array(nodes);
  let eo = 0;
  let bo = 0;
  for (let k = 0; k < layers.length; k++) {
    const l = layers[k];
    weights.set(l.kernel, eo);
    eo += l.kernel.length;
    if (l.bias) biases.set(l.bias, bo);
    bo += sizes[k + 1];
  }
  const net: Network = {
    layers: sizes,
    classNames: defaultClassNames(sizes[sizes.length - 1]),
    activations: layers.map((l) => l.activation),
    ...arch,
    weights,
    biases,
    meta: { provenance: { tool: 'nnvis', command: 'import', source: `${sourceName} (${format})` } },
  };
  if (conv && weightCount(net) !== total) throw new Error(`conv import: ${total} weights read, ${weightCount(net)} expected`);
  if (layers.some((l) => l.params && Object.keys(l.params).length > 0)) {
    net.activationParams = layers.map((l) => ({ ...ACTIVATION_DEFAULTS[l.activation], ...l.params }));
  }
  if (notes.length > 0) net.meta.provenance!.conversions = notes;
  return net;
}

function convOp(c: ConvSpec): LayerOp {
  return { kind: 'conv', kernel: c.kernel, strides: c.strides, padding: c.padding, ...(c.pool ? { pool: c.pool } : {}) };
}

/** The map a conv chain leaves before layer k (all of layers[0..k) are conv layers). */
function mapAfter(layers: readonly DenseWeights[], k: number, inputShape: MapShape): MapShape {
  const convs = layers.slice(0, k);
  const arch = { layers: [inputShape[0] * inputShape[1] * inputShape[2], ...convs.map((l) => l.kernelShape[3] ?? 1)], inputShape, ops: convs.map((l) => convOp(l.conv!)) };
  return mapShapes({ ...arch, layers: [...arch.layers, 1], ops: [...arch.ops, { kind: 'dense' }] })[k];
}

/**
 * A dense kernel reading a channels-first map flattened as (c, h, w), its rows reordered to
 * nnvis' channels-last flatten order (h, w, c).
 */
function channelsLastRows(l: DenseWeights, [h, w, c]: MapShape): DenseWeights {
  const cols = l.kernelShape[1];
  if (l.kernel.length !== h * w * c * cols) return l; // the shape check reports it
  const out = new Float32Array(l.kernel.length);
  for (let i = 0; i < c; i++) {
    for (let p = 0; p < h * w; p++) out.set(l.kernel.subarray((i * h * w + p) * cols, (i * h * w + p + 1) * cols), (p * c + i) * cols);
  }
  return { ...l, kernel: out };
}

/**
 * A Conv2D layer's kernel [kh, kw, cin, cout] against its config and the map it reads; pushes
 * the layer sizes and returns the map it leaves.
 */
function checkConvLayer(file: string, l: DenseWeights, prev: DenseWeights | undefined, map: MapShape, sizes: number[]): MapShape {
  const spec = l.conv!;
  const shape = l.kernelShape;
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) fail(file, `conv layer ${quoted(l.name)} kernel has shape ${shapeText(shape)}; expected [kernel height, kernel width, input channels, filters]`);
  const [kh, kw, cin, cout] = shape;
  if (kh !== spec.kernel[0] || kw !== spec.kernel[1]) fail(file, `conv layer ${quoted(l.name)} kernel has shape ${shapeText(shape)} but the layer's kernel_size is ${spec.kernel.join('×')}`);
  if (cin !== map[2]) fail(file, `conv layer ${quoted(l.name)} kernel has shape ${shapeText(shape)} but ${prev ? `conv layer ${quoted(prev.name)} outputs` : 'the input has'} ${map[2]} channels`);
  if (l.units !== undefined && cout !== l.units) fail(file, `conv layer ${quoted(l.name)} kernel has shape ${shapeText(shape)} but the layer has ${l.units} filters`);
  if (l.kernel.length !== kh * kw * cin * cout) fail(file, `conv layer ${quoted(l.name)} kernel has ${l.kernel.length} values but shape ${shapeText(shape)}`);
  if (l.bias && l.bias.length !== cout) fail(file, `conv layer ${quoted(l.name)} bias has shape ${shapeText(l.biasShape ?? [l.bias.length])} but the layer has ${cout} filters`);
  checkFinite(file, l.name, 'kernel', l.kernel, cout);
  if (l.bias) checkFinite(file, l.name, 'bias', l.bias);
  for (const n of l.outputNorms ?? []) checkNorm(file, l.name, n, cout, 'units');
  if (sizes.length === 0) sizes.push(map[0] * map[1] * map[2]);
  sizes.push(cout);
  const next = mapShapes({ layers: [map[0] * map[1] * map[2], cout, 1], inputShape: map, ops: [convOp(spec), { kind: 'dense' }] })[1];
  if (next[0] < 1 || next[1] < 1) fail(file, `conv layer ${quoted(l.name)} (kernel ${kh}×${kw}${spec.pool && spec.pool.kind !== 'global' ? `, pool ${spec.pool.size.join('×')}` : ''}) is larger than the ${map[0]}×${map[1]} map it reads`);
  return next;
}

function checkNorm(file: string, layer: string, n: NormWeights, size: number, side: 'inputs' | 'units'): void {
  const where = `BatchNormalization ${quoted(n.name)} (folded into layer ${quoted(layer)})`;
  const parts: [string, Float32Array | null][] = [['gamma', n.gamma], ['beta', n.beta], ['moving mean', n.mean], ['moving variance', n.variance]];
  for (const [what, v] of parts) {
    if (!v) continue;
    if (v.length !== size) fail(file, `${where} ${what} has ${v.length} values but layer ${quoted(layer)} has ${size} ${side}`);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) fail(file, `${where} ${what} has a non-finite value (${v[i]}) at index ${i}`);
      if (what === 'moving variance' && v[i] + n.epsilon <= 0) {
        fail(file, `${where} moving variance ${v[i]} at index ${i} plus epsilon ${n.epsilon} is not positive; the statistics are not those of a trained layer`);
      }
    }
  }
}

/** Per feature scale and shift of a BatchNormalization in inference mode: γ(x − μ)/√(σ² + ε) + β. */
function normAffine(n: NormWeights): { scale: Float64Array; shift: Float64Array } {
  const scale = new Float64Array(n.mean.length);
  const shift = new Float64Array(n.mean.length);
  for (let i = 0; i < scale.length; i++) {
    scale[i] = (n.gamma ? n.gamma[i] : 1) / Math.sqrt(n.variance[i] + n.epsilon);
    shift[i] = (n.beta ? n.beta[i] : 0) - n.mean[i] * scale[i];
  }
  return { scale, shift };
}

/** Folds a layer's BatchNormalizations into its kernel and bias, exactly (in float64, rounded once). */
function foldNorms(file: string, l: DenseWeights, notes: string[]): DenseWeights {
  const inputs = l.inputNorms ?? [];
  const outputs = l.outputNorms ?? [];
  if (inputs.length === 0 && outputs.length === 0) return l;
  const [rows, cols] = l.kernelShape;
  const W = Float64Array.from(l.kernel);
  const b = l.bias ? Float64Array.from(l.bias) : new Float64Array(cols);
  for (const n of [...inputs].reverse()) {
    // (x·s + t)·W + b = x·(diag(s)·W) + (t·W + b); the last norm is next to the kernel
    const { scale, shift } = normAffine(n);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        b[j] += shift[i] * W[i * cols + j];
        W[i * cols + j] *= scale[i];
      }
    }
    notes.push(`folded BatchNormalization ${quoted(n.name)} (epsilon ${+n.epsilon.toPrecision(6)}) into the input side of layer ${quoted(l.name)}`);
  }
  for (const n of outputs) {
    const { scale, shift } = normAffine(n);
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < rows; i++) W[i * cols + j] *= scale[j];
      b[j] = b[j] * scale[j] + shift[j];
    }
    notes.push(`folded BatchNormalization ${quoted(n.name)} (epsilon ${+n.epsilon.toPrecision(6)}) into layer ${quoted(l.name)}, before its activation`);
  }
  const kernel = Float32Array.from(W);
  const bias = Float32Array.from(b);
  checkFinite(file, l.name, 'kernel after folding BatchNormalization', kernel, cols);
  return { ...l, kernel, bias, inputNorms: [], outputNorms: [] };
}

export const SUPPORTED_GRAPH_OPS = 'Placeholder, Const, MatMul, _FusedMatMul, BiasAdd, Add, AddV2, Identity, NoOp, Relu, Sigmoid, Tanh, Softmax, Elu, Selu, LeakyRelu, Softplus';
export const SUPPORTED_OPS =
  'Gemm, MatMul, Conv (one group, dilation 1), MaxPool, AveragePool, GlobalAveragePool, Add, BatchNormalization, Relu, Sigmoid, Tanh, Softmax, LeakyRelu, Elu, Selu, Gelu, HardSigmoid, Softplus, Mul/Div/Erf (SiLU, GELU), Transpose (weights), Flatten, Reshape, Identity, Dropout';
