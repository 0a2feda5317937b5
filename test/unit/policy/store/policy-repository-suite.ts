/**
 * The contract of PolicyRepository (src/policy/policy-repository.ts), as one suite every settings
 * store runs: sqlite-repository.test.ts (the embedded file) and postgres-repository.test.ts (a
 * throwaway PostgreSQL cluster). A store passes the same tests or it is not a settings store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyRepository } from '../../../../src/policy/policy-repository.js';
import { DEFAULT_COMPLIANCE } from '../../../../src/policy/policy-defaults.js';
import type { Organisation } from '../../../../src/policy/policy-types.js';
import type { ProvisioningFileLedger } from '../../../../src/policy/store/provisioning-file-state.js';
import type { Migration } from '../../../../src/policy/store/sqlite-migrations.js';
import { makeSnapshot } from '../snapshot-builder.js';

/** A store under test: the repository, its provisioning-file record, and its migration history. */
export type StoreUnderTest = PolicyRepository & ProvisioningFileLedger & { appliedMigrations(): number[] | Promise<number[]> };

export interface RepositoryFactory {
  /** The versions of the store's own migrations, in order. */
  readonly migrationVersions: readonly number[];
  /** The store's own migrations (a test appends one). */
  readonly migrations: readonly Migration[];
  /** A new, empty database for one test (a file, a PostgreSQL database). */
  createDatabase(): Promise<void>;
  /** Opens (creating and migrating) the current test's database; again after close() is a restart. */
  open(migrations?: readonly Migration[]): Promise<StoreUnderTest>;
  /** Deletes the current test's database. */
  dropDatabase(): Promise<void>;
}

const code = (c: string) => expect.objectContaining({ code: c });

