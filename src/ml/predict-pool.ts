// Predictions of one network under many weight settings (the steps of the pruning curves),
// spread over worker threads: each step is independent, and nearly all of evaluate's time is
// classifying the data at each step. The data are shared with the workers, not copied.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Network } from '../core/network.ts';
import { shareDataset, type Dataset } from './data.ts';
import { predictClasses, setDenseWeights, toTfModel } from './model.ts';
import { initTf } from './tf.ts';

export interface PredictJob {
  net: Network;
  /** Data sets to classify at every step, in this order. */
  data: Dataset[];
}

export type PredictMessage = { type: 'ready' } | { type: 'done'; id: number; predictions: Int32Array[] } | { type: 'error'; id: number; message: string };

export interface PredictPool {
  /** Predicted classes of every data set with these weights (the network's layout). */
  predict(weights: Float32Array): Promise<Int32Array[]>;
  close(): Promise<void>;
}

/** Predictions for one weight setting after another, in this thread (each worker runs one of these). */
export async function predictWith(job: PredictJob): Promise<{ run: (weights: Float32Array) => Int32Array[]; dispose: () => void }> {
  const tf = await initTf();
  const model = toTfModel(tf, job.net);
  return {
    run: (weights) => {
      setDenseWeights(tf, model, { ...job.net, weights });
      return job.data.map((d) => predictClasses(tf, model, d));
    },
    dispose: () => model.dispose(),
  };
}

export async function createPredictPool(job: PredictJob, threads = availableParallelism()): Promise<PredictPool> {
  if (threads <= 1) {
    const { run, dispose } = await predictWith(job);
    return { predict: async (weights) => run(weights), close: async () => dispose() };
  }
  const shared: PredictJob = { ...job, data: job.data.map(shareDataset) };
  const idle: Worker[] = [];
  const waiting: (() => void)[] = [];
  const pending = new Map<number, { resolve: (p: Int32Array[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    waiting.splice(0).forEach((w) => w());
  };
  const release = (w: Worker): void => {
    idle.push(w);
    waiting.shift()?.();
  };
  const workers = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<Worker>((resolve, reject) => {
          const worker = new Worker(new URL('./ts-worker.js', import.meta.url), {
            workerData: { module: new URL('./predict-worker.ts', import.meta.url).href, job: shared },
          });
          worker.on('message', (m: PredictMessage) => {
            if (m.type === 'ready') {
              resolve(worker);
              release(worker);
              return;
            }
            const p = pending.get(m.id);
            pending.delete(m.id);
            if (m.type === 'done') p?.resolve(m.predictions);
            else fail(new Error(m.message));
            release(worker);
          });
          worker.on('error', (err: Error) => {
            reject(err);
            fail(err);
          });
        }),
    ),
  );
  return {
    async predict(weights) {
      while (idle.length === 0 && !failure) await new Promise<void>((r) => waiting.push(r));
      if (failure) throw failure;
      const worker = idle.pop()!;
      const id = nextId++;
      return new Promise<Int32Array[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, weights });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
