import type { ConfigValues } from '../config.ts';

/** The numbers derived from configs/processing.json (docs/METHOD.md §4.2–4.3), computed once. */
export interface ProcessingParams {
  layerDistance: number;
  layerWidth: number;
  /** Edge polylines are sampled at this spacing: layer_width / sampling_rate. */
  sampleLength: number;
  /** Density grid cell side: sample_length / 3. */
  cell: number;
  /** Both schedules stop once the bandwidth falls below this: 2 cells. */
  limit: number;
  nodeBandwidth0: number;
  edgeBandwidth0: number;
  nodeReduction: number;
  edgeReduction: number;
  importanceType: 0 | 1 | 2 | 3;
  prunePercentage: number;
  smoothing: boolean;
  smoothingIterations: number;
  /** Edge density: each sample adds its class share ('share') or share × importance ('importance'). */
  classDensity: 'share' | 'importance';
  /** Node density: one x/y field of all layers ('shared') or one per layer. */
  nodeField: 'shared' | 'per_layer';
}

export function processingParams(config: ConfigValues): ProcessingParams {
  const layerWidth = config.layer_width as number;
  const sampleLength = layerWidth / (config.sampling_rate as number);
  const cell = sampleLength / 3;
  return {
    layerDistance: config.layer_distance as number,
    layerWidth,
    sampleLength,
    cell,
    limit: 2 * cell,
    nodeBandwidth0: 0.75 * layerWidth,
    edgeBandwidth0: 0.5 * layerWidth,
    nodeReduction: config.node_bandwidth_reduction as number,
    edgeReduction: config.edge_bandwidth_reduction as number,
    importanceType: config.edge_importance_type as 0 | 1 | 2 | 3,
    prunePercentage: config.prune_percentage as number,
    smoothing: config.smoothing as boolean,
    smoothingIterations: config.smoothing_iterations as number,
    nodeField: config.node_field as 'shared' | 'per_layer',
    classDensity: config.class_density as 'share' | 'importance',
  };
}

/** Bandwidth of iteration t: h0 · r^t. */
export function bandwidthAt(h0: number, reduction: number, iteration: number): number {
  return h0 * reduction ** iteration;
}

/** Number of iterations before h_t drops below the limit (the whole schedule). */
export function scheduleLength(h0: number, reduction: number, limit: number): number {
  let t = 0;
  while (bandwidthAt(h0, reduction, t) >= limit) t++;
  return t;
}

/** Grows 0 → 1 as the bandwidth shrinks toward the limit; makes classes repel more. */
export function importanceSimilarity(h: number, h0: number, limit: number): number {
  return Math.sqrt(Math.max(0, 1 - (h - limit) / (h0 - limit)));
}
