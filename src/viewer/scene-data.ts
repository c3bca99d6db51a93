// From a decoded Network to the flat per-instance arrays the GPU draws: one instance per
// edge sample and one per node. Pure (no DOM, no three.js), so it is cheap to reason about
// and the same code fills buffers on load and on every live-processing snapshot.

import { defaultConfig } from '../core/config.ts';
import { layoutPositions } from '../core/layout.ts';
import { edgeCount, kindOf, type Network, type NetworkKind } from '../core/network.ts';
import { edgeEndpoints, edgeSampleImportance, nodeMix } from '../core/process/sample-importance.ts';
import { straightPolylines } from '../core/process/polyline.ts';
import { channelBytes, GREY, hexBytes, MAX_CLASS_CHANNELS } from './palette.ts';

/**
 * Per-instance storage, drawn without instancing: SwiftShader (software WebGL) runs every
 * instance of an instanced draw as a draw call of its own (~12 µs each), so the vertex
 * shaders instead fetch their instance (`gl_VertexID` / vertices per instance) from two
 * data textures of TEXTURE_WIDTH texels per row. Spare capacity lets snapshots update in place.
 */
export interface InstanceBuffers {
  capacity: number;
  count: number;
  /**
   * RGBA32F texels, at least capacity + 1 (the "next sample" is the texel after): x, y, z
   * position and w = overall importance, or −1 − importance on the last sample of an edge.
   */
  texels: Float32Array;
  /**
   * RGBA8 texels: colour of the current class visibility and, in alpha, the class's share
   * (255 for independent / all), filled by `fillColors` when the class mode changes.
   */
  colors: Uint8Array;
  /** Overall importance per instance (CPU copy). */
  importance: Float32Array;
  /** 12 class channels per instance as bytes (CPU only; `fillColors` folds them). */
  mix: Uint8Array;
  /** 1 on the last sample of an edge (it starts no ellipsoid), else 0. */
  end: Uint8Array;
  /**
   * Histogram of the importance in the current class mode (importance × the alpha factor
   * of `colors`), HISTOGRAM_BINS log-spaced bins over [10^HISTOGRAM_MIN_LOG, 1]; filled by
   * `fillColors`, read by `importanceScale`.
   */
  histogram: Uint32Array;
}

export const HISTOGRAM_BINS = 600;
const HISTOGRAM_MIN_LOG = -6;

function histogramBin(v: number): number {
  if (!(v > 0)) return -1;
  const b = Math.floor(((Math.log10(Math.min(1, v)) - HISTOGRAM_MIN_LOG) / -HISTOGRAM_MIN_LOG) * HISTOGRAM_BINS);
  return Math.max(0, Math.min(HISTOGRAM_BINS - 1, b));
}

/** The importance at the lower edge of bin `b` (so a bin's values are ≥ it). */
function binValue(b: number): number {
  return 10 ** (HISTOGRAM_MIN_LOG + (b / HISTOGRAM_BINS) * -HISTOGRAM_MIN_LOG);
}

/**
 * The `percentile` (0–1) of the importance of the instances drawn at `threshold` (those at
 * or above it) in the class mode `fillColors` last filled; 0 when none is drawn. Resolution:
 * one histogram bin (2.3 %).
 */
export function importancePercentile(buf: InstanceBuffers, threshold: number, percentile: number): number {
  const h = buf.histogram;
  const first = Math.max(0, histogramBin(Math.max(threshold, 1e-12)));
  let total = 0;
  for (let b = first; b < HISTOGRAM_BINS; b++) total += h[b];
  if (total === 0) return 0;
  const want = percentile * total;
  let seen = 0;
  for (let b = first; b < HISTOGRAM_BINS; b++) {
    seen += h[b];
    if (seen >= want) return Math.min(1, binValue(b + 1));
  }
  return 1;
}

/** Texels per row of the instance textures (WebGL2 guarantees 2048); a power of two. */
export const TEXTURE_WIDTH = 2048;

export function textureRows(capacity: number): number {
  return Math.ceil((capacity + 1) / TEXTURE_WIDTH);
}

export function allocBuffers(capacity: number): InstanceBuffers {
  const cap = Math.max(1, capacity);
  const texels = textureRows(cap) * TEXTURE_WIDTH;
  return {
    capacity: cap,
    count: 0,
    texels: new Float32Array(texels * 4),
    colors: new Uint8Array(texels * 4),
    importance: new Float32Array(cap),
    mix: new Uint8Array(cap * MAX_CLASS_CHANNELS),
    end: new Uint8Array(cap),
    histogram: new Uint32Array(HISTOGRAM_BINS),
  };
}

