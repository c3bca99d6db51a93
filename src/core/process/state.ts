// The processing state and the single actions the viewer and the full run are made of
// (docs/METHOD.md §4). Actions update the state's buffers in place — positions of ~1M samples are
// too big to copy per iteration — and report what they did.
import { InputError } from '../errors.ts';
import { randomImportance } from '../generate.ts';
import { layoutPositions } from '../layout.ts';
import { edgeCount, edgeOffset, nodeOffset, type Network } from '../network.ts';
import { createRng, type Rng } from '../random.ts';
import type { ConfigValues } from '../config.ts';
import { densityBox, densityField, gradients, type Field } from './density.ts';
import { clampInside, gapGrid, insetBounds, layerGrid, networkBoundsXY, type GridSpec } from './grid.ts';
import { bandwidthAt, importanceSimilarity, processingParams, scheduleLength, type ProcessingParams } from './params.ts';
import { inProcessLanes } from './kernels.ts';
import type { Lanes } from './lanes.ts';
import { length3, pointCap, resamplePolylines, smoothPolylines, straightPolylines, type PolylineSet, type Smoothing } from './polyline.ts';
import { edgeEndpoints, nodeMix, type NodeMix } from './sample-importance.ts';
import type { AdvectArgs } from './wasm/advect.ts';

/** The edges of one layer gap and their polylines, with that gap's density grid. */
export interface Gap {
  /** Global indices of the gap's kept (unpruned) edges, ascending. */
  edges: Uint32Array;
  /** Per kept edge: source node, target node, alpha (shared with the lanes). */
  source: Uint32Array;
  target: Uint32Array;
  alpha: Float32Array;
  lines: PolylineSet;
  grid: GridSpec;
}

export interface ProcessingState {
  /** The input, with importance (random importance, docs/METHOD.md §6, when it had none). */
  readonly net: Network;
  readonly params: ProcessingParams;
  readonly config: ConfigValues;
  readonly nodes: NodeMix;
  readonly source: Uint32Array;
  readonly target: Uint32Array;
  readonly layerGrids: GridSpec[];
  readonly gaps: Gap[];
  nodePositions: Float32Array;
  /** Points an edge polyline keeps at most (pointCap of the longest straight edge; set by rebuildEdges). */
  maxPoints: number;
  nodeIteration: number;
  edgeIteration: number;
  readonly rng: Rng;
  readonly seed: number;
  /** Where the per-sample work runs: one lane in process, or worker threads (src/cli/lanes.ts). */
  readonly lanes: Lanes;
}

export type Phase = 'nodes' | 'edges';

/** What one action did: the phase, the bandwidth it used and whether its schedule is done. */
export interface StepReport {
  phase: Phase;
  iteration: number;
  iterations: number;
  bandwidth: number;
  limit: number;
  done: boolean;
}

/** Move of a node per advection step, relative to the bandwidth (docs/METHOD.md §4.6). */
const NODE_STEP = 0.2;
/**
 * The importance similarity s grows 0 → 1 (docs/METHOD.md §4.3) and is scaled by this before it enters
 * the potential Σ u_c·ρ_c − s·|ρ|. Class mixes are unit vectors, so their drive is at most
 * 1: at s → 1 every cell's potential is ≤ 0 and empty space is the maximum, so samples
 * flee all density (measured on 784-16-10: ink ×7.7, polylines 2.7× their straight length,
 * loops everywhere). At 0.5 cells whose class mix lies within 60° of the sample's still
 * attract it and the others repel it, which separates classes without tearing bundles.
 */
export const SIMILARITY_SCALE = 0.5;
/**
 * For nodes the similarity ends slightly above 1, so that in the last iterations nodes with
 * the same class mix push each other apart to about a bandwidth's spacing: with the reference's
 * s ≤ 1 their potential is flat and every layer of a trained MNIST network collapsed into
 * one blob (input layer: 784 nodes on one point). Clusters of different classes still form
 * first, while s is small.
 */
