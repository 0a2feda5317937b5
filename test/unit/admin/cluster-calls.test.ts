/**
 * The admin API's live calls with several nodes (src/admin/cluster-calls.ts): local and remote calls
 * merged with their node; an action on a remote call forwarded to its owner's admin API (bearer token,
 * `?scope=local`) with the owner's answer passed on; failures with their codes (docs/errors.md):
 * CALL_OWNER_UNREACHABLE (502) for a refused connection, a timeout, a refused token or an answer that
 * is not the API's; CALL_REGISTRY_UNAVAILABLE (503) when the registry cannot be read.
 */
import { describe, expect, it } from 'vitest';
import { clusterLiveCalls } from '../../../src/admin/cluster-calls.js';
import type { CallSummary } from '../../../src/call/call-session.js';
import type { RemoteCall } from '../../../src/call/live-call-registry.js';
import { AppError } from '../../../src/common/errors.js';
import { TypedEmitter } from '../../../src/common/typed-emitter.js';
import { createLogger } from '../../../src/observability/logger.js';

const logger = createLogger({ level: 'silent' });
const summary = (id: string, startedAt: string): CallSummary => ({ id, callId: `sip-${id}`, startedAt, recording: { state: 'recording' } }) as unknown as CallSummary;
const REMOTE: RemoteCall = { nodeId: 'node-b', adminUrl: 'http://10.0.0.2:8080/', summary: summary('b1', '2026-01-01T00:00:01.000Z') };

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function setup(answer: (sent: Sent) => Promise<Response> | Response, registry: Partial<{ remoteCalls: () => Promise<RemoteCall[]>; findRemote: (id: string) => Promise<RemoteCall | undefined> }> = {}) {
  const sent: Sent[] = [];
  const local = new Map<string, CallSummary>([['a1', summary('a1', '2026-01-01T00:00:02.000Z')]]);
  const calls = clusterLiveCalls({
    local: {
      list: () => [...local.values()],
      get: (id) => {
        const c = local.get(id);
        return c && { summary: () => c, control: async () => ({ ok: true as const, state: 'paused' as const }), hangup: async () => undefined };
      },
    },
    registry: {
      nodeId: 'node-a',
      remoteCalls: registry.remoteCalls ?? (async () => [REMOTE]),
      findRemote: registry.findRemote ?? (async (id) => (id === 'b1' || id === 'sip-b1' ? REMOTE : undefined)),
    },
    token: 'secret',
    forwardTimeoutMs: 200,
    logger,
    fetch: (async (url: string, init: RequestInit) => {
      const s = { url, method: init.method!, headers: init.headers as Record<string, string>, body: init.body === undefined ? undefined : JSON.parse(init.body as string) };
      sent.push(s);
      return answer(s);
    }) as unknown as typeof fetch,
  });
  return { calls, sent };
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const refusedWith = async (p: Promise<unknown>): Promise<AppError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
};

