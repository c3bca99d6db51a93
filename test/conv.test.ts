// Convolutional networks: the data model (map shapes, weight groups), the .nnvis version 4
// header, the WebAssembly conv kernel gradient, the forward pass against tfjs layers,
// training, per-channel importance and pruning by kernel slices, on small real CNNs.
import { describe, expect, it } from 'vitest';
import { decodeNetwork, encodeNetwork } from '../src/core/container.ts';
import { InputError } from '../src/core/errors.ts';
import {
  edgeCount,
  edgeOffset,
  forEachEdgeWeight,
  gapWeightCounts,
  mapShapes,
  nodeCount,
  prunableGap,
  rowsInNodeOrder,
  weightCount,
  type LayerOp,
  type MapShape,
  type Network,
} from '../src/core/network.ts';
import { architectureText } from '../src/core/summary.ts';
import { forwardProbabilities } from '../src/ml/conv.ts';
import type { Dataset } from '../src/ml/data.ts';
import { assembleImportance, edgeAlpha, importanceForGroup } from '../src/ml/importance.ts';
import { evaluatePruning } from '../src/ml/evaluate.ts';
import { initialWeights, toTfModel } from '../src/ml/model.ts';
import { edgeGroups, prunedWeights } from '../src/ml/prune.ts';
import { initTf } from '../src/ml/tf.ts';
import { trainNetwork } from '../src/ml/train.ts';
import { createRng } from '../src/core/random.ts';

const conv = (kernel: number, padding: 'same' | 'valid', pool?: 'max' | 'avg' | 'global'): LayerOp => ({
  kind: 'conv',
  kernel: [kernel, kernel],
  strides: [1, 1],
  padding,
  ...(pool === undefined ? {} : { pool: pool === 'global' ? { kind: 'global' } : { kind: pool, size: [2, 2], strides: [2, 2], padding: 'valid' } }),
});
const dense = (): LayerOp => ({ kind: 'dense' });

/** An 8×8×1 image → conv 3 (3×3 same, max-pool) → conv 4 (3×3 valid, avg-pool) → dense 5 → 3 classes. */
function smallCnn(seed = 1): Network {
  const arch = { layers: [64, 3, 4, 5, 3], inputShape: [8, 8, 1] as MapShape, ops: [conv(3, 'same', 'max'), conv(3, 'valid', 'avg'), dense(), dense()] };
  const { weights, biases } = initialWeights(arch, seed);
  const rng = createRng(seed + 7);
  for (let i = 0; i < biases.length; i++) biases[i] = (rng() - 0.5) * 0.2;
  return { ...arch, classNames: ['a', 'b', 'c'], activations: ['relu', 'relu', 'relu', 'softmax'], weights, biases, meta: {} };
}

/** Images whose class is where the bright blob is: left, middle or right third. */
function blobData(count: number, seed: number): Dataset {
  const rng = createRng(seed);
  const x = new Float32Array(count * 64);
  const y = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    const c = s % 3;
    y[s] = c;
    const cx = 1 + c * 3 + Math.floor(rng() * 2);
    const cy = 1 + Math.floor(rng() * 6);
    for (let i = 0; i < 64; i++) x[s * 64 + i] = rng() * 0.1;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) x[s * 64 + Math.min(7, cy + dy) * 8 + Math.min(7, cx + dx)] = 1;
  }
  return { x, y, count, features: 64, classes: 3 };
}

