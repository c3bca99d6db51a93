// From a decoded Network to the flat per-instance arrays the GPU draws: one instance per
// edge sample and one per node. Pure (no DOM, no three.js), so it is cheap to reason about
// and the same code fills buffers on load and on every live-processing snapshot.

import { defaultConfig } from '../core/config.ts';
import { layoutPositions } from '../core/layout.ts';
import { edgeCount, kindOf, type Network, type NetworkKind } from '../core/network.ts';
import { edgeEndpoints, edgeSampleImportance, nodeMix } from '../core/process/sample-importance.ts';
import { MAX_CLASS_CHANNELS } from './palette.ts';

/** Instanced attribute storage with spare capacity, so snapshots can update in place. */
export interface InstanceBuffers {
  capacity: number;
  count: number;
  /** (capacity + 1) × 3: the "next sample" attribute reads the same buffer one sample later. */
  positions: Float32Array;
  /** Overall importance per instance. */
  importance: Float32Array;
  /** 12 class channels per instance as normalised bytes (3 × vec4 on the GPU). */
  mix: Uint8Array;
  /** 1 on the last sample of an edge (it starts no ellipsoid), else 0. */
  end: Uint8Array;
}

export function allocBuffers(capacity: number): InstanceBuffers {
  const cap = Math.max(1, capacity);
  return {
    capacity: cap,
    count: 0,
    positions: new Float32Array((cap + 1) * 3),
    importance: new Float32Array(cap),
    mix: new Uint8Array(cap * MAX_CLASS_CHANNELS),
    end: new Uint8Array(cap),
  };
}

export function bufferBytes(b: InstanceBuffers): number {
  return b.positions.byteLength + b.importance.byteLength + b.mix.byteLength + b.end.byteLength;
}

/** Everything the viewer shows of one network, geometry in the network's own coordinates. */
export interface SceneNetwork {
  net: Network;
  kind: NetworkKind;
  nodePositions: Float32Array;
  edgeSampleOffsets: Uint32Array;
  edgeSamples: Float32Array;
  /** Whether the file carries class importance (otherwise everything is uniform grey). */
  hasImportance: boolean;
}

