/**
 * Entry of a media worker thread: a MediaEngine wired to the parent port. The worker owns its
 * sockets and timers; the main thread only sends commands (see engine-protocol.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { EngineMessage, EngineRequest } from './engine-protocol.js';
import { MediaEngine } from './media-engine.js';

const port = parentPort;
if (port === null) throw new Error('media-worker must run in a worker thread');
const engine = new MediaEngine((msg: EngineMessage) => port.postMessage(msg));
port.on('message', (msg: EngineRequest) => engine.handle(msg));
port.postMessage({ kind: 'ready' } satisfies EngineMessage);