describe('conv data model', () => {
  it('computes map shapes, weight counts and weight groups', () => {
    const net = smallCnn();
    expect(mapShapes(net)).toEqual([
      [8, 8, 1],
      [4, 4, 3],
      [1, 1, 4],
      [1, 1, 5],
      [1, 1, 3],
    ]);
    // conv1 3·3·1·3, conv2 3·3·3·4, dense 1·1·4 × 5, dense 5 × 3
    expect(gapWeightCounts(net)).toEqual([27, 108, 20, 15]);
    expect(weightCount(net)).toBe(170);
    expect(net.weights!.length).toBe(170);
    // every input pixel's edge to channel j owns the 9 taps of w[:, :, 0, j]
    const groups = new Map<number, number[]>();
    forEachEdgeWeight(net, 0, (e, w) => groups.set(e, [...(groups.get(e) ?? []), w]));
    expect(groups.size).toBe(64 * 3);
    expect(groups.get(0)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24]);
    expect(groups.get(5 * 3 + 2)).toEqual(groups.get(2));
    // conv → conv: edge i → j owns w[:, :, i, j]: 9 weights, stride cin · cout = 12
    const g1: number[] = [];
    forEachEdgeWeight(net, 1, (e, w) => e === 1 * 4 + 2 && g1.push(w - 27));
    expect(g1).toEqual(Array.from({ length: 9 }, (_, t) => t * 12 + 1 * 4 + 2));
    expect(prunableGap(net, 0)).toBe(false);
    expect(prunableGap(net, 1)).toBe(true);
    expect(architectureText(net)).toEqual(['input 8×8×1', 'conv 3×3 same, max-pool 2×2 → 3 channels, 4×4', 'conv 3×3 valid, avg-pool 2×2 → 4 channels, 1×1', 'dense → 5 units', 'dense → 3 units']);
  });

  it('gives a channel → dense edge the h·w weights that read the channel', () => {
    // 6×6 → conv 2 (3×3 valid, no pool) → 4×4×2 map → dense 3: 32 rows, channel i on rows p·2 + i
    const net: Network = { layers: [36, 2, 3], inputShape: [6, 6, 1], ops: [conv(3, 'valid'), dense()], classNames: ['a', 'b', 'c'], meta: {} };
    expect(gapWeightCounts(net)).toEqual([18, 96]);
    const rows = new Map<number, number[]>();
    forEachEdgeWeight(net, 1, (e, w) => rows.set(e, [...(rows.get(e) ?? []), w - 18]));
    expect(rows.size).toBe(6);
    expect(rows.get(1 * 3 + 2)).toEqual(Array.from({ length: 16 }, (_, p) => (p * 2 + 1) * 3 + 2));
  });

  it('normalises edge alpha as the L1 norm of each group', () => {
    const net = smallCnn();
    const alpha = edgeAlpha(net);
    expect(alpha.length).toBe(edgeCount(net.layers));
    const w = net.weights!;
    const l1 = (j: number, i = 0, cin = 1, cout = 3, base = 0) => Array.from({ length: 9 }, (_, t) => Math.abs(w[base + (t * cin + i) * cout + j])).reduce((a, b) => a + b, 0);
    const max = Math.max(l1(0), l1(1), l1(2));
    expect(alpha[2]).toBeCloseTo(l1(2) / max, 6);
    // all pixels share their channel's slice
    expect(alpha[40 * 3 + 1]).toBe(alpha[1]);
    for (let k = 0; k < 4; k++) {
      const gap = alpha.subarray(edgeOffset(net.layers, k), edgeOffset(net.layers, k + 1));
      expect(Math.max(...gap)).toBeCloseTo(1, 6);
    }
  });
});

