import { randomUUID } from 'node:crypto';
import { AppError, type ErrorCode, ERROR_CODES } from '../common/errors.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { Logger } from '../observability/logger.js';
import { PROMPT_NAMES, type Prompt, type PromptLibrary } from './audio/prompt-library.js';
import type { EngineCommand, EngineErrorData, EngineMessage, CreateSessionReply, PrepareForkReply } from './engine/engine-protocol.js';
import { InThreadEngineLink, WorkerEngineLink, type EngineLink } from './engine/engine-link.js';
import type { MediaEngineOptions } from './engine/media-engine.js';
import { MediaSession, type SessionHost } from './media-session.js';
import { DEFAULT_FORK_BUFFER_MS, MAX_FORK_BUFFER_MS, type ForkBufferNotice, type MediaPlaneStats, type MediaSessionOptions, type MediaTotals } from './media-session-types.js';
import { addMediaTotals, emptyMediaTotals } from './media-totals.js';
import { PortAllocator } from './transport/port-allocator.js';
import { setBatchIoUring } from './transport/batch-udp-endpoint.js';
import { endpointFactoryFor, resolveSocketIo, type IoUringMode, type SocketIoMode, type SocketIoPath } from './transport/socket-io.js';

export interface MediaPlaneOptions {
  /** Address bound for RTP and written into SDP. Default '127.0.0.1'. */
  address?: string;
  /** RTP port range (RTP even, RTCP = RTP + 1); config media.portMin/portMax. */
  portMin: number;
  portMax: number;
  /**
   * Media worker threads; sessions go to the least loaded one. Default 1 (media never runs on the
   * signalling event loop). 0 runs the engine in this thread (tests with a fake clock).
   */
  workers?: number;
  /** Prompts registered in every engine at start (PCM sent once per worker). */
  prompts?: PromptLibrary;
  /** Clock/timers/endpoints for the in-thread engine (`workers: 0`); ignored with workers. */
  engine?: MediaEngineOptions;
  /**
   * Socket I/O of the engines (config media.socketIo; docs/media.md "Batched socket I/O"): 'native'
   * (batched addon; start fails when it is not built), 'dgram', or 'auto' (native when built).
   * Default 'auto'. `engine.endpoints` of an in-thread engine overrides it.
   */
  socketIo?: SocketIoMode;
  /**
   * Nice value of each worker thread (config media.workerNice; docs/media.md "Worker priority").
   * Default 0 (unchanged). A value the system refuses (below 0 without CAP_SYS_NICE) leaves the
   * workers at normal priority and is logged once at warn.
   */
  workerNice?: number;
  /**
   * Native socket I/O only (config media.ioUring; docs/media.md "Batched socket I/O"): 'auto' (the
   * default) reads and sends through an io_uring per worker when the kernel gives one, 'off' with
   * recvmmsg/sendmmsg per socket.
   */
  ioUring?: IoUringMode;
  /** How many other ports to try when a bind fails (a port held by another process). Default 8. */
  bindRetries?: number;
  /** How long stats() waits for a worker's totals before using its last known ones. Default 1000 ms. */
  statsTimeoutMs?: number;
  /**
   * Audio each fork keeps from prepareFork until startFork (the call's answer until the recording
   * server's answer), ms; 0 keeps none. Config media.forkBufferMs. Default 3000. A session's own
   * MediaSessionOptions.forkBufferMs overrides it.
   */
  forkBufferMs?: number;
  logger?: Logger;
}

interface EngineSlot {
  link: EngineLink;
  sessions: number;
  failed: boolean;
  /** The worker's last totals reply (kept so counters survive a failed or slow worker). */
  lastTotals: MediaTotals | undefined;
  /** Its thread's V8 heap, total bytes, as of its last answer (only for an engine in a thread of its own). */
  lastHeapBytes: number | undefined;
}

