// Worker bootstrap: lets a worker thread run a TypeScript module, as the CLI does.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