describe('.nnvis version 4 (conv networks)', () => {
  it('round-trips the input shape and ops, and writes dense files as before', () => {
    const net = smallCnn();
    const bytes = encodeNetwork(net);
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(4);
    const back = decodeNetwork(bytes, 'cnn.nnvis');
    expect(back.inputShape).toEqual([8, 8, 1]);
    expect(back.ops).toEqual(net.ops);
    expect(Array.from(back.weights!)).toEqual(Array.from(net.weights!));
    const dense: Network = { layers: [4, 3], classNames: ['a', 'b', 'c'], activations: ['softmax'], weights: new Float32Array(12), biases: new Float32Array(3), meta: {} };
    expect(new DataView(encodeNetwork(dense).buffer).getUint32(8, true)).toBe(2);
    expect(back.inputOrder).toBeUndefined();
    expect(decodeNetwork(encodeNetwork({ ...net, inputOrder: 'chw' }), 'cnn.nnvis').inputOrder).toBe('chw');
    expect(() => encodeNetwork({ ...dense, inputOrder: 'chw' })).toThrow(/'inputOrder' is given without 'inputShape'; only a conv network has an input order/);
  });

  it('reorders channels-first data rows to node order (channels last)', () => {
    const net = { inputShape: [2, 3, 2] as MapShape, inputOrder: 'chw' as const };
    // two rows of c = 2 planes of 2 × 3 pixels, value = 100 · row + 10 · channel + pixel
    const rows = Float32Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 6) + (i % 6));
    expect(Array.from(rowsInNodeOrder(net, rows, 2))).toEqual([0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15, 100, 110, 101, 111, 102, 112, 103, 113, 104, 114, 105, 115]);
    expect(rowsInNodeOrder({ inputShape: net.inputShape }, rows, 2)).toBe(rows);
    expect(architectureText({ ...smallCnn(), inputShape: [8, 8, 1], inputOrder: 'chw' })[0]).toBe('input 8×8×1 (data rows channels first: 1×8×8, read into channels last)');
  });

  const bad: [string, (n: Network) => unknown, RegExp][] = [
    ['input shape of the wrong size', (n) => (n.inputShape = [8, 7, 1]), /'inputShape' \[8,7,1\] holds 56 values but the input layer has 64 nodes/],
    ['ops without input shape', (n) => delete n.inputShape, /'ops' is given without 'inputShape'/],
    ['a conv op after a dense layer', (n) => (n.ops = [conv(3, 'same'), dense(), conv(1, 'same'), dense()]), /'ops\[2\]' is a conv op after a dense layer/],
    ['a conv output layer', (n) => (n.ops = [conv(3, 'same'), conv(1, 'same'), conv(1, 'same'), conv(1, 'same', 'global')]), /'ops\[3\]' is a conv op; the output layer must be dense/],
    ['an unknown padding', (n) => ((n.ops![0] as { padding: string }).padding = 'full'), /'ops\[0\].padding' is "full", expected "same" or "valid"/],
    ['a kernel larger than its map', (n) => (n.ops![1] = conv(9, 'valid')), /'ops\[1\]' leaves an empty map; its kernel or pool is larger than the 4×4 map it reads/],
    ['a fractional stride', (n) => ((n.ops![0] as { strides: number[] }).strides = [1.5, 1]), /'ops\[0\].strides' is \[1.5,1\], expected 2 integers from 1 to 1024/],
    ['an unknown input order', (n) => ((n as { inputOrder: string }).inputOrder = 'hwc'), /'inputOrder' is "hwc", expected "chw" \(or no field: channels last\)/],
    ['an unknown op', (n) => ((n.ops![2] as { kind: string }).kind = 'lstm'), /'ops\[2\].kind' is "lstm", expected "conv" or "dense"/],
    ['too few weights', (n) => (n.weights = n.weights!.subarray(1)), /'weights' has 169 values but layers \[64,3,4,5,3\] need 170 \(the kernels of the conv and dense layers\)/],
  ];
  for (const [what, mutate, message] of bad) {
    it(`refuses ${what} with one line naming the field`, () => {
      const net = smallCnn();
      mutate(net);
      expect(() => encodeNetwork(net)).toThrow(message);
    });
  }

  it('refuses conv fields in an older version, naming the file', () => {
    const bytes = encodeNetwork(smallCnn());
    new DataView(bytes.buffer).setUint32(8, 3, true);
    const text = new TextDecoder().decode(bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(12, true)));
    bytes.set(new TextEncoder().encode(text.replace('"version":4', '"version":3')), 16);
    let err: unknown;
    try {
      decodeNetwork(bytes, 'old.nnvis');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^old\.nnvis: header has unknown field "inputShape" \(version 3 files have none; it came in version 4\)$/);
  });
});

describe('conv forward and training (tfjs, WebAssembly)', () => {
  it('computes the conv kernel gradient on the WebAssembly backend as the CPU backend does', async () => {
    const tf = await initTf();
    const cases = [
      ['same', 1, 9, 3, 1, 2],
      ['valid', 1, 8, 3, 2, 3],
      ['same', 2, 10, 3, 2, 3],
      ['valid', 2, 11, 4, 2, 2],
    ] as const;
    for (const [pad, stride, size, k, cin, cout] of cases) {
      const rng = createRng(size * 31 + k);
      const x = Float32Array.from({ length: 2 * size * size * cin }, () => rng() * 2 - 1);
      const w = Float32Array.from({ length: k * k * cin * cout }, () => rng() * 2 - 1);
      const gradient = (): Float32Array =>
        tf.tidy(() => {
          const xt = tf.tensor4d(x, [2, size, size, cin]);
          const y = tf.conv2d(xt, tf.tensor4d(w, [k, k, cin, cout]), stride, pad);
          const dy = tf.tensor(Float32Array.from({ length: y.size }, (_, i) => Math.sin(i)), y.shape);
          return tf.grad((kernel) => tf.sum(tf.mul(tf.conv2d(xt, kernel as import('@tensorflow/tfjs').Tensor4D, stride, pad), dy)))(tf.tensor4d(w, [k, k, cin, cout])).dataSync() as Float32Array;
        });
      const wasm = gradient();
      await tf.setBackend('cpu');
      const cpu = gradient();
      await tf.setBackend('wasm');
      expect(wasm.length).toBe(k * k * cin * cout);
      for (let i = 0; i < wasm.length; i++) expect(wasm[i]).toBeCloseTo(cpu[i], 4);
    }
  });

  it('predicts as the tfjs layers model with the same weights (1e-5)', async () => {
    const tf = await initTf();
    const net = smallCnn(3);
    const data = blobData(30, 4);
    const model = toTfModel(tf, net);
    const x = tf.tensor2d(data.x, [data.count, 64]);
    const theirs = (model.predict(x) as import('@tensorflow/tfjs').Tensor).dataSync();
    const ours = forwardProbabilities(tf, net, x).dataSync();
    expect(ours.length).toBe(30 * 3);
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThan(1e-5);
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Reshape', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'AveragePooling2D', 'Flatten', 'Dense', 'Dense']);
    x.dispose();
    model.dispose();
  });

  it('trains a small CNN deterministically and well above chance', async () => {
    const arch = { layers: [64, 3, 4, 5, 3], inputShape: [8, 8, 1] as MapShape, ops: [conv(3, 'same', 'max'), conv(3, 'valid', 'avg'), dense(), dense()] };
    const opts = { ...arch, epochs: 8, batchSize: 32, learningRate: 0.01, l1: 0, untrained: false, seed: 5, classNames: ['a', 'b', 'c'] };
    const train = blobData(600, 1);
    const test = blobData(150, 2);
    const a = await trainNetwork(train, test, opts);
    const b = await trainNetwork(train, test, opts);
    expect(Array.from(a.network.weights!)).toEqual(Array.from(b.network.weights!));
    expect(a.network.ops).toEqual(arch.ops);
    expect(a.network.weights!.length).toBe(weightCount(arch));
    expect(a.testAccuracy).toBeGreaterThan(0.8);
  });
});

