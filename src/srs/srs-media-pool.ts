import type { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../common/clock.js';
import { AppError } from '../common/errors.js';
import type { G711Codec } from '../media/audio/g711.js';
import { startModuleWorker } from '../media/engine/module-worker.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { runFileOps, type FileOpsRunner } from './file-ops.js';
import type { StreamStats } from './rtp-receiver.js';
import { repairWavFile } from './recording-repair.js';
import type {
  RecordingMediaBackend,
  RecordingMediaHandle,
  RecordingMediaListener,
  RecordingMediaOpenResult,
  RecordingMediaResult,
  RecordingMediaSpec,
} from './recording-media-types.js';
import { fromWireError, type SrsMediaMessage, type SrsMediaRequest } from './srs-media-protocol.js';

/**
 * The reference SRS's media workers (`srs.mediaWorkers`, default 1): the recordings' RTP receive,
 * SRTP, decode, timeline and WAV writes run in worker threads (srs-media-worker.ts), so that the
 * main event loop keeps only signalling. Each new recording goes to the worker with the fewest
 * open recordings; workers start with start() (SrsApp.attach) or on the first recording they get.
 *
 * A worker that dies (an uncaught error, an exit) fails every recording open on it: each gets
 * onFailure with AppError SRS_MEDIA_WORKER_FAILED (the recording is failed, its session ended with
 * BYE, counted under reason 'media-worker-failed', srs-recording.ts), its WAV header is rewritten
 * from the file's size (recording-repair.ts repairWavFile) so the audio written so far stays
 * playable, and the failure is logged once at error here. Opens under way get stage 'worker'
 * (503). The next recording starts a new worker in its place.
 */
export interface SrsMediaPoolOptions {
  /** Worker threads, >= 1. */
  workers: number;
  /** The signalling side's clock (elapsed time of the recordings: pause marks, minimum length). Default the system clock. */
  clock?: Clock;
  logger?: Logger;
}

const NO_TIMELINE = { lateSamples: 0, refusedWrites: 0, framesFlushed: 0 };

/** An srs media worker's own memory (or the sum over the workers). */
export interface SrsWorkerMemory {
  heapBytes: number;
  arrayBufferBytes: number;
}

/** One worker thread and what is open on it. */
class MediaWorkerSlot {
  readonly index: number;
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly recordings = new Map<string, WorkerRecordingMedia>();
  readonly #replies = new Map<number, (msg: SrsMediaMessage | undefined) => void>();
  #nextId = 1;
  #failure: Error | undefined;
  #ending = false;
  /** The pool closed while recordings were open here: end the worker once the last one is closed. */
  #endWhenIdle = false;
  readonly #onDeath: (slot: MediaWorkerSlot, err: Error) => void;

  constructor(index: number, onDeath: (slot: MediaWorkerSlot, err: Error) => void) {
    this.index = index;
    this.#onDeath = onDeath;
    this.worker = startModuleWorker(import.meta.url, 'srs-media-worker', `srs-media-${index}`);
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (msg: SrsMediaMessage) => {
        if (msg.kind === 'ready') return resolve();
        this.#onMessage(msg);
      });
      this.worker.on('error', (err) => {
        reject(err);
        this.#die(err);
      });
      this.worker.on('exit', (code) => {
        const err = new Error(`srs media worker exited with code ${code}`);
        reject(err);
        this.#die(err);
      });
    });
    this.ready.catch(() => undefined);
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  post(msg: SrsMediaRequest): void {
    if (!this.#failure) this.worker.postMessage(msg);
  }

  /** Sends a command that the worker answers; resolves with the answer, or undefined when the worker died first. */
  request(build: (id: number) => SrsMediaRequest): Promise<SrsMediaMessage | undefined> {
    if (this.#failure) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#replies.set(id, resolve);
      this.worker.postMessage(build(id));
    });
  }

  #onMessage(msg: SrsMediaMessage): void {
    switch (msg.kind) {
      case 'opened':
      case 'closed':
      case 'memory':
      case 'files-done': {
        const reply = this.#replies.get(msg.id);
        this.#replies.delete(msg.id);
        reply?.(msg);
        return;
      }
      case 'write-error':
        this.recordings.get(msg.recordingId)?.writeError(fromWireError(msg.error));
        return;
      case 'first-packet':
        this.recordings.get(msg.recordingId)?.firstPacket(msg.label);
        return;
      default:
        return;
    }
  }

  #die(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    for (const reply of this.#replies.values()) reply(undefined);
    this.#replies.clear();
    if (!this.#ending) this.#onDeath(this, err);
  }

  /** Ends the worker on purpose (pool close). */
  async end(): Promise<void> {
    this.#ending = true;
    await this.worker.terminate();
  }

  /** Ends the worker now when nothing is open on it, else once its last recording is closed. */
  async endWhenIdle(): Promise<void> {
    this.#endWhenIdle = true;
    if (this.recordings.size === 0) await this.end();
  }

  /** What the worker answered last to a memory request. */
  lastMemory: SrsWorkerMemory | undefined;

  /** Asks the worker for its memory; waits at most `timeoutMs` (a busy worker keeps its last answer). */
  async refreshMemory(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const reply = await Promise.race([this.request((id) => ({ kind: 'memory', id })), timeout]);
    clearTimeout(timer);
    if (reply?.kind === 'memory') this.lastMemory = { heapBytes: reply.heapBytes, arrayBufferBytes: reply.arrayBufferBytes };
  }

  /** A recording left this worker (closed, or its open failed). */
  release(recordingId: string): void {
    this.recordings.delete(recordingId);
    if (this.#endWhenIdle && this.recordings.size === 0) void this.end();
  }
}

