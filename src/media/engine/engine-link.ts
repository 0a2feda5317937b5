/**
 * How the MediaPlane reaches a media engine: over a worker thread's message port, or directly in
 * the same thread (`workers: 0`, used by tests with a fake clock and by small deployments).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineMessage, EngineRequest } from './engine-protocol.js';
import { MediaEngine, type MediaEngineOptions } from './media-engine.js';

export interface EngineLink {
  /** Messages from the engine (replies and events). Set once by the plane. */
  onMessage: (msg: EngineMessage) => void;
  /** The engine died (worker exit or error); the plane fails its sessions. */
  onFailure: (err: Error) => void;
  post(msg: EngineRequest): void;
  /** Resolves once the engine accepts commands. */
  ready(): Promise<void>;
  /** Stop the engine (after a shutdown command); idempotent. */
  terminate(): Promise<void>;
}

/** The ESM entry of tsx's register API (its package exports map, `import` condition). */
function tsxEsmApiUrl(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const rel = pkg.exports['./esm/api']?.import.default ?? './dist/esm/api/index.mjs';
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/** The engine runs in this thread: replies arrive asynchronously (promises), events synchronously. */
export class InThreadEngineLink implements EngineLink {
  onMessage: (msg: EngineMessage) => void = () => {};
  onFailure: (err: Error) => void = () => {};
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
 * A worker thread running media-worker.ts. Under a TypeScript runner (source `.ts` files, tests and
 * `npm start` via tsx) the worker registers tsx before importing its entry; compiled builds load the
 * `.js` entry directly.
 */
export class WorkerEngineLink implements EngineLink {
  onMessage: (msg: EngineMessage) => void = () => {};
  onFailure: (err: Error) => void = () => {};
  readonly #worker: Worker;
  readonly #ready: Promise<void>;
  #terminated = false;

  constructor(name: string) {
    const entry = new URL(`./media-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    if (entry.pathname.endsWith('.ts')) {
      const code = `import(${JSON.stringify(tsxEsmApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
      this.#worker = new Worker(code, { eval: true, name });
    } else {
      this.#worker = new Worker(entry, { name });
    }
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (msg: EngineMessage): void => {
        if (msg.kind === 'ready') {
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
