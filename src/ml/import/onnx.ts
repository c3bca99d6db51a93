// Reads an ONNX model whose graph is a chain of dense layers, walking from the single graph
// input to the single graph output:
//   [Flatten | Reshape]* at the input, then per layer Gemm (any transA, transB, alpha, beta) or
//   MatMul [+ Add] with the weight on either side (W·x flips the data to features × samples),
//   BatchNormalization (folded), then an activation (Relu, Sigmoid, Tanh, Softmax, LeakyRelu,
//   Elu, Selu, Gelu, HardSigmoid, Softplus, x·Sigmoid(x), x·(Erf(x/√2) + 1)·0.5), optionally then
//   Softmax on the output;
//   Identity and Dropout pass through anywhere, Transpose of a weight is a weight.
// Weights come from initializers (or Constant nodes), as floatData or little-endian rawData;
// dims are checked (and the value count capped) before anything is allocated, and rawData
// must hold exactly dims × element size bytes.

import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { type Activation, type ActivationParams, type MapShape, type Network, type Padding, windowOutput } from '../../core/network.ts';
import { printable, quoted } from '../../core/text.ts';
import { buildNetwork, type DenseWeights, fail, jsonText, MONOTONIC, nameList, type NormWeights, readModelFile, shapeText, SUPPORTED_OPS, typeName, valueCount } from './common.ts';

const { onnx } = onnxProto;

type Node = OnnxTypes.INodeProto;
type Tensor = OnnxTypes.ITensorProto;

const ACTIVATION_OPS: Record<string, Activation> = {
  Relu: 'relu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softmax: 'softmax',
  LeakyRelu: 'leaky_relu',
  Elu: 'elu',
  Selu: 'selu',
  Gelu: 'gelu',
  HardSigmoid: 'hard_sigmoid',
  Softplus: 'softplus',
};
const POOL_OPS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool']);
const OPS = new Set(['Gemm', 'MatMul', 'Conv', ...POOL_OPS, 'Add', 'BatchNormalization', 'Flatten', 'Reshape', 'Identity', 'Dropout', 'Mul', 'Div', 'Erf', ...Object.keys(ACTIVATION_OPS)]);
/** Ops that mark a LayerNorm (opset 17's node, or the primitive ops older exporters write). */
const LAYER_NORM_OPS = new Set(['LayerNormalization', 'ReduceMean']);

/** protobufjs gives int64 as number or Long. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function nodeLabel(node: Node, index: number): string {
  return node.name || node.output?.[0] || `#${index}`;
}

function attr(node: Node, name: string): OnnxTypes.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function intAttr(node: Node, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? num(a.i) : dflt;
}

function floatAttr(node: Node, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? dflt) : dflt;
}

function intsAttr(node: Node, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints ? a.ints.map(num) : undefined;
}

/**
 * A Conv or pool window's padding as same or valid, from auto_pad or explicit pads on a map of
 * `size` ([h, w]): same must put the odd pixel at the end, as SAME_UPPER and TensorFlow do.
 */
function windowPadding(file: string, label: string, op: string, node: Node, size: [number, number], kernel: [number, number], strides: [number, number]): Padding {
  const auto = stringAttr(node, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return 'valid';
  if (auto === 'SAME_UPPER') return 'same';
  if (auto !== 'NOTSET') fail(file, `node ${quoted(label)} (${op}) has auto_pad ${quoted(auto)}; nnvis reads NOTSET (explicit pads), SAME_UPPER and VALID`);
  const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
  if (pads.every((p) => p === 0)) return 'valid';
  const same = [0, 1].map((a) => {
    const total = Math.max((Math.ceil(size[a] / strides[a]) - 1) * strides[a] + kernel[a] - size[a], 0);
    return [total >> 1, total - (total >> 1)];
  });
  if (pads.length === 4 && pads[0] === same[0][0] && pads[1] === same[1][0] && pads[2] === same[0][1] && pads[3] === same[1][1]) return 'same';
  return fail(file, `node ${quoted(label)} (${op}) has pads ${jsonText(pads)} on a ${size.join('×')} map; nnvis reads no padding or 'same' padding (${jsonText([same[0][0], same[1][0], same[0][1], same[1][1]])} here)`);
}

/** A window attribute pair (kernel_shape, strides), 2-D, positive. */
function pairAttr(file: string, label: string, op: string, node: Node, name: string, dflt?: [number, number]): [number, number] {
  const v = intsAttr(node, name) ?? dflt;
  if (!v || v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1 && d <= 1024)) {
    return fail(file, `node ${quoted(label)} (${op}) has ${name} ${v ? jsonText(v) : 'missing'}; nnvis reads 2-D windows of positive integers (at most 1024)`);
  }
  return v as [number, number];
}

