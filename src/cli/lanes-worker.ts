// One lane of src/cli/lanes.ts: runs the kernel it is sent on its part, then counts itself done.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { kernelsFor } from '../core/process/kernels.ts';

// This thread allocates almost nothing, so V8 would rarely collect here — and every message
// holds views on the engine's shared buffers, which stay alive (GBs) until it does; the
// engine asks for a collection after every iteration.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const control = workerData.control as Int32Array;
const kernels = kernelsFor(workerData.backend);
parentPort!.on('message', ({ name, args, lane, lanes }) => {
  if (name === 'collect') {
    gc();
    return;
  }
  try {
    kernels[name](args, lane, lanes);
  } catch (err) {
    Atomics.store(control, 1, 1);
    console.error(`nnvis: processing kernel '${name}' failed on lane ${lane}: ${(err as Error).message}`);
  } finally {
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
  }
});
