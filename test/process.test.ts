import { describe, expect, it } from 'vitest';
import { applyConfig, defaultConfig } from '../src/core/config.ts';
import { decodeNetwork, encodeNetwork } from '../src/core/container.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, nodeCount, type Network } from '../src/core/network.ts';
import { createProcessingHost } from '../src/core/process/host.ts';
import { clusteringRatio, rasterStats } from '../src/core/process/metrics.ts';
import { pointCap, resamplePolylines, smoothPolylines, straightPolylines } from '../src/core/process/polyline.ts';
import type { ProcessingReply } from '../src/core/process/protocol.ts';
import { processNetwork } from '../src/core/process/run.ts';
import { edgeSampleImportance } from '../src/core/process/sample-importance.ts';
import {
  createProcessing,
  edgeAdvect,
  edgeNoise,
  edgeSampleArrays,
  gapDensity,
  gapSampleMix,
  nodeAdvect,
  nodeNoise,
  rebuildEdges,
  type ProcessingState,
} from '../src/core/process/state.ts';

// A coarse sampling rate keeps the grids small, so every case runs in well under a second.
const config = (over: Record<string, unknown> = {}) => applyConfig('processing', defaultConfig('processing'), { sampling_rate: 5, ...over }, 'test');
const random = (layers: number[], seed = 1) => generateNetwork({ layers, seed, layerDistance: 0.5, layerWidth: 1 });

/** Two classes, cleanly split: even nodes serve class 0, odd nodes class 1; every edge alpha 1. */
function twoClassNetwork(layers: number[]): Network {
  const N = nodeCount(layers);
  const nodeImportance = new Float32Array(N * 2);
  for (let n = 0; n < N; n++) nodeImportance[n * 2 + (n % 2)] = 1;
  return { ...random(layers), classNames: ['a', 'b'], nodeImportance, edgeImportance: new Float32Array(edgeCount(layers)).fill(1) };
}

function forEachPolyline(state: ProcessingState, fn: (points: Float32Array, start: number, end: number, edge: number) => void): void {
  for (const gap of state.gaps) {
    const { offsets, points } = gap.lines;
    gap.edges.forEach((e, i) => fn(points, offsets[i], offsets[i + 1], e));
  }
}

describe('polylines', () => {
  const positions = new Float32Array([0, 0, 0, 1, 0.3, 0.5, -0.2, 0.7, 0.5]);
  const straight = straightPolylines(positions, Uint32Array.of(0, 0), Uint32Array.of(1, 2), 0.1);

  it('samples straight edges evenly at no more than the spacing', () => {
    for (let i = 0; i < 2; i++) {
      const { offsets, points } = straight;
      const gaps = [];
      for (let p = offsets[i]; p + 1 < offsets[i + 1]; p++) gaps.push(Math.hypot(points[p * 3 + 3] - points[p * 3], points[p * 3 + 4] - points[p * 3 + 1], points[p * 3 + 5] - points[p * 3 + 2]));
      expect(Math.max(...gaps)).toBeLessThanOrEqual(0.1 + 1e-6);
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThan(1e-5);
    }
  });

  it('re-samples to the spacing, merging a short last piece, ends kept', () => {
    const out = resamplePolylines(straight, 0.15, 1000);
    const { offsets, points } = out;
    for (let i = 0; i < 2; i++) {
      const a = offsets[i];
      const b = offsets[i + 1] - 1;
      expect([...points.subarray(a * 3, a * 3 + 3)]).toEqual([...straight.points.subarray(straight.offsets[i] * 3, straight.offsets[i] * 3 + 3)]);
      expect([...points.subarray(b * 3, b * 3 + 3)]).toEqual([...straight.points.subarray((straight.offsets[i + 1] - 1) * 3, straight.offsets[i + 1] * 3)]);
      for (let p = a; p < b; p++) {
        const d = Math.hypot(points[p * 3 + 3] - points[p * 3], points[p * 3 + 4] - points[p * 3 + 1], points[p * 3 + 5] - points[p * 3 + 2]);
        if (p + 1 < b) expect(d).toBeCloseTo(0.15, 5);
        else {
          expect(d).toBeGreaterThanOrEqual(0.075 - 1e-6);
          expect(d).toBeLessThan(0.225);
        }
      }
    }
  });

  it('re-sampling keeps at most maxPoints points: the rest of a long polyline is cut short to its end', () => {
    const { offsets, points } = resamplePolylines(straight, 0.01, 12);
    expect(offsets[1] - offsets[0]).toBe(12);
    expect(offsets[2] - offsets[1]).toBe(12);
    const b = offsets[1] - 1;
    expect([...points.subarray(b * 3, b * 3 + 3)]).toEqual([...straight.points.subarray((straight.offsets[1] - 1) * 3, straight.offsets[1] * 3)]);
    // ten pieces of 0.01, then one straight to the end
    expect(Math.hypot(points[30] - points[33], points[31] - points[34], points[32] - points[35])).toBeGreaterThan(1);
    expect(pointCap(1.2, 0.1)).toBe(60);
  });

  it('smoothing keeps the end points and straightens a zigzag', () => {
    const zig = { offsets: Uint32Array.of(0, 9), points: new Float32Array(Array.from({ length: 9 }, (_, i) => [i * 0.1, i % 2 ? 0.1 : 0, 0]).flat()) };
    const out = smoothPolylines(zig, 8, 0); // ratio 0: radius 1
    expect(out.points[0]).toBe(0);
    expect(out.points[24]).toBeCloseTo(0.8, 6);
    const amplitude = (p: Float32Array) => Math.max(...Array.from({ length: 7 }, (_, i) => Math.abs(p[(i + 1) * 3 + 1])));
    expect(amplitude(out.points)).toBeLessThan(amplitude(zig.points) / 2);
  });
});