export const NODE_SIMILARITY_SCALE = 1.2;
/** Nodes and samples stay this many cells inside their grid. */
const INSET = 2;

export function createProcessing(input: Network, config: ConfigValues, seed: number, lanes: Lanes = inProcessLanes()): ProcessingState {
  const params = processingParams(config);
  const rng = createRng(seed);
  const net: Network = input.nodeImportance && input.edgeImportance ? input : { ...input, ...randomImportance(input.layers, rng) };
  const positions = layoutPositions(net.layers, params);
  const bounds = networkBoundsXY(positions, net.layers);
  const L = net.layers.length;
  const z0 = (-(L - 1) * params.layerDistance) / 2;
  const { source, target } = edgeEndpoints(net.layers);
  const kept = keptEdges(net.edgeImportance!, params.prunePercentage);
  const gaps: Gap[] = [];
  for (let k = 0; k + 1 < L; k++) {
    const e0 = edgeOffset(net.layers, k);
    const e1 = e0 + net.layers[k] * net.layers[k + 1];
    const edges = kept.filter((e) => e >= e0 && e < e1);
    const gapSource = lanes.u32(edges.length);
    const gapTarget = lanes.u32(edges.length);
    const gapAlpha = lanes.f32(edges.length);
    edges.forEach((e, i) => {
      gapSource[i] = source[e];
      gapTarget[i] = target[e];
      gapAlpha[i] = net.edgeImportance![e];
    });
    gaps.push({
      edges,
      source: gapSource,
      target: gapTarget,
      alpha: gapAlpha,
      lines: { offsets: new Uint32Array(edges.length + 1), points: new Float32Array(0) },
      grid: gapGrid(bounds, z0 + k * params.layerDistance, params),
    });
  }
  const state: ProcessingState = {
    net,
    params,
    config,
    nodes: nodeMix(net),
    source,
    target,
    layerGrids: net.layers.map((_, k) => layerGrid(bounds, z0 + k * params.layerDistance, params)),
    gaps,
    nodePositions: positions,
    maxPoints: 0,
    nodeIteration: 0,
    edgeIteration: 0,
    rng,
    seed,
    lanes,
  };
  rebuildEdges(state);
  return state;
}

/** Kept edges, ascending: all but the `share` least important (ties: lower index kept). */
function keptEdges(alpha: Float32Array, share: number): Uint32Array {
  const drop = Math.floor(share * alpha.length);
  if (drop === 0) return Uint32Array.from({ length: alpha.length }, (_, i) => i);
  const order = Uint32Array.from({ length: alpha.length }, (_, i) => i).sort((a, b) => alpha[a] - alpha[b] || b - a);
  return order.subarray(drop).sort();
}

export function nodeSchedule(state: ProcessingState): number {
  const p = state.params;
  return scheduleLength(p.nodeBandwidth0, p.nodeReduction, p.limit);
}

export function edgeSchedule(state: ProcessingState): number {
  const p = state.params;
  return scheduleLength(p.edgeBandwidth0, p.edgeReduction, p.limit);
}

/** Where a phase's schedule stands: its next iteration, bandwidth and whether it is done. */
export function stepReport(state: ProcessingState, phase: Phase): StepReport {
  const p = state.params;
  const nodes = phase === 'nodes';
  const iteration = nodes ? state.nodeIteration : state.edgeIteration;
  const iterations = nodes ? nodeSchedule(state) : edgeSchedule(state);
  const bandwidth = bandwidthAt(nodes ? p.nodeBandwidth0 : p.edgeBandwidth0, nodes ? p.nodeReduction : p.edgeReduction, iteration);
  return { phase, iteration, iterations, bandwidth, limit: p.limit, done: iteration >= iterations };
}

/**
 * One node advection step (direction −1: diverge) in every layer plane, at the current
 * node bandwidth; the bandwidth then shrinks. Edges keep their old polylines until
 * `rebuildEdges`.
 */