interface Pending {
  slot: EngineSlot;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export type PlaneState = 'running' | 'closing' | 'closed';

/** The legal moves of the media plane (common/state-machine.ts; drawn in docs/state-machines.md). */
export const MEDIA_PLANE_TRANSITIONS: TransitionTable<PlaneState> = {
  running: ['closing'],
  closing: ['closed'],
  closed: [],
};

function errorFrom(data: EngineErrorData): AppError {
  const code = (data.code in ERROR_CODES ? data.code : 'MEDIA_WORKER_FAILED') as ErrorCode;
  const err = new AppError(code, data.message);
  if (data.ports) Object.assign(err, { ports: data.ports });
  return err;
}

/**
 * The media plane: owns the media workers and the RTP port allocator, and creates one MediaSession
 * per anchored call. See src/media/index.ts for the API overview and docs/media.md for the design.
 */
export class MediaPlane {
  readonly address: string;
  /** The socket I/O the engines use (media.socketIo resolved at start). */
  socketIo: SocketIoPath = 'dgram';
  /**
   * How the native sockets read and send, resolved at start: 'io_uring' or 'recvmmsg/sendmmsg'
   * (media.ioUring 'off', or the kernel refused the ring: logged once), undefined on the
   * dgram path and for an in-thread engine.
   */
  kernelIo: 'io_uring' | 'recvmmsg/sendmmsg' | undefined;
  readonly #ports: PortAllocator;
  readonly #slots: EngineSlot[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #sessions = new Map<string, { session: MediaSession; slot: EngineSlot; ports: number[] }>();
  readonly #promptKeys = new WeakMap<Prompt, string>();
  readonly #bindRetries: number;
  readonly #statsTimeoutMs: number;
  readonly #forkBufferMs: number;
  readonly #logger: Logger | undefined;
  #nextReq = 1;
  readonly #sm: StateMachine<PlaneState>;