describe('processing actions', () => {
  it('never moves edge end points or node z, and keeps samples inside the grid', () => {
    const state = createProcessing(random([16, 9, 4]), config(), 3);
    const z = state.nodePositions.filter((_, i) => i % 3 === 2);
    for (let t = 0; t < 10; t++) nodeAdvect(state);
    expect(state.nodePositions.filter((_, i) => i % 3 === 2)).toEqual(z);
    rebuildEdges(state);
    for (let t = 0; t < 6; t++) edgeAdvect(state);
    edgeNoise(state, 3);
    let moved = 0;
    forEachPolyline(state, (points, start, end, e) => {
      const s = state.source[e] * 3;
      const t = state.target[e] * 3;
      expect([...points.subarray(start * 3, start * 3 + 3)]).toEqual([...state.nodePositions.subarray(s, s + 3)]);
      expect([...points.subarray((end - 1) * 3, end * 3)]).toEqual([...state.nodePositions.subarray(t, t + 3)]);
      const grid = state.gaps.find((g) => g.edges.includes(e))!.grid;
      for (let p = start; p < end; p++) {
        for (let d = 0; d < 3; d++) {
          expect(points[p * 3 + d]).toBeGreaterThanOrEqual(grid.origin[d]);
          expect(points[p * 3 + d]).toBeLessThanOrEqual(grid.origin[d] + grid.dims[d] * grid.cell);
        }
        const a = state.nodePositions.subarray(s, s + 3);
        const b = state.nodePositions.subarray(t, t + 3);
        const f = (p - start) / (end - 1 - start);
        if (Math.hypot(...[0, 1, 2].map((d) => points[p * 3 + d] - (a[d] + f * (b[d] - a[d]))))) moved++;
      }
    });
    expect(moved).toBeGreaterThan(0);
  });

  it('bundling pulls a two-class network into fewer, purer voxels; diverge does the opposite', () => {
    const run = (direction: 1 | -1) => {
      const state = createProcessing(twoClassNetwork([20, 12, 2]), config({ smoothing: true }), 1);
      const before = rasterStats(state, state.gaps.map((g) => g.lines));
      for (let t = 0; t < 8; t++) edgeAdvect(state, direction);
      return { before, after: rasterStats(state, state.gaps.map((g) => g.lines)) };
    };
    const advect = run(1);
    expect(advect.after.occupied).toBeLessThan(advect.before.occupied * 0.8);
    expect(advect.after.separation).toBeGreaterThan(advect.before.separation);
    const diverge = run(-1);
    expect(diverge.after.occupied).toBeGreaterThan(diverge.before.occupied);
  });

  it('node advection gathers nodes of a class and diverge spreads them', () => {
    const meanSameClassDistance = (state: ProcessingState) => {
      const p = state.nodePositions;
      let sum = 0;
      let n = 0;
      for (let i = 0; i < 36; i++) {
        for (let j = i + 2; j < 36; j += 2) {
          sum += Math.hypot(p[i * 3] - p[j * 3], p[i * 3 + 1] - p[j * 3 + 1]);
          n++;
        }
      }
      return sum / n;
    };
    const net = twoClassNetwork([36, 4, 2]);
    const start = meanSameClassDistance(createProcessing(net, config(), 1));
    const gather = createProcessing(net, config(), 1);
    const spread = createProcessing(net, config(), 1);
    for (let t = 0; t < 5; t++) {
      nodeAdvect(gather, 1);
      nodeAdvect(spread, -1);
    }
    expect(meanSameClassDistance(gather)).toBeLessThan(start * 0.9);
    expect(meanSameClassDistance(spread)).toBeGreaterThan(start);
  });

  it('class_density: "share" weighs every edge sample alike, "importance" by its importance', () => {
    const net = random([12, 8, 3], 4);
    const faint = { ...net, edgeImportance: net.edgeImportance!.map((a) => a * 0.25) };
    const field = (n: Network, classDensity: string) => {
      const state = createProcessing(n, config({ class_density: classDensity }), 1);
      const gap = state.gaps[0];
      return gapDensity(state, gap, 0.2, gapSampleMix(state, gap)).values;
    };
    const total = (v: Float32Array) => v.reduce((a, b) => a + b, 0);
    expect(total(field(net, 'share'))).toBeGreaterThan(0);
    expect(field(faint, 'share')).toEqual(field(net, 'share'));
    expect(total(field(faint, 'importance')) / total(field(net, 'importance'))).toBeCloseTo(0.25, 4);
  });

  it('node_field: a shared field lets other layers pull a layer, per_layer does not', () => {
    // The same network twice, only the input layer's class mixes differ: the hidden layer's
    // moves may depend on them with one shared field, and must not with one field per layer.
    const a = twoClassNetwork([36, 16, 2]);
    const flipped = new Float32Array(a.nodeImportance!);
    for (let n = 0; n < 36; n++) [flipped[n * 2], flipped[n * 2 + 1]] = [flipped[n * 2 + 1], flipped[n * 2]];
    const b = { ...a, nodeImportance: flipped };
    const hidden = (net: Network, field: string): Float32Array => {
      const state = createProcessing(net, config({ node_field: field }), 1);
      for (let t = 0; t < 8; t++) nodeAdvect(state, 1);
      return state.nodePositions.slice(36 * 3, 52 * 3);
    };
    const moved = (x: Float32Array, y: Float32Array): number => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    expect(moved(hidden(a, 'per_layer'), hidden(b, 'per_layer'))).toBe(0);
    expect(moved(hidden(a, 'shared'), hidden(b, 'shared'))).toBeGreaterThan(0.01);
  });

  it('node clustering ratio: ≈ 1 on the straight grid, 0 when each class sits on one point, < 1 after advection', () => {
    const net = twoClassNetwork([36, 16, 2]);
    const state = createProcessing(net, config(), 1);
    const straight = clusteringRatio(state, state.nodePositions, 1);
    expect(straight).toBeGreaterThan(0.8);
    const collapsed = new Float32Array(state.nodePositions);
    for (let i = 36; i < 52; i++) collapsed.set([i % 2 ? 0.3 : -0.3, 0.1], i * 3);
    expect(clusteringRatio(state, collapsed, 1)).toBeCloseTo(0, 6);
    for (let t = 0; t < 30; t++) nodeAdvect(state, 1);
    expect(clusteringRatio(state, state.nodePositions, 1)).toBeLessThan(straight * 0.8);
  });

  it('noise jitters within strength · sample_length and only in the layer plane', () => {
    const state = createProcessing(random([9, 4, 3]), config(), 5);
    const before = new Float32Array(state.nodePositions);
    nodeNoise(state, 0.5);
    const limit = 0.5 * state.params.sampleLength + 1e-6;
    let changed = 0;
    for (let i = 0; i < before.length; i++) {
      expect(Math.abs(state.nodePositions[i] - before[i])).toBeLessThanOrEqual(limit);
      if (i % 3 === 2) expect(state.nodePositions[i]).toBe(before[i]);
      else if (state.nodePositions[i] !== before[i]) changed++;
    }
    expect(changed).toBeGreaterThan(before.length / 2);
  });
});

