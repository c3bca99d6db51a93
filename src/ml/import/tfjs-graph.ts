// Reads a TensorFlow.js graph model (tensorflowjs_converter's default output): modelTopology.node
// is a TensorFlow GraphDef as JSON, the weights are its Const nodes, stored in weightsManifest
// like a layers model's. Walked from the one Placeholder to the end of the chain:
//   MatMul / _FusedMatMul (fused BiasAdd and activation) [+ BiasAdd | Add | AddV2], then an
//   activation (Relu, Sigmoid, Tanh, Softmax, Elu, Selu, LeakyRelu, Softplus); Identity passes.
import type { Activation, ActivationParams, Network } from '../../core/network.ts';
import { quoted } from '../../core/text.ts';
import { basename, dirname, resolve } from 'node:path';
import { buildNetwork, type DenseWeights, fail, isObject, nameList, shapeText, SUPPORTED_GRAPH_OPS, typeName } from './common.ts';
import { type ManifestWeight, parseManifest, weightReader } from './tfjs.ts';

interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
  attr: Record<string, unknown>;
}

const ACTIVATIONS: Record<string, Activation> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Softmax: 'softmax', Elu: 'elu', Selu: 'selu', LeakyRelu: 'leaky_relu', Softplus: 'softplus' };
const OPS = new Set(SUPPORTED_GRAPH_OPS.split(', '));

/** "dense/MatMul:0" → "dense/MatMul"; control inputs ("^x") are left out by the caller. */
const tensorNode = (input: string): string => input.replace(/:\d+$/, '');

function attrBool(n: GraphNode, key: string): boolean {
  const a = n.attr[key];
  return isObject(a) && a.b === true;
}

function attrFloat(n: GraphNode, key: string, dflt: number): number {
  const a = n.attr[key];
  return isObject(a) && typeof a.f === 'number' ? a.f : dflt;
}

/** A list of strings attribute (base64 in the JSON GraphDef), decoded. */
function attrStrings(n: GraphNode, key: string): string[] {
  const a = n.attr[key];
  const list = isObject(a) && isObject(a.list) && Array.isArray(a.list.s) ? a.list.s : [];
  return list.map((s) => Buffer.from(String(s), 'base64').toString('utf8'));
}

function activationOf(n: GraphNode, op: string): { activation: Activation; params?: ActivationParams } {
  const activation = ACTIVATIONS[op];
  if (activation === 'leaky_relu') return { activation, params: { alpha: attrFloat(n, 'alpha', 0.2) } };
  if (activation === 'elu') return { activation, params: { alpha: 1 } };
  return { activation };
}