describe('live calls of several nodes in the admin API', () => {
  it('MUST list every live node\'s calls by start time, each with its node; scope "local" lists this node\'s only', async () => {
    const { calls } = setup(() => json(500, {}));
    expect((await calls.list()).map((c) => [c.id, (c as CallSummary & { node: string }).node])).toEqual([
      ['b1', 'node-b'],
      ['a1', 'node-a'],
    ]);
    expect((await calls.list('local')).map((c) => c.id)).toEqual(['a1']);
    expect((await calls.get('sip-b1'))?.summary()).toMatchObject({ id: 'b1', node: 'node-b' });
    expect(await calls.get('b1', 'local')).toBeUndefined();
  });

  it("MUST forward an action on another node's call to that node's admin API with the token and pass its answer on", async () => {
    const { calls, sent } = setup((s) => (s.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, { ok: true, state: 'paused' })));
    const call = (await calls.get('b1'))!;
    expect(await call.control('pause', 'caller')).toEqual({ ok: true, state: 'paused' });
    await call.hangup('admin-hangup');
    expect(sent).toEqual([
      { url: 'http://10.0.0.2:8080/v1/calls/b1/recording?scope=local', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer secret' }, body: { action: 'pause', party: 'caller' } },
      { url: 'http://10.0.0.2:8080/v1/calls/b1?scope=local', method: 'DELETE', headers: { authorization: 'Bearer secret' }, body: undefined },
    ]);
  });

  it("MUST answer the owner's error with its code and message, as if the call were here", async () => {
    const { calls } = setup(() => json(409, { error: { code: 'CALL_CONTROL_REFUSED', message: 'recording control not possible on this call: pause: already paused (recording paused)' } }));
    const err = await refusedWith((await calls.get('b1'))!.control('pause'));
    expect(err.code).toBe('CALL_CONTROL_REFUSED');
    expect(err.httpStatus).toBe(409);
    expect(err.message).toBe('recording control not possible on this call: pause: already paused (recording paused)');
  });

  it('MUST answer 502 CALL_OWNER_UNREACHABLE naming the node when the owner refuses the connection, times out, refuses the token or answers something else', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const cases: Array<[string, (s: Sent) => Promise<Response> | Response, RegExp]> = [
      ['connection refused', () => Promise.reject(refused), /node node-b \(http:\/\/10\.0\.0\.2:8080\/\): ECONNREFUSED/],
      ['timeout', () => Promise.reject(Object.assign(new Error('aborted'), { name: 'TimeoutError' })), /no answer within 200 ms/],
      ['token refused', () => json(401, { error: { code: 'ADMIN_UNAUTHORIZED', message: 'missing or wrong bearer token' } }), /same ADMIN_TOKEN/],
      ['not the API', () => new Response('<html>bad gateway</html>', { status: 502 }), /answered 502 without a JSON body/],
      ['unknown code', () => json(500, { error: { code: 'SOMETHING_ELSE' } }), /answered 500/],
    ];
    for (const [what, answer, message] of cases) {
      const { calls } = setup(answer);
      const err = await refusedWith((await calls.get('b1'))!.control('pause'));
      expect(err.code, what).toBe('CALL_OWNER_UNREACHABLE');
      expect(err.httpStatus, what).toBe(502);
      expect(err.message, what).toMatch(message);
    }
  });

  it("MUST feed the live stream with this node's call changes and those the registry sees on other nodes", () => {
    const local = new TypedEmitter<{ changed: [callId: string] }>();
    const others = new TypedEmitter<{ changed: [callId: string] }>();
    const calls = clusterLiveCalls({
      local: { list: () => [], get: () => undefined, changes: local },
      registry: { nodeId: 'node-a', othersChanges: others, remoteCalls: async () => [], findRemote: async () => undefined },
      token: undefined,
      logger,
    });
    const seen: string[] = [];
    const fn = (id: string): void => void seen.push(id);
    calls.changes!.on('changed', fn);
    local.emit('changed', 'a1');
    others.emit('changed', 'node-b');
    calls.changes!.off('changed', fn);
    local.emit('changed', 'a2');
    others.emit('changed', 'node-c');
    expect(seen).toEqual(['a1', 'node-b']);
  });

  it('MUST answer 503 CALL_REGISTRY_UNAVAILABLE when the registry cannot be read (list, and a call that is not here)', async () => {
    const down = async (): Promise<never> => {
      throw new Error('connect ECONNREFUSED 10.0.0.9:5432');
    };
    const { calls } = setup(() => json(500, {}), { remoteCalls: down, findRemote: down });
    expect((await refusedWith(Promise.resolve(calls.list()))).code).toBe('CALL_REGISTRY_UNAVAILABLE');
    expect((await refusedWith(Promise.resolve(calls.get('b1')))).httpStatus).toBe(503);
    expect((await calls.get('a1'))?.summary().id, "this node's calls are found without the registry").toBe('a1');
    expect((await calls.list('local')).map((c) => c.id)).toEqual(['a1']);
  });
});
