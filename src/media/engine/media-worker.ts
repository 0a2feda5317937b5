/**
 * Entry of a media worker thread: a MediaEngine wired to the parent port. The worker owns its
 * sockets and timers; the main thread only sends commands (see engine-protocol.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { endpointFactoryFor } from '../transport/socket-io.js';
import type { EngineMessage, EngineRequest } from './engine-protocol.js';
import { MediaEngine } from './media-engine.js';
import type { MediaWorkerData } from './media-worker-data.js';

const port = parentPort;
if (port === null) throw new Error('media-worker must run in a worker thread');
// the socket I/O the plane resolved (a native path that does not load here fails the worker's start)
const endpoints = endpointFactoryFor((workerData as MediaWorkerData | undefined)?.socketIo ?? 'dgram');
const engine = new MediaEngine((msg: EngineMessage) => port.postMessage(msg), { endpoints });
port.on('message', (msg: EngineRequest) => engine.handle(msg));
port.postMessage({ kind: 'ready' } satisfies EngineMessage);
