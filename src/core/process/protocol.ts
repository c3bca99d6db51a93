// Messages between an app and a processing worker (browser Web Worker or Node worker
// thread); the host below answers them on either platform.
import type { ConfigValues } from '../config.ts';
import type { DensitySummary } from './grid-summary.ts';
import type { Backend } from './lanes.ts';
import type { StepReport } from './state.ts';

export type ProcessingAction =
  | 'process'
  | 'node_advect'
  | 'node_diverge'
  | 'node_noise'
  | 'edge_advect'
  | 'edge_diverge'
  | 'edge_noise'
  | 'resample'
  | 'smooth';

export type ProcessingRequest =
  | { type: 'load'; bytes: ArrayBuffer; config: ConfigValues; seed: number }
  | { type: 'action'; action: ProcessingAction; iterations?: number }
  | { type: 'stop' }
  | { type: 'save' }
  /**
   * The density-grid summary (grid-summary.ts) of the loaded state; with edgeSampleOffsets
   * and edgeSamples, of those polylines instead (what the app shows), at `bandwidth` if given.
   */
  | { type: 'grid'; maxCells?: number; edgeSampleOffsets?: Uint32Array; edgeSamples?: Float32Array; bandwidth?: number };

export type ProcessingReply =
  | { type: 'snapshot'; nodePositions: Float32Array; edgeSampleOffsets: Uint32Array; edgeSamples: Float32Array; report: StepReport; backend: Backend }
  | { type: 'progress'; label: string; fraction: number }
  | { type: 'idle' }
  | { type: 'saved'; bytes: ArrayBuffer }
  | ({ type: 'grid' } & DensitySummary)
  | { type: 'error'; message: string };
