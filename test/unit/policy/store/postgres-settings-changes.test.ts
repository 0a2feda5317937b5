/**
 * Changes reach every node at once (issue 18 item 2, docs/policy.md "Settings database"): two
 * nodes, each with its own repository, settings service, snapshot cache and change listener, on one
 * throwaway PostgreSQL cluster. A write through node A's service is seen by node B's next read,
 * without any expiry; a lost listening connection is reopened and B reloads everything.
 * The time from A's write to B's invalidation and to B's first read of the new value is printed
 * (a figure, not an assertion). Fails with the reason when the cluster cannot start.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SettingsService } from '../../../../src/policy/settings-service.js';
import { openPostgresRepository, type PostgresPolicyRepository } from '../../../../src/policy/store/postgres-repository.js';
import { ALL_ORGANISATIONS, PostgresSettingsChanges } from '../../../../src/policy/store/postgres-settings-changes.js';
import { SnapshotCache } from '../../../../src/policy/store/snapshot-cache.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { captureLogger } from '../../../support/capture-logger.js';
import { portBlock } from '../../../support/ports.js';
import { POSTGRES_TEST_PORTS, startPostgresCluster, type PostgresCluster } from '../../../support/postgres-cluster.js';
import { until } from '../../../support/wait.js';

const ports = portBlock(POSTGRES_TEST_PORTS, 1, 10);
let cluster: PostgresCluster | undefined;

beforeAll(async () => {
  cluster = await startPostgresCluster({ port: ports });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

function started(): PostgresCluster {
  if (!cluster) throw new Error('the test PostgreSQL cluster did not start (see the error of beforeAll)');
  return cluster;
}

/** One product node as far as settings go: store, service (admin writes), call-path cache, listener. */
interface Node {
  readonly repository: PostgresPolicyRepository;
  readonly service: SettingsService;
  readonly cache: SnapshotCache;
  readonly changes: PostgresSettingsChanges | undefined;
  /** Every onChange payload, with performance.now() when it came. */
  readonly heard: Array<{ orgId: string; at: number }>;
  readonly lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startNode(url: string, options: { listen?: boolean; reconnectMinMs?: number } = {}): Promise<Node> {
  const { logger, lines } = captureLogger('info');
  const repository = await openPostgresRepository({ url, logger });
  const cache = new SnapshotCache(repository, { logger });
  const heard: Array<{ orgId: string; at: number }> = [];
  const service = new SettingsService({ repository, clock: new FakeClock(), onChanged: () => cache.invalidate() });
  const changes =
    options.listen === false
      ? undefined
      : await PostgresSettingsChanges.start({
          url,
          logger,
          reconnectMinMs: options.reconnectMinMs ?? 50,
          onChange: (orgId) => {
            heard.push({ orgId, at: performance.now() });
            cache.invalidate();
          },
        });
  return {
    repository,
    service,
    cache,
    changes,
    heard,
    lines,
    close: async () => {
      await changes?.close();
      await repository.close();
    },
  };
}

const trunkName = async (node: Node): Promise<string | undefined> => (await node.cache.snapshots()).find((s) => s.org.id === 'acme')?.trunks[0]?.name;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

describe('settings changes reach every node sharing the PostgreSQL database', () => {
  let url: string;
  let a: Node;
  let b: Node;
  let n = 0;
  beforeEach(async () => {
    url = await started().createDatabase(`nodes_${++n}`);
    a = await startNode(url);
    b = await startNode(url, { reconnectMinMs: 1000 });
    await a.service.createOrganisation({ id: 'acme', name: 'Acme' });
    await a.service.createTrunk('acme', { id: 't1', name: 'carrier', sourceAddresses: ['192.0.2.1'] });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await started().dropDatabase(`nodes_${n}`);
  });

  it('MUST show a write through node A to node B\'s next read, without waiting for any expiry (a node that does not listen keeps its cache)', async () => {
    const deaf = await startNode(url, { listen: false });
    try {
      await until(() => b.heard.length >= 2, 'B to hear the seed writes');
      expect(await trunkName(b)).toBe('carrier');
      expect(await trunkName(deaf)).toBe('carrier');
      const heardBefore = b.heard.length;
      await a.service.updateTrunk('acme', 't1', { name: 'carrier 2' });
      await until(() => b.heard.length > heardBefore, 'B to hear the write');
      expect(b.heard.at(-1)?.orgId).toBe('acme');
      expect(await trunkName(b)).toBe('carrier 2');
      // the cache is what makes B fast: without the notification it would still serve the old name
      expect(await trunkName(deaf)).toBe('carrier');
      expect(b.changes!.stats()).toMatchObject({ listening: true, connectionsLost: 0 });
    } finally {
      await deaf.close();
    }
  });

  it('measures the time from a write on node A to node B\'s invalidation and to B\'s first read of the new value', async () => {
    await trunkName(b);
    const toInvalidation: number[] = [];
    const toRead: number[] = [];
    for (let i = 0; i < 30; i++) {
      const heardBefore = b.heard.length;
      const t0 = performance.now();
      await a.service.updateTrunk('acme', 't1', { name: `carrier ${i}` });
      await until(() => b.heard.length > heardBefore, 'B to hear the write', 5000, 1);
      toInvalidation.push(b.heard[heardBefore]!.at - t0);
      expect(await trunkName(b)).toBe(`carrier ${i}`); // B's next call uses the new setting
      toRead.push(performance.now() - t0);
    }
    const summary = (xs: number[]): string => {
      const s = [...xs].sort((x, y) => x - y);
      return `median ${percentile(s, 50).toFixed(2)} ms, p95 ${percentile(s, 95).toFixed(2)} ms, max ${s.at(-1)!.toFixed(2)} ms`;
    };
    console.log(`[figure] settings write on node A -> node B invalidated (30 writes, LISTEN/NOTIFY): ${summary(toInvalidation)}`);
    console.log(`[figure] settings write on node A -> node B's next read sees it (reload included): ${summary(toRead)}`);
    expect(toInvalidation).toHaveLength(30);
  });

  it('MUST reopen a lost listening connection, count and log it, and reload everything since notifications were missed meanwhile', async () => {
    await until(() => b.heard.length >= 2, 'B to hear the seed writes');
    expect(await trunkName(b)).toBe('carrier');
    // an administrator (or a database restart) ends the listening connections
    const ended = await started().query<{ ended: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'siprec-b2bua settings listener' AND datname = $1",
      [`nodes_${n}`],
    );
    expect(ended.length).toBe(2);
    await until(() => b.changes!.stats().connectionsLost === 1, 'B to notice the lost connection');
    const heardAtLoss = b.heard.length;
    // written while B is not listening (B retries after 1 s): B misses this notification
    await a.service.updateTrunk('acme', 't1', { name: 'written while B was away' });
    await until(() => b.changes!.stats().reconnects === 1, 'B to reconnect', 5000);
    expect(b.heard.slice(heardAtLoss).map((h) => h.orgId)).toContain(ALL_ORGANISATIONS);
    expect(await trunkName(b)).toBe('written while B was away');
    expect(b.lines.filter((l) => /lost its database connection/.test(String(l.msg)))).toHaveLength(1);
    expect(b.lines.filter((l) => /reconnected/.test(String(l.msg)))).toHaveLength(1);
    // and it listens again
    const heardBefore = b.heard.length;
    await a.service.updateTrunk('acme', 't1', { name: 'after the reconnect' });
    await until(() => b.heard.length > heardBefore, 'B to hear the write after reconnecting');
    expect(await trunkName(b)).toBe('after the reconnect');
    expect(b.changes!.stats()).toMatchObject({ listening: true, connectionsLost: 1, reconnects: 1 });
  });

  it('MUST refuse to start listening on an unreachable database with POLICY_STORE_FAILED', async () => {
    const closed = ports.next();
    await expect(PostgresSettingsChanges.start({ url: `postgres://postgres:pw@127.0.0.1:${closed}/x`, onChange: () => undefined })).rejects.toMatchObject({
      code: 'POLICY_STORE_FAILED',
      message: expect.stringMatching(new RegExp(`cannot listen for settings changes on postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/x: .*ECONNREFUSED`)),
    });
  });
});
