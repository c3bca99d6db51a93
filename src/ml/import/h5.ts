// HDF5 files for the Keras importers, read in a worker thread (h5-worker.js says why): the
// worker gets the file's bytes (never a path: nothing is written to disk, so an interrupted
// import leaves nothing behind), answers with the object tree (groups, their string
// attributes, dataset metadata) and then the float datasets asked for. A trap, a hang (past a
// timeout) or a worker out of memory ends that worker, and so do a few hundred failed files
// (HDF5 can carry damage from one corrupt file to a later one); the next file gets a fresh
// worker. Files are read one at a time. Every failure is an InputError naming the file.

import { Worker } from 'node:worker_threads';
import { InputError } from '../../core/errors.ts';
import { printable } from '../../core/text.ts';
import { fail, MAX_JSON_BYTES, MAX_WEIGHT_VALUES } from './common.ts';

export type H5Attr = { strings: string[] } | { other: string };

export interface H5Group {
  kind: 'group';
  name: string;
  path: string;
  /** [name, value] pairs; only string attributes carry values. */
  attrs: [string, H5Attr][];
  children: H5Node[];
}

export interface H5DatasetInfo {
  kind: 'dataset';
  name: string;
  path: string;
  shape: number[] | null;
  /** HDF5 type class: 0 integer, 1 float, 3 string, ... */
  type: number;
  /** Bytes per element. */
  size: number;
  littleEndian: boolean;
  total: number;
}

/** Links, named datatypes and anything else that is neither a group nor a dataset. */
export interface H5Other {
  kind: 'other';
  name: string;
  path: string;
}

export type H5Node = H5Group | H5DatasetInfo | H5Other;

export interface H5File {
  root: H5Group;
  /** Values of float32/float64 datasets (checked by the caller from their metadata first). */
  read(paths: string[]): Promise<(Float32Array | Float64Array)[]>;
}

/** A worker that failed on this many files is replaced (HDF5 state after many corrupt files is not trusted). */
const MAX_FAILURES_PER_WORKER = 256;

const LIMITS = { maxObjects: 100_000, maxDepth: 32, maxAttrs: 1_000, maxAttrBytes: MAX_JSON_BYTES };

interface Reply {
  ok: boolean;
  stage?: string;
  trap?: boolean;
  limit?: boolean;
  message?: string;
  tree?: H5Group;
  values?: (Float32Array | Float64Array)[];
}

/** Why the worker gave no usable answer; turned into an InputError naming the file. */
class WorkerFailure extends Error {}

class H5Worker {
  private readonly worker = new Worker(new URL('./h5-worker.js', import.meta.url));
  private pending?: { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  dead = false;
  /** Files this worker failed to read; HDF5 may keep damage from them, so it retires after a few hundred. */
  failures = 0;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle((p) => p.resolve(reply)));
    this.worker.on('error', (err: Error) => {
      this.dead = true;
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.settle((p) => p.reject(oom ? new WorkerFailure('the HDF5 reader ran out of memory') : err));
    });
    this.worker.on('exit', (code) => {
      this.dead = true;
      this.settle((p) => p.reject(new Error(`HDF5 worker exited (code ${code})`)));
    });
  }

  private settle(fn: (p: NonNullable<H5Worker['pending']>) => void): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    this.worker.unref();
    fn(p);
  }

  call(msg: object, timeoutMs: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        this.settle((p) => p.reject(new WorkerFailure(`the HDF5 reader gave no answer within ${Math.round(timeoutMs / 1000)} s`)));
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.worker.ref();
      this.worker.postMessage(msg);
    });
  }

  kill(): void {
    this.dead = true;
    void this.worker.terminate();
  }
}

let current: H5Worker | undefined;
let queue: Promise<unknown> = Promise.resolve();

/** h5wasm reports HDF5 failures as long diagnostic stacks; keep the most specific line. */
function h5Reason(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  const frames = lines.filter((l) => /^#\d+:/.test(l));
  const last = frames[frames.length - 1];
  const m = last?.match(/\):\s*(.*)$/);
  return printable(m?.[1] ?? lines.find((l) => l.length > 0) ?? 'unknown error', 200);
}

/**
 * Opens `bytes` as HDF5 and runs fn on its tree; `file` names the user's file in messages
 * (`inner` the file inside it, e.g. "model.weights.h5" in a .keras zip).
 */
export function withH5<T>(file: string, bytes: Uint8Array, fn: (h: H5File) => Promise<T>, inner = ''): Promise<T> {
  const run = queue.then(() => session(file, bytes, fn, inner));
  queue = run.catch(() => undefined);
  return run;
}

async function session<T>(file: string, bytes: Uint8Array, fn: (h: H5File) => Promise<T>, inner: string): Promise<T> {
  if (!current || current.dead) current = new H5Worker();
  const worker = current;
  const timeoutMs = 30_000 + bytes.length / 50_000;
  const what = inner ? `${inner} ` : '';
  const call = async (msg: object): Promise<Reply> => {
    let reply: Reply;
    try {
      reply = await worker.call(msg, timeoutMs);
    } catch (err) {
      if (err instanceof WorkerFailure) fail(file, `cannot read ${what}HDF5 contents, truncated or corrupt? (${err.message})`);
      throw err;
    }
    if (reply.ok) return reply;
    if (reply.trap) {
      worker.kill();
      fail(file, `cannot read ${what}HDF5 contents, truncated or corrupt? (the HDF5 reader crashed: ${printable(reply.message, 100)})`);
    }
    if (reply.limit) fail(file, `${what}HDF5 ${printable(reply.message, 200)}; nnvis reads Keras model files only`);
    if (reply.stage === 'open') fail(file, `cannot open ${what}as HDF5 (${h5Reason(reply.message ?? '')})`);
    return fail(file, `cannot read ${what}HDF5 contents, truncated or corrupt? (${h5Reason(reply.message ?? '')})`);
  };
  try {
    const { tree } = await call({ op: 'open', bytes, limits: LIMITS });
    return await fn({
      root: tree as H5Group,
      read: async (paths) => (await call({ op: 'read', paths, maxValues: MAX_WEIGHT_VALUES })).values ?? [],
    });
  } catch (err) {
    if (++worker.failures >= MAX_FAILURES_PER_WORKER) worker.kill();
    throw err;
  } finally {
    if (!worker.dead) {
      try {
        await worker.call({ op: 'close' }, timeoutMs);
      } catch (err) {
        if (!(err instanceof WorkerFailure || err instanceof InputError)) worker.kill();
      }
    }
  }
}