/** The main thread's handle on a recording's media side in a worker. */
class WorkerRecordingMedia implements RecordingMediaHandle {
  readonly sampleRate = 8000;
  readonly #slot: MediaWorkerSlot;
  readonly #spec: RecordingMediaSpec;
  readonly #listener: RecordingMediaListener;
  readonly #clock: Clock;
  readonly #startMono: number;
  #stats: StreamStats[] = [];
  #closing: Promise<RecordingMediaResult> | undefined;
  #failure: Error | undefined;
  #writeErrorSeen = false;

  constructor(slot: MediaWorkerSlot, spec: RecordingMediaSpec, listener: RecordingMediaListener, clock: Clock) {
    this.#slot = slot;
    this.#spec = spec;
    this.#listener = listener;
    this.#clock = clock;
    this.#startMono = clock.monotonic();
  }

  elapsedMs(): number {
    return this.#clock.monotonic() - this.#startMono;
  }


  setActive(label: string, active: boolean): void {
    if (!this.#closing) this.#slot.post({ kind: 'set-active', recordingId: this.#spec.recordingId, label, active });
  }

  setPayloadTypes(label: string, payloadTypes: ReadonlyMap<number, G711Codec>, telephoneEventPayloadType?: number): void {
    if (this.#closing) return;
    this.#slot.post({
      kind: 'set-payload-types',
      recordingId: this.#spec.recordingId,
      label,
      payloadTypes: [...payloadTypes],
      ...(telephoneEventPayloadType === undefined ? {} : { telephoneEventPayloadType }),
    });
  }

  stats(): StreamStats[] {
    return this.#stats;
  }

  writeError(err: Error): void {
    if (this.#writeErrorSeen) return;
    this.#writeErrorSeen = true;
    this.#listener.onWriteError(err);
  }

  firstPacket(label: string): void {
    this.#listener.onFirstPacket?.(label);
  }

  /** The worker died with this recording open. */
  fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#listener.onFailure?.(err);
  }

  close(elapsedMs: number): Promise<RecordingMediaResult> {
    this.#closing ??= (async () => {
      const reply = await this.#slot.request((id) => ({ kind: 'close', id, recordingId: this.#spec.recordingId, elapsedMs }));
      this.#slot.release(this.#spec.recordingId);
      if (reply?.kind === 'closed') {
        this.#stats = reply.streams;
        return {
          streams: reply.streams,
          ...(reply.wav ? { wav: reply.wav } : {}),
          ...(reply.error === undefined ? {} : { error: fromWireError(reply.error) }),
          originShiftMs: reply.originShiftMs,
          timeline: reply.timeline,
        };
      }
      // the worker died: its statistics (and where the WAV starts) are lost; the WAV keeps what it
      // wrote, with a header to match
      const error = this.#failure ?? workerFailed(this.#slot.failure);
      try {
        const repaired = await repairWavFile(this.#spec.wavPath, { sampleRate: this.sampleRate, channels: 2 });
        if (repaired) return { streams: [], wav: { path: this.#spec.wavPath, frames: repaired.frames, dataBytes: repaired.recovery.dataBytes }, error, originShiftMs: 0, timeline: NO_TIMELINE };
      } catch {
        // the file cannot be read back: the summary has no wav, the failure says why
      }
      return { streams: [], error, originShiftMs: 0, timeline: NO_TIMELINE };
    })();
    return this.#closing;
  }
}

function workerFailed(cause: Error | undefined): AppError {
  return new AppError('SRS_MEDIA_WORKER_FAILED', cause?.message ?? 'worker gone', { cause });
}

export class SrsMediaPool implements RecordingMediaBackend {
  readonly #slots: Array<MediaWorkerSlot | undefined>;
  readonly #clock: Clock;
  readonly #log: Logger;
  #closed = false;
  #failures = 0;

  constructor(options: SrsMediaPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('srs media workers must be a whole number >= 1');
    this.#slots = Array.from({ length: options.workers }, () => undefined);
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
  }

  /** Workers that died so far (each failed the recordings open on it). */
  get workerFailures(): number {
    return this.#failures;
  }

  /** Recordings open per worker slot (0 for a slot without a worker). */
  load(): number[] {
    return this.#slots.map((s) => s?.recordings.size ?? 0);
  }

