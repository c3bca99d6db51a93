// Classes are independent, so their importance runs spread over worker threads: each thread
// fine-tunes a group of classes as one stacked program (importance-stacked.ts). A class's result
// is the same whichever group it is in, so the thread count changes the speed only.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.ts';
import { indicesByClass, shareDataset } from './data.ts';
import { importanceForGroup, type ClassImportance, type ImportanceData, type ImportanceOptions } from './importance.ts';
import { stackBytesPerClass } from './importance-stacked.ts';

export interface ImportanceJob extends ImportanceData {
  opts: ImportanceOptions;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'epoch'; c: number; epoch: number; loss: number }
  | { type: 'done'; result: ClassImportance }
  | { type: 'idle' }
  | { type: 'error'; classes: number[]; message: string; input: boolean };

export interface PoolOptions {
  /** Worker threads; 1 runs in this thread. Default: one per core. */
  threads?: number;
  onEpoch?: (c: number, epoch: number, loss: number) => void;
  onClassDone?: (result: ClassImportance) => void;
}

/** Activations of one stacked program stay under this (the classes of a group beyond it go to another group). */
const STACK_BYTES = 96e6;

/** Importance of every listed class, in class order, whatever order the workers finish in. */
export async function importanceForClasses(job: ImportanceJob, classes: readonly number[], pool: PoolOptions = {}): Promise<ClassImportance[]> {
  const threads = Math.max(1, Math.min(pool.threads ?? availableParallelism(), classes.length));
  const groups = planGroups(job, classes, threads);
  const results: ClassImportance[] = [];
  if (threads === 1) {
    for (const g of groups) {
      results.push(...(await importanceForGroup(job, g, job.opts, { onEpoch: pool.onEpoch, onClassDone: pool.onClassDone })));
    }
    return results.sort((a, b) => a.classIndex - b.classIndex);
  }
  const queue = [...groups];
  const workers: Worker[] = [];
  // the workers read the samples in place instead of each receiving a copy (60,000 MNIST digits are 188 MB)
  const sharedJob: ImportanceJob = { ...job, train: shareDataset(job.train), test: shareDataset(job.test) };
  try {
    await new Promise<void>((resolve, reject) => {
      let running = Math.min(threads, groups.length);
      for (let t = 0; t < running; t++) {
        const worker = new Worker(new URL('./ts-worker.js', import.meta.url), {
          workerData: { module: new URL('./importance-worker.ts', import.meta.url).href, job: sharedJob },
        });
        workers.push(worker);
        const next = (): void => {
          const group = queue.shift();
          if (group === undefined) {
            worker.postMessage(null);
            if (--running === 0) resolve();
          } else worker.postMessage(group);
        };
        worker.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready' || m.type === 'idle') next();
          else if (m.type === 'epoch') pool.onEpoch?.(m.c, m.epoch, m.loss);
          else if (m.type === 'done') {
            results.push(m.result);
            pool.onClassDone?.(m.result);
          } else reject(m.input ? new InputError(m.message) : new Error(`${m.classes.length > 1 ? 'classes' : 'class'} ${m.classes.join(', ')}: ${m.message}`));
        });
        worker.on('error', reject);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.sort((a, b) => a.classIndex - b.classIndex);
}

/**
 * The classes split into at least `threads` groups of about equal work (Adam steps: one-vs-rest
 * samples over the batch size), largest first; a group holds no more classes than fit STACK_BYTES.
 */
export function planGroups(job: ImportanceJob, classes: readonly number[], threads: number): number[][] {
  const counts = indicesByClass(job.train).map((idx) => idx.length);
  const others = counts.filter((n) => n > 0).length - 1;
  const steps = (c: number): number => {
    const own = counts[c] ?? 0;
    const share = Math.ceil(own / Math.max(1, others));
    const rest = counts.reduce((a, n, k) => (k === c ? a : a + Math.min(n, share)), 0);
    return Math.ceil((own + rest) / job.opts.batchSize);
  };
  const perGroup = Math.max(1, Math.floor(STACK_BYTES / stackBytesPerClass(job.net.layers, job.opts.batchSize)));
  const bins = Math.max(threads, Math.ceil(classes.length / perGroup));
  const groups: { classes: number[]; work: number }[] = Array.from({ length: bins }, () => ({ classes: [], work: 0 }));
  // longest processing time first, each class to the least loaded group with room
  for (const c of [...classes].sort((a, b) => steps(b) - steps(a) || a - b)) {
    const open = groups.filter((g) => g.classes.length < perGroup);
    const g = open.reduce((best, x) => (x.work < best.work ? x : best), open[0]);
    g.classes.push(c);
    g.work += steps(c);
  }
  return groups
    .filter((g) => g.classes.length > 0)
    .sort((a, b) => b.work - a.work)
    .map((g) => g.classes.sort((a, b) => a - b));
}