/** Bytes uploaded to the GPU (the two textures). */
export function bufferBytes(b: InstanceBuffers): number {
  return b.texels.byteLength + b.colors.byteLength;
}

/** Writes positions (3 floats each) and the importance / end-flag word into the texels. */
function packTexels(buf: InstanceBuffers, positions: Float32Array, n: number): void {
  const { texels, importance, end } = buf;
  for (let i = 0; i < n; i++) {
    texels[i * 4] = positions[i * 3];
    texels[i * 4 + 1] = positions[i * 3 + 1];
    texels[i * 4 + 2] = positions[i * 3 + 2];
    texels[i * 4 + 3] = end[i] ? -1 - importance[i] : importance[i];
  }
  // The "next" of the very last instance is itself (it is an edge end anyway).
  const last = Math.max(0, n - 1) * 4;
  texels.copyWithin(n * 4, last, last + 3);
  texels[n * 4 + 3] = 0;
}

/** Importance as the shader decodes it from a texel's w (float32 arithmetic, as on the GPU). */
export function decodedImportance(importance: number, end: boolean): number {
  return end ? Math.fround(-1 - Math.fround(-1 - importance)) : Math.fround(importance);
}

const GREY_BYTES = hexBytes(GREY);

/**
 * Colours of the instances for one class visibility (-2 independent, -1 all classes, else a
 * class channel) and palette, and, in alpha, the factor on importance: the class's share in
 * one-class mode, else 1. Instances without a class mix are grey with factor 1. "All": the
 * convex mix Σ colour_c · w_c / Σ w_c of the class colours with w_c = u_c² (u the unit class
 * mix; u_c² are the shares of the mix's squared length), which keeps a dominant class's hue
 * instead of averaging every class toward brown. Also fills the importance histogram.
 */
export function fillColors(buf: InstanceBuffers, cls: number, palette = 'vivid'): void {
  const { colors, mix, count, importance, end, histogram } = buf;
  const pal = channelBytes(palette);
  histogram.fill(0);
  for (let i = 0; i < count; i++) {
    const m = i * MAX_CLASS_CHANNELS;
    const o = i * 4;
    let total = 0;
    for (let k = 0; k < MAX_CLASS_CHANNELS; k++) total += mix[m + k];
    let rgb = GREY_BYTES;
    let share = 255;
    if (total > 0 && cls === -1) {
      let r = 0;
      let g = 0;
      let b = 0;
      let shares = 0;
      for (let k = 0; k < MAX_CLASS_CHANNELS; k++) {
        const w = mix[m + k] * mix[m + k];
        if (w === 0) continue;
        const p = pal[k];
        r += p[0] * w;
        g += p[1] * w;
        b += p[2] * w;
        shares += w;
      }
      colors[o] = Math.round(r / shares);
      colors[o + 1] = Math.round(g / shares);
      colors[o + 2] = Math.round(b / shares);
      colors[o + 3] = 255;
    } else {
      if (total > 0 && cls >= 0) {
        rgb = pal[cls % MAX_CLASS_CHANNELS];
        share = mix[m + (cls % MAX_CLASS_CHANNELS)];
      }
      colors[o] = rgb[0];
      colors[o + 1] = rgb[1];
      colors[o + 2] = rgb[2];
      colors[o + 3] = share;
    }
    const bin = histogramBin(decodedImportance(importance[i], end[i] === 1) * (colors[o + 3] / 255));
    if (bin >= 0) histogram[bin]++;
  }
}

/** Longest run of samples one simplified span covers. */
export const MAX_SPAN = 8;
/** Simplification: samples merge into one span when their colour differs by at most this (of 255) per channel … */
const SPAN_COLOR_LEVELS = 3;
/** … and their importance (in the class mode) by at most this share. */
const SPAN_IMPORTANCE_SHARE = 0.03;

/**
 * The draw list: what the GPU draws, as (instance, next) pairs, culled once on the CPU when the
 * class mode, threshold, size or mode changes instead of by every vertex of every frame.
 * Instances below `threshold` in the current class mode (as `fillColors` left the colours)
 * are left out, and with `spans` (ellipsoids, lines: a primitive from a sample to the next)
 * so are edge ends. With `tolerance` > 0 a span runs on over the following samples (at most
 * MAX_SPAN) while they lie within `tolerance` of the straight line from its start to its
 * end and have nearly its colour and importance (docs/PERFORMANCE.md: the pixel difference).
 * The list holds a superset of what the vertex shaders draw (they still cull exactly), so
 * without simplification the picture is unchanged. Returns the number of pairs and of the
 * instances drawn (at or above the threshold, whether merged into a span or not).
 */
