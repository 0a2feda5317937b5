/**
 * The PostgreSQL settings store against a throwaway cluster (test/support/postgres-cluster.ts):
 * the shared contract (policy-repository-suite.ts, the same suite as the SQLite store), then what
 * only a networked store has: an unreachable database at open, notifications of writes.
 * Without Debian's postgresql package, or when the cluster cannot start, this file FAILS with the reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsService } from '../../../../src/policy/settings-service.js';
import { applyProvisioningFileIfChanged } from '../../../../src/policy/store/provisioning-file-state.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { POSTGRES_MIGRATIONS } from '../../../../src/policy/store/postgres-migrations.js';
import { openPostgresRepository } from '../../../../src/policy/store/postgres-repository.js';
import { portBlock } from '../../../support/ports.js';
import { POSTGRES_TEST_PORTS, startPostgresCluster, type PostgresCluster } from '../../../support/postgres-cluster.js';
import { makeSnapshot } from '../snapshot-builder.js';
import { policyRepositorySuite } from './policy-repository-suite.js';

const ports = portBlock(POSTGRES_TEST_PORTS, 0, 10);
const closedPort = ports.next(); // nothing listens there
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

// the shared contract, one database per test
let databases = 0;
let database: string | undefined;
policyRepositorySuite('PostgreSQL settings store', {
  migrationVersions: POSTGRES_MIGRATIONS.map((m) => m.version),
  migrations: POSTGRES_MIGRATIONS,
  async createDatabase() {
    database = `suite_${++databases}`;
    await started().createDatabase(database);
  },
  async open(migrations) {
    return openPostgresRepository({ url: started().urlOf(database!), ...(migrations ? { migrations } : {}) });
  },
  async dropDatabase() {
    if (database) await started().dropDatabase(database);
    database = undefined;
  },
});

describe('PostgreSQL settings store: the database', () => {
  it('MUST refuse to open an unreachable database with POLICY_STORE_FAILED naming it, without its password', async () => {
    const url = `postgres://app:s3cret@127.0.0.1:${closedPort}/settings`;
    const err = await openPostgresRepository({ url, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'POLICY_STORE_FAILED' });
    expect((err as Error).message).toContain(`cannot open the settings database postgres://app:***@127.0.0.1:${closedPort}/settings: `);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('MUST refuse a database that exists nowhere with POLICY_STORE_FAILED and the server\'s reason', async () => {
    await expect(openPostgresRepository({ url: started().urlOf('no_such_database') })).rejects.toMatchObject({
      code: 'POLICY_STORE_FAILED',
      message: expect.stringContaining('database "no_such_database" does not exist'),
    });
  });

  it('a write to a snapshot table notifies settings_changed with its organisation; provisioning records do not', async () => {
    await started().createDatabase('notify_test');
    const repo = await openPostgresRepository({ url: started().urlOf('notify_test') });
    const pg = (await import('pg')).default;
    const listener = new pg.Client({ connectionString: started().urlOf('notify_test') });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (m) => heard.push(`${m.channel}:${m.payload}`));
    await listener.query('LISTEN settings_changed');
    try {
      const s = makeSnapshot();
      await repo.createOrganisation(s.org);
      await repo.trunks.create(s.trunks[0]!);
      await repo.putProvisioningRecord({ orgId: 'acme', providerId: 'srs', subjectKind: 'user', subjectId: 'alice', status: 'failed', externalId: null, attempts: 1, lastError: null, updatedAt: 't', nextRetryAt: null });
      await repo.deleteOrganisation('acme'); // cascades: one notification for the transaction
      await listener.query('SELECT 1'); // notifications sent before this round trip have arrived
      expect(heard).toEqual(['settings_changed:acme', 'settings_changed:acme', 'settings_changed:acme']);
    } finally {
      await listener.end();
      await repo.close();
      await started().dropDatabase('notify_test');
    }
  });

  it('MUST apply the same provisioning file once when two nodes start with it at once', async () => {
    const url = await started().createDatabase('provisioning_race');
    const path = join(started().dir, 'provisioning.yaml');
    writeFileSync(path, readFileSync(new URL('../../../fixtures/provisioning/acme.yaml', import.meta.url), 'utf8'));
    const nodes = await Promise.all([openPostgresRepository({ url }), openPostgresRepository({ url })]);
    try {
      const outcomes = await Promise.all(nodes.map((repo) => applyProvisioningFileIfChanged(new SettingsService({ repository: repo, clock: new FakeClock() }), repo, path)));
      expect(outcomes.map((o) => o.applied).sort()).toEqual([false, true]);
      expect((await nodes[0].listOrganisations()).map((o) => o.id)).toEqual(['acme']);
    } finally {
      for (const repo of nodes) await repo.close();
      await started().dropDatabase('provisioning_race');
    }
  });
});