describe('processNetwork', () => {
  it('is deterministic and byte-identical for the same input, config and seed', () => {
    const net = random([25, 9, 3], 4);
    const a = encodeNetwork(processNetwork(net, config(), { seed: 2 }).network);
    const b = encodeNetwork(processNetwork(net, config(), { seed: 2 }).network);
    expect(Buffer.compare(a, b)).toBe(0);
    const processed = decodeNetwork(a, 'test');
    expect(processed.edgeSampleOffsets!.length).toBe(edgeCount(net.layers) + 1);
    expect(processed.meta.processing).toMatchObject({ seed: 2, nodeIterations: expect.any(Number), edgeIterations: expect.any(Number) });
  });

  it('draws random importance (METHOD.md §6) for a plain network, seeded', () => {
    const plain: Network = { layers: [16, 4, 3], classNames: ['x', 'y', 'z'], meta: {} };
    const a = processNetwork(plain, config(), { seed: 9 });
    const b = processNetwork(plain, config(), { seed: 10 });
    expect(a.network.nodeImportance!.length).toBe(23 * 3);
    expect(Buffer.compare(encodeNetwork(a.network), encodeNetwork(b.network))).not.toBe(0);
  });

  it('prunes the least important edges before processing', () => {
    const net = random([16, 8, 3]);
    const { network, stats } = processNetwork(net, config({ prune_percentage: 0.75 }), { seed: 1 });
    const E = edgeCount(net.layers);
    expect(stats.prunedEdges).toBe(Math.floor(0.75 * E));
    const o = network.edgeSampleOffsets!;
    const kept = Array.from({ length: E }, (_, e) => e).filter((e) => o[e + 1] > o[e]);
    expect(kept.length).toBe(E - stats.prunedEdges);
    const minKept = Math.min(...kept.map((e) => net.edgeImportance![e]));
    const dropped = Array.from({ length: E }, (_, e) => e).filter((e) => o[e + 1] === o[e]);
    expect(Math.max(...dropped.map((e) => net.edgeImportance![e]))).toBeLessThanOrEqual(minKept);
  });

  it('reports quality metrics and counts of a full run', () => {
    const { stats } = processNetwork(random([49, 16, 10]), config(), { seed: 1 });
    expect(stats.quality.ink.ratio).toBeLessThan(0.9);
    expect(stats.quality.ink.after).toBeGreaterThan(0);
    expect(stats.quality.distortion).toBeGreaterThan(1);
    expect(stats.quality.classSeparation.after).toBeGreaterThan(0.1);
    expect(stats.quality.classSeparation.after).toBeLessThanOrEqual(1);
    expect(stats.edges).toBe(49 * 16 + 16 * 10);
    expect(stats.gridCells).toBeGreaterThan(0);
    expect(stats.edgeIterations).toBe(13); // 0.5 · 0.9^t ≥ 2 · (1 / 5) / 3 for t = 0…12
  });

  it('stops between iterations when the signal is set', () => {
    let steps = 0;
    const signal = { aborted: false };
    expect(() =>
      processNetwork(random([16, 4, 3]), config(), {
        seed: 1,
        signal,
        onStep: () => {
          if (++steps === 3) signal.aborted = true;
        },
      }),
    ).toThrow('processing stopped');
    expect(steps).toBe(3);
  });
});