export async function readGraphModel(file: string, topology: unknown, manifestJson: unknown): Promise<Network> {
  if (!isObject(topology) || !Array.isArray(topology.node)) return fail(file, 'graph model has no modelTopology.node list');
  const nodes: GraphNode[] = topology.node.map((raw, i) => {
    if (!isObject(raw) || typeof raw.name !== 'string' || typeof raw.op !== 'string') fail(file, `modelTopology.node[${i}] needs 'name' and 'op'`);
    const inputs = Array.isArray(raw.input) ? raw.input.filter((x): x is string => typeof x === 'string' && !x.startsWith('^')).map(tensorNode) : [];
    return { name: raw.name, op: raw.op, inputs, attr: isObject(raw.attr) ? raw.attr : {} };
  });
  for (const n of nodes) {
    if (!OPS.has(n.op)) fail(file, `node ${quoted(n.name)} has type ${typeName(n.op)}, which nnvis cannot show; supported graph-model ops: ${SUPPORTED_GRAPH_OPS} (chains of dense layers only)`);
  }
  const manifest = parseManifest(file, manifestJson);
  const read = weightReader(file, manifest);
  const weights = new Map<string, ManifestWeight>(manifest.weights.map((w) => [w.name, w]));
  const isConst = (name: string): boolean => weights.has(name);
  const constant = (name: string, what: string, at: string): { data: Float32Array; shape: number[] } => {
    const w = weights.get(name);
    if (!w) return fail(file, `node ${quoted(at)} needs its ${what} ${quoted(name)} as a weight in weightsManifest`);
    return { data: read(w), shape: w.shape };
  };

  const placeholders = nodes.filter((n) => n.op === 'Placeholder');
  if (placeholders.length !== 1) fail(file, `graph model has ${placeholders.length} inputs (Placeholder nodes: ${nameList(placeholders.map((n) => n.name))}); nnvis reads one data input`);
  const input = placeholders[0];
  const shapeAttr = input.attr.shape;
  const dims = isObject(shapeAttr) && isObject(shapeAttr.shape) && Array.isArray(shapeAttr.shape.dim) ? shapeAttr.shape.dim.map((d) => Number(isObject(d) ? d.size : NaN)) : [];
  if (dims.length > 2) fail(file, `input ${quoted(input.name)} has shape ${shapeText(dims)}; nnvis shows chains of dense layers on flat inputs only`);
  const inputFeatures = dims.length === 2 && dims[1] > 0 ? dims[1] : undefined;

  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes) for (const i of n.inputs) if (!isConst(i)) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  const layers: (DenseWeights & { open: boolean })[] = [];
  let current = input.name;
  const visited = new Set<GraphNode>([input]);
  const setActivation = (n: GraphNode, op: string): void => {
    const prev = layers[layers.length - 1];
    if (!prev) fail(file, `node ${quoted(n.name)} (${op}) comes before any MatMul; nnvis shows activations of dense layers only`);
    const act = activationOf(n, op);
    if (prev.activation !== 'linear') {
      if (act.activation === 'softmax' && !prev.softmaxAfter) {
        prev.softmaxAfter = true;
        return;
      }
      fail(file, `node ${quoted(n.name)} (${op}) follows node ${quoted(prev.name)} which already has activation ${prev.activation}; nnvis shows one activation per dense layer (or an activation then Softmax on the output)`);
    }
    prev.activation = act.activation;
    prev.params = act.params;
    prev.open = false;
  };
  for (;;) {
    const next = consumers.get(current) ?? [];
    if (next.length === 0) break;
    if (next.length > 1) fail(file, `node ${quoted(current)} feeds ${next.length} nodes (${nameList(next.map((n) => n.name))}); nnvis shows chains of dense layers only`);
    const n = next[0];
    if (visited.has(n)) fail(file, `node ${quoted(n.name)} is reached twice (the graph has a cycle)`);
    visited.add(n);
    const prev = layers[layers.length - 1];
    if (prev?.softmaxAfter) fail(file, `node ${quoted(n.name)} (${n.op}) follows the Softmax after node ${quoted(prev.name)}'s activation; nnvis accepts an activation then Softmax on the output layer only`);
    const weightsIn = n.inputs.filter(isConst);
    switch (n.op) {
      case 'MatMul':
      case '_FusedMatMul': {
        if (n.inputs[0] !== current || attrBool(n, 'transpose_a')) fail(file, `node ${quoted(n.name)} (${n.op}) multiplies a weight by the data or transposes the data; nnvis reads x·W only`);
        const w = constant(n.inputs[1], 'weight', n.name);
        if (w.shape.length !== 2) fail(file, `node ${quoted(n.name)} weight has shape ${shapeText(w.shape)}; expected 2-D`);
        const [r, c] = w.shape;
        const t = attrBool(n, 'transpose_b');
        const kernel = t ? Float32Array.from({ length: r * c }, (_, k) => w.data[(k % r) * c + Math.floor(k / r)]) : w.data;
        layers.push({ name: n.name, activation: 'linear', kernel, kernelShape: t ? [c, r] : [r, c], bias: null, open: true });
        if (n.op === '_FusedMatMul') {
          const fused = attrStrings(n, 'fused_ops');
          const layer = layers[layers.length - 1];
          for (const f of fused) {
            if (f === 'BiasAdd') {
              const b = constant(n.inputs[2], 'bias', n.name);
              layer.bias = b.data;
              layer.biasShape = b.shape;
              layer.open = false;
            } else if (ACTIVATIONS[f]) setActivation(n, f);
            else fail(file, `node ${quoted(n.name)} (_FusedMatMul) fuses ${typeName(f)}; nnvis reads fused BiasAdd and ${Object.keys(ACTIVATIONS).join(', ')} only`);
          }
        }
        break;
      }
      case 'BiasAdd':
      case 'Add':
      case 'AddV2': {
        if (!prev || !prev.open || weightsIn.length !== 1) fail(file, `node ${quoted(n.name)} (${n.op}) is not the bias of a MatMul; nnvis reads ${n.op} only as a dense layer's bias`);
        const b = constant(weightsIn[0], 'bias', n.name);
        prev.bias = b.data;
        prev.biasShape = b.shape;
        prev.open = false;
        break;
      }
      case 'Identity':
        break;
      default:
        setActivation(n, n.op);
    }
    current = n.name;
  }
  const off = nodes.find((n) => !visited.has(n) && n.op !== 'Const' && n.op !== 'NoOp' && !isConst(n.name));
  if (off) fail(file, `node ${quoted(off.name)} is not on the path from input ${quoted(input.name)}; nnvis shows chains of dense layers only`);
  if (layers.length === 0) fail(file, `graph model has no MatMul; supported graph-model ops: ${SUPPORTED_GRAPH_OPS}`);
  return buildNetwork(file, 'tfjs graph model', inputFeatures, layers, `${basename(dirname(resolve(file)))}/${basename(file)}`);
}