  /**
   * The running workers' own memory, summed: V8 heaps (live and headroom) and ArrayBuffers. A worker
   * that does not answer within `timeoutMs` (busy) counts with what it answered last; undefined
   * before any worker runs.
   */
  async memory(timeoutMs = 1000): Promise<SrsWorkerMemory | undefined> {
    const live = this.#slots.filter((s): s is MediaWorkerSlot => s !== undefined && !s.failure);
    if (live.length === 0) return undefined;
    await Promise.all(live.map((slot) => slot.refreshMemory(timeoutMs)));
    return live.reduce<SrsWorkerMemory>(
      (sum, s) => ({ heapBytes: sum.heapBytes + (s.lastMemory?.heapBytes ?? 0), arrayBufferBytes: sum.arrayBufferBytes + (s.lastMemory?.arrayBufferBytes ?? 0) }),
      { heapBytes: 0, arrayBufferBytes: 0 },
    );
  }

  /**
   * Runs a recording's small file steps (file-ops.ts) in the least loaded worker: one message from
   * this thread instead of a thread-pool request per step. Rejects with the first failed step's
   * error (errno code kept). Without a running worker (closed, or it died during the steps) they
   * run here, so a journal, metadata document or summary is never lost to a worker; a list run
   * again from its start after a partial run ends the same (each write precedes its rename).
   */
  readonly fileOps: FileOpsRunner = async (ops) => {
    const slot = this.#closed ? undefined : this.#pick();
    if (slot) {
      const ready = await slot.ready.then(
        () => true,
        () => false,
      );
      const reply = ready ? await slot.request((id) => ({ kind: 'files', id, ops: [...ops] })) : undefined;
      if (reply?.kind === 'files-done') {
        if (reply.error) throw fromWireError(reply.error);
        return;
      }
    }
    await runFileOps(ops);
  };

  /** Starts every worker not running yet (the first recording then finds its worker ready). */
  start(): void {
    if (this.#closed) return;
    for (let i = 0; i < this.#slots.length; i++) this.#slotAt(i);
  }

  /** The worker of slot `index`, started when the slot is empty or its worker died. */
  #slotAt(index: number): MediaWorkerSlot {
    let slot = this.#slots[index];
    if (!slot || slot.failure) {
      slot = new MediaWorkerSlot(index, (s, err) => this.#onDeath(s, err));
      this.#slots[index] = slot;
    }
    return slot;
  }

  /** The least loaded worker. */
  #pick(): MediaWorkerSlot {
    let best = 0;
    for (let i = 1; i < this.#slots.length; i++) if ((this.#slots[i]?.recordings.size ?? 0) < (this.#slots[best]?.recordings.size ?? 0)) best = i;
    return this.#slotAt(best);
  }

  #onDeath(slot: MediaWorkerSlot, err: Error): void {
    this.#failures++;
    const failed = [...slot.recordings.values()];
    this.#log.error({ err, worker: slot.index, recordings: failed.length }, 'srs media worker failed: its open recordings are failed; the next recording starts a new worker');
    const cause = workerFailed(err);
    for (const rec of failed) rec.fail(cause);
  }

  async open(spec: RecordingMediaSpec, listener: RecordingMediaListener): Promise<RecordingMediaOpenResult> {
    if (this.#closed) return { ok: false, stage: 'worker', error: new AppError('SRS_MEDIA_WORKER_FAILED', 'shutting down') };
    // The recording timeline starts now, on both threads (a worker still starting does not shift it):
    // the handle notes the signalling clock, the worker gets the instant in the threads' common time base.
    const originMs = performance.timeOrigin + performance.now();
    const slot = this.#pick();
    const handle = new WorkerRecordingMedia(slot, spec, listener, this.#clock);
    try {
      await slot.ready;
    } catch (err) {
      return { ok: false, stage: 'worker', error: workerFailed(err as Error) };
    }
    // registered before the open so that a write error or a death during it reaches the handle
    slot.recordings.set(spec.recordingId, handle);
    const reply = await slot.request((id) => ({ kind: 'open', id, spec, originMs }));
    if (reply?.kind !== 'opened' || reply.failure) {
      slot.release(spec.recordingId);
      if (reply?.kind === 'opened' && reply.failure) return { ok: false, stage: reply.failure.stage, error: fromWireError(reply.failure.error) };
      return { ok: false, stage: 'worker', error: workerFailed(slot.failure) };
    }
    return { ok: true, handle };
  }

  /**
   * Ends worker `index` abruptly, as a crash would: its recordings are failed as described above.
   * For tests of that path and for operators' tools; resolves once the worker is gone.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.#slots[index]?.worker.terminate();
  }

  /**
   * Refuses new recordings (stage 'worker', 503) and ends the workers: at once those with nothing
   * open, the others once their last recording is closed (a recording still being set up during a
   * shutdown finalises its files). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s?.endWhenIdle()));
  }
}