function configNumber(net: Network, key: string): number {
  const v = net.meta.config?.[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : (defaultConfig('processing')[key] as number);
}

/**
 * Straight edges between node positions, sampled at `spacing` (at least both end points),
 * as a processed network would store them.
 */
export function straightSamples(layers: readonly number[], positions: Float32Array, spacing: number): { offsets: Uint32Array; samples: Float32Array } {
  const { source, target } = edgeEndpoints(layers);
  const E = source.length;
  const offsets = new Uint32Array(E + 1);
  for (let e = 0; e < E; e++) {
    const s = source[e] * 3;
    const t = target[e] * 3;
    const len = Math.hypot(positions[t] - positions[s], positions[t + 1] - positions[s + 1], positions[t + 2] - positions[s + 2]);
    offsets[e + 1] = offsets[e] + Math.max(2, Math.round(len / spacing) + 1);
  }
  const samples = new Float32Array(offsets[E] * 3);
  for (let e = 0; e < E; e++) {
    const s = source[e] * 3;
    const t = target[e] * 3;
    const m = offsets[e + 1] - offsets[e];
    for (let j = 0; j < m; j++) {
      const f = j / (m - 1);
      const o = (offsets[e] + j) * 3;
      for (let a = 0; a < 3; a++) samples[o + a] = positions[s + a] + f * (positions[t + a] - positions[s + a]);
    }
  }
  return { offsets, samples };
}

/** Completes a decoded network to something drawable: layout and straight edges when absent. */
export function toScene(net: Network): SceneNetwork {
  const kind = kindOf(net);
  const nodePositions =
    net.nodePositions ?? layoutPositions(net.layers, { layerDistance: configNumber(net, 'layer_distance'), layerWidth: configNumber(net, 'layer_width') });
  let edgeSampleOffsets = net.edgeSampleOffsets;
  let edgeSamples = net.edgeSamples;
  if (!edgeSampleOffsets || !edgeSamples) {
    const straight = straightSamples(net.layers, nodePositions, configNumber(net, 'layer_width') / configNumber(net, 'sampling_rate'));
    edgeSampleOffsets = straight.offsets;
    edgeSamples = straight.samples;
  }
  return { net, kind, nodePositions, edgeSampleOffsets, edgeSamples, hasImportance: net.nodeImportance !== undefined };
}

/** Folds a C-class row into the 12 byte channels (classes past 12 share a channel). */
function writeMix(out: Uint8Array, o: number, row: Float32Array, r: number, C: number): void {
  out.fill(0, o, o + MAX_CLASS_CHANNELS);
  for (let c = 0; c < C; c++) {
    const k = o + (c % MAX_CLASS_CHANNELS);
    out[k] = Math.min(255, out[k] + Math.round(Math.max(0, Math.min(1, row[r + c])) * 255));
  }
}

export function edgeImportanceType(net: Network): 0 | 1 | 2 | 3 {
  const v = net.meta.config?.edge_importance_type;
  return v === 1 || v === 2 || v === 3 ? v : 0;
}

/** Fills edge-sample instances; the caller guarantees `buf.capacity >= S`. */
export function fillEdges(buf: InstanceBuffers, scene: SceneNetwork): void {
  const { edgeSampleOffsets: offsets, edgeSamples: samples, net } = scene;
  const S = samples.length / 3;
  buf.count = S;
  buf.positions.set(samples);
  // The "next" of the very last sample is itself (it is an edge end anyway).
  buf.positions.copyWithin(S * 3, Math.max(0, S - 1) * 3, S * 3);
  buf.end.fill(0, 0, S);
  for (let e = 0; e + 1 < offsets.length; e++) if (offsets[e + 1] > offsets[e]) buf.end[offsets[e + 1] - 1] = 1;
  if (!scene.hasImportance) {
    const alpha = net.edgeImportance;
    buf.mix.fill(0, 0, S * MAX_CLASS_CHANNELS);
    if (!alpha) buf.importance.fill(1, 0, S);
    else for (let e = 0; e + 1 < offsets.length; e++) buf.importance.fill(alpha[e], offsets[e], offsets[e + 1]);
    return;
  }
  const { overall, classes } = edgeSampleImportance(net, offsets, edgeImportanceType(net));
  const C = net.classNames.length;
  buf.importance.set(overall);
  for (let i = 0; i < S; i++) writeMix(buf.mix, i * MAX_CLASS_CHANNELS, classes, i * C, C);
}

/** Fills node instances: overall = normalised length of the class-importance row. */
export function fillNodes(buf: InstanceBuffers, scene: SceneNetwork): void {
  const { net, nodePositions } = scene;
  const N = nodePositions.length / 3;
  buf.count = N;
  buf.positions.set(nodePositions);
  buf.end.fill(1, 0, N);
  if (!scene.hasImportance) {
    buf.importance.fill(1, 0, N);
    buf.mix.fill(0, 0, N * MAX_CLASS_CHANNELS);
    return;
  }
  const { mix, overall } = nodeMix(net);
  const C = net.classNames.length;
  buf.importance.set(overall);
  for (let n = 0; n < N; n++) writeMix(buf.mix, n * MAX_CLASS_CHANNELS, mix, n * C, C);
}

/** Edges that own no samples (pruned by processing). */
export function prunedEdgeCount(offsets: Uint32Array): number {
  let pruned = 0;
  for (let e = 0; e + 1 < offsets.length; e++) if (offsets[e + 1] === offsets[e]) pruned++;
  return pruned;
}

/** Density-grid cell count recorded by processing in `meta`, if any (any key named gridCells / grid_cells). */
export function gridCellsOf(meta: unknown, depth = 0): number {
  if (depth > 4 || meta === null || typeof meta !== 'object') return 0;
  for (const [k, v] of Object.entries(meta)) {
    if ((k === 'gridCells' || k === 'grid_cells') && typeof v === 'number') return v;
    const inner = gridCellsOf(v, depth + 1);
    if (inner > 0) return inner;
  }
  return 0;
}

export interface Bounds {
  min: [number, number, number];
  max: [number, number, number];
  center: [number, number, number];
  radius: number;
}

/** Bounding sphere (of the axis-aligned box) of all node positions and samples. */
export function boundsOf(...arrays: Float32Array[]): Bounds {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (const a of arrays) {
    for (let i = 0; i + 2 < a.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        if (a[i + k] < min[k]) min[k] = a[i + k];
        if (a[i + k] > max[k]) max[k] = a[i + k];
      }
    }
  }
  if (!(min[0] <= max[0])) return { min: [-0.5, -0.5, -0.5], max: [0.5, 0.5, 0.5], center: [0, 0, 0], radius: 1 };
  const center: [number, number, number] = [(min[0] + max[0]) / 2, (min[1] + max[1]) / 2, (min[2] + max[2]) / 2];
  const radius = Math.max(0.05, Math.hypot(max[0] - min[0], max[1] - min[1], max[2] - min[2]) / 2);
  return { min: min as [number, number, number], max: max as [number, number, number], center, radius };
}

export function edgesOf(net: Network): number {
  return edgeCount(net.layers);
}
