// Test helpers for the import tests. Writes small ONNX models with onnx-proto (the protobuf schema onnx itself ships) for the
// import tests, and runs them in onnxruntime-web, the oracle our predictions must match.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { zipStored } from '../scripts/zip-stored.ts';

const { onnx } = onnxProto;

export type Attr = number | string | number[] | { int: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
  name?: string;
}

export interface OnnxGraph {
  input: { name: string; dims: (number | string)[] };
  output: string;
  nodes: OnnxNode[];
  inits: { name: string; dims: number[]; data: Float32Array }[];
  opset?: number;
  /** List every initializer as a graph input too (older exporters). */
  initsAsInputs?: boolean;
  /** Extra graph inputs that no initializer backs. */
  extraInputs?: string[];
}

function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'object') return { name, type: T.INT, i: v.int };
  return { name, type: T.FLOAT, f: v };
}

const valueInfo = (name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

export function buildOnnx(g: OnnxGraph): Uint8Array {
  const inputs = [valueInfo(g.input.name, g.input.dims)];
  if (g.initsAsInputs) inputs.push(...g.inits.map((t) => valueInfo(t.name, t.dims)));
  for (const name of g.extraInputs ?? []) inputs.push(valueInfo(name, [1]));
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: g.opset ?? 13 }],
    producerName: 'nnvis-test',
    graph: {
      name: 'g',
      node: g.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: g.inits.map((t) => ({ name: t.name, dims: t.dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) })),
      input: inputs,
      output: [{ name: g.output, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** onnxruntime-web's output for input x of the given dims. */
export async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Seeded values in [lo, hi) (a small LCG: fixtures are the same on every run). */
export function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  });
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** An uncompressed zip, as np.savez writes one. */
export function zip(files: Record<string, Buffer>): Buffer {
  return zipStored(Object.entries(files).map(([name, data]) => ({ name, data })));
}

/**
 * Random non-trivial weights for every variable of a tfjs model, seeded: BN variances and
 * gammas in [0.3, 2] (positive), everything else in [-scale, scale].
 */
export function randomiseTfjs(tf: typeof tfjs, model: tfjs.LayersModel, seed: number, scale = 1): void {
  model.layers.forEach((layer, li) => {
    const ws = layer.getWeights();
    if (ws.length === 0) return;
    const named = layer.weights.map((w) => w.originalName ?? w.name);
    layer.setWeights(ws.map((w, i) => tf.tensor(/variance|gamma/.test(named[i]) ? values(w.size, seed + 10 * li + i, 0.3, 2) : values(w.size, seed + 10 * li + i, -scale, scale), w.shape)));
  });
}

/** Saves a tfjs layers model into `dir` as model.json + one shard, as tf.io's file handlers write them; returns model.json's path. */
export async function saveTfjsModel(tf: typeof tfjs, model: tfjs.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      writeFileSync(join(dir, 'group1-shard1of1.bin'), Array.isArray(data) ? Buffer.concat(data.map((b) => Buffer.from(b))) : Buffer.from(data as ArrayBuffer));
      const json = { format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }] };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return join(dir, 'model.json');
}