  private constructor(options: MediaPlaneOptions) {
    this.address = options.address ?? '127.0.0.1';
    this.#ports = new PortAllocator(options.portMin, options.portMax);
    this.#bindRetries = options.bindRetries ?? 8;
    this.#statsTimeoutMs = options.statsTimeoutMs ?? 1000;
    this.#forkBufferMs = options.forkBufferMs ?? DEFAULT_FORK_BUFFER_MS;
    if (!(this.#forkBufferMs >= 0 && this.#forkBufferMs <= MAX_FORK_BUFFER_MS)) throw new AppError('MEDIA_INVALID_ARGUMENT', `forkBufferMs ${this.#forkBufferMs}`);
    this.#logger = options.logger;
    this.#sm = new StateMachine({ name: 'media plane', initial: 'running', table: MEDIA_PLANE_TRANSITIONS, ...(options.logger ? { log: options.logger } : {}) });
  }

  /** Start the workers and register the prompt library in each. */
  static async start(options: MediaPlaneOptions): Promise<MediaPlane> {
    const io = resolveSocketIo(options.socketIo);
    const plane = new MediaPlane(options);
    plane.socketIo = io.path;
    const workers = options.workers ?? 1;
    options.logger?.info({ socketIo: io.path, fallbackReason: io.fallbackReason, workers }, `media socket I/O: ${io.path === 'native' ? 'native (batched)' : 'node:dgram'}`);
    const ioUring = options.ioUring !== 'off';
    if (workers === 0) {
      if (io.path === 'native') setBatchIoUring(ioUring);
      plane.#addSlot(new InThreadEngineLink({ ...options.engine, endpoints: options.engine?.endpoints ?? endpointFactoryFor(io.path) }));
    }
    const nice = options.workerNice ?? 0;
    for (let i = 0; i < workers; i++) plane.#addSlot(new WorkerEngineLink(`media-${i}`, { socketIo: io.path, nice, ioUring }));
    try {
      await Promise.all(plane.#slots.map((s) => s.link.ready()));
      const refused = plane.#slots.map((s) => s.link.priorityError).find((e) => e !== undefined);
      if (refused !== undefined) {
        options.logger?.warn({ nice, code: refused }, `media workers run at normal priority: nice ${nice} was refused (${refused}); a negative value needs CAP_SYS_NICE`);
      } else if (nice !== 0 && workers > 0) {
        options.logger?.info({ nice, workers }, `media workers run at nice ${nice}`);
      }
      if (io.path === 'native' && workers > 0) plane.#logKernelIo(options.logger);
      if (options.prompts) await plane.#registerPrompts(options.prompts);
    } catch (err) {
      await plane.close();
      throw new AppError('MEDIA_WORKER_FAILED', 'media worker did not start', { cause: err });
    }
    return plane;
  }

  /** Which way the workers' native sockets send (each worker reports its ring); one log line. */
  #logKernelIo(logger: Logger | undefined): void {
    const states = this.#slots.map((s) => s.link.ioUring ?? 'off');
    const refused = states.find((s) => s !== '' && s !== 'off');
    this.kernelIo = states.every((s) => s === '') ? 'io_uring' : 'recvmmsg/sendmmsg';
    if (refused !== undefined) {
      logger?.info({ ioUring: refused }, `media workers use recvmmsg/sendmmsg: the kernel refused io_uring (${refused})`);
    } else {
      logger?.info({ ioUring: this.kernelIo === 'io_uring' ? 'on' : 'off' }, `media workers use ${this.kernelIo}`);
    }
  }

  #addSlot(link: EngineLink): void {
    const slot: EngineSlot = { link, sessions: 0, failed: false, lastTotals: undefined, lastHeapBytes: undefined };
    link.onMessage = (msg) => this.#onMessage(msg);
    link.onFailure = (err) => this.#onEngineFailure(slot, err);
    this.#slots.push(slot);
  }

  async #registerPrompts(library: PromptLibrary): Promise<void> {
    const seen = new Map<string, Prompt>();
    for (const language of library.languages()) {
      for (const name of PROMPT_NAMES) {
        const prompt = library.get(name, language);
        const key = `${prompt.name}/${prompt.language}`;
        this.#promptKeys.set(prompt, key);
        seen.set(key, prompt);
      }
    }
    await Promise.all(
      this.#slots.flatMap((slot) => [...seen].map(([key, prompt]) => this.#request(slot, { op: 'registerPrompt', key, pcm: prompt.pcm }))),
    );
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Ports in use (pairs) and the range's capacity. */
  get portUsage(): { inUse: number; capacity: number } {
    return { inUse: this.#ports.inUse, capacity: this.#ports.capacity };
  }

  /**
   * Aggregate counters of the whole plane (packets in/out/forked, drops by reason, sessions): one
   * `totals` request per worker, summed here; nothing is added to the packet path. A worker that
   * failed, or does not answer within statsTimeoutMs, contributes its last known counters (and no
   * current sessions), so counters never go backwards. After close() the last figures are returned.
   */
  async stats(): Promise<MediaPlaneStats> {
    if (this.#sm.is('running')) await this.#refreshTotals();
    const sum = emptyMediaTotals();
    for (const slot of this.#slots) {
      if (slot.lastTotals !== undefined) addMediaTotals(sum, slot.lastTotals, { countersOnly: slot.failed || !this.#sm.is('running') });
    }
    return {
      ...sum,
      workers: this.#slots.length,
      workersFailed: this.#slots.filter((s) => s.failed).length,
      socketIo: this.socketIo,
      portsInUse: this.#ports.inUse,
      portCapacity: this.#ports.capacity,
      workerHeapBytes: this.#workerHeapBytes(),
    };
  }

  /** The running workers' heaps summed; undefined when no engine runs in a thread of its own. */
  #workerHeapBytes(): number | undefined {
    const own = this.#slots.filter((s) => s.link.ownThread && !s.failed);
    if (own.length === 0) return undefined;
    return own.reduce((sum, s) => sum + (s.lastHeapBytes ?? 0), 0);
  }

  /** Ask every live worker for its totals and its heap (bounded by statsTimeoutMs). */
  async #refreshTotals(): Promise<void> {
    await Promise.all(
      this.#slots.map(async (slot) => {
        if (slot.failed) return;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), this.#statsTimeoutMs);
        });
        try {
          // a worker that fails mid-request rejects both; the heap's rejection is not waited on then
          const heap = slot.link.ownThread ? this.#request<number>(slot, { op: 'heap' }).catch(() => undefined) : undefined;
          const reply = await Promise.race([this.#request<MediaTotals>(slot, { op: 'totals' }), timeout]);
          if (reply !== undefined) slot.lastTotals = reply;
          const heapBytes = heap === undefined ? undefined : await Promise.race([heap, timeout]);
          if (heapBytes !== undefined) slot.lastHeapBytes = heapBytes;
        } catch {
          // a worker that fails mid-request keeps its last totals
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  #onMessage(msg: EngineMessage): void {
    if (msg.kind === 'reply') {
      const p = this.#pending.get(msg.req);
      if (p === undefined) return;
      this.#pending.delete(msg.req);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(errorFrom(msg.error));
    } else if (msg.kind === 'event') {
      const entry = this.#sessions.get(msg.id);
      if (msg.event.type === 'forkBuffer') this.#logForkBuffer(entry?.session.label ?? msg.id, msg.event);
      entry?.session.handleEngineEvent(msg.event);
    }
  }

  /** Once per fork that buffered: audio lost to an overflow is a warning with its cause. */
  #logForkBuffer(label: string, e: ForkBufferNotice): void {
    const log = this.#logger;
    if (log === undefined) return;
    const fields = { mediaSession: label, forkId: e.forkId, waitedMs: e.waitedMs, bufferMs: e.bufferMs, sent: e.sent, overflowed: e.overflowed, discarded: e.discarded };
    if (e.overflowed > 0) {
      log.warn(fields, `fork buffer overflowed: the recording server answered ${e.waitedMs} ms after the fork was prepared, the buffer holds ${e.bufferMs} ms (media.forkBufferMs); ${e.overflowed} packets from the start of the call are missing from the recording`);
    } else if (e.discarded > 0) {
      log.info(fields, 'fork buffer discarded: the fork stopped before the recording server answered');
    } else {
      log.debug(fields, 'fork buffer sent');
    }
  }

  #onEngineFailure(slot: EngineSlot, err: Error): void {
    if (slot.failed) return;
    slot.failed = true;
    this.#logger?.error({ err }, 'media worker failed; closing its sessions');
    for (const [, entry] of this.#sessions) if (entry.slot === slot) entry.session.markClosed('media worker failed');
    for (const [req, p] of this.#pending) {
      if (p.slot !== slot) continue;
      this.#pending.delete(req);
      p.reject(new AppError('MEDIA_WORKER_FAILED', err.message, { cause: err }));
    }
  }

  #request<T>(slot: EngineSlot, cmd: EngineCommand): Promise<T> {
    if (slot.failed) return Promise.reject(new AppError('MEDIA_WORKER_FAILED', 'worker is gone'));
    const req = this.#nextReq++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(req, { slot, resolve: resolve as (v: unknown) => void, reject });
      slot.link.post({ ...cmd, req });
    });
  }

