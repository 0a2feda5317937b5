import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../../src/policy/store/sqlite-migrations.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../../src/policy/store/sqlite-repository.js';
import { policyRepositorySuite } from './policy-repository-suite.js';

// the shared contract, one database file per test
let dir: string | undefined;
policyRepositorySuite('SQLite settings store', {
  migrationVersions: MIGRATIONS.map((m) => m.version),
  migrations: MIGRATIONS,
  async createDatabase() {
    dir = mkdtempSync(join(tmpdir(), 'policy-store-'));
  },
  async open(migrations) {
    return openSqliteRepository({ path: join(dir!, 'nested', 'settings.db'), ...(migrations ? { migrations } : {}) });
  },
  async dropDatabase() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
});

describe('SQLite settings store: the file', () => {
  let fileDir: string;
  let repo: SqlitePolicyRepository;
  beforeEach(() => {
    fileDir = mkdtempSync(join(tmpdir(), 'policy-store-'));
    repo = openSqliteRepository({ path: join(fileDir, 'nested', 'settings.db') });
  });
  afterEach(async () => {
    await repo.close();
    rmSync(fileDir, { recursive: true, force: true });
  });

  it('creates the file (and its directory), migrates it, and uses WAL and foreign keys', () => {
    expect(repo.appliedMigrations()).toEqual([1, 2]);
    expect(repo.database().pragma('journal_mode', { simple: true })).toBe('wal');
    expect(repo.database().pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