function stringAttr(node: Node, name: string, dflt: string): string {
  const a = attr(node, name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : dflt;
}

/** An activation node's activation and parameters (ONNX's attribute defaults). */
function activationOf(node: Node, op: string): { activation: Activation; params?: ActivationParams } {
  switch (op) {
    case 'LeakyRelu':
      return { activation: 'leaky_relu', params: { alpha: floatAttr(node, 'alpha', 0.01) } };
    case 'Elu':
      return { activation: 'elu', params: { alpha: floatAttr(node, 'alpha', 1) } };
    case 'Selu':
      return { activation: 'selu', params: { alpha: floatAttr(node, 'alpha', 1.67326319217681884765625), gamma: floatAttr(node, 'gamma', 1.05070102214813232421875) } };
    case 'HardSigmoid':
      return { activation: 'hard_sigmoid', params: { alpha: floatAttr(node, 'alpha', 0.2), beta: floatAttr(node, 'beta', 0.5) } };
    case 'Gelu':
      return { activation: stringAttr(node, 'approximate', 'none') === 'tanh' ? 'gelu_tanh' : 'gelu' };
    default:
      return { activation: ACTIVATION_OPS[op] };
  }
}

function tensorValues(file: string, t: Tensor, what: string): { data: Float32Array; shape: number[] } {
  const shape = (t.dims ?? []).map(num);
  const n = valueCount(file, `${what} (${quoted(t.name)})`, shape);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    fail(file, `${what} (${quoted(t.name)}) is stored in external data; nnvis reads self-contained .onnx files only`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? Buffer.from(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : undefined;
  let data: Float32Array;
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    if (raw) {
      if (raw.length !== 4 * n) fail(file, `${what} (${quoted(t.name)}) has ${raw.length} bytes of raw data, shape ${shapeText(shape)} needs ${4 * n}`);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = raw.readFloatLE(4 * i);
    } else data = Float32Array.from(t.floatData ?? []);
  } else if (t.dataType === onnx.TensorProto.DataType.DOUBLE) {
    if (raw) {
      if (raw.length !== 8 * n) fail(file, `${what} (${quoted(t.name)}) has ${raw.length} bytes of raw data, shape ${shapeText(shape)} needs ${8 * n}`);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = raw.readDoubleLE(8 * i);
    } else data = Float32Array.from(t.doubleData ?? []);
  } else {
    const type = onnx.TensorProto.DataType[t.dataType ?? 0] ?? String(t.dataType);
    return fail(file, `${what} (${quoted(t.name)}) has data type ${type}; nnvis reads FLOAT (or DOUBLE) weights only`);
  }
  if (data.length !== n) fail(file, `${what} (${quoted(t.name)}) has ${data.length} values but shape ${shapeText(shape)}`);
  return { data, shape };
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function decode(file: string): OnnxTypes.ModelProto {
  const bytes = readModelFile(file);
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    return fail(file, `is not a valid ONNX model (${printable((err as Error).message, 120)})`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    fail(file, 'is not a valid ONNX model (no graph nodes)');
  }
  return model;
}

interface PendingLayer extends DenseWeights {
  /** True while only Gemm/MatMul was seen, so an Add may still supply the bias. */
  open: boolean;
  hasBias: boolean;
}

function consumersOf(nodes: { node: Node }[], name: string): { node: Node }[] {
  return nodes.filter(({ node }) => (node.input ?? []).includes(name));
}

/** A bias must broadcast along the units: [units] or [1, units] on rows, [units, 1] on columns. */
function checkBias(file: string, label: string, op: string, shape: number[], cols: number, columns: boolean, layer?: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const ok = columns ? n === cols && (shape.length === 2 ? shape[1] === 1 : cols === 1) : n === cols && shape.length <= 2 && shape[shape.length - 1] === cols;
  if (!ok) {
    const expected = columns ? `[${cols}, 1]` : `[${cols}]`;
    fail(file, `node ${quoted(label)} (${op}) bias has shape ${shapeText(shape)}; expected ${expected} for ${layer ? `layer ${quoted(layer)} with ` : ''}${cols} units`);
  }
}

type Consumer = { node: Node; index: number };

/**
 * Div(x, √2) → Erf → Add(1) → Mul(x, ·) → Mul(0.5) (the last two in either order), PyTorch's GELU
 * before opset 20; the nodes and the last one when `next` (x's two consumers) starts it.
 */
function geluPattern(x: string, next: Consumer[], consumers: Map<string, Consumer[]>, scalar: (name: string) => number | undefined): { nodes: Node[]; last: Node } | undefined {
  const only = (t: string | undefined, op: string): Node | undefined => {
    const c = t ? (consumers.get(t) ?? []) : [];
    return c.length === 1 && c[0].node.opType === op ? c[0].node : undefined;
  };
  const other = (n: Node, t: string): string | undefined => (n.input ?? []).find((i) => i !== t);
  const near = (v: number | undefined, want: number): boolean => v !== undefined && Math.abs(v - want) < 1e-6;
  const div = next.find((n) => n.node.opType === 'Div')?.node;
  const mulX = next.find((n) => n.node.opType === 'Mul')?.node;
  if (!div || !mulX || div.input?.[0] !== x || !near(scalar(div.input?.[1] ?? ''), Math.SQRT2)) return undefined;
  const erf = only(div.output?.[0], 'Erf');
  const add = only(erf?.output?.[0], 'Add');
  if (!erf || !add || !near(scalar(other(add, erf.output?.[0] ?? '') ?? ''), 1)) return undefined;
  const afterAdd = only(add.output?.[0], 'Mul');
  if (!afterAdd) return undefined;
  if (afterAdd === mulX) {
    // x · (erf + 1), then · 0.5
    const half = only(mulX.output?.[0], 'Mul');
    if (!half || !near(scalar(other(half, mulX.output?.[0] ?? '') ?? ''), 0.5)) return undefined;
    return { nodes: [div, erf, add, mulX, half], last: half };
  }
  // (erf + 1) · 0.5 first, then · x
  if (!near(scalar(other(afterAdd, add.output?.[0] ?? '') ?? ''), 0.5) || only(afterAdd.output?.[0], 'Mul') !== mulX || !(mulX.input ?? []).includes(x)) return undefined;
  return { nodes: [div, erf, add, afterAdd, mulX], last: mulX };
}

/** Gives the last dense layer its activation; Softmax may follow another activation on the output. */
function setActivation(file: string, prev: PendingLayer, label: string, op: string, act: { activation: Activation; params?: ActivationParams }, pending: NormWeights[]): void {
  if (prev.activation !== 'linear' || pending.length > 0) {
    if (act.activation === 'softmax' && pending.length === 0) {
      prev.softmaxAfter = true;
      prev.open = false;
      return;
    }
    fail(file, `node ${quoted(label)} (${op}) follows node ${quoted(prev.name)} which already has activation ${prev.activation}; nnvis shows one activation per dense layer (or an activation then Softmax on the output)`);
  }
  prev.activation = act.activation;
  prev.params = act.params;
  prev.open = false;
}

export async function readOnnx(file: string): Promise<Network> {
  const model = decode(file);
  const graph = model.graph as OnnxTypes.IGraphProto;
  const allNodes = graph.node ?? [];

  // Constants: initializers, Constant nodes, and Identity nodes that only copy a constant.
  const consts = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) if (t.name) consts.set(t.name, t);
  const nodes: { node: Node; index: number }[] = [];
  allNodes.forEach((node, index) => {
    if (node.opType === 'Constant') {
      const t = attr(node, 'value')?.t;
      if (!t) fail(file, `node ${quoted(nodeLabel(node, index))} (Constant) has no tensor 'value'; only tensor constants are supported`);
      consts.set(node.output?.[0] ?? '', t);
    } else nodes.push({ node, index });
  });
  // Follow each Identity chain back once (memoized, cycle-safe): linear in the node count.
  const identitySrc = new Map<string, string>();
  for (const { node } of nodes) {
    const [src] = node.input ?? [];
    const out = node.output?.[0];
    if (node.opType === 'Identity' && src && out && !consts.has(out)) identitySrc.set(out, src);
  }
  const computed = new Set<string>();
  for (const out of identitySrc.keys()) {
    const chain: string[] = [];
    const seen = new Set<string>();
    let name: string | undefined = out;
    while (name !== undefined && !consts.has(name) && !computed.has(name) && !seen.has(name)) {
      seen.add(name);
      chain.push(name);
      name = identitySrc.get(name);
    }
    const t = name !== undefined ? consts.get(name) : undefined;
    for (const c of chain) {
      if (t) consts.set(c, t);
      else computed.add(c);
    }
  }
  // Transpose of a weight (PyTorch's bias-less Linear: Transpose(weight) → MatMul) is a weight too.
  for (const { node, index } of nodes) {
    const [src] = node.input ?? [];
    const out = node.output?.[0];
    const t = src ? consts.get(src) : undefined;
    if (node.opType !== 'Transpose' || !t || !out) continue;
    const w = tensorValues(file, t, `node ${quoted(nodeLabel(node, index))} (Transpose) input`);
    const perm = attr(node, 'perm')?.ints?.map(num) ?? [1, 0];
    if (w.shape.length !== 2 || perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) {
      fail(file, `node ${quoted(nodeLabel(node, index))} (Transpose) turns weight ${shapeText(w.shape)} by perm ${shapeText(perm)}; nnvis reads 2-D weight transposes only`);
    }
    consts.set(out, onnx.TensorProto.create({ name: out, dims: [w.shape[1], w.shape[0]], dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(transpose(w.data, w.shape[0], w.shape[1])) }));
  }
  const chainNodes = nodes.filter(({ node }) => !((node.opType === 'Identity' || node.opType === 'Transpose') && consts.has(node.output?.[0] ?? '')));

  // LayerNorm first (its ops would otherwise be named one by one), then unsupported ops, so the message names the real culprit.
  const producer = new Map<string, { node: Node; index: number }>();
  for (const n of chainNodes) for (const o of n.node.output ?? []) producer.set(o, n);
  for (const { node } of chainNodes) {
    if (!LAYER_NORM_OPS.has(node.opType ?? '')) continue;
    const from = producer.get(node.input?.[0] ?? '');
    const after = from ? quoted(nodeLabel(from.node, from.index)) : `the graph input ${quoted(node.input?.[0] ?? '')}`;
    fail(file, `LayerNorm after ${after} is not supported: it normalises every sample by that sample's own mean and variance, which no dense layer can express (nnvis folds BatchNormalization, whose statistics are fixed, but not LayerNorm)`);
  }
  for (const { node, index } of chainNodes) {
    if (!OPS.has(node.opType ?? '')) {
      fail(file, `node ${quoted(nodeLabel(node, index))} has type ${typeName(node.opType)}, which nnvis cannot show; supported: ${SUPPORTED_OPS}`);
    }
  }

  // Older exporters list every initializer as a graph input too: those are weights, not data.
  const inputs = (graph.input ?? []).filter((v) => v.name && !consts.has(v.name));
  const outputs = graph.output ?? [];
  if (inputs.length > 1) {
    const used = inputs.filter((v) => (consumersOf(chainNodes, v.name as string)).length > 0);
    fail(
      file,
      `graph has ${inputs.length} inputs that are not initializers (${nameList(inputs.map((v) => v.name))}${used.length < inputs.length ? `; ${inputs.length - used.length} of them feed no node` : ''}); nnvis reads one data input, with every weight an initializer (weights listed as inputs are fine when an initializer of the same name holds them)`,
    );
  }
  if (inputs.length !== 1 || outputs.length !== 1) {
    fail(file, `graph has ${inputs.length} inputs and ${outputs.length} outputs; nnvis shows chains of dense layers with one input and one output only`);
  }
  const input = inputs[0];
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const dimValues = dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : null));
  const featureDims = dimValues.length <= 1 ? dimValues : dimValues.slice(1);
  let inputFeatures = featureDims.length > 0 && featureDims.every((d) => d !== null) ? (featureDims as number[]).reduce((a, b) => a * b, 1) : undefined;

  const consumers = new Map<string, { node: Node; index: number }[]>();
  for (const n of chainNodes) {
    for (const name of n.node.input ?? []) {
      if (!name || consts.has(name)) continue;
      const list = consumers.get(name);
      if (list) list.push(n);
      else consumers.set(name, [n]);
    }
  }

  const layers: PendingLayer[] = [];
  let flattened = dims.length <= 2;
  // a 4-D input [N, C, H, W] is an image: its map [h, w, c] is followed through the conv layers
  let inputShape: MapShape | undefined;
  let map: MapShape | undefined;
  if (dims.length === 4 && dimValues.slice(1).every((d) => d !== null)) {
    const [c, h, w] = dimValues.slice(1) as number[];
    inputShape = [h, w, c];
    map = inputShape;
  }
  // Data laid out samples × features (rows) or, after a product with the weight on the left, features × samples.
  let columns = false;
  // BatchNormalizations after an activation (or at the input): folded into the next layer's input side.
  let pending: NormWeights[] = [];
  let current = input.name as string;
  const visited = new Set<Node>();
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opsetVersion = opset ? num(opset.version) : 13;
  /** The value of a one-element constant, else undefined. */
  const scalar = (name: string): number | undefined => {
    const t = consts.get(name);
    if (!t) return undefined;
    const v = tensorValues(file, t, `constant ${quoted(name)}`).data;
    return v.length === 1 ? v[0] : undefined;
  };
  for (;;) {
    const next = consumers.get(current) ?? [];
    if (next.length === 0) break;
    const prev = layers[layers.length - 1];
    const label0 = nodeLabel(next[0].node, next[0].index);
    // x · Sigmoid(x): SiLU / swish, the one place where a tensor feeds two nodes
    if (next.length === 2) {
      const sig = next.find((n) => n.node.opType === 'Sigmoid');
      const mul = next.find((n) => n.node.opType === 'Mul');
      const sigOut = sig?.node.output?.[0];
      if (sig && mul && sigOut && (consumers.get(sigOut) ?? []).length === 1 && (mul.node.input ?? []).includes(sigOut) && (mul.node.input ?? []).includes(current)) {
        if (!prev) fail(file, `node ${quoted(nodeLabel(mul.node, mul.index))} (x · Sigmoid(x), SiLU) comes before any Gemm/MatMul; nnvis shows activations of dense layers only`);
        setActivation(file, prev, nodeLabel(mul.node, mul.index), 'SiLU', { activation: 'swish' }, pending);
        visited.add(sig.node);
        visited.add(mul.node);
        current = mul.node.output?.[0] as string;
        continue;
      }
    }
    // GELU as older exporters write it: x · (Erf(x / √2) + 1) · 0.5
    const gelu = next.length === 2 ? geluPattern(current, next, consumers, scalar) : undefined;
    if (gelu) {
      if (!prev) fail(file, `node ${quoted(nodeLabel(gelu.last, 0))} (GELU) comes before any Gemm/MatMul; nnvis shows activations of dense layers only`);
      setActivation(file, prev, nodeLabel(gelu.last, 0), 'GELU', { activation: 'gelu' }, pending);
      gelu.nodes.forEach((n) => visited.add(n));
      current = gelu.last.output?.[0] as string;
      continue;
    }
    if (next.length > 1) {
      fail(file, `tensor ${quoted(current)} feeds ${next.length} nodes (${nameList(next.map((n) => nodeLabel(n.node, n.index)))}); nnvis shows chains of dense layers only`);
    }
    const { node } = next[0];
    const label = label0;
    if (visited.has(node)) fail(file, `node ${quoted(label)} is reached twice (the graph has a cycle)`);
    const op = node.opType as string;
    const ins = (node.input ?? []).filter((x) => x !== '');
    const dataIns = ins.filter((x) => !consts.has(x));
    if (dataIns.length !== 1) {
      fail(file, `node ${quoted(label)} (${op}) combines ${dataIns.length} computed tensors (${nameList(dataIns)}); nnvis shows chains of dense layers only`);
    }
    const weight = (name: string | undefined, what: string): { data: Float32Array; shape: number[] } => {
      const t = name ? consts.get(name) : undefined;
      if (!t) return fail(file, `node ${quoted(label)} (${op}) needs its ${what} as an initializer or constant${name ? `, but ${quoted(name)} is computed` : ''}`);
      return tensorValues(file, t, `node ${quoted(label)} ${what}`);
    };
    if (prev?.softmaxAfter) fail(file, `node ${quoted(label)} (${op}) follows the Softmax after node ${quoted(prev.name)}'s activation; nnvis accepts an activation then Softmax on the output layer only`);
    switch (op) {
      case 'Conv': {
        if (prev && !prev.conv) fail(file, `node ${quoted(label)} (Conv) follows the dense node ${quoted(prev.name)}; nnvis reads conv layers before the dense ones only`);
        if (!map || flattened) fail(file, `node ${quoted(label)} (Conv) reads ${flattened ? 'a flattened tensor' : `the input ${quoted(input.name)} of shape ${shapeText(dimValues.map((d) => d ?? 'None'))}`}; nnvis reads Conv on a 4-D image input [N, C, H, W] of known size`);
        if (pending.length > 0) fail(file, `BatchNormalization ${quoted(pending[0].name)} comes before Conv ${quoted(label)}; nnvis folds BatchNormalization into the conv layer before it only`);
        if (intAttr(node, 'group', 1) !== 1) fail(file, `node ${quoted(label)} (Conv) has group = ${intAttr(node, 'group', 1)}: a grouped or depthwise convolution; nnvis reads Conv with one group only`);
        const dilations = intsAttr(node, 'dilations');
        if (dilations && dilations.some((d) => d !== 1)) fail(file, `node ${quoted(label)} (Conv) has dilations ${jsonText(dilations)}; nnvis reads Conv with dilation 1 only`);
        const w = weight(node.input?.[1], 'weight W');
        if (w.shape.length !== 4) fail(file, `node ${quoted(label)} (Conv) weight has shape ${shapeText(w.shape)}; expected [filters, channels, kernel height, kernel width]`);
        const [cout, cin, kh, kw] = w.shape;
        const kernelShape = pairAttr(file, label, op, node, 'kernel_shape', [kh, kw]);
        if (kernelShape[0] !== kh || kernelShape[1] !== kw) fail(file, `node ${quoted(label)} (Conv) has kernel_shape ${jsonText(kernelShape)} but its weight ${shapeText(w.shape)}`);
        if (cin !== map[2]) fail(file, `node ${quoted(label)} (Conv) weight has shape ${shapeText(w.shape)} but its input has ${map[2]} channels`);
        const strides = pairAttr(file, label, op, node, 'strides', [1, 1]);
        const padding = windowPadding(file, label, op, node, [map[0], map[1]], [kh, kw], strides);
        // ONNX [cout, cin, kh, kw] → Keras [kh, kw, cin, cout]
        const kernel = new Float32Array(w.data.length);
        for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) kernel[((y * kw + x) * cin + i) * cout + o] = w.data[((o * cin + i) * kh + y) * kw + x];
        let bias: Float32Array | null = null;
        if (node.input?.[2]) {
          const b = weight(node.input[2], 'bias B');
          if (b.data.length !== cout) fail(file, `node ${quoted(label)} (Conv) bias has shape ${shapeText(b.shape)} but the layer has ${cout} filters`);
          bias = b.data;
        }
        const conv = { kernel: [kh, kw] as [number, number], strides, padding, channelsFirst: true };
        layers.push({ name: label, conv, activation: 'linear', kernel, kernelShape: [kh, kw, cin, cout], bias, open: false, hasBias: true, inputNorms: [], outputNorms: [] });
        map = [windowOutput(map[0], kh, strides[0], padding), windowOutput(map[1], kw, strides[1], padding), cout];
        break;
      }
      case 'MaxPool':
      case 'AveragePool':
      case 'GlobalAveragePool': {
        if (!prev?.conv || flattened) fail(file, `node ${quoted(label)} (${op}) does not follow a Conv; nnvis reads pooling right after a conv layer (and its activation) only`);
        if (prev.conv.pool) fail(file, `node ${quoted(label)} (${op}) is the second pooling after Conv ${quoted(prev.name)}; nnvis reads one pooling per conv layer`);
        if (pending.length > 0) fail(file, `BatchNormalization ${quoted(pending[0].name)} comes between Conv ${quoted(prev.name)}'s activation and ${quoted(label)}; nnvis folds BatchNormalization before the activation only`);
        if (op === 'GlobalAveragePool') {
          prev.conv.pool = { kind: 'global' };
          map = [1, 1, map![2]];
          break;
        }
        if (intAttr(node, 'ceil_mode', 0) !== 0) fail(file, `node ${quoted(label)} (${op}) has ceil_mode = 1; nnvis reads pooling with ceil_mode = 0`);
        const dilations = intsAttr(node, 'dilations');
        if (dilations && dilations.some((d) => d !== 1)) fail(file, `node ${quoted(label)} (${op}) has dilations ${jsonText(dilations)}; nnvis reads pooling with dilation 1 only`);
        const size = pairAttr(file, label, op, node, 'kernel_shape');
        const strides = pairAttr(file, label, op, node, 'strides', [1, 1]);
        const padding = windowPadding(file, label, op, node, [map![0], map![1]], size, strides);
        // TensorFlow's same average pooling divides by the pixels inside the map only
        if (op === 'AveragePool' && padding === 'same' && intAttr(node, 'count_include_pad', 0) !== 0) fail(file, `node ${quoted(label)} (AveragePool) has count_include_pad = 1 with padding; nnvis averages over the pixels inside the map only`);
        prev.conv.pool = { kind: op === 'MaxPool' ? 'max' : 'avg', size, strides, padding };
        map = [windowOutput(map![0], size[0], strides[0], padding), windowOutput(map![1], size[1], strides[1], padding), map![2]];
        break;
      }
      case 'Gemm':
      case 'MatMul': {
        if (!flattened) fail(file, `node ${quoted(label)} (${op}) gets the ${dims.length}-D input ${quoted(input.name)} without Flatten; nnvis shows chains of dense layers on flat inputs only`);
        const gemm = op === 'Gemm';
        const dataLeft = node.input?.[0] === current;
        const [transA, transB] = gemm ? [intAttr(node, 'transA', 0), intAttr(node, 'transB', 0)] : [0, 0];
        // Y = A'·B' (A' = Aᵀ when transA): with the data on the left it must be samples × features,
        // with the weight on the left features × samples (and Y then is units × samples: Yᵀ = X'ᵀ·A'ᵀ)
        const dataTransposed = dataLeft ? transA !== 0 : transB !== 0;
        // a single sample (1-D input) multiplies from either side and stays 1-D; the first product says how the input is laid out
        const vector = dims.length === 1;
        if (layers.length === 0) columns = dataLeft === dataTransposed;
        if (!vector && (columns === dataLeft) !== dataTransposed) {
          const layout = columns ? 'features × samples' : 'samples × features';
          fail(file, `node ${quoted(label)} (${op}) multiplies data laid out ${layout} ${dataLeft ? 'from the left' : 'from the right'}${dataTransposed ? ' transposed' : ''}, which is not a product over its features; nnvis reads dense layers x·W and W·x only`);
        }
        const w = weight(node.input?.[dataLeft ? 1 : 0], dataLeft ? 'weight B' : 'weight A');
        if (w.shape.length !== 2) fail(file, `node ${quoted(label)} (${op}) weight has shape ${shapeText(w.shape)}; expected 2-D`);
        // the kernel [inputs, units]: B' when the data is on the left, A'ᵀ when it is on the right
        const weightTransposed = (dataLeft ? transB : transA) !== 0;
        const asKernel = dataLeft ? weightTransposed : !weightTransposed;
        let kernel = asKernel ? transpose(w.data, w.shape[0], w.shape[1]) : w.data;
        const [rows, cols] = asKernel ? [w.shape[1], w.shape[0]] : w.shape;
        let bias: Float32Array | null = null;
        if (gemm) {
          const alpha = floatAttr(node, 'alpha', 1);
          const beta = floatAttr(node, 'beta', 1);
          if (alpha !== 1) kernel = kernel.map((v) => Math.fround(alpha * v));
          if (node.input?.[2]) {
            const c = weight(node.input[2], 'bias C');
            checkBias(file, label, op, c.shape, cols, dataLeft ? false : true);
            bias = c.data.map((v) => Math.fround(beta * v));
          }
        }
        if (!vector) columns = !dataLeft;
        if (layers.length === 0 && columns && !vector) inputFeatures = dimValues[0] ?? undefined;
        const inputNorms = pending;
        pending = [];
        layers.push({ name: label, activation: 'linear', kernel, kernelShape: [rows, cols], bias, open: bias === null, hasBias: bias !== null, inputNorms, outputNorms: [] });
        break;
      }
      case 'Add': {
        if (!prev || !prev.open) fail(file, `node ${quoted(label)} (Add) does not directly follow a MatMul or Gemm without bias; nnvis reads Add only as a dense layer's bias`);
        const constName = ins.find((x) => consts.has(x));
        const c = weight(constName, 'bias');
        const cols = prev.kernelShape[1];
        checkBias(file, label, op, c.shape, cols, columns, prev.name);
        prev.bias = c.data;
        prev.biasShape = c.shape;
        prev.hasBias = true;
        prev.open = false;
        break;
      }
      case 'BatchNormalization': {
        if (intAttr(node, 'training_mode', 0) !== 0) fail(file, `node ${quoted(label)} (BatchNormalization) has training_mode = 1; nnvis folds BatchNormalization with its inference statistics only (export the model in eval mode)`);
        if (columns) fail(file, `node ${quoted(label)} (BatchNormalization) normalises data laid out features × samples; nnvis folds BatchNormalization over the feature axis of samples × features data only`);
        const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i, j) => {
          if (!node.input?.[i]) fail(file, `node ${quoted(label)} (BatchNormalization) has no ${['scale', 'B', 'mean', 'var'][j]} input; folding it needs scale, B, mean and var`);
          return weight(node.input[i], ['scale', 'B (shift)', 'mean', 'var'][j]).data;
        });
        const norm: NormWeights = { name: label, epsilon: floatAttr(node, 'epsilon', 1e-5), gamma, beta, mean, variance };
        if (prev?.conv && (prev.activation !== 'linear' || prev.conv.pool || flattened)) {
          fail(file, `node ${quoted(label)} (BatchNormalization) follows Conv ${quoted(prev.name)}'s ${prev.conv.pool ? 'pooling' : flattened ? 'Flatten' : 'activation'}; nnvis folds BatchNormalization into a conv layer between the convolution and its activation only`);
        }
        if (prev && prev.activation === 'linear' && pending.length === 0) {
          prev.outputNorms!.push(norm);
          prev.open = false;
        } else pending.push(norm);
        break;
      }
      case 'Flatten':
      case 'Reshape':
        if (prev && !(prev.conv && !flattened)) fail(file, `node ${quoted(label)} (${op}) comes after a dense layer; nnvis accepts ${op} only at the input or after the last conv layer`);
        if (op === 'Reshape' && prev?.conv) {
          const target = consts.get(node.input?.[1] ?? '');
          const shape = target ? Array.from(tensorValues(file, target, `node ${quoted(label)} shape`).data) : [];
          if (shape.length !== 2) fail(file, `node ${quoted(label)} (Reshape) after Conv ${quoted(prev.name)} reshapes to ${shapeText(shape)}; nnvis reads a reshape of the map to [N, features] only`);
        }
        if (op === 'Flatten' && intAttr(node, 'axis', 1) !== 1) fail(file, `node ${quoted(label)} (Flatten) has axis = ${intAttr(node, 'axis', 1)}; only axis = 1 (keep the batch) is supported`);
        flattened = true;
        break;
      case 'Identity':
      case 'Dropout':
        break;
      case 'Mul':
      case 'Div':
      case 'Erf':
        fail(file, `node ${quoted(label)} (${op}) is not part of x · Sigmoid(x) (SiLU) or x · (Erf(x / √2) + 1) · 0.5 (GELU); nnvis reads ${op} only there`);
        break;
      default: {
        // activations
        if (!prev) fail(file, `node ${quoted(label)} (${op}) comes before any Gemm/MatMul; nnvis shows activations of dense layers only`);
        if (prev.conv && (prev.conv.pool || flattened)) {
          // max-pooling commutes with a non-decreasing activation: max(f(x)) = f(max(x))
          const act = activationOf(node, op).activation;
          if (prev.conv.pool?.kind !== 'max' || flattened || !MONOTONIC.includes(act) || prev.activation !== 'linear') {
            fail(file, `node ${quoted(label)} (${op}) comes after Conv ${quoted(prev.name)}'s ${flattened ? 'Flatten' : `${prev.conv.pool!.kind} pooling`}; nnvis reads a conv layer's activation before its pooling (or a monotonic one after max-pooling)`);
          }
        }
        if (op === 'Softmax' && dims.length > 1) {
          const axis = intAttr(node, 'axis', opsetVersion < 13 ? 1 : -1);
          const feature = columns ? opsetVersion >= 13 && (axis === 0 || axis === -2) : axis === 1 || axis === -1;
          if (!feature) fail(file, `node ${quoted(label)} (Softmax) has axis = ${axis}${columns ? ` on features × samples data at opset ${opsetVersion}` : ''}; only the feature axis is supported`);
        }
        setActivation(file, prev, label, op, activationOf(node, op), pending);
        break;
      }
    }
    visited.add(node);
    current = node.output?.[0] as string;
  }
  if (pending.length > 0) fail(file, `BatchNormalization ${quoted(pending[0].name)} comes after the last dense layer's activation, so no dense layer follows to fold it into; nnvis folds BatchNormalization between dense layers only`);
  if (current !== outputs[0].name) {
    fail(file, `the chain from input ${quoted(input.name)} ends at tensor ${quoted(current)}, not at the graph output ${quoted(outputs[0].name)}; nnvis shows chains of dense layers only`);
  }
  const off = chainNodes.find(({ node }) => !visited.has(node));
  if (off) {
    fail(file, `node ${quoted(nodeLabel(off.node, off.index))} is not on the path from input to output; nnvis shows chains of dense layers only`);
  }
  if (layers.length === 0) fail(file, `graph has no Gemm or MatMul node; supported: ${SUPPORTED_OPS}`);
  if (layers[layers.length - 1].conv) fail(file, `the graph ends with Conv ${quoted(layers[layers.length - 1].name)}; nnvis reads classifiers whose output layer is Gemm or MatMul`);
  return buildNetwork(file, 'onnx', inputFeatures, layers, undefined, layers[0].conv ? inputShape : undefined);
}
