import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_COMPLIANCE } from '../../../../src/policy/policy-defaults.js';
import type { Organisation } from '../../../../src/policy/policy-types.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../../src/policy/store/sqlite-repository.js';
import { makeSnapshot } from '../snapshot-builder.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('SQLite settings store', () => {
  let dir: string;
  let repo: SqlitePolicyRepository;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-store-'));
    repo = openSqliteRepository({ path: join(dir, 'nested', 'settings.db') });
  });
  afterEach(async () => {
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
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

  it('creates the file (and its directory), migrates it, and uses WAL and foreign keys', () => {
    expect(repo.appliedMigrations()).toEqual([1, 2]);
    expect(repo.database().pragma('journal_mode', { simple: true })).toBe('wal');
    expect(repo.database().pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('a snapshot written survives closing and reopening the file; migrations are not re-applied', async () => {
    await seed();
    await repo.close();
    repo = openSqliteRepository({ path: join(dir, 'nested', 'settings.db') });
    expect(repo.appliedMigrations()).toEqual([1, 2]);
    expect(await repo.loadSnapshot('acme')).toEqual(makeSnapshot());
    expect((await repo.loadAllSnapshots()).map((s) => s.org.id)).toEqual(['acme']);
  });

  it('applies a later migration once on an existing file', async () => {
    await repo.close();
    const extra = { version: 99, name: 'extra', sql: 'CREATE TABLE extra_test (x INTEGER)' };
    repo = openSqliteRepository({ path: join(dir, 'nested', 'settings.db'), migrations: [extra, ...(await import('../../../../src/policy/store/sqlite-migrations.js')).MIGRATIONS] });
    expect(repo.appliedMigrations()).toEqual([1, 2, 99]);
  });

  it('rejects duplicates, missing entities and dangling references with codes', async () => {
    await seed();
    const s = makeSnapshot();
    await expect(repo.createOrganisation(s.org)).rejects.toThrow(code('POLICY_ALREADY_EXISTS'));
    await expect(repo.users.create(s.users[0]!)).rejects.toThrow(code('POLICY_ALREADY_EXISTS'));
    await expect(repo.users.update({ ...s.users[0]!, id: 'ghost' })).rejects.toThrow(code('POLICY_NOT_FOUND'));
    await expect(repo.users.delete('acme', 'ghost')).rejects.toThrow(code('POLICY_NOT_FOUND'));
    await expect(repo.users.create({ ...s.users[0]!, id: 'dave', locationId: 'nowhere' })).rejects.toThrow(code('POLICY_REFERENCE_INVALID'));
    await expect(repo.putTermsAcceptance({ ...s.termsAcceptances[0]!, providerId: 'ghost' })).rejects.toThrow(code('POLICY_REFERENCE_INVALID'));
  });

  it('feature listing by kind and entity updates round-trip', async () => {
    await seed();
    expect((await repo.features.listByKind('acme', 'call-queue')).map((f) => f.id)).toEqual(['cq']);
    const alice = (await repo.users.get('acme', 'alice'))!;
    await repo.users.update({ ...alice, locationId: 'branch' });
    expect((await repo.users.get('acme', 'alice'))?.locationId).toBe('branch');
  });

  it('deleting an organisation deletes everything it owns', async () => {
    await seed();
    const other: Organisation = { ...makeSnapshot().org, id: 'other', serviceSettings: { providerId: null, compliance: DEFAULT_COMPLIANCE } };
    await repo.createOrganisation(other);
    await repo.deleteOrganisation('acme');
    expect(await repo.loadSnapshot('acme')).toBeUndefined();
    expect(await repo.users.list('acme')).toEqual([]);
    expect((await repo.listOrganisations()).map((o) => o.id)).toEqual(['other']);
  });

  it('provisioning records are upserted per subject (R-06)', async () => {
    await seed();
    const r = { orgId: 'acme', providerId: 'srs', subjectKind: 'user' as const, subjectId: 'alice', status: 'failed' as const, externalId: null, attempts: 1, lastError: 'HTTP 503', updatedAt: 't1', nextRetryAt: 't2' };
    await repo.putProvisioningRecord(r);
    await repo.putProvisioningRecord({ ...r, status: 'provisioned', externalId: 'x-1', attempts: 2, lastError: null });
    expect(await repo.listProvisioningRecords('acme')).toEqual([{ ...r, status: 'provisioned', externalId: 'x-1', attempts: 2, lastError: null }]);
  });

  it('methods on a closed store reject with CLOSED; close() is idempotent', async () => {
    await repo.close();
    await repo.close();
    await expect(repo.listOrganisations()).rejects.toThrow(code('CLOSED'));
    await expect(repo.users.list('acme')).rejects.toThrow(code('CLOSED'));
  });
});