  #allocatePair(): number {
    const port = this.#ports.allocate();
    if (port === undefined) throw new AppError('MEDIA_PORTS_EXHAUSTED', `${this.#ports.min}-${this.#ports.max}`);
    return port;
  }

  /** Allocate ports for both legs (retrying around ports other processes hold) and open a session. */
  async createSession(options: MediaSessionOptions = {}): Promise<MediaSession> {
    if (!this.#sm.is('running')) throw new AppError('CLOSED', 'media plane');
    const slot = this.#slots.filter((s) => !s.failed).sort((x, y) => x.sessions - y.sessions)[0];
    if (slot === undefined) throw new AppError('MEDIA_WORKER_FAILED', 'no media worker left');
    const id = randomUUID();
    slot.sessions++;
    try {
      for (let attempt = 0; ; attempt++) {
        const a = this.#allocatePair();
        let b: number;
        try {
          b = this.#allocatePair();
        } catch (err) {
          this.#ports.release(a);
          throw err;
        }
        try {
          const sessionOptions = { forkBufferMs: this.#forkBufferMs, ...options };
          const local = await this.#request<CreateSessionReply>(slot, { op: 'createSession', id, address: this.address, ports: { a, b }, options: sessionOptions });
          const ports = [a, b];
          const session = new MediaSession(id, local, this.#host(slot, id, ports), options.label ?? id);
          this.#sessions.set(id, { session, slot, ports });
          return session;
        } catch (err) {
          const failed = (err as { ports?: number[] }).ports ?? [];
          for (const p of [a, b]) {
            if (failed.includes(p)) this.#ports.markUnavailable(p);
            else this.#ports.release(p);
          }
          if (failed.length === 0 || attempt >= this.#bindRetries) throw err;
        }
      }
    } catch (err) {
      slot.sessions--;
      throw err;
    }
  }

  #host(slot: EngineSlot, id: string, ports: number[]): SessionHost {
    const preparing = new Map<string, Promise<PrepareForkReply>>();
    return {
      request: <T>(cmd: EngineCommand) => this.#request<T>(slot, cmd),
      promptKey: (prompt) => this.#promptKeys.get(prompt),
      prepareFork: (session, forkId) => {
        // one allocation per fork id even when prepareFork and startFork overlap
        let p = preparing.get(forkId);
        if (p === undefined) {
          p = this.#prepareFork(slot, id, session, forkId, ports).finally(() => preparing.delete(forkId));
          preparing.set(forkId, p);
        }
        return p;
      },
      released: () => {
        const entry = this.#sessions.get(id);
        if (entry === undefined) return;
        this.#sessions.delete(id);
        entry.slot.sessions--;
        for (const p of entry.ports) this.#ports.release(p);
      },
    };
  }

  /** Bind fork `forkId` of a session: on its reserved ports, or on two new pairs (retrying around held ports). */
  async #prepareFork(slot: EngineSlot, id: string, session: MediaSession, forkId: string, ports: number[]): Promise<PrepareForkReply> {
    for (let attempt = 0; ; attempt++) {
      const reserved = session.forkPorts.get(forkId);
      if (reserved !== undefined) return this.#request<PrepareForkReply>(slot, { op: 'prepareFork', id, forkId, ports: reserved });
      const p0 = this.#allocatePair();
      let p1: number;
      try {
        p1 = this.#allocatePair();
      } catch (err) {
        this.#ports.release(p0);
        throw err;
      }
      try {
        const reply = await this.#request<PrepareForkReply>(slot, { op: 'prepareFork', id, forkId, ports: [p0, p1] });
        session.forkPorts.set(forkId, [p0, p1]);
        ports.push(p0, p1);
        return reply;
      } catch (err) {
        const failed = (err as { ports?: number[] }).ports ?? [];
        for (const p of [p0, p1]) {
          if (failed.includes(p)) this.#ports.markUnavailable(p);
          else this.#ports.release(p);
        }
        if (failed.length === 0 || attempt >= this.#bindRetries) throw err;
      }
    }
  }

  /** Close every session and stop the workers (idempotent). */
  async close(): Promise<void> {
    if (!this.#sm.is('running')) return;
    this.#sm.transition('closing');
    await Promise.all([...this.#sessions.values()].map((e) => e.session.close()));
    await this.#refreshTotals(); // the final counters stay readable through stats()
    await Promise.all(
      this.#slots.map(async (slot) => {
        if (!slot.failed) await this.#request(slot, { op: 'shutdown' }).catch(() => undefined);
        await slot.link.terminate();
      }),
    );
    for (const [, p] of this.#pending) p.reject(new AppError('CLOSED', 'media plane'));
    this.#pending.clear();
    this.#sm.transition('closed');
  }
}
