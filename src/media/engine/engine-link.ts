/**
 * How the MediaPlane reaches a media engine: over a worker thread's message port, or directly in
 * the same thread (`workers: 0`, used by tests with a fake clock and by small deployments).
 */
import type { Worker } from 'node:worker_threads';
import type { EngineMessage, EngineRequest } from './engine-protocol.js';
import { MediaEngine, type MediaEngineOptions } from './media-engine.js';
import type { MediaWorkerData } from './media-worker-data.js';
import { startModuleWorker } from './module-worker.js';

export interface EngineLink {
  /** Messages from the engine (replies and events). Set once by the plane. */
  onMessage: (msg: EngineMessage) => void;
  /** The engine died (worker exit or error); the plane fails its sessions. */
  onFailure: (err: Error) => void;
  post(msg: EngineRequest): void;
  /** Resolves once the engine accepts commands. */
  ready(): Promise<void>;
  /** True when the engine runs in a thread of its own (its heap is not the caller's). */
  readonly ownThread: boolean;
  /** Why the worker could not take its nice value (an errno code), once ready; undefined when it did or had none to take. */
  readonly priorityError?: string | undefined;
  /**
   * How the worker's native sockets read and send, once ready: '' through an io_uring, 'off' when not asked
   * to, else the errno code that refused the ring; undefined on the dgram path.
   */
  readonly ioUring?: string | undefined;
  /** Stop the engine (after a shutdown command); idempotent. */
  terminate(): Promise<void>;
}

/** The engine runs in this thread: replies arrive asynchronously (promises), events synchronously. */
export class InThreadEngineLink implements EngineLink {
  onMessage: (msg: EngineMessage) => void = () => {};
  onFailure: (err: Error) => void = () => {};
  readonly ownThread = false;
  readonly engine: MediaEngine;

  constructor(options: MediaEngineOptions = {}) {
    this.engine = new MediaEngine((msg) => this.onMessage(msg), options);
  }

  post(msg: EngineRequest): void {
    this.engine.handle(msg);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  terminate(): Promise<void> {
    this.engine.close();
    return Promise.resolve();
  }
}

/**
 * A worker thread running media-worker.ts (started by module-worker.ts: tsx-registered under a
 * TypeScript runner, the `.js` entry in compiled builds).
 */
export class WorkerEngineLink implements EngineLink {
  readonly ownThread = true;
  onMessage: (msg: EngineMessage) => void = () => {};
  onFailure: (err: Error) => void = () => {};
  readonly #worker: Worker;
  readonly #ready: Promise<void>;
  #terminated = false;
  priorityError: string | undefined;
  ioUring: string | undefined;

  constructor(name: string, data: MediaWorkerData) {
    this.#worker = startModuleWorker(import.meta.url, 'media-worker', name, data);
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (msg: EngineMessage): void => {
        if (msg.kind === 'ready') {
          this.priorityError = msg.priorityError;
          this.ioUring = msg.ioUring;
          this.#worker.off('error', onError);
          resolve();
          return;
        }
        this.onMessage(msg);
      };
      const onError = (err: Error): void => reject(err);
      this.#worker.on('message', onMessage);
      this.#worker.once('error', onError);
    });
    this.#worker.on('error', (err) => {
      if (!this.#terminated) this.onFailure(err);
    });
    this.#worker.on('exit', (code) => {
      if (!this.#terminated) this.onFailure(new Error(`media worker exited with code ${code}`));
    });
  }

  post(msg: EngineRequest): void {
    this.#worker.postMessage(msg);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async terminate(): Promise<void> {
    if (this.#terminated) return;
    this.#terminated = true;
    await this.#worker.terminate();
  }
}
