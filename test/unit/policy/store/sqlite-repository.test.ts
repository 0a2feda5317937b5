import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

  it('MUST apply each migration once when two processes open the same new file at once', async () => {
    const path = join(fileDir, 'shared', 'settings.db');
    const store = new URL('../../../../src/policy/store/sqlite-repository.ts', import.meta.url).href;
    const migrations = new URL('../../../../src/policy/store/sqlite-migrations.ts', import.meta.url).href;
    // a slow last migration (about a second) holds the first process in the middle of migrating while the others open
    const slow = { version: 3, name: 'slow', sql: 'CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT x FROM c' };
    const code = [
      `const m = await import(${JSON.stringify(store)});`,
      `const { MIGRATIONS } = await import(${JSON.stringify(migrations)});`,
      `const r = m.openSqliteRepository({ path: ${JSON.stringify(path)}, migrations: [...MIGRATIONS, ${JSON.stringify(slow)}] });`,
      'console.log(JSON.stringify(r.appliedMigrations())); await r.close();',
    ].join(' ');
    const open = () => promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 20_000 });
    const outputs = await Promise.all([open(), open(), open()]);
    for (const o of outputs) expect(JSON.parse(o.stdout)).toEqual([1, 2, 3]);
  });
});