describe('sample importance', () => {
  const net = random([9, 4, 3]);
  const state = createProcessing(net, config(), 1);
  const { edgeSampleOffsets } = edgeSampleArrays(state);

  it('type 1 takes the start node mix, type 3 the end node mix; mixes are unit vectors', () => {
    const C = 3;
    const unit = (n: number) => {
      const v = [...net.nodeImportance!.subarray(n * C, n * C + C)];
      const len = Math.hypot(...v);
      return v.map((x) => x / len);
    };
    for (const type of [0, 1, 2, 3] as const) {
      const { classes } = edgeSampleImportance(net, edgeSampleOffsets, type);
      for (let s = 0; s < classes.length / C; s++) expect(Math.hypot(...classes.subarray(s * C, s * C + C))).toBeCloseTo(1, 4);
      if (type === 1 || type === 3) {
        const e = 5;
        const node = type === 1 ? state.source[e] : state.target[e];
        const s = edgeSampleOffsets[e] + 1;
        [...classes.subarray(s * C, s * C + C)].forEach((v, c) => expect(v).toBeCloseTo(unit(node)[c], 5));
      }
    }
  });
});

describe('worker host (the browser and Node runners share it)', () => {
  it('loads, runs single actions with a snapshot each, saves, and stops a full run', async () => {
    const replies: ProcessingReply[] = [];
    const host = createProcessingHost((r) => replies.push(r), () => new Promise((r) => setTimeout(r, 0)));
    const bytes = encodeNetwork(random([16, 4, 3]));
    await host({ type: 'load', bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, config: { sampling_rate: 5 }, seed: 1 });
    expect(replies.map((r) => r.type)).toEqual(['snapshot', 'idle']);
    replies.length = 0;
    await host({ type: 'action', action: 'edge_advect', iterations: 2 });
    expect(replies.filter((r) => r.type === 'snapshot')).toHaveLength(2);
    replies.length = 0;
    const running = host({ type: 'action', action: 'process' });
    await new Promise((r) => setTimeout(r, 5));
    await host({ type: 'stop' });
    await running;
    const snapshots = replies.filter((r) => r.type === 'snapshot').length;
    expect(snapshots).toBeGreaterThan(0);
    expect(snapshots).toBeLessThan(20);
    expect(replies[replies.length - 1].type).toBe('idle');
    await host({ type: 'save' });
    const saved = replies.find((r) => r.type === 'saved') as { bytes: ArrayBuffer };
    expect(decodeNetwork(new Uint8Array(saved.bytes), 'saved').edgeSamples).toBeDefined();
    replies.length = 0;
    await host({ type: 'load', bytes: new ArrayBuffer(10), config: {}, seed: 1 });
    expect(replies).toEqual([{ type: 'error', message: expect.stringMatching(/^loaded file: /) }]);
  });
});
