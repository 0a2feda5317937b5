/**
 * The live calls of every node sharing one database (DATABASE_URL), kept in a store all nodes read
 * (call/store/postgres-live-calls.ts; docs/scaling.md "Live calls across nodes"):
 *
 *   - this node registers itself (its id and the admin API base URL other nodes reach it at) and
 *     writes a heartbeat every `heartbeatMs` (default 2000 ms);
 *   - each of its live calls is written with its summary (what GET /v1/calls shows for the call,
 *     recordings included) when it starts and whenever it changes (CallManager.changes), and removed
 *     when it ends; changes within `flushDelayMs` (default 50 ms) go out in one write;
 *   - on each heartbeat, nodes whose heartbeat is older than heartbeatMs x missedHeartbeats
 *     (node-liveness.ts) are deleted with their calls; until then the reading side skips them.
 *
 * A failed write is counted and logged (once per outage) and repaired on the next heartbeat that
 * succeeds: this node's calls are then written again in full. So are they when the heartbeat finds
 * the node's entry gone (other nodes took it for dead while this one could not reach the database).
 * Without DATABASE_URL there is no registry: the admin API lists this node's calls only.
 */
import { systemTimers, type TimerHandle, type Timers } from '../common/clock.js';
import { AppError } from '../common/errors.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import type { Logger } from '../observability/logger.js';
import type { CallSummary } from './call-session.js';
import { NODE_LIVENESS_DEFAULTS, nodeAlive, nodeExpiryMs, type NodeLivenessOptions } from './node-liveness.js';

/** A node as the registry stores it. */
export interface NodeRecord {
  readonly nodeId: string;
  /** Base URL of the node's admin API as the other nodes reach it (NODE_ADMIN_URL), e.g. http://10.0.0.5:8080. */
  readonly adminUrl: string;
}

export interface RegisteredNode extends NodeRecord {
  /** The last heartbeat, ms since the epoch on the store's clock. */
  readonly heartbeatAt: number;
}

/** What the store holds, read at once: the nodes, the calls, and the store's clock at the time of reading. */
export interface RegistryContents {
  /** ms since the epoch, the store's clock (the one heartbeats are written with). */
  readonly now: number;
  readonly nodes: readonly RegisteredNode[];
  readonly calls: readonly { readonly nodeId: string; readonly summary: CallSummary }[];
}

/** Where the registry keeps nodes and calls (PostgreSQL: call/store/postgres-live-calls.ts; tests: an in-memory fake). */
export interface LiveCallStore {
  /** Inserts or refreshes the node's heartbeat (store clock); true when its entry was created (first beat, or after it was purged). */
  beat(node: NodeRecord): Promise<boolean>;
  /** Inserts or replaces these calls of the node. */
  putCalls(nodeId: string, calls: readonly CallSummary[]): Promise<void>;
  /** Deletes these calls (by call id) of the node. */
  removeCalls(nodeId: string, ids: readonly string[]): Promise<void>;
  /** The node's calls become exactly `calls`. */
  replaceCalls(nodeId: string, calls: readonly CallSummary[]): Promise<void>;
  /** Every node and call, or, with `callId`, the calls whose id or SIP Call-ID is that. */
  read(callId?: string): Promise<RegistryContents>;
  /**
   * What tells whether the calls of the nodes other than `nodeId` changed, without reading them: their
   * number and latest write (ms, store clock), and every node's heartbeat.
   */
  changeMark(nodeId: string): Promise<{ readonly now: number; readonly nodes: readonly RegisteredNode[]; readonly calls: number; readonly lastWriteAt: number }>;
  /** Deletes the nodes (and their calls) whose heartbeat is older than `expiryMs` on the store's clock; resolves with their ids. */
  purge(expiryMs: number): Promise<string[]>;
  /** Deletes the node and its calls. */
  removeNode(nodeId: string): Promise<void>;
  close(): Promise<void>;
}

/** A call of another live node. */
export interface RemoteCall {
  readonly nodeId: string;
  readonly adminUrl: string;
  readonly summary: CallSummary;
}

/** What the registry needs of the call layer (CallManager). */
export interface LocalCalls {
  list(): CallSummary[];
  get(id: string): { summary(): CallSummary } | undefined;
  readonly changes: {
    on(event: 'changed', fn: (callId: string) => void): unknown;
    off(event: 'changed', fn: (callId: string) => void): unknown;
  };
}

export interface LiveCallRegistryDeps {
  /** [NODE_ID] default `<hostname>-<pid>`. */
  readonly nodeId: string;
  readonly store: LiveCallStore;
  readonly calls: LocalCalls;
  /** Default NODE_LIVENESS_DEFAULTS (2000 ms, 3 missed). */
  readonly liveness?: NodeLivenessOptions;
  /** Changes within this window are written together; default 50 ms. */
  readonly flushDelayMs?: number;
  readonly timers?: Timers;
  readonly logger: Logger;
}

