// Reads an ONNX model whose graph is a chain of dense layers, walking from the single graph
// input to the single graph output:
//   [Flatten | Reshape]* at the input, then per layer Gemm (transA = 0, alpha = beta = 1,
//   transB either way) or MatMul [+ Add], then optionally Relu | Sigmoid | Tanh | Softmax;
//   Identity and Dropout pass through anywhere.
// Weights come from initializers (or Constant nodes), as floatData or little-endian rawData;
// dims are checked (and the value count capped) before anything is allocated, and rawData
// must hold exactly dims × element size bytes.

import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { Activation, Network } from '../../core/network.ts';
import { printable, quoted } from '../../core/text.ts';
import { buildNetwork, type DenseWeights, fail, nameList, readModelFile, shapeText, SUPPORTED_OPS, typeName, valueCount } from './common.ts';

const { onnx } = onnxProto;

type Node = OnnxTypes.INodeProto;
type Tensor = OnnxTypes.ITensorProto;

const OPS = new Set(['Gemm', 'MatMul', 'Add', 'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'Flatten', 'Reshape', 'Identity', 'Dropout']);
const ACTIVATION_OPS: Record<string, Activation> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Softmax: 'softmax' };

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
  const chainNodes = nodes.filter(({ node }) => !(node.opType === 'Identity' && consts.has(node.output?.[0] ?? '')));

  // Unsupported ops first, so the message names the real culprit.
  for (const { node, index } of chainNodes) {
    if (!OPS.has(node.opType ?? '')) {
      fail(file, `node ${quoted(nodeLabel(node, index))} has type ${typeName(node.opType)}, which nnvis cannot show; supported: ${SUPPORTED_OPS}`);
    }
  }

  const inputs = (graph.input ?? []).filter((v) => v.name && !consts.has(v.name));
  const outputs = graph.output ?? [];
  if (inputs.length !== 1 || outputs.length !== 1) {
    fail(file, `graph has ${inputs.length} inputs and ${outputs.length} outputs; nnvis shows chains of dense layers with one input and one output only`);
  }
  const input = inputs[0];
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const dimValues = dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : null));
  const featureDims = dimValues.length <= 1 ? dimValues : dimValues.slice(1);
  const inputFeatures = featureDims.length > 0 && featureDims.every((d) => d !== null) ? (featureDims as number[]).reduce((a, b) => a * b, 1) : undefined;

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
  let current = input.name as string;
  const visited = new Set<Node>();
  for (;;) {
    const next = consumers.get(current) ?? [];
    if (next.length === 0) break;
    if (next.length > 1) {
      fail(file, `tensor ${quoted(current)} feeds ${next.length} nodes (${nameList(next.map((n) => nodeLabel(n.node, n.index)))}); nnvis shows chains of dense layers only`);
    }
    const { node, index } = next[0];
    const label = nodeLabel(node, index);
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
    const prev = layers[layers.length - 1];
    switch (op) {
      case 'Gemm':
      case 'MatMul': {
        if (!flattened) fail(file, `node ${quoted(label)} (${op}) gets the ${dims.length}-D input ${quoted(input.name)} without Flatten; nnvis shows chains of dense layers on flat inputs only`);
        if (node.input?.[0] !== current) fail(file, `node ${quoted(label)} (${op}) multiplies a weight by the data (A is a constant); nnvis expects data × weight`);
        const b = weight(node.input?.[1], 'weight B');
        if (b.shape.length !== 2) fail(file, `node ${quoted(label)} (${op}) weight has shape ${shapeText(b.shape)}; expected 2-D`);
        let kernel = b.data;
        let [rows, cols] = b.shape;
        let bias: Float32Array | null = null;
        if (op === 'Gemm') {
          const transA = intAttr(node, 'transA', 0);
          if (transA !== 0) fail(file, `node ${quoted(label)} (Gemm) has transA = ${transA}; only transA = 0 is supported`);
          const alpha = floatAttr(node, 'alpha', 1);
          const beta = floatAttr(node, 'beta', 1);
          if (alpha !== 1 || beta !== 1) fail(file, `node ${quoted(label)} (Gemm) has alpha = ${alpha}, beta = ${beta}; only alpha = beta = 1 is supported`);
          if (intAttr(node, 'transB', 0) !== 0) {
            kernel = transpose(b.data, rows, cols);
            [rows, cols] = [cols, rows];
          }
          if (node.input?.[2]) {
            const c = weight(node.input[2], 'bias C');
            if (c.data.length !== cols || c.shape.filter((d) => d !== 1).length > 1) {
              fail(file, `node ${quoted(label)} (Gemm) bias C has shape ${shapeText(c.shape)}; expected [${cols}] for ${cols} units`);
            }
            bias = c.data;
          }
        }
        layers.push({ name: label, activation: 'linear', kernel, kernelShape: [rows, cols], bias, open: bias === null, hasBias: bias !== null });
        break;
      }
      case 'Add': {
        if (!prev || !prev.open) fail(file, `node ${quoted(label)} (Add) does not directly follow a MatMul or Gemm without bias; nnvis reads Add only as a dense layer's bias`);
        const constName = ins.find((x) => consts.has(x));
        const c = weight(constName, 'bias');
        const cols = prev.kernelShape[1];
        if (c.data.length !== cols || c.shape.filter((d) => d !== 1).length > 1) {
          fail(file, `node ${quoted(label)} (Add) bias has shape ${shapeText(c.shape)}; expected [${cols}] for layer ${quoted(prev.name)} with ${cols} units`);
        }
        prev.bias = c.data;
        prev.biasShape = c.shape;
        prev.hasBias = true;
        prev.open = false;
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Softmax': {
        if (!prev) fail(file, `node ${quoted(label)} (${op}) comes before any Gemm/MatMul; nnvis shows activations of dense layers only`);
        if (prev.activation !== 'linear') fail(file, `node ${quoted(label)} (${op}) follows node ${quoted(prev.name)} which already has activation ${prev.activation}; nnvis shows one activation per dense layer`);
        if (op === 'Softmax') {
          const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
          const axis = intAttr(node, 'axis', opset && num(opset.version) < 13 ? 1 : -1);
          if (axis !== 1 && axis !== -1) fail(file, `node ${quoted(label)} (Softmax) has axis = ${axis}; only the feature axis (1 or -1) is supported`);
        }
        prev.activation = ACTIVATION_OPS[op];
        prev.open = false;
        break;
      }
      case 'Flatten':
      case 'Reshape':
        if (prev) fail(file, `node ${quoted(label)} (${op}) comes after a dense layer; nnvis accepts ${op} only at the input`);
        if (op === 'Flatten' && intAttr(node, 'axis', 1) !== 1) fail(file, `node ${quoted(label)} (Flatten) has axis = ${intAttr(node, 'axis', 1)}; only axis = 1 (keep the batch) is supported`);
        flattened = true;
        break;
      default: // Identity, Dropout: pass through
        break;
    }
    visited.add(node);
    current = node.output?.[0] as string;
  }
  if (current !== outputs[0].name) {
    fail(file, `the chain from input ${quoted(input.name)} ends at tensor ${quoted(current)}, not at the graph output ${quoted(outputs[0].name)}; nnvis shows chains of dense layers only`);
  }
  const off = chainNodes.find(({ node }) => !visited.has(node));
  if (off) {
    fail(file, `node ${quoted(nodeLabel(off.node, off.index))} is not on the path from input to output; nnvis shows chains of dense layers only`);
  }
  if (layers.length === 0) fail(file, `graph has no Gemm or MatMul node; supported: ${SUPPORTED_OPS}`);
  return buildNetwork(file, 'onnx', inputFeatures, layers);
}
