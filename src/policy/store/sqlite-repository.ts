import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../common/errors.js';
import type { EntityStore, PolicyRepository } from '../policy-repository.js';
import type {
  Feature,
  FeatureKind,
  Location,
  Organisation,
  PolicySnapshot,
  Provider,
  ProvisioningRecord,
  ProvisioningSubjectKind,
  TermsAcceptance,
  Trunk,
  User,
  VirtualLine,
} from '../policy-types.js';
import { MIGRATIONS, type Migration } from './sqlite-migrations.js';

export interface SqliteRepositoryOptions {
  /** Database file; parent directories are created. ':memory:' for a throw-away store. */
  readonly path: string;
  /** Migrations to apply; default MIGRATIONS (tests may pass a longer list). */
  readonly migrations?: readonly Migration[];
}

type Db = Database.Database;

/** Map a better-sqlite3 error to the registry's codes. */
function storeError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err; // CLOSED
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new AppError('POLICY_ALREADY_EXISTS', what, { cause: err });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new AppError('POLICY_REFERENCE_INVALID', what, { cause: err });
  return new AppError('POLICY_STORE_FAILED', `${what}: ${(err as Error).message}`, { cause: err });
}

/**
 * Apply the migrations the database lacks, all in one transaction that takes the write lock first
 * (BEGIN IMMEDIATE): a second process opening the same file at once waits (busy_timeout), then
 * finds them applied. Returns the versions applied.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  return db
    .transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
        applied.push(m.version);
      }
      return applied;
    })
    .immediate();
}

interface ColumnSpec<T> {
  readonly table: string;
  readonly label: string;
  /** Extra key columns written from the entity (location_id, kind). */
  readonly columns: readonly { readonly name: string; readonly get: (e: T) => string }[];
}

class SqliteEntityStore<T extends { readonly id: string; readonly orgId: string }> implements EntityStore<T> {
  constructor(
    protected readonly repo: SqlitePolicyRepository,
    protected readonly spec: ColumnSpec<T>,
  ) {}

  protected get db(): Db {
    return this.repo.database();
  }