export function nodeAdvect(state: ProcessingState, direction: 1 | -1 = 1): StepReport {
  const p = state.params;
  const h = bandwidthAt(p.nodeBandwidth0, p.nodeReduction, state.nodeIteration);
  const s = NODE_SIMILARITY_SCALE * importanceSimilarity(h, p.nodeBandwidth0, p.limit);
  const { mix, overall, classes: C } = state.nodes;
  const pos = state.nodePositions;
  const layerField = (first: number, n: number, grid: GridSpec): Field =>
    densityField({
      points: pos.subarray(first * 3, (first + n) * 3),
      mix: mix.subarray(first * C, (first + n) * C),
      overall: overall.subarray(first, first + n),
      count: n,
      channels: C,
      radius: h,
      grid,
      planar: true,
    });
  // shared: one x/y field of every layer's nodes (planar fields ignore z), so same-class nodes of
  // different layers attract each other and clusters line up across the layers
  const shared = p.nodeField === 'shared' ? layerField(0, pos.length / 3, state.layerGrids[0]) : undefined;
  state.net.layers.forEach((n, k) => {
    const first = nodeOffset(state.net.layers, k);
    const points = pos.subarray(first * 3, (first + n) * 3);
    const grid = state.layerGrids[k];
    const field = shared ?? layerField(first, n, grid);
    const g = new Float32Array(n * 3);
    gradients(field, points, n, mix.subarray(first * C, (first + n) * C), s, true, g);
    const moved = new Float32Array(points);
    for (let i = 0; i < n; i++) {
      const len = Math.sqrt(g[i * 3] * g[i * 3] + g[i * 3 + 1] * g[i * 3 + 1]);
      if (len === 0) continue;
      const step = (direction * NODE_STEP * h) / len;
      moved[i * 3] += step * g[i * 3];
      moved[i * 3 + 1] += step * g[i * 3 + 1];
      // as nn_vis: the wider the step, the farther from the border, so early wide steps cannot pile nodes on it
      clampInside(grid, moved, i * 3, INSET + (NODE_STEP * h) / grid.cell);
    }
    points.set(moved);
  });
  state.nodeIteration++;
  return stepReport(state, 'nodes');
}

/** Jitters every node in its layer plane by up to strength · sample_length per axis. */
export function nodeNoise(state: ProcessingState, strength = 1): StepReport {
  const amount = strength * state.params.sampleLength;
  const pos = state.nodePositions;
  state.net.layers.forEach((n, k) => {
    const first = nodeOffset(state.net.layers, k);
    for (let i = first; i < first + n; i++) {
      pos[i * 3] += (2 * state.rng() - 1) * amount;
      pos[i * 3 + 1] += (2 * state.rng() - 1) * amount;
      clampInside(state.layerGrids[k], pos, i * 3, INSET);
    }
  });
  return stepReport(state, 'nodes');
}

/** Straight, evenly sampled polylines for every kept edge from the current node positions. */
export function rebuildEdges(state: ProcessingState): void {
  for (const gap of state.gaps) gap.lines = shared(state.lanes, straightPolylines(state.nodePositions, gap.source, gap.target, sampleSpacing(state)));
  state.maxPoints = pointCap(longestEdge(state), state.params.sampleLength);
}

/** The longest straight distance between the end nodes of a kept edge. */
function longestEdge(state: ProcessingState): number {
  const pos = state.nodePositions;
  let longest = 0;
  for (const gap of state.gaps) {
    for (let i = 0; i < gap.source.length; i++) {
      const a = gap.source[i] * 3;
      const b = gap.target[i] * 3;
      longest = Math.max(longest, length3(pos[b] - pos[a], pos[b + 1] - pos[a + 1], pos[b + 2] - pos[a + 2]));
    }
  }
  return longest;
}

/** The set on memory every lane can read (a copy only when the lanes are threads). */
function shared(lanes: Lanes, set: PolylineSet): PolylineSet {
  if (lanes.count === 1) return set;
  const offsets = lanes.u32(set.offsets.length);
  const points = lanes.f32(set.points.length);
  offsets.set(set.offsets);
  points.set(set.points);
  return { offsets, points };
}

