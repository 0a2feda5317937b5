/**
 * The admin API's live calls when several nodes share a database (DATABASE_URL; docs/scaling.md
 * "Live calls across nodes"): this node's calls (the call manager) and those of every other live
 * node (the live-call registry, src/call/live-call-registry.ts), each with its `node`.
 *
 *   GET    /v1/calls                 this node's calls + the registry's calls of the other live nodes
 *   GET    /v1/calls/{id}            here first, else the registry (id or SIP Call-ID)
 *   POST   /v1/calls/{id}/recording  \  a call of another node: the same request is sent to that
 *   DELETE /v1/calls/{id}            /  node's admin API (`<its NODE_ADMIN_URL>/v1/calls/{id}...?scope=local`,
 *                                       this node's ADMIN_TOKEN as bearer), and its answer is the answer
 *
 * Failures: the registry cannot be read -> 503 CALL_REGISTRY_UNAVAILABLE; the owner does not
 * answer within forwardTimeoutMs, refuses the connection, refuses the token or answers something
 * that is not its API's answer -> 502 CALL_OWNER_UNREACHABLE naming the node. An error answer of
 * the owner's API (404 CALL_NOT_FOUND when the call just ended, 409 CALL_CONTROL_REFUSED) is
 * passed on with its code and message.
 */
import type { CallSummary } from '../call/call-session.js';
import type { RemoteCall } from '../call/live-call-registry.js';
import type { ControlResult } from '../call/recording-controller.js';
import type { RecordingAction } from '../call/recording-controls.js';
import { AppError, ERROR_CODES, type ErrorCode } from '../common/errors.js';
import type { Logger } from '../observability/logger.js';
import type { CallScope, LiveCallHandle, LiveCalls } from './plugins/calls-plugin.js';

/** A call as the admin API lists it with several nodes: its summary and the node that owns it. */
export type NodeCallSummary = CallSummary & { readonly node: string };

export interface ClusterCallsOptions {
  /** This node's calls (CallManager). */
  readonly local: {
    list(): CallSummary[];
    get(id: string): LiveCallHandle | undefined;
    readonly changes?: LiveCalls['changes'];
  };
  /** The live-call registry (LiveCallRegistry). */
  readonly registry: {
    readonly nodeId: string;
    /** Changes of other nodes' calls (LiveCallRegistry.othersChanges): with them the live feed follows other nodes too. */
    readonly othersChanges?: NonNullable<LiveCalls['changes']>;
    remoteCalls(): Promise<RemoteCall[]>;
    findRemote(id: string): Promise<RemoteCall | undefined>;
  };
  /** ADMIN_TOKEN, sent to the owner (every node of one deployment has the same). */
  readonly token: string | undefined;
  /** How long a forwarded action may take; default 5000 ms (config cluster.forwardTimeoutMs). */
  readonly forwardTimeoutMs?: number;
  /** Default the global fetch (tests pass their own). */
  readonly fetch?: typeof fetch;
  readonly logger: Logger;
}

/** Forwarded actions, and those that failed with CALL_OWNER_UNREACHABLE (metrics). */
export interface ForwardStats {
  readonly forwarded: number;
  readonly forwardFailures: number;
}

export function clusterLiveCalls(o: ClusterCallsOptions): LiveCalls & { stats(): ForwardStats } {
  const self = o.registry.nodeId;
  const withNode = (summary: CallSummary, node: string): NodeCallSummary => ({ ...summary, node });
  const registryRead = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      if (err instanceof AppError && err.code === 'CALL_REGISTRY_UNAVAILABLE') throw err;
      throw new AppError('CALL_REGISTRY_UNAVAILABLE', (err as Error).message, { cause: err });
    }
  };
  const counts = { forwarded: 0, forwardFailures: 0 };
  const forward = forwarder(o, counts);
  return {
    stats: () => ({ ...counts }),
    ...(o.local.changes ? { changes: bothChanges(o.local.changes, o.registry.othersChanges) } : {}),
    async list(scope?: CallScope): Promise<CallSummary[]> {
      const local = o.local.list().map((c) => withNode(c, self));
      if (scope === 'local') return local;
      const remote = (await registryRead(() => o.registry.remoteCalls())).map((r) => withNode(r.summary, r.nodeId));
      return [...local, ...remote].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.node.localeCompare(b.node));
    },
    async get(id: string, scope?: CallScope): Promise<LiveCallHandle | undefined> {
      const call = o.local.get(id);
      if (call) {
        return { summary: () => withNode(call.summary(), self), control: (action, party) => call.control(action, party), hangup: (reason) => call.hangup(reason) };
      }
      if (scope === 'local') return undefined;
      const remote = await registryRead(() => o.registry.findRemote(id));
      if (!remote) return undefined;
      const path = `/v1/calls/${encodeURIComponent(id)}`;
      return {
        summary: () => withNode(remote.summary, remote.nodeId),
        control: async (action: RecordingAction, party?: string) =>
          (await forward(remote, 'POST', `${path}/recording`, { action, ...(party === undefined ? {} : { party }) })) as ControlResult,
        hangup: async () => {
          await forward(remote, 'DELETE', path, undefined);
        },
      };
    },
  };
}

/** The live feed's change source: this node's call changes, and those of other nodes the registry sees on its heartbeat. */
function bothChanges(local: NonNullable<LiveCalls['changes']>, others: LiveCalls['changes']): NonNullable<LiveCalls['changes']> {
  if (!others) return local;
  return {
    on(event, fn) {
      local.on(event, fn);
      others.on(event, fn);
      return this;
    },
    off(event, fn) {
      local.off(event, fn);
      others.off(event, fn);
      return this;
    },
  };
}

/** Sends one admin API request to the node owning a call; resolves with its JSON answer (undefined for 204). */
function forwarder(o: ClusterCallsOptions, counts: { forwarded: number; forwardFailures: number }): (owner: RemoteCall, method: 'POST' | 'DELETE', path: string, body: object | undefined) => Promise<unknown> {
  const doFetch = o.fetch ?? fetch;
  const timeoutMs = o.forwardTimeoutMs ?? 5000;
  const log = o.logger.child({ component: 'cluster-calls' });
  return async (owner, method, path, body) => {
    const url = `${owner.adminUrl.replace(/\/+$/, '')}${path}?scope=local`;
    counts.forwarded++;
    const unreachable = (why: string, cause?: unknown): AppError => {
      counts.forwardFailures++;
      log.warn({ node: owner.nodeId, url, why }, 'action on a call of another node could not be forwarded');
      return new AppError('CALL_OWNER_UNREACHABLE', `node ${owner.nodeId} (${owner.adminUrl}): ${why}`, cause === undefined ? undefined : { cause });
    };
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
      throw unreachable(why, err);
    }
    if (res.status === 204) return undefined;
    let answer: unknown;
    try {
      answer = await res.json();
    } catch (err) {
      throw unreachable(`answered ${res.status} without a JSON body`, err);
    }
    if (res.ok) return answer;
    if (res.status === 401) throw unreachable('it refused this node\'s admin token (401): every node needs the same ADMIN_TOKEN');
    const error = (answer as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' && error.code in ERROR_CODES ? (error.code as ErrorCode) : undefined;
    if (!code) throw unreachable(`answered ${res.status} ${JSON.stringify(answer).slice(0, 200)}`);
    // the owner's own answer, as if the call were here: same code, same message
    const spec = ERROR_CODES[code].message;
    const message = typeof error?.message === 'string' ? error.message : '';
    throw new AppError(code, message.startsWith(`${spec}: `) ? message.slice(spec.length + 2) : message === spec ? undefined : message);
  };
}