describe('conv importance and pruning', () => {
  it('gives a BN importance per input pixel and per channel, and prunes kernel slices', async () => {
    const train = blobData(600, 1);
    const test = blobData(150, 2);
    const arch = { layers: [64, 3, 4, 5, 3], inputShape: [8, 8, 1] as MapShape, ops: [conv(3, 'same', 'max'), conv(3, 'valid', 'avg'), dense(), dense()] };
    const { network } = await trainNetwork(train, test, { ...arch, epochs: 8, batchSize: 32, learningRate: 0.01, l1: 0, untrained: false, seed: 5 });
    const results = await importanceForGroup({ net: network, train, test }, [0, 1, 2], { flags: ['gamma', 'l1'], epochs: 6, batchSize: 64, learningRate: 0.01, seed: 2 });
    expect(results.map((r) => r.gammas.map((g) => g.length))).toEqual([
      [64, 3, 4, 5],
      [64, 3, 4, 5],
      [64, 3, 4, 5],
    ]);
    for (const r of results) expect(r.testAccuracy).toBeGreaterThan(0.6);
    const imp = assembleImportance(network, results, { method: 'bn' });
    expect(imp.nodeImportance!.length).toBe(nodeCount(arch.layers) * 3);
    // the input plane: pixels in a class's third matter more for it than pixels outside (columns 0–2 vs 6–7 for class 0)
    const pixel = (c: number, cols: number[]) => cols.flatMap((x) => Array.from({ length: 8 }, (_, y) => imp.nodeImportance![(y * 8 + x) * 3 + c])).reduce((a, b) => a + b, 0);
    expect(pixel(0, [0, 1, 2])).toBeGreaterThan(pixel(0, [6, 7]));

    const groups = edgeGroups(network);
    expect(groups.edges.length).toBe(edgeCount(arch.layers) - 64 * 3);
    expect(groups.edges[0]).toBe(64 * 3);
    // the first prunable edge is conv channel 0 → conv channel 0: 9 kernel taps
    expect(groups.offsets[1] - groups.offsets[0]).toBe(9);
    const pruned = prunedWeights(network.weights!, [0], 1, groups);
    let zeroed = 0;
    for (let i = 0; i < pruned.length; i++) if (pruned[i] !== network.weights![i]) zeroed++;
    expect(zeroed).toBe(9);

    const curves = await evaluatePruning(network, imp, test, { methods: ['bnn_edge', 'edge', 'random'], step: 25, seed: 3, protocol: 'exact', threads: 1 });
    expect(curves.edges).toBe(groups.edges.length);
    for (const m of curves.methods) {
      expect(m.accuracy[0]).toBeCloseTo(curves.methods[0].accuracy[0], 10);
      expect(m.prunedEdges[m.prunedEdges.length - 1]).toBe(groups.edges.length);
      // everything pruned: every sample gets the same class
      expect(m.accuracy[m.accuracy.length - 1]).toBeLessThan(0.5);
    }
  });
});
