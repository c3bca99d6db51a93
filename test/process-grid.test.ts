import { describe, expect, it } from 'vitest';
import { applyConfig, defaultConfig } from '../src/core/config.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, nodeCount, type Network } from '../src/core/network.ts';
import { densitySummary, type DensitySummary } from '../src/core/process/grid-summary.ts';
import { createProcessingHost } from '../src/core/process/host.ts';
import type { ProcessingReply } from '../src/core/process/protocol.ts';
import { createProcessing, edgeSampleArrays } from '../src/core/process/state.ts';
import { encodeNetwork } from '../src/core/container.ts';

const config = (over: Record<string, unknown> = {}) => applyConfig('processing', defaultConfig('processing'), { sampling_rate: 5, ...over }, 'test');
const random = (layers: number[], seed = 1) => generateNetwork({ layers, seed, layerDistance: 0.5, layerWidth: 1 });

/** The summary cell holding a world position. */
function cellAt(s: DensitySummary, x: number, y: number, z: number): number {
  const i = [x, y, z].map((v, d) => Math.min(s.dims[d] - 1, Math.max(0, Math.floor((v - s.origin[d]) / s.cell))));
  return (i[2] * s.dims[1] + i[1]) * s.dims[0] + i[0];
}

describe('density summary', () => {
  it('is a coarse box of normalised densities, dense on edges and empty in the corners', () => {
    const state = createProcessing(random([16, 9, 4]), config(), 1);
    const s = densitySummary(state, 20);
    expect(s.dims.every((n) => n >= 1 && n <= 20)).toBe(true);
    expect(Math.max(...s.dims)).toBe(20);
    expect(s.density.length).toBe(s.dims[0] * s.dims[1] * s.dims[2]);
    expect(s.dominant.length).toBe(s.density.length);
    expect(Math.min(...s.density)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...s.density)).toBeCloseTo(1, 6);
    // The middle of the first gap's edges (a bundle of straight lines) against the 8 corners.
    const { points, offsets } = state.gaps[0].lines;
    let onEdges = 0;
    for (let i = 0; i + 1 < offsets.length; i++) {
      const m = Math.floor((offsets[i] + offsets[i + 1]) / 2) * 3;
      onEdges += s.density[cellAt(s, points[m], points[m + 1], points[m + 2])];
    }
    onEdges /= offsets.length - 1;
    const [nx, ny, nz] = s.dims;
    const corners = [0, nx - 1].flatMap((x) => [0, ny - 1].flatMap((y) => [0, nz - 1].map((z) => s.density[(z * ny + y) * nx + x])));
    expect(onEdges).toBeGreaterThan(0.2);
    expect(Math.max(...corners)).toBeLessThan(onEdges / 4);
  });

  it('keeps at most maxCells per axis for any size', () => {
    const state = createProcessing(random([9, 4]), config(), 1);
    for (const max of [1, 7, 48]) {
      const s = densitySummary(state, max);
      expect(Math.max(...s.dims)).toBeLessThanOrEqual(max);
      expect(s.density.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });

  it('marks cells along class-0-only edges with dominant class 0', () => {
    // Two classes: the first half of every layer serves class 0 only, the second half class 1;
    // only same-class edges are kept (the rest have importance 0 and are pruned).
    const layers = [16, 16];
    const N = nodeCount(layers);
    const nodeImportance = new Float32Array(N * 2);
    const classOf = (node: number): number => ((node < 16 ? node : node - 16) < 8 ? 0 : 1);
    for (let n = 0; n < N; n++) nodeImportance[n * 2 + classOf(n)] = 1;
    const edgeImportance = new Float32Array(edgeCount(layers));
    for (let a = 0; a < 16; a++) for (let b = 0; b < 16; b++) edgeImportance[a * 16 + b] = classOf(a) === classOf(16 + b) ? 1 : 0;
    const net: Network = { ...random(layers), classNames: ['a', 'b'], nodeImportance, edgeImportance };
    const state = createProcessing(net, config({ prune_percentage: 0.5 }), 1);
    // At the end of the schedule (smallest bandwidth) the two classes' bundles stay apart.
    const s = densitySummary(state, 32, { bandwidth: state.params.limit });
    const { points, offsets } = state.gaps[0].lines;
    let checked = 0;
    state.gaps[0].edges.forEach((e, i) => {
      const a = Math.floor(e / 16);
      if (classOf(a) !== 0) return;
      const m = Math.floor((offsets[i] + offsets[i + 1]) / 2) * 3;
      expect(s.dominant[cellAt(s, points[m], points[m + 1], points[m + 2])]).toBe(0);
      checked++;
    });
    expect(checked).toBe(64);
  });

  it('summarises given polylines instead of the state\'s', () => {
    const state = createProcessing(random([9, 4]), config(), 1);
    const own = densitySummary(state, 16);
    const lines = edgeSampleArrays(state);
    const moved = { ...lines, edgeSamples: lines.edgeSamples.map((v, i) => (i % 3 === 0 ? v + 0.7 : v)) };
    const other = densitySummary(state, 16, { lines: moved });
    expect(other.origin[0]).toBeGreaterThan(own.origin[0] + 0.5);
    const empty = densitySummary(state, 16, { lines: { edgeSampleOffsets: new Uint32Array(lines.edgeSampleOffsets.length), edgeSamples: new Float32Array(0) } });
    expect(empty.dims).toEqual([0, 0, 0]);
  });

  it('is answered by the worker host, with an error before a network is loaded', async () => {
    const replies: ProcessingReply[] = [];
    const host = createProcessingHost((r) => replies.push(r), async () => {});
    await host({ type: 'grid' });
    expect(replies.pop()).toMatchObject({ type: 'error' });
    const bytes = encodeNetwork(random([9, 4]));
    await host({ type: 'load', bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, config: { sampling_rate: 5 }, seed: 1 });
    replies.length = 0;
    await host({ type: 'grid', maxCells: 12 });
    const r = replies[0];
    expect(r.type).toBe('grid');
    if (r.type !== 'grid') return;
    expect(Math.max(...r.dims)).toBe(12);
    expect(r.density.length).toBe(r.dims[0] * r.dims[1] * r.dims[2]);
    expect(r.dominant.length).toBe(r.density.length);
  });
});
