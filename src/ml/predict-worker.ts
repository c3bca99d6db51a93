// Classifies the pool's data sets with the weights each message brings (predict-pool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { predictWith, type PredictJob, type PredictMessage } from './predict-pool.ts';

const port = parentPort!;
const send = (m: PredictMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const { run } = await predictWith(workerData.job as PredictJob);

port.on('message', ({ id, weights }: { id: number; weights: Float32Array }) => {
  try {
    const predictions = run(weights);
    send({ type: 'done', id, predictions }, predictions.map((p) => p.buffer as ArrayBuffer));
  } catch (err) {
    send({ type: 'error', id, message: (err as Error).message });
  }
});
send({ type: 'ready' });
