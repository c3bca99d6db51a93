// Browser runner of the processing engine: a module Web Worker around the shared host.
import { createProcessingHost } from '../core/process/host.ts';
import type { ProcessingReply, ProcessingRequest } from '../core/process/protocol.ts';

const scope = self as unknown as {
  postMessage(message: ProcessingReply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ProcessingRequest>) => void) | null;
};

const handle = createProcessingHost(
  (reply, transfer) => scope.postMessage(reply, transfer ?? []),
  () => new Promise((resolve) => setTimeout(resolve, 0)),
);
scope.onmessage = (event) => void handle(event.data);
