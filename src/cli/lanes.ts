// Lanes on worker threads: the engine's kernels (src/core/process/kernels.ts) run on
// `count` threads at once — the calling thread is lane 0 — over SharedArrayBuffers. The
// caller blocks (Atomics.wait) until every lane is done; it is itself a worker thread,
// so no event loop that draws progress is held up.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { defaultBackend, kernelsFor } from '../core/process/kernels.ts';
import { sharedArrays, type Backend, type KernelArgs, type Lanes } from '../core/process/lanes.ts';

export interface WorkerLanes extends Lanes {
  /** Frees the shared buffers no lane uses any more, once enough were allocated since the last time (call between iterations). */
  collect(): void;
  close(): Promise<void>;
}

// Shared buffers live outside V8's heap, which collects them late: without explicit
// collections the buffers of past iterations pile up (2 GB instead of 0.5 GB on 784-81-49-10
// with the JS kernels). A collection costs ~10 ms, so it waits for this much new memory.
const COLLECT_BYTES = 256e6;
setFlagsFromString('--expose_gc');
const collectGarbage = runInNewContext('gc') as () => void;

export function createWorkerLanes(count: number, backend: Backend = defaultBackend()): WorkerLanes {
  const kernels = kernelsFor(backend);
  // [lanes finished, a lane failed]
  const control = new Int32Array(new SharedArrayBuffer(8));
  const workers = Array.from(
    { length: count - 1 },
    () =>
      new Worker(new URL('../ml/ts-worker.js', import.meta.url), {
        workerData: { module: new URL('./lanes-worker.ts', import.meta.url).href, control, backend },
      }),
  );
  let allocated = 0;
  const counted =
    <T>(make: (n: number) => T, bytes: number) =>
    (n: number): T => {
      allocated += n * bytes;
      return make(n);
    };
  return {
    count,
    backend,
    f32: counted(sharedArrays.f32, 4),
    u32: counted(sharedArrays.u32, 4),
    i32: counted(sharedArrays.i32, 4),
    run(name: string, args: KernelArgs) {
      Atomics.store(control, 0, 0);
      Atomics.store(control, 1, 0);
      workers.forEach((w, i) => w.postMessage({ name, args, lane: i + 1, lanes: count }));
      kernels[name](args, 0, count);
      for (let done = Atomics.load(control, 0); done < count - 1; done = Atomics.load(control, 0)) Atomics.wait(control, 0, done);
      if (Atomics.load(control, 1)) throw new Error(`processing kernel '${name}' failed on a worker thread`);
    },
    collect() {
      if (allocated < COLLECT_BYTES) return;
      allocated = 0;
      workers.forEach((w) => w.postMessage({ name: 'collect' }));
      collectGarbage();
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