/** Class mix (S × C) and overall importance (S) of every sample of a gap (docs/METHOD.md §4.5). */
export function gapSampleMix(state: ProcessingState, gap: Gap, lines = gap.lines): { mix: Float32Array; overall: Float32Array } {
  const { offsets } = lines;
  const S = offsets[offsets.length - 1];
  const mix = state.lanes.f32(S * state.nodes.classes);
  const overall = state.lanes.f32(S);
  state.lanes.run('sampleMix', {
    offsets,
    source: gap.source,
    target: gap.target,
    alpha: gap.alpha,
    type: state.params.importanceType,
    mix,
    overall,
    rawImportance: state.net.nodeImportance,
    nodes: state.nodes,
  });
  return { mix, overall };
}

/**
 * The density field of a gap's polylines: a kernel on every sample (see segmentRadius),
 * adding to each class channel the sample's class share, times its importance with
 * class_density "importance". With "share" (nn_vis) every edge pulls with the same weight,
 * so the many faint edges shape the bundles as much as the few strong ones.
 */
export function gapDensity(state: ProcessingState, gap: Gap, bandwidth: number, sample: { mix: Float32Array; overall: Float32Array }): Field {
  const { offsets, points } = gap.lines;
  return densityField({
    points,
    mix: sample.mix,
    overall: state.params.classDensity === 'share' ? undefined : sample.overall,
    count: offsets[offsets.length - 1],
    channels: state.nodes.classes,
    radius: segmentRadius(bandwidth, sampleSpacing(state)),
    grid: gap.grid,
    planar: false,
  }, state.lanes);
}

/**
 * Radius of the kernel put on each sample, standing in for the kernels of the segments
 * around it: the reference measures distance to a segment as |c − a| + |c − b| − L, whose support
 * within bandwidth h is an ellipsoid with semi-minor axis √(h² + 2hL) / 2; the sample
 * kernels reach that far across the polyline (test/process-density.test.ts compares both).
 */
export function segmentRadius(h: number, length: number): number {
  return Math.sqrt(h * h + 2 * h * length) / 2;
}

/**
 * One edge advection step (direction −1: diverge) at the current edge bandwidth: every
 * inner sample moves by the bandwidth along its normalised density gradient, then the
 * polylines are re-sampled and (if configured) smoothed. End points never move. (nn_vis
 * smooths before it re-samples; docs/PROCESSING.md measures why we do not.)
 */
export function edgeAdvect(state: ProcessingState, direction: 1 | -1 = 1): StepReport {
  moveEdgeSamples(state, direction);
  state.edgeIteration++;
  resampleEdges(state, state.params.smoothing);
  return stepReport(state, 'edges');
}

/** The advection of edgeAdvect alone: every inner sample moves, nothing is re-sampled. */
export function moveEdgeSamples(state: ProcessingState, direction: 1 | -1 = 1): void {
  const p = state.params;
  const h = bandwidthAt(p.edgeBandwidth0, p.edgeReduction, state.edgeIteration);
  const s = SIMILARITY_SCALE * importanceSimilarity(h, p.edgeBandwidth0, p.limit);
  for (const gap of state.gaps) {
    if (gap.edges.length === 0) continue;
    const { offsets, points } = gap.lines;
    const moved = state.lanes.f32(points.length);
    if (state.lanes.backend === 'wasm') advectWasm(state, gap, h, s, direction, moved);
    else advectJs(state, gap, h, s, direction, moved);
    gap.lines = { offsets, points: moved };
  }
}

/** One gap's advection with the JS kernels, step by step: class mixes, density, gradients, move. */
function advectJs(state: ProcessingState, gap: Gap, h: number, s: number, direction: 1 | -1, moved: Float32Array): void {
  const sample = gapSampleMix(state, gap);
  const field = gapDensity(state, gap, h, sample);
  const { offsets, points } = gap.lines;
  const S = offsets[offsets.length - 1];
  const g = state.lanes.f32(S * 3);
  gradients(field, points, S, sample.mix, s, false, g, state.lanes);
  state.lanes.run('move', { offsets, points, g, moved, direction, h, bounds: insetBounds(gap.grid, INSET) });
}