export function fillDrawList(buf: InstanceBuffers, list: Float32Array, threshold: number, spans: boolean, tolerance: number): { entries: number; drawn: number } {
  const { count, importance, end, colors, texels } = buf;
  const impOf = (i: number): number => decodedImportance(importance[i], end[i] === 1) * (colors[i * 4 + 3] / 255);
  // float32 on the GPU: keep what rounding could still draw; the shader decides exactly.
  const cut = threshold * (1 - 1e-5);
  const close = (a: number, b: number): boolean => {
    for (let c = 0; c < 3; c++) if (Math.abs(colors[a * 4 + c] - colors[b * 4 + c]) > SPAN_COLOR_LEVELS) return false;
    const ia = impOf(a);
    return Math.abs(impOf(b) - ia) <= SPAN_IMPORTANCE_SHARE * ia;
  };
  // Whether samples a+1 … b−1 lie within the tolerance of the line from a to b.
  const straight = (a: number, b: number): boolean => {
    const ax = texels[a * 4];
    const ay = texels[a * 4 + 1];
    const az = texels[a * 4 + 2];
    const dx = texels[b * 4] - ax;
    const dy = texels[b * 4 + 1] - ay;
    const dz = texels[b * 4 + 2] - az;
    const len2 = dx * dx + dy * dy + dz * dz;
    if (!(len2 > 0)) return false;
    for (let k = a + 1; k < b; k++) {
      const qx = texels[k * 4] - ax;
      const qy = texels[k * 4 + 1] - ay;
      const qz = texels[k * 4 + 2] - az;
      const t = (qx * dx + qy * dy + qz * dz) / len2;
      const ex = qx - t * dx;
      const ey = qy - t * dy;
      const ez = qz - t * dz;
      if (t <= 0 || t >= 1 || ex * ex + ey * ey + ez * ez > tolerance * tolerance) return false;
    }
    return true;
  };
  const simplify = spans && tolerance > 0;
  let drawn = 0;
  for (let i = 0; i < count; i++) if (!(spans && end[i]) && impOf(i) >= threshold) drawn++;
  let n = 0;
  for (let i = 0; i < count; ) {
    if ((spans && end[i]) || !(impOf(i) >= cut)) {
      i++;
      continue;
    }
    let next = i + 1;
    // Extend over sample `next` when it continues the same edge, looks alike and the span stays straight.
    if (simplify) while (next - i < MAX_SPAN && next < count && !end[next] && close(i, next) && straight(i, next + 1)) next++;
    list[n * 2] = i;
    list[n * 2 + 1] = next;
    n++;
    i = simplify ? next : i + 1;
  }
  return { entries: n, drawn };
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
  const { offsets, points } = straightPolylines(positions, source, target, spacing);
  return { offsets, samples: points };
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
  buf.end.fill(0, 0, S);
  for (let e = 0; e + 1 < offsets.length; e++) if (offsets[e + 1] > offsets[e]) buf.end[offsets[e + 1] - 1] = 1;
  if (!scene.hasImportance) {
    const alpha = net.edgeImportance;
    buf.mix.fill(0, 0, S * MAX_CLASS_CHANNELS);
    if (!alpha) buf.importance.fill(1, 0, S);
    else for (let e = 0; e + 1 < offsets.length; e++) buf.importance.fill(alpha[e], offsets[e], offsets[e + 1]);
  } else {
    const { overall, classes } = edgeSampleImportance(net, offsets, edgeImportanceType(net));
    const C = net.classNames.length;
    buf.importance.set(overall);
    for (let i = 0; i < S; i++) writeMix(buf.mix, i * MAX_CLASS_CHANNELS, classes, i * C, C);
  }
  packTexels(buf, samples, S);
}

/** Fills node instances: overall = normalised length of the class-importance row. */
export function fillNodes(buf: InstanceBuffers, scene: SceneNetwork): void {
  const { net, nodePositions } = scene;
  const N = nodePositions.length / 3;
  buf.count = N;
  // Nodes are drawn only in modes that ignore the end flag; 0 keeps their importance exact.
  buf.end.fill(0, 0, N);
  if (!scene.hasImportance) {
    buf.importance.fill(1, 0, N);
    buf.mix.fill(0, 0, N * MAX_CLASS_CHANNELS);
  } else {
    const { mix, overall } = nodeMix(net);
    const C = net.classNames.length;
    buf.importance.set(overall);
    for (let n = 0; n < N; n++) writeMix(buf.mix, n * MAX_CLASS_CHANNELS, mix, n * C, C);
  }
  packTexels(buf, nodePositions, N);
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
