// The processing worker's logic, platform-neutral: keeps one ProcessingState, runs the
// requested actions one iteration at a time, posts a snapshot after each and yields to
// the event loop in between, so a 'stop' message is seen before the next iteration.
import { applyConfig, defaultConfig } from '../config.ts';
import { decodeNetwork, encodeNetwork } from '../container.ts';
import { InputError } from '../errors.ts';
import { densitySummary } from './grid-summary.ts';
import type { ProcessingAction, ProcessingReply, ProcessingRequest } from './protocol.ts';
import { toProcessedNetwork } from './run.ts';
import {
  createProcessing,
  edgeAdvect,
  edgeNoise,
  edgeSampleArrays,
  edgeSchedule,
  nodeAdvect,
  nodeNoise,
  nodeSchedule,
  rebuildEdges,
  resampleEdges,
  smoothEdges,
  stepReport,
  type ProcessingState,
  type StepReport,
} from './state.ts';

export type Post = (reply: ProcessingReply, transfer?: ArrayBuffer[]) => void;

export function createProcessingHost(post: Post, yieldToEvents: () => Promise<void>): (request: ProcessingRequest) => Promise<void> {
  let state: ProcessingState | undefined;
  let stopRequested = false;
  let busy = false;

  const snapshot = (report: StepReport): void => {
    const s = state!;
    const nodePositions = new Float32Array(s.nodePositions);
    const { edgeSampleOffsets, edgeSamples } = edgeSampleArrays(s);
    post({ type: 'snapshot', nodePositions, edgeSampleOffsets, edgeSamples, report, backend: s.lanes.backend }, [nodePositions.buffer, edgeSampleOffsets.buffer, edgeSamples.buffer] as ArrayBuffer[]);
  };

  /** Runs `count` iterations of one step, with a snapshot after each; false when stopped. */
  const iterate = async (label: string, count: number, step: () => StepReport, done = 0, total = count): Promise<boolean> => {
    for (let i = 0; i < count; i++) {
      await yieldToEvents();
      if (stopRequested) return false;
      snapshot(step());
      post({ type: 'progress', label, fraction: (done + i + 1) / total });
    }
    return true;
  };

  const run = async (action: ProcessingAction, iterations: number): Promise<void> => {
    const s = state!;
    const nodeStep = (dir: 1 | -1) => () => {
      const r = nodeAdvect(s, dir);
      rebuildEdges(s);
      return r;
    };
    switch (action) {
      case 'process': {
        const nodes = Math.max(0, nodeSchedule(s) - s.nodeIteration);
        const edges = Math.max(0, edgeSchedule(s) - s.edgeIteration);
        const total = nodes + edges;
        // nodeStep rebuilds the edges after every node step, so they follow the nodes
        if (!(await iterate('node advection', nodes, nodeStep(1), 0, total))) return;
        await iterate('edge advection', edges, () => edgeAdvect(s, 1), nodes, total);
        return;
      }
      case 'node_advect':
      case 'node_diverge':
        await iterate(action.replace('_', ' '), iterations, nodeStep(action === 'node_advect' ? 1 : -1));
        return;
      case 'node_noise':
        await iterate('node noise', iterations, () => {
          const r = nodeNoise(s);
          rebuildEdges(s);
          return r;
        });
        return;
      case 'edge_advect':
      case 'edge_diverge':
        await iterate(action.replace('_', ' '), iterations, () => edgeAdvect(s, action === 'edge_advect' ? 1 : -1));
        return;
      case 'edge_noise':
        await iterate('edge noise', iterations, () => edgeNoise(s));
        return;
      case 'resample':
      case 'smooth':
        await iterate(action, 1, () => {
          if (action === 'resample') resampleEdges(s);
          else smoothEdges(s);
          return stepReport(s, 'edges');
        });
        return;
    }
  };

  return async (request) => {
    try {
      switch (request.type) {
        case 'stop':
          stopRequested = busy;
          return;
        case 'load': {
          const net = decodeNetwork(new Uint8Array(request.bytes), 'loaded file');
          const config = applyConfig('processing', defaultConfig('processing'), request.config, 'processing settings');
          state = createProcessing(net, config, request.seed);
          snapshot(stepReport(state, 'nodes'));
          post({ type: 'idle' });
          return;
        }
        case 'save': {
          if (!state) throw new InputError('nothing to save: load a network first');
          const bytes = encodeNetwork(toProcessedNetwork(state));
          post({ type: 'saved', bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
          return;
        }
        case 'grid': {
          if (!state) throw new InputError('no network loaded: load one before asking for its density grid');
          const lines = request.edgeSampleOffsets && request.edgeSamples ? { edgeSampleOffsets: request.edgeSampleOffsets, edgeSamples: request.edgeSamples } : undefined;
          const g = densitySummary(state, request.maxCells, { lines, bandwidth: request.bandwidth });
          post({ type: 'grid', ...g }, [g.density.buffer, g.dominant.buffer] as ArrayBuffer[]);
          return;
        }
        case 'action': {
          if (!state) throw new InputError('no network loaded: load one before processing');
          if (busy) throw new InputError(`busy: stop the running action before starting '${request.action}'`);
          busy = true;
          stopRequested = false;
          try {
            await run(request.action, Math.max(1, request.iterations ?? 1));
          } finally {
            busy = false;
            post({ type: 'idle' });
          }
          return;
        }
      }
    } catch (err) {
      post({ type: 'error', message: (err as Error).message });
    }
  };
}