export function policyRepositorySuite(name: string, factory: RepositoryFactory): void {
  describe(`${name}: the settings store contract (PolicyRepository)`, () => {
    let repo: StoreUnderTest;
    beforeEach(async () => {
      await factory.createDatabase();
      repo = await factory.open();
    });
    afterEach(async () => {
      await repo.close();
      await factory.dropDatabase();
    });

    async function seed(): Promise<void> {
      const s = makeSnapshot();
      await repo.createOrganisation(s.org);
      for (const p of s.providers) await repo.providers.create(p);
      for (const t of s.termsAcceptances) await repo.putTermsAcceptance(t);
      for (const l of s.locations) await repo.locations.create(l);
      for (const u of s.users) await repo.users.create(u);
      for (const v of s.virtualLines) await repo.virtualLines.create(v);
      for (const f of s.features) await repo.features.create(f);
      for (const t of s.trunks) await repo.trunks.create(t);
    }

    it('MUST migrate a new database at open, recording each migration version once', async () => {
      expect(await repo.appliedMigrations()).toEqual([...factory.migrationVersions]);
      expect(await repo.listOrganisations()).toEqual([]);
    });

    it('a snapshot written survives closing and reopening; migrations are not re-applied', async () => {
      await seed();
      await repo.close();
      repo = await factory.open();
      expect(await repo.appliedMigrations()).toEqual([...factory.migrationVersions]);
      expect(await repo.loadSnapshot('acme')).toEqual(makeSnapshot());
      expect((await repo.loadAllSnapshots()).map((s) => s.org.id)).toEqual(['acme']);
    });

    it('applies a later migration once on an existing database', async () => {
      await repo.close();
      const extra = { version: 99, name: 'extra', sql: 'CREATE TABLE extra_test (x INTEGER)' };
      repo = await factory.open([extra, ...factory.migrations]);
      expect(await repo.appliedMigrations()).toEqual([...factory.migrationVersions, 99]);
      await repo.close();
      repo = await factory.open([extra, ...factory.migrations]);
      expect(await repo.appliedMigrations()).toEqual([...factory.migrationVersions, 99]);
    });

    it('MUST apply each migration once when two nodes open the same new database at once', async () => {
      await repo.close();
      await factory.dropDatabase();
      await factory.createDatabase();
      const both = await Promise.all([factory.open(), factory.open()]);
      try {
        for (const r of both) expect(await r.appliedMigrations()).toEqual([...factory.migrationVersions]);
      } finally {
        await both[1].close();
      }
      repo = both[0];
    });

    it('rejects duplicates, missing entities and dangling references with codes', async () => {
      await seed();
      const s = makeSnapshot();
      await expect(repo.createOrganisation(s.org)).rejects.toThrow(code('POLICY_ALREADY_EXISTS'));
      await expect(repo.users.create(s.users[0]!)).rejects.toThrow(code('POLICY_ALREADY_EXISTS'));
      await expect(repo.putTermsAcceptance(s.termsAcceptances[0]!)).rejects.toThrow(code('POLICY_ALREADY_EXISTS'));
      await expect(repo.users.update({ ...s.users[0]!, id: 'ghost' })).rejects.toThrow(code('POLICY_NOT_FOUND'));
      await expect(repo.users.delete('acme', 'ghost')).rejects.toThrow(code('POLICY_NOT_FOUND'));
      await expect(repo.updateOrganisation({ ...s.org, id: 'ghost' })).rejects.toThrow(code('POLICY_NOT_FOUND'));
      await expect(repo.deleteOrganisation('ghost')).rejects.toThrow(code('POLICY_NOT_FOUND'));
      await expect(repo.users.create({ ...s.users[0]!, id: 'dave', locationId: 'nowhere' })).rejects.toThrow(code('POLICY_REFERENCE_INVALID'));
      await expect(repo.putTermsAcceptance({ ...s.termsAcceptances[0]!, providerId: 'ghost' })).rejects.toThrow(code('POLICY_REFERENCE_INVALID'));
      await expect(repo.trunks.create({ ...s.trunks[0]!, orgId: 'ghost' })).rejects.toThrow(code('POLICY_REFERENCE_INVALID'));
      // a refused write changes nothing
      expect(await repo.loadSnapshot('acme')).toEqual(makeSnapshot());
    });

    it('get resolves undefined when absent; lists keep the order of creation', async () => {
      await seed();
      expect(await repo.getOrganisation('ghost')).toBeUndefined();
      expect(await repo.users.get('acme', 'ghost')).toBeUndefined();
      expect(await repo.users.get('other', 'alice')).toBeUndefined();
      expect(await repo.loadSnapshot('ghost')).toBeUndefined();
      expect((await repo.users.list('acme')).map((u) => u.id)).toEqual(makeSnapshot().users.map((u) => u.id));
      expect((await repo.features.list('acme')).map((f) => f.id)).toEqual(makeSnapshot().features.map((f) => f.id));
    });

    it('feature listing by kind and entity updates round-trip', async () => {
      await seed();
      expect((await repo.features.listByKind('acme', 'call-queue')).map((f) => f.id)).toEqual(['cq']);
      const alice = (await repo.users.get('acme', 'alice'))!;
      await repo.users.update({ ...alice, locationId: 'branch' });
      expect((await repo.users.get('acme', 'alice'))?.locationId).toBe('branch');
      const org = (await repo.getOrganisation('acme'))!;
      await repo.updateOrganisation({ ...org, name: 'Acme 2' });
      expect((await repo.loadSnapshot('acme'))?.org.name).toBe('Acme 2');
      await repo.trunks.delete('acme', makeSnapshot().trunks[0]!.id);
      expect((await repo.loadSnapshot('acme'))?.trunks).toEqual(makeSnapshot().trunks.slice(1));
    });

    it('deleting an organisation deletes everything it owns', async () => {
      await seed();
      const other: Organisation = { ...makeSnapshot().org, id: 'other', serviceSettings: { providerId: null, compliance: DEFAULT_COMPLIANCE } };
      await repo.createOrganisation(other);
      await repo.deleteOrganisation('acme');
      expect(await repo.loadSnapshot('acme')).toBeUndefined();
      expect(await repo.users.list('acme')).toEqual([]);
      expect(await repo.listTermsAcceptances('acme')).toEqual([]);
      expect((await repo.listOrganisations()).map((o) => o.id)).toEqual(['other']);
      expect(await repo.loadAllSnapshots()).toEqual([{ org: other, providers: [], termsAcceptances: [], locations: [], users: [], virtualLines: [], features: [], trunks: [] }]);
    });

    it('provisioning records are upserted per subject (R-06)', async () => {
      await seed();
      const r = { orgId: 'acme', providerId: 'srs', subjectKind: 'user' as const, subjectId: 'alice', status: 'failed' as const, externalId: null, attempts: 1, lastError: 'HTTP 503', updatedAt: 't1', nextRetryAt: 't2' };
      await repo.putProvisioningRecord(r);
      await repo.putProvisioningRecord({ ...r, status: 'provisioned', externalId: 'x-1', attempts: 2, lastError: null });
      expect(await repo.listProvisioningRecords('acme')).toEqual([{ ...r, status: 'provisioned', externalId: 'x-1', attempts: 2, lastError: null }]);
      expect(await repo.getProvisioningRecord('acme', 'srs', 'user', 'alice')).toMatchObject({ status: 'provisioned' });
      expect(await repo.getProvisioningRecord('acme', 'srs', 'user', 'bob')).toBeUndefined();
    });

    it('keeps one record of the provisioning file last applied', async () => {
      expect(await repo.readProvisioningFileApplied()).toBeUndefined();
      await repo.writeProvisioningFileApplied({ sha256: 'a', path: 'p.yaml' });
      await repo.writeProvisioningFileApplied({ sha256: 'b', path: 'p.yaml' });
      expect(await repo.readProvisioningFileApplied()).toEqual({ sha256: 'b', path: 'p.yaml' });
    });

    it('methods on a closed store reject with CLOSED; close() is idempotent', async () => {
      await repo.close();
      await repo.close();
      await expect(repo.listOrganisations()).rejects.toThrow(code('CLOSED'));
      await expect(repo.users.list('acme')).rejects.toThrow(code('CLOSED'));
      await expect(repo.createOrganisation(makeSnapshot().org)).rejects.toThrow(code('CLOSED'));
      await expect(repo.loadAllSnapshots()).rejects.toThrow(code('CLOSED'));
    });
  });
}