  listSync(orgId: string): T[] {
    const rows = this.db.prepare(`SELECT data FROM ${this.spec.table} WHERE org_id = ? ORDER BY rowid`).all(orgId) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as T);
  }

  async list(orgId: string): Promise<T[]> {
    return this.listSync(orgId);
  }

  async get(orgId: string, id: string): Promise<T | undefined> {
    const row = this.db.prepare(`SELECT data FROM ${this.spec.table} WHERE org_id = ? AND id = ?`).get(orgId, id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as T) : undefined;
  }

  async create(entity: T): Promise<T> {
    const cols = ['org_id', 'id', ...this.spec.columns.map((c) => c.name), 'data'];
    const values = [entity.orgId, entity.id, ...this.spec.columns.map((c) => c.get(entity)), JSON.stringify(entity)];
    try {
      this.db.prepare(`INSERT INTO ${this.spec.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...values);
    } catch (err) {
      throw storeError(err, `${this.spec.label} ${entity.id}`);
    }
    return entity;
  }

  async update(entity: T): Promise<T> {
    const sets = [...this.spec.columns.map((c) => `${c.name} = ?`), 'data = ?'];
    const values = [...this.spec.columns.map((c) => c.get(entity)), JSON.stringify(entity), entity.orgId, entity.id];
    let changes: number;
    try {
      changes = this.db.prepare(`UPDATE ${this.spec.table} SET ${sets.join(', ')} WHERE org_id = ? AND id = ?`).run(...values).changes;
    } catch (err) {
      throw storeError(err, `${this.spec.label} ${entity.id}`);
    }
    if (changes === 0) throw new AppError('POLICY_NOT_FOUND', `${this.spec.label} ${entity.id}`);
    return entity;
  }

  async delete(orgId: string, id: string): Promise<void> {
    let changes: number;
    try {
      changes = this.db.prepare(`DELETE FROM ${this.spec.table} WHERE org_id = ? AND id = ?`).run(orgId, id).changes;
    } catch (err) {
      throw storeError(err, `${this.spec.label} ${id}`);
    }
    if (changes === 0) throw new AppError('POLICY_NOT_FOUND', `${this.spec.label} ${id}`);
  }
}

class SqliteFeatureStore extends SqliteEntityStore<Feature> {
  async listByKind(orgId: string, kind: FeatureKind): Promise<Feature[]> {
    const rows = this.db.prepare('SELECT data FROM features WHERE org_id = ? AND kind = ? ORDER BY rowid').all(orgId, kind) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as Feature);
  }
}

/**
 * The embedded settings store: one SQLite file, WAL journal, foreign keys on, migrated at open.
 * better-sqlite3 is synchronous; the async interface keeps callers ready for a networked store.
 */
export class SqlitePolicyRepository implements PolicyRepository {
  #db: Db | undefined;
  readonly path: string;
  readonly providers: SqliteEntityStore<Provider>;
  readonly locations: SqliteEntityStore<Location>;
  readonly users: SqliteEntityStore<User>;
  readonly virtualLines: SqliteEntityStore<VirtualLine>;
  readonly features: SqliteFeatureStore;
  readonly trunks: SqliteEntityStore<Trunk>;

  constructor(options: SqliteRepositoryOptions) {
    this.path = options.path;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    let db: Db;
    try {
      db = new Database(options.path);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db, options.migrations ?? MIGRATIONS);
    } catch (err) {
      throw storeError(err, `opening ${options.path}`);
    }
    this.#db = db;
    const loc = { name: 'location_id', get: (e: { locationId: string }) => e.locationId };
    this.providers = new SqliteEntityStore(this, { table: 'providers', label: 'provider', columns: [] });
    this.locations = new SqliteEntityStore(this, { table: 'locations', label: 'location', columns: [] });
    this.users = new SqliteEntityStore<User>(this, { table: 'users', label: 'user', columns: [loc] });
    this.virtualLines = new SqliteEntityStore<VirtualLine>(this, { table: 'virtual_lines', label: 'virtual line', columns: [loc] });
    this.features = new SqliteFeatureStore(this, { table: 'features', label: 'feature', columns: [{ name: 'kind', get: (f) => f.kind }, loc] });
    this.trunks = new SqliteEntityStore(this, { table: 'trunks', label: 'trunk', columns: [] });
  }

  /** The open database; throws CLOSED after close(). */
  database(): Db {
    if (!this.#db) throw new AppError('CLOSED', 'settings store');
    return this.#db;
  }

  /** Versions recorded in schema_migrations (for tests and diagnostics). */
  appliedMigrations(): number[] {
    return (this.database().prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
  }

  /** Run fn in one SQLite transaction (synchronous work only). */
  transaction<T>(fn: () => T): T {
    return this.database().transaction(fn)();
  }

  async listOrganisations(): Promise<Organisation[]> {
    const rows = this.database().prepare('SELECT data FROM organisations ORDER BY rowid').all() as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as Organisation);
  }

  async getOrganisation(orgId: string): Promise<Organisation | undefined> {
    return this.#getOrg(orgId);
  }

  #getOrg(orgId: string): Organisation | undefined {
    const row = this.database().prepare('SELECT data FROM organisations WHERE id = ?').get(orgId) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as Organisation) : undefined;
  }

  async createOrganisation(org: Organisation): Promise<Organisation> {
    try {
      this.database().prepare('INSERT INTO organisations (id, data) VALUES (?, ?)').run(org.id, JSON.stringify(org));
    } catch (err) {
      throw storeError(err, `organisation ${org.id}`);
    }
    return org;
  }

  async updateOrganisation(org: Organisation): Promise<Organisation> {
    const r = this.database().prepare('UPDATE organisations SET data = ? WHERE id = ?').run(JSON.stringify(org), org.id);
    if (r.changes === 0) throw new AppError('POLICY_NOT_FOUND', `organisation ${org.id}`);
    return org;
  }

  async deleteOrganisation(orgId: string): Promise<void> {
    const r = this.database().prepare('DELETE FROM organisations WHERE id = ?').run(orgId);
    if (r.changes === 0) throw new AppError('POLICY_NOT_FOUND', `organisation ${orgId}`);
  }

  async listTermsAcceptances(orgId: string): Promise<TermsAcceptance[]> {
    return this.#terms(orgId);
  }

  #terms(orgId: string): TermsAcceptance[] {
    const rows = this.database().prepare('SELECT data FROM terms_acceptances WHERE org_id = ? ORDER BY rowid').all(orgId) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as TermsAcceptance);
  }

  async putTermsAcceptance(a: TermsAcceptance): Promise<TermsAcceptance> {
    try {
      this.database()
        .prepare('INSERT INTO terms_acceptances (org_id, provider_id, data) VALUES (?, ?, ?)')
        .run(a.orgId, a.providerId, JSON.stringify(a));
    } catch (err) {
      throw storeError(err, `terms acceptance for provider ${a.providerId}`);
    }
    return a;
  }

  async listProvisioningRecords(orgId: string): Promise<ProvisioningRecord[]> {
    const rows = this.database().prepare('SELECT data FROM provisioning_records WHERE org_id = ? ORDER BY rowid').all(orgId) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as ProvisioningRecord);
  }

  async getProvisioningRecord(
    orgId: string,
    providerId: string,
    subjectKind: ProvisioningSubjectKind,
    subjectId: string,
  ): Promise<ProvisioningRecord | undefined> {
    const row = this.database()
      .prepare('SELECT data FROM provisioning_records WHERE org_id = ? AND provider_id = ? AND subject_kind = ? AND subject_id = ?')
      .get(orgId, providerId, subjectKind, subjectId) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as ProvisioningRecord) : undefined;
  }

  async putProvisioningRecord(r: ProvisioningRecord): Promise<ProvisioningRecord> {
    try {
      this.database()
        .prepare(
          `INSERT INTO provisioning_records (org_id, provider_id, subject_kind, subject_id, data) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (org_id, provider_id, subject_kind, subject_id) DO UPDATE SET data = excluded.data`,
        )
        .run(r.orgId, r.providerId, r.subjectKind, r.subjectId, JSON.stringify(r));
    } catch (err) {
      throw storeError(err, `provisioning record ${r.subjectKind} ${r.subjectId}`);
    }
    return r;
  }

  /** The record of the provisioning file last applied (provisioning-file-state.ts), as stored. */
  async readProvisioningFileApplied(): Promise<unknown> {
    const row = this.database().prepare('SELECT data FROM provisioning_file_applied WHERE id = 1').get() as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as unknown) : undefined;
  }

  async writeProvisioningFileApplied(value: unknown): Promise<void> {
    try {
      this.database()
        .prepare('INSERT INTO provisioning_file_applied (id, data) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data')
        .run(JSON.stringify(value));
    } catch (err) {
      throw storeError(err, 'provisioning file record');
    }
  }

  async loadSnapshot(orgId: string): Promise<PolicySnapshot | undefined> {
    return this.transaction(() => this.#snapshot(orgId));
  }

  #snapshot(orgId: string): PolicySnapshot | undefined {
    const org = this.#getOrg(orgId);
    if (!org) return undefined;
    return {
      org,
      providers: this.providers.listSync(orgId),
      termsAcceptances: this.#terms(orgId),
      locations: this.locations.listSync(orgId),
      users: this.users.listSync(orgId),
      virtualLines: this.virtualLines.listSync(orgId),
      features: this.features.listSync(orgId),
      trunks: this.trunks.listSync(orgId),
    };
  }

  async loadAllSnapshots(): Promise<PolicySnapshot[]> {
    return this.transaction(() => {
      const ids = (this.database().prepare('SELECT id FROM organisations ORDER BY rowid').all() as { id: string }[]).map((r) => r.id);
      return ids.map((id) => this.#snapshot(id)).filter((s): s is PolicySnapshot => s !== undefined);
    });
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    db?.close();
  }
}

/** Open (create and migrate if needed) the embedded settings store. */
export function openSqliteRepository(options: SqliteRepositoryOptions): SqlitePolicyRepository {
  return new SqlitePolicyRepository(options);
}
