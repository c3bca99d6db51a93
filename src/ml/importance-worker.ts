// Runs importanceForGroup for the groups of classes the pool sends, one group at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../core/errors.ts';
import { importanceForGroup } from './importance.ts';
import type { ImportanceJob, WorkerMessage } from './parallel.ts';

const job = workerData.job as ImportanceJob;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);

port.on('message', async (group: number[] | null) => {
  if (group === null) {
    port.close();
    return;
  }
  try {
    await importanceForGroup(job, group, job.opts, {
      onEpoch: (c, epoch, loss) => send({ type: 'epoch', c, epoch, loss }),
      onClassDone: (result) => send({ type: 'done', result }),
    });
    send({ type: 'idle' });
  } catch (err) {
    send({ type: 'error', classes: group, message: (err as Error).message, input: err instanceof InputError });
  }
});
send({ type: 'ready' });
