// Runs classImportance for the classes the pool sends, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../core/errors.ts';
import { classImportance } from './importance.ts';
import type { ImportanceJob, WorkerMessage } from './parallel.ts';

const job = workerData.job as ImportanceJob;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);

port.on('message', async (c: number | null) => {
  if (c === null) {
    port.close();
    return;
  }
  try {
    const result = await classImportance(job.net, job.train, job.test, c, job.opts, (epoch, loss) => send({ type: 'epoch', c, epoch, loss }));
    send({ type: 'done', result });
  } catch (err) {
    send({ type: 'error', c, message: (err as Error).message, input: err instanceof InputError });
  }
});
send({ type: 'ready' });
