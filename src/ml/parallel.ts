// Classes are independent, so their importance runs spread over worker threads.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.ts';
import type { Network } from '../core/network.ts';
import type { Dataset } from './data.ts';
import { classImportance, type ClassImportance, type ImportanceOptions } from './importance.ts';

export interface ImportanceJob {
  net: Network;
  train: Dataset;
  test: Dataset;
  opts: ImportanceOptions;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'epoch'; c: number; epoch: number; loss: number }
  | { type: 'done'; result: ClassImportance }
  | { type: 'error'; c: number; message: string; input: boolean };

export interface PoolOptions {
  /** Worker threads; 1 runs in this thread. Default: one per core. */
  threads?: number;
  onEpoch?: (c: number, epoch: number, loss: number) => void;
  onClassDone?: (result: ClassImportance) => void;
}

/** Importance of every listed class, in class order, whatever order the workers finish in. */
export async function importanceForClasses(job: ImportanceJob, classes: readonly number[], pool: PoolOptions = {}): Promise<ClassImportance[]> {
  const threads = Math.max(1, Math.min(pool.threads ?? availableParallelism(), classes.length));
  const results: ClassImportance[] = [];
  if (threads === 1) {
    for (const c of classes) {
      const r = await classImportance(job.net, job.train, job.test, c, job.opts, (e, l) => pool.onEpoch?.(c, e, l));
      results.push(r);
      pool.onClassDone?.(r);
    }
    return results;
  }
  const queue = [...classes];
  const workers: Worker[] = [];
  // the workers read the samples in place instead of each receiving a copy (60,000 MNIST digits are 188 MB)
  const sharedJob: ImportanceJob = { ...job, train: shareDataset(job.train), test: shareDataset(job.test) };
  try {
    await new Promise<void>((resolve, reject) => {
      let running = threads;
      for (let t = 0; t < threads; t++) {
        const worker = new Worker(new URL('./ts-worker.js', import.meta.url), {
          workerData: { module: new URL('./importance-worker.ts', import.meta.url).href, job: sharedJob },
        });
        workers.push(worker);
        const next = (): void => {
          const c = queue.shift();
          if (c === undefined) {
            worker.postMessage(null);
            if (--running === 0) resolve();
          } else worker.postMessage(c);
        };
        worker.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready') next();
          else if (m.type === 'epoch') pool.onEpoch?.(m.c, m.epoch, m.loss);
          else if (m.type === 'done') {
            results.push(m.result);
            pool.onClassDone?.(m.result);
            next();
          } else reject(m.input ? new InputError(m.message) : new Error(`class ${m.c}: ${m.message}`));
        });
        worker.on('error', reject);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.sort((a, b) => a.classIndex - b.classIndex);
}

/** The dataset with its samples in SharedArrayBuffers (only the viewed range is copied). */
function shareDataset(d: Dataset): Dataset {
  if (d.x.buffer instanceof SharedArrayBuffer && d.y.buffer instanceof SharedArrayBuffer) return d;
  const x = new Float32Array(new SharedArrayBuffer(d.x.byteLength));
  x.set(d.x);
  const y = new Int32Array(new SharedArrayBuffer(d.y.byteLength));
  y.set(d.y);
  return { ...d, x, y };
}
