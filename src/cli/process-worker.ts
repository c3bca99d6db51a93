// Node runner of the processing engine: runs one whole processing pass (docs/METHOD.md §4) in a worker thread and
// reports every iteration, so the main thread keeps drawing progress bars.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { decodeNetwork, encodeNetwork } from '../core/container.ts';
import type { ConfigValues } from '../core/config.ts';
import { processNetwork } from '../core/process/run.ts';
import { checkMemory, edgeSchedule, keptEdgeCount, nodeSchedule, sampleCount } from '../core/process/state.ts';
import { defaultBackend, inProcessLanes } from '../core/process/kernels.ts';
import type { Backend } from '../core/process/lanes.ts';
import { createWorkerLanes } from './lanes.ts';

export interface ProcessJob {
  input: string;
  config: ConfigValues;
  seed: number;
  maxMemoryBytes: number;
  threads: number;
  backend?: Backend;
}

const job = workerData.job as ProcessJob;
const backend = job.backend ?? defaultBackend();
const workerLanes = job.threads > 1 ? createWorkerLanes(job.threads, backend) : undefined;
try {
  const net = decodeNetwork(readFileSync(job.input), job.input);
  const result = processNetwork(net, job.config, {
    seed: job.seed,
    lanes: workerLanes ?? inProcessLanes(backend),
    onStart: (state) => {
      const estimate = checkMemory(state, job.maxMemoryBytes, job.input);
      parentPort!.postMessage({ type: 'start', estimate, nodeIterations: nodeSchedule(state), edgeIterations: edgeSchedule(state), samples: sampleCount(state), edges: keptEdgeCount(state) });
    },
    onStep: (report) => {
      if (report.phase === 'edges') workerLanes?.collect();
      parentPort!.postMessage({ type: 'step', report });
    },
  });
  const bytes = encodeNetwork(result.network);
  parentPort!.postMessage({ type: 'done', bytes, stats: result.stats, seconds: result.seconds }, [bytes.buffer as ArrayBuffer]);
} catch (err) {
  parentPort!.postMessage({ type: 'error', message: (err as Error).message, input: err instanceof Error && err.name === 'InputError' });
} finally {
  await workerLanes?.close();
}