/** The same step as one WebAssembly kernel per lane (wasm/advect.ts). */
function advectWasm(state: ProcessingState, gap: Gap, h: number, s: number, direction: 1 | -1, moved: Float32Array): void {
  const { offsets, points } = gap.lines;
  const S = offsets[offsets.length - 1];
  const { cell, k, origin, dims } = densityBox(points, S, segmentRadius(h, sampleSpacing(state)), gap.grid, false);
  const { lo, hi } = insetBounds(gap.grid, INSET);
  const { nodes, net, params } = state;
  state.lanes.run('advect', {
    offsets,
    points,
    source: gap.source,
    target: gap.target,
    alpha: gap.alpha,
    nodeMix: nodes.mix,
    nodeOverall: nodes.overall,
    raw: net.nodeImportance,
    rawNorm: nodes.norm,
    type: params.importanceType,
    C: nodes.classes,
    cell,
    origin,
    dims,
    k,
    share: params.classDensity === 'share' ? 1 : 0,
    s,
    h: direction * h,
    clampLo: lo,
    clampHi: hi,
    moved,
  } satisfies AdvectArgs);
}

/** Jitters every inner edge sample by up to strength · sample_length per axis. */
export function edgeNoise(state: ProcessingState, strength = 1): StepReport {
  const amount = strength * state.params.sampleLength;
  for (const gap of state.gaps) {
    const { offsets, points } = gap.lines;
    for (let i = 0; i + 1 < offsets.length; i++) {
      for (let a = offsets[i] + 1; a + 1 < offsets[i + 1]; a++) {
        for (let d = 0; d < 3; d++) points[a * 3 + d] += (2 * state.rng() - 1) * amount;
        clampInside(gap.grid, points, a * 3, INSET);
      }
    }
  }
  return stepReport(state, 'edges');
}

/** The spacing of the samples never exceeds bandwidth / this. */
const SAMPLES_PER_BANDWIDTH = 1.5;

/**
 * Spacing of the edge samples for the current edge iteration: sample_length, or coarser
 * while the bandwidth is large — a kernel that wide needs no finer polylines, and the
 * first full-bandwidth moves stretch polylines to several times their length (measured on
 * 784-81-49-10: 1.0 → 6.5 million samples at sample_length; measured: h/1.5 instead of h/2
 * costs 29 % less with the same ink and class separation). From h < 1.5 · sample_length on
 * (and so in every output), the spacing is sample_length.
 */
export function sampleSpacing(state: ProcessingState): number {
  const p = state.params;
  return Math.max(p.sampleLength, bandwidthAt(p.edgeBandwidth0, p.edgeReduction, state.edgeIteration) / SAMPLES_PER_BANDWIDTH);
}

/** Re-samples every polyline at the current spacing; with `smooth`, smooths it too, in the same pass (as smoothEdges would). */
export function resampleEdges(state: ProcessingState, smooth = false): void {
  const smoothing = smooth ? edgeSmoothing(state) : undefined;
  for (const gap of state.gaps) gap.lines = resamplePolylines(gap.lines, sampleSpacing(state), state.maxPoints, state.lanes, smoothing);
}

export function smoothEdges(state: ProcessingState): void {
  const { passes, bandwidthRatio } = edgeSmoothing(state);
  for (const gap of state.gaps) gap.lines = smoothPolylines(gap.lines, passes, bandwidthRatio, state.lanes);
}

/** Smoothing (docs/METHOD.md §4.8) at the current edge iteration: smoothing_iterations passes, radius scaled by h_t / h_0. */
function edgeSmoothing(state: ProcessingState): Smoothing {
  const p = state.params;
  return { passes: p.smoothingIterations, bandwidthRatio: bandwidthAt(1, p.edgeReduction, state.edgeIteration) };
}

