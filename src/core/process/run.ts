import type { ConfigValues } from '../config.ts';
import type { Network } from '../network.ts';
import type { Lanes } from './lanes.ts';
import { qualityMetrics, type QualityMetrics } from './metrics.ts';
import {
  createProcessing,
  edgeAdvect,
  edgeSampleArrays,
  edgeSchedule,
  keptEdgeCount,
  nodeAdvect,
  nodeSchedule,
  rebuildEdges,
  sampleCount,
  type ProcessingState,
  type StepReport,
} from './state.ts';

export interface ProcessOptions {
  seed: number;
  /** Where the per-sample work runs (default: one lane, in process). */
  lanes?: Lanes;
  /** Checked between iterations; set `aborted` to stop early. */
  signal?: { readonly aborted: boolean };
  onStep?: (report: StepReport, state: ProcessingState) => void;
  /** Called once the state exists, before any step (e.g. to check its memory). */
  onStart?: (state: ProcessingState) => void;
  /** Wall-clock source for the per-phase times (performance.now on both platforms). */
  now?: () => number;
}

export interface ProcessingStats {
  edges: number;
  prunedEdges: number;
  samples: number;
  gridCells: number;
  nodeIterations: number;
  edgeIterations: number;
  quality: QualityMetrics;
}

/** Wall-clock seconds per phase; kept out of the file so outputs stay byte-identical. */
export interface ProcessingTimes {
  nodes: number;
  edges: number;
  metrics: number;
}

export class ProcessingAborted extends Error {
  constructor() {
    super('processing stopped');
  }
}

/**
 * The whole processing run (docs/METHOD.md §4): node advection until its bandwidth limit, edges rebuilt from the
 * new node positions, then edge advection (with re-sampling and smoothing) until its
 * limit. Returns the processed network with its statistics in meta.processing.
 */
export function processNetwork(
  net: Network,
  config: ConfigValues,
  opts: ProcessOptions,
): { network: Network; stats: ProcessingStats; seconds: ProcessingTimes } {
  const now = opts.now ?? (() => performance.now());
  const state = createProcessing(net, config, opts.seed, opts.lanes);
  opts.onStart?.(state);
  const t0 = now();
  for (let t = 0; t < nodeSchedule(state); t++) {
    if (opts.signal?.aborted) throw new ProcessingAborted();
    const report = nodeAdvect(state);
    opts.onStep?.(report, state);
  }
  rebuildEdges(state);
  const straight = state.gaps.map((g) => g.lines);
  const t1 = now();
  for (let t = 0; t < edgeSchedule(state); t++) {
    if (opts.signal?.aborted) throw new ProcessingAborted();
    const report = edgeAdvect(state);
    opts.onStep?.(report, state);
  }
  const t2 = now();
  const stats: ProcessingStats = {
    edges: keptEdgeCount(state),
    prunedEdges: state.source.length - keptEdgeCount(state),
    samples: sampleCount(state),
    gridCells: gridCells(state),
    nodeIterations: state.nodeIteration,
    edgeIterations: state.edgeIteration,
    quality: qualityMetrics(state, straight),
  };
  const seconds = { nodes: (t1 - t0) / 1000, edges: (t2 - t1) / 1000, metrics: (now() - t2) / 1000 };
  return { network: toProcessedNetwork(state, stats), stats, seconds };
}

/** Cells of one gap's density grid (docs/METHOD.md §4.2; 2.09 million for 784-81-49-10, as in nn_vis). */
export function gridCells(state: ProcessingState): number {
  const d = state.gaps[0]?.grid.dims ?? [0, 0, 0];
  return d[0] * d[1] * d[2];
}

export function toProcessedNetwork(state: ProcessingState, stats?: ProcessingStats): Network {
  const net = state.net;
  return {
    ...net,
    nodePositions: new Float32Array(state.nodePositions),
    ...edgeSampleArrays(state),
    meta: {
      ...net.meta,
      processing: {
        config: state.config,
        seed: state.seed,
        backend: state.lanes.backend,
        nodeIterations: state.nodeIteration,
        edgeIterations: state.edgeIteration,
        ...(stats ? { stats: { ...stats } } : {}),
      },
    },
  };
}
