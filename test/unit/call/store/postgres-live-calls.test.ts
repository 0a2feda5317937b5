/**
 * The live-call registry's PostgreSQL store (src/call/store/postgres-live-calls.ts) against a
 * throwaway cluster (test/support/postgres-cluster.ts; fails, never skips, without Debian's
 * postgresql package): tables created once by nodes opening at once, unlogged; heartbeats on the
 * database's clock; calls written, found by id or SIP Call-ID, replaced, removed, and deleted with
 * their node by the purge. Ports 19010-19019.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSummary } from '../../../../src/call/call-session.js';
import { PostgresLiveCalls } from '../../../../src/call/store/postgres-live-calls.js';
import { LIVE_CALLS_TEST_PORTS, portBlock } from '../../../support/ports.js';
import { startPostgresCluster, type PostgresCluster } from '../../../support/postgres-cluster.js';

const ports = portBlock(LIVE_CALLS_TEST_PORTS, 1, 10);
let cluster: PostgresCluster | undefined;
let url = '';
const stores: PostgresLiveCalls[] = [];

const call = (id: string, state = 'connected'): CallSummary => ({ id, callId: `sip-${id}@example`, state, startedAt: `2026-01-01T00:00:0${id.length}.000Z` }) as unknown as CallSummary;

beforeAll(async () => {
  cluster = await startPostgresCluster({ port: ports });
  url = await cluster.createDatabase('registry');
}, 60_000);
afterAll(async () => {
  for (const s of stores) await s.close();
  await cluster?.stop();
});

describe('PostgreSQL live-call store', () => {
  it('MUST create its unlogged tables once when nodes open it at once', async () => {
    stores.push(...(await Promise.all([1, 2, 3].map(() => PostgresLiveCalls.open({ url })))));
    const rows = await cluster!.query<{ relname: string; relpersistence: string }>(
      "SELECT relname, relpersistence FROM pg_class WHERE relname IN ('cluster_nodes', 'live_calls') ORDER BY relname",
      [],
      'registry',
    );
    expect(rows).toEqual([
      { relname: 'cluster_nodes', relpersistence: 'u' },
      { relname: 'live_calls', relpersistence: 'u' },
    ]);
  });

  it("MUST keep a node's heartbeat and calls: written, found by id or SIP Call-ID, replaced, removed; created again after removal", async () => {
    const store = stores[0]!;
    expect(await store.beat({ nodeId: 'n1', adminUrl: 'http://a:1' })).toBe(true);
    expect(await store.beat({ nodeId: 'n1', adminUrl: 'http://a:1' })).toBe(false);
    await store.putCalls('n1', [call('c1'), call('c22', 'ringing')]);
    await store.putCalls('n1', [call('c22', 'connected')]);
    const all = await store.read();
    expect(all.nodes).toEqual([{ nodeId: 'n1', adminUrl: 'http://a:1', heartbeatAt: expect.any(Number) }]);
    expect(Math.abs(all.now - all.nodes[0]!.heartbeatAt)).toBeLessThan(5000);
    expect(all.calls.map((c) => [c.nodeId, c.summary.id, c.summary.state])).toEqual([
      ['n1', 'c1', 'connected'],
      ['n1', 'c22', 'connected'],
    ]);
    expect((await store.read('sip-c22@example')).calls.map((c) => c.summary.id)).toEqual(['c22']);
    expect((await store.read('c1')).calls.map((c) => c.summary.id)).toEqual(['c1']);
    expect((await store.read('nothing')).calls).toEqual([]);

    await store.replaceCalls('n1', [call('c333')]);
    expect((await store.read()).calls.map((c) => c.summary.id)).toEqual(['c333']);
    await store.removeCalls('n1', ['c333']);
    expect((await store.read()).calls).toEqual([]);

    await store.putCalls('n1', [call('c1')]);
    const mark = await store.changeMark('other');
    expect(mark).toMatchObject({ calls: 1, nodes: [{ nodeId: 'n1' }] });
    expect(Math.abs(mark.lastWriteAt - mark.now)).toBeLessThan(5000);
    expect(await store.changeMark('n1'), "a node's own calls are not counted").toMatchObject({ calls: 0, lastWriteAt: 0 });
    await store.removeNode('n1');
    expect(await store.read()).toMatchObject({ nodes: [], calls: [] });
    expect(await store.beat({ nodeId: 'n1', adminUrl: 'http://a:1' })).toBe(true);
    await store.removeNode('n1');
  });

  it('MUST refuse calls of a node that is not registered (it was purged): CALL_REGISTRY_UNAVAILABLE', async () => {
    await expect(stores[0]!.putCalls('ghost', [call('g1')])).rejects.toMatchObject({ code: 'CALL_REGISTRY_UNAVAILABLE' });
  });

  it("MUST purge, on the database's clock, the nodes whose heartbeat is older than the expiry, with their calls", async () => {
    const [a, b] = stores as [PostgresLiveCalls, PostgresLiveCalls];
    await a.beat({ nodeId: 'alive', adminUrl: 'http://a' });
    await b.beat({ nodeId: 'dead', adminUrl: 'http://b' });
    await b.putCalls('dead', [call('d1')]);
    await cluster!.query("UPDATE cluster_nodes SET heartbeat_at = now() - interval '7 seconds' WHERE node_id = 'dead'", [], 'registry');
    expect(await a.purge(10_000)).toEqual([]);
    expect(await a.purge(6000)).toEqual(['dead']);
    const left = await a.read();
    expect(left.nodes.map((n) => n.nodeId)).toEqual(['alive']);
    expect(left.calls).toEqual([]);
  });

  it('MUST refuse to open an unreachable database with CALL_REGISTRY_UNAVAILABLE, its password hidden', async () => {
    const closed = ports.next();
    const err = (await PostgresLiveCalls.open({ url: `postgres://app:s3cret@127.0.0.1:${closed}/x`, connectTimeoutMs: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code: string };
    expect(err).toMatchObject({ code: 'CALL_REGISTRY_UNAVAILABLE' });
    expect(err.message).toContain(`postgres://app:***@127.0.0.1:${closed}/x`);
    expect(err.message).not.toContain('s3cret');
  });
});
