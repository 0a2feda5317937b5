/**
 * Entry of a media worker thread: a MediaEngine wired to the parent port. The worker owns its
 * sockets and timers; the main thread only sends commands (see engine-protocol.ts).
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { batchIoUringState, setBatchIoUring } from '../transport/batch-udp-endpoint.js';
import { endpointFactoryFor } from '../transport/socket-io.js';
import type { EngineMessage, EngineRequest } from './engine-protocol.js';
import { MediaEngine } from './media-engine.js';
import type { MediaWorkerData } from './media-worker-data.js';

const port = parentPort;
if (port === null) throw new Error('media-worker must run in a worker thread');
// the socket I/O the plane resolved (a native path that does not load here fails the worker's start)
const data = workerData as MediaWorkerData | undefined;
const endpoints = endpointFactoryFor(data?.socketIo ?? 'dgram');
// media.workerNice: on Linux the nice value is per thread, and pid 0 names the calling thread
let priorityError: string | undefined;
if (data?.nice !== undefined && data.nice !== 0) {
  try {
    setPriority(data.nice);
  } catch (err) {
    // a SystemError: its errno code (EACCES) is in `info`
    const e = err as NodeJS.ErrnoException & { info?: { code?: string } };
    priorityError = e.info?.code ?? e.code ?? String(err);
  }
}
// media.ioUring: the native socket set is made now, so the ready message says how it sends
let ioUring: string | undefined;
if (data?.socketIo === 'native') {
  setBatchIoUring(data.ioUring !== false);
  ioUring = batchIoUringState();
}
const engine = new MediaEngine((msg: EngineMessage) => port.postMessage(msg), { endpoints });
port.on('message', (msg: EngineRequest) => engine.handle(msg));
port.postMessage({ kind: 'ready', ...(priorityError === undefined ? {} : { priorityError }), ...(ioUring === undefined ? {} : { ioUring }) } satisfies EngineMessage);