export interface LiveCallRegistryStats {
  readonly heartbeats: number;
  readonly heartbeatFailures: number;
  readonly writeFailures: number;
  /** Dead nodes this node deleted. */
  readonly nodesPurged: number;
  /** Times this node's calls were written again in full (after a failure, or after its entry was purged). */
  readonly resyncs: number;
  /** False from a failed heartbeat or write until the next heartbeat that succeeds. */
  readonly up: boolean;
}

export class LiveCallRegistry {
  readonly #d: LiveCallRegistryDeps;
  readonly #liveness: NodeLivenessOptions;
  readonly #timers: Timers;
  readonly #log: Logger;
  #node: NodeRecord | undefined;
  #heartbeat: TimerHandle | undefined;
  #flushTimer: TimerHandle | undefined;
  /** Calls changed since the last write (ids); written by #flush. */
  readonly #dirty = new Set<string>();
  /** Calls this node has written (so that an ended call is removed once). */
  readonly #written = new Set<string>();
  /** A write failed: the next successful heartbeat writes every call again. */
  #resync = false;
  #writing: Promise<void> = Promise.resolve();
  #outage = false;
  #beating = false;
  #closed = false;
  #stats = { heartbeats: 0, heartbeatFailures: 0, writeFailures: 0, nodesPurged: 0, resyncs: 0 };
  /** The other nodes' calls as last seen by #watchOthers (undefined: nobody watches). */
  #othersMark: string | undefined;
  /**
   * 'changed' with a node's id when the calls of other nodes changed (a call started, changed or
   * ended there, or a node came or went), seen on this node's heartbeat: at most heartbeatMs late.
   * Checked only while someone listens (the admin API's live feed, GET /v1/calls/events).
   */
  readonly othersChanges = new TypedEmitter<{ changed: [nodeId: string] }>();
  readonly #onChanged = (id: string): void => {
    if (this.#closed || !this.#node) return;
    this.#dirty.add(id);
    this.#flushTimer ??= this.#timers.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#serial(() => this.#flush());
    }, this.#d.flushDelayMs ?? 50);
  };

  constructor(deps: LiveCallRegistryDeps) {
    this.#d = deps;
    this.#liveness = deps.liveness ?? NODE_LIVENESS_DEFAULTS;
    this.#timers = deps.timers ?? systemTimers;
    this.#log = deps.logger.child({ component: 'live-call-registry' });
  }

  get nodeId(): string {
    return this.#d.nodeId;
  }

  /**
   * Registers this node (its admin API at `adminUrl`), writes its calls and starts the heartbeat.
   * Rejects when the store cannot be written (a start failure, like the settings store's), and
   * CONFIG_INVALID when a live node with another admin URL holds the same node id.
   */
  async start(adminUrl: string): Promise<void> {
    if (this.#node) return;
    const node = { nodeId: this.#d.nodeId, adminUrl };
    // two nodes under one NODE_ID would overwrite each other's calls; the same node restarted keeps its URL
    const contents = await this.#d.store.read('');
    const twin = contents.nodes.find((n) => n.nodeId === node.nodeId && n.adminUrl !== adminUrl && nodeAlive(n.heartbeatAt, contents.now, this.#liveness));
    if (twin) {
      throw new AppError(
        'CONFIG_INVALID',
        `NODE_ID '${node.nodeId}' is in use by a live node whose admin API is ${twin.adminUrl} (heartbeat ${Math.round(contents.now - twin.heartbeatAt)} ms ago): give each node its own NODE_ID`,
      );
    }
    await this.#d.store.beat(node);
    await this.#writeAll();
    this.#node = node;
    this.#d.calls.changes.on('changed', this.#onChanged);
    this.#heartbeat = this.#timers.setInterval(() => {
      // a database that hangs must not queue heartbeats up: one at a time, the others skipped
      if (this.#beating) return;
      this.#beating = true;
      this.#serial(() => this.#beat().finally(() => (this.#beating = false)));
    }, this.#liveness.heartbeatMs);
    this.#log.info({ nodeId: node.nodeId, adminUrl, heartbeatMs: this.#liveness.heartbeatMs, expiryMs: nodeExpiryMs(this.#liveness) }, 'node registered in the live-call registry');
  }

  /** The calls of every other live node (a node whose heartbeat expired is left out). Rejects when the store cannot be read. */
  async remoteCalls(): Promise<RemoteCall[]> {
    return this.#remote(await this.#d.store.read());
  }

  /** The call of another live node whose id or SIP Call-ID is `id`, if any. */
  async findRemote(id: string): Promise<RemoteCall | undefined> {
    return this.#remote(await this.#d.store.read(id))[0];
  }

  #remote(contents: RegistryContents): RemoteCall[] {
    const alive = new Map(
      contents.nodes.filter((n) => n.nodeId !== this.#d.nodeId && nodeAlive(n.heartbeatAt, contents.now, this.#liveness)).map((n) => [n.nodeId, n.adminUrl]),
    );
    return contents.calls.flatMap((c) => {
      const adminUrl = alive.get(c.nodeId);
      return adminUrl === undefined ? [] : [{ nodeId: c.nodeId, adminUrl, summary: c.summary }];
    });
  }

  stats(): LiveCallRegistryStats {
    return { ...this.#stats, up: !this.#outage };
  }

  /** Runs store work one piece at a time, in order (a heartbeat's full write never races a flush). */
  #serial(work: () => Promise<void>): void {
    this.#writing = this.#writing.then(work).catch((err: unknown) => this.#log.error({ err }, 'live-call registry task failed'));
  }

  async #beat(): Promise<void> {
    const node = this.#node;
    if (this.#closed || !node) return;
    try {
      const created = await this.#d.store.beat(node);
      this.#stats.heartbeats++;
      if (created) {
        this.#log.warn({ nodeId: node.nodeId }, "this node's registry entry was gone (taken for dead by another node): registering it again with its calls");
        this.#resync = true;
      }
      if (this.#resync) {
        this.#stats.resyncs++;
        await this.#writeAll();
      }
      const purged = await this.#d.store.purge(nodeExpiryMs(this.#liveness));
      if (purged.length > 0) {
        this.#stats.nodesPurged += purged.length;
        this.#log.warn({ nodes: purged, expiryMs: nodeExpiryMs(this.#liveness) }, 'nodes without a heartbeat deleted from the live-call registry with their calls');
      }
      this.#recovered();
      await this.#watchOthers();
    } catch (err) {
      this.#stats.heartbeatFailures++;
      this.#failed(err, 'heartbeat');
    }
  }

  /** Tells othersChanges when the other nodes' calls differ from the last heartbeat's look (only while someone listens). */
  async #watchOthers(): Promise<void> {
    if (this.othersChanges.listenerCount('changed') === 0) {
      this.#othersMark = undefined;
      return;
    }
    const m = await this.#d.store.changeMark(this.#d.nodeId);
    const alive = m.nodes.filter((n) => n.nodeId !== this.#d.nodeId && nodeAlive(n.heartbeatAt, m.now, this.#liveness)).map((n) => n.nodeId);
    const mark = `${m.calls}:${m.lastWriteAt}:${alive.sort().join(',')}`;
    if (mark === this.#othersMark) return;
    this.#othersMark = mark;
    this.othersChanges.emit('changed', alive[0] ?? '');
  }

  /** Writes every local call and removes the node's other entries; clears the resync flag. */
  async #writeAll(): Promise<void> {
    this.#dirty.clear();
    const calls = this.#d.calls.list();
    await this.#d.store.replaceCalls(this.#d.nodeId, calls);
    this.#written.clear();
    for (const c of calls) this.#written.add(c.id);
    this.#resync = false;
  }

  async #flush(): Promise<void> {
    if (this.#closed || this.#dirty.size === 0) return;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    // A call is marked under its id or its SIP Call-ID (recording events carry the latter): one row
    // each, since one statement may not write a row twice.
    const byId = new Map<string, CallSummary>();
    const gone: string[] = [];
    for (const id of ids) {
      const call = this.#d.calls.get(id);
      if (call) {
        const summary = call.summary();
        byId.set(summary.id, summary);
      } else if (this.#written.has(id)) gone.push(id);
    }
    const put = [...byId.values()];
    try {
      if (put.length > 0) await this.#d.store.putCalls(this.#d.nodeId, put);
      for (const c of put) this.#written.add(c.id);
      if (gone.length > 0) await this.#d.store.removeCalls(this.#d.nodeId, gone);
      for (const id of gone) this.#written.delete(id);
    } catch (err) {
      this.#stats.writeFailures++;
      this.#resync = true;
      this.#failed(err, 'write');
    }
  }

  #failed(err: unknown, what: string): void {
    if (this.#outage) return;
    this.#outage = true;
    this.#log.warn(
      { err, what, heartbeatFailures: this.#stats.heartbeatFailures, writeFailures: this.#stats.writeFailures },
      "live-call registry unreachable: other nodes may not see this node's calls; retrying on each heartbeat",
    );
  }

  #recovered(): void {
    if (!this.#outage) return;
    this.#outage = false;
    this.#log.info({ nodeId: this.#d.nodeId }, "live-call registry reachable again: this node's calls written again");
  }

  /** Stops the heartbeat and deletes this node and its calls from the store (other nodes stop listing them at once). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clearInterval(this.#heartbeat);
    this.#timers.clearTimeout(this.#flushTimer);
    this.#d.calls.changes.off('changed', this.#onChanged);
    await this.#writing;
    if (!this.#node) return;
    try {
      await this.#d.store.removeNode(this.#d.nodeId);
    } catch (err) {
      this.#log.warn({ err }, 'could not remove this node from the live-call registry: the other nodes drop it once its heartbeat expires');
    }
  }
}