/** All polylines in the container's layout: E + 1 offsets in edge order, pruned edges empty. */
export function edgeSampleArrays(state: ProcessingState): { edgeSampleOffsets: Uint32Array; edgeSamples: Float32Array } {
  const E = edgeCount(state.net.layers);
  const counts = new Uint32Array(E);
  for (const gap of state.gaps) {
    const o = gap.lines.offsets;
    gap.edges.forEach((e, i) => (counts[e] = o[i + 1] - o[i]));
  }
  const edgeSampleOffsets = new Uint32Array(E + 1);
  for (let e = 0; e < E; e++) edgeSampleOffsets[e + 1] = edgeSampleOffsets[e] + counts[e];
  const edgeSamples = new Float32Array(edgeSampleOffsets[E] * 3);
  for (const gap of state.gaps) {
    const o = gap.lines.offsets;
    gap.edges.forEach((e, i) => edgeSamples.set(gap.lines.points.subarray(o[i] * 3, o[i + 1] * 3), edgeSampleOffsets[e] * 3));
  }
  return { edgeSampleOffsets, edgeSamples };
}

export function sampleCount(state: ProcessingState): number {
  return state.gaps.reduce((a, g) => a + g.lines.offsets[g.lines.offsets.length - 1], 0);
}

export function keptEdgeCount(state: ProcessingState): number {
  return state.gaps.reduce((a, g) => a + g.edges.length, 0);
}

/** Fails early, naming the sizes, when a run would need more memory than `limitBytes`. */
export function checkMemory(state: ProcessingState, limitBytes: number, source: string): number {
  const estimate = estimateMemory(state);
  if (estimate > limitBytes) {
    const gb = (b: number) => (b / 1e9).toFixed(2);
    throw new InputError(
      `${source}: processing ${state.net.layers.join('-')} (${keptEdgeCount(state)} edges, ${(sampleCount(state) / 1e6).toFixed(1)} million samples) needs about ${gb(estimate)} GB, over the ${gb(limitBytes)} GB limit; ` +
        `raise prune_percentage (e.g. --set prune_percentage=0.9), lower sampling_rate (min 5), or raise --max-memory`,
    );
  }
  return estimate;
}

/**
 * Peak bytes of a run: per sample its position (three copies while re-sampling and
 * smoothing) and, with the JS kernels, its class mix, overall weight and gradient (the
 * WebAssembly kernels keep a fourth copy instead), for the samples of the straight edges at
 * sample_length times the growth of bundled polylines mid-run (measured: about ×3 on
 * 784-81-49-10 and 784-256-128-10), plus the density box of one gap at the full-resolution cell.
 * Measured peak RSS is 0.8–1.06× this estimate (WebAssembly; JS 0.7–0.9×), one thread or two.
 */
export function estimateMemory(state: ProcessingState): number {
  const C = state.nodes.classes;
  const L = state.params.sampleLength;
  const pos = state.nodePositions;
  let straight = 0;
  for (const gap of state.gaps) {
    for (const e of gap.edges) {
      const a = state.source[e] * 3;
      const b = state.target[e] * 3;
      straight += Math.ceil(length3(pos[b] - pos[a], pos[b + 1] - pos[a + 1], pos[b + 2] - pos[a + 2]) / L) + 1;
    }
  }
  // The WebAssembly kernels compute class mixes and gradients where they are used.
  const perSample = state.lanes.backend === 'wasm' ? 4 * 12 : 3 * 12 + 4 * C + 4 + 12;
  const grid = Math.max(0, ...state.gaps.map((g) => g.grid.dims[0] * g.grid.dims[1] * g.grid.dims[2]));
  // Threads keep the buffers of an iteration alive until all lanes let go (measured ×1.5).
  const threads = state.lanes.count > 1 ? 1.5 : 1;
  return threads * (3 * straight * perSample + grid * C * 4 * 2) + 100e6;
}
