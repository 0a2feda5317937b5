import pg from 'pg';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../observability/logger.js';
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
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import type { Migration } from './sqlite-migrations.js';

export interface PostgresRepositoryOptions {
  /** `postgres://user:password@host:port/database` (DATABASE_URL; libpq-style parameters such as sslmode are honoured). */
  readonly url: string;
  /** Migrations to apply; default POSTGRES_MIGRATIONS (tests may pass a longer list). */
  readonly migrations?: readonly Migration[];
  /** Connections in the pool; default 10. */
  readonly poolSize?: number;
  /** How long opening a connection may take before the query fails; default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /** How long one query may take before it fails; default 5000 ms. */
  readonly queryTimeoutMs?: number;
  /** Warnings about lost idle connections; default none. */
  readonly logger?: Logger;
}

export const POSTGRES_DEFAULTS = { poolSize: 10, connectTimeoutMs: 3000, queryTimeoutMs: 5000 } as const;

/** The name the product's connections carry in pg_stat_activity. */
export const APPLICATION_NAME = 'siprec-b2bua';

/** The URL with its password hidden, for error messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

/** The reason of a node-postgres or socket error as one line (a refused dual-stack connect is an AggregateError without a message). */
export function errorReason(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: unknown[] };
  if (e?.message) return e.message;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return e.errors.map(errorReason).join('; ');
  return e?.code ?? String(err);
}

/** Map a PostgreSQL error (SQLSTATE) to the registry's codes. */
function storeError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === '23505') return new AppError('POLICY_ALREADY_EXISTS', what, { cause: err });
  if (code === '23503') return new AppError('POLICY_REFERENCE_INVALID', what, { cause: err });
  return new AppError('POLICY_STORE_FAILED', `${what}: ${errorReason(err)}`, { cause: err });
}

/** Key of the advisory lock the migrations run under (two nodes starting at once apply each migration once). */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('siprec-b2bua settings migrations'))";

/**
 * Apply the migrations the database lacks, all in one transaction under an advisory lock: a second
 * node starting at the same time waits, then finds them applied. Returns the versions applied.
 */
export async function migratePostgres(pool: pg.Pool, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(MIGRATION_LOCK_SQL);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The lock nodes applying the provisioning file at start take (provisioning-file-state.ts). */
const PROVISIONING_LOCK_SQL = "SELECT pg_advisory_lock(hashtext('siprec-b2bua provisioning file'))";
const PROVISIONING_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('siprec-b2bua provisioning file'))";

interface ColumnSpec<T> {
  readonly table: string;
  readonly label: string;
  /** Extra key columns written from the entity (location_id, kind). */
  readonly columns: readonly { readonly name: string; readonly get: (e: T) => string }[];
}

type Queryable = Pick<pg.PoolClient, 'query'>;

class PostgresEntityStore<T extends { readonly id: string; readonly orgId: string }> implements EntityStore<T> {
  constructor(
    protected readonly repo: PostgresPolicyRepository,
    protected readonly spec: ColumnSpec<T>,
  ) {}

  async list(orgId: string): Promise<T[]> {
    return this.repo.documents<T>(`SELECT data FROM ${this.spec.table} WHERE org_id = $1 ORDER BY seq`, [orgId], this.spec.label);
  }

  async get(orgId: string, id: string): Promise<T | undefined> {
    return (await this.repo.documents<T>(`SELECT data FROM ${this.spec.table} WHERE org_id = $1 AND id = $2`, [orgId, id], this.spec.label))[0];
  }

  async create(entity: T): Promise<T> {
    const cols = ['org_id', 'id', ...this.spec.columns.map((c) => c.name), 'data'];
    const values = [entity.orgId, entity.id, ...this.spec.columns.map((c) => c.get(entity)), JSON.stringify(entity)];
    await this.repo.run(`INSERT INTO ${this.spec.table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, values, `${this.spec.label} ${entity.id}`);
    return entity;
  }

  async update(entity: T): Promise<T> {
    const sets = [...this.spec.columns.map((c) => c.name), 'data'].map((name, i) => `${name} = $${i + 1}`);
    const values = [...this.spec.columns.map((c) => c.get(entity)), JSON.stringify(entity), entity.orgId, entity.id];
    const n = values.length;
    const changed = await this.repo.run(`UPDATE ${this.spec.table} SET ${sets.join(', ')} WHERE org_id = $${n - 1} AND id = $${n}`, values, `${this.spec.label} ${entity.id}`);
    if (changed === 0) throw new AppError('POLICY_NOT_FOUND', `${this.spec.label} ${entity.id}`);
    return entity;
  }

  async delete(orgId: string, id: string): Promise<void> {
    const changed = await this.repo.run(`DELETE FROM ${this.spec.table} WHERE org_id = $1 AND id = $2`, [orgId, id], `${this.spec.label} ${id}`);
    if (changed === 0) throw new AppError('POLICY_NOT_FOUND', `${this.spec.label} ${id}`);
  }
}

class PostgresFeatureStore extends PostgresEntityStore<Feature> {
  async listByKind(orgId: string, kind: FeatureKind): Promise<Feature[]> {
    return this.repo.documents<Feature>('SELECT data FROM features WHERE org_id = $1 AND kind = $2 ORDER BY seq', [orgId, kind], 'feature');
  }
}

/** The snapshot tables, in PolicySnapshot's field order. */
const SNAPSHOT_LISTS = [
  ['providers', 'providers'],
  ['termsAcceptances', 'terms_acceptances'],
  ['locations', 'locations'],
  ['users', 'users'],
  ['virtualLines', 'virtual_lines'],
  ['features', 'features'],
  ['trunks', 'trunks'],
] as const;

/**
 * The settings store shared by several nodes: one PostgreSQL database (DATABASE_URL), a pool of
 * connections, migrated at open (postgres-migrations.ts). Same contract and error codes as the
 * embedded store (policy-repository.ts). Snapshots are read in one REPEATABLE READ transaction, so
 * a snapshot never mixes two writes. Writes notify the `settings_changed` channel through the
 * schema's triggers; postgres-settings-changes.ts listens.
 */
export class PostgresPolicyRepository implements PolicyRepository {
  #pool: pg.Pool | undefined;
  /** The database URL with its password hidden. */
  readonly location: string;
  readonly providers: PostgresEntityStore<Provider>;
  readonly locations: PostgresEntityStore<Location>;
  readonly users: PostgresEntityStore<User>;
  readonly virtualLines: PostgresEntityStore<VirtualLine>;
  readonly features: PostgresFeatureStore;
  readonly trunks: PostgresEntityStore<Trunk>;
  #idleErrors = 0;

  /** Use openPostgresRepository (connects and migrates). */
  constructor(pool: pg.Pool, location: string) {
    this.#pool = pool;
    this.location = location;
    const loc = { name: 'location_id', get: (e: { locationId: string }) => e.locationId };
    this.providers = new PostgresEntityStore(this, { table: 'providers', label: 'provider', columns: [] });
    this.locations = new PostgresEntityStore(this, { table: 'locations', label: 'location', columns: [] });
    this.users = new PostgresEntityStore<User>(this, { table: 'users', label: 'user', columns: [loc] });
    this.virtualLines = new PostgresEntityStore<VirtualLine>(this, { table: 'virtual_lines', label: 'virtual line', columns: [loc] });
    this.features = new PostgresFeatureStore(this, { table: 'features', label: 'feature', columns: [{ name: 'kind', get: (f) => f.kind }, loc] });
    this.trunks = new PostgresEntityStore(this, { table: 'trunks', label: 'trunk', columns: [] });
  }

  #open(): pg.Pool {
    if (!this.#pool) throw new AppError('CLOSED', 'settings store');
    return this.#pool;
  }

  /** Counted by the pool's error listener: idle connections the server or the network ended. */
  countIdleError(): void {
    this.#idleErrors++;
  }

  stats(): { readonly idleConnectionErrors: number } {
    return { idleConnectionErrors: this.#idleErrors };
  }

  /** Rows of one query (errors mapped to codes). */
  async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[], what: string, on?: Queryable): Promise<R[]> {
    try {
      return (await (on ?? this.#open()).query<R>(sql, params)).rows;
    } catch (err) {
      throw storeError(err, what);
    }
  }

  /** The `data` documents of one query. */
  async documents<T>(sql: string, params: unknown[], what: string, on?: Queryable): Promise<T[]> {
    return (await this.rows<{ data: T }>(sql, params, what, on)).map((r) => r.data);
  }

  /** Runs one write; resolves the number of rows it changed. */
  async run(sql: string, params: unknown[], what: string): Promise<number> {
    try {
      return (await this.#open().query(sql, params)).rowCount ?? 0;
    } catch (err) {
      throw storeError(err, what);
    }
  }

  /** Versions recorded in schema_migrations (for tests and diagnostics). */
  async appliedMigrations(): Promise<number[]> {
    return (await this.rows<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version', [], 'schema_migrations')).map((r) => r.version);
  }

  async listOrganisations(): Promise<Organisation[]> {
    return this.documents<Organisation>('SELECT data FROM organisations ORDER BY seq', [], 'organisations');
  }

  async getOrganisation(orgId: string): Promise<Organisation | undefined> {
    return (await this.documents<Organisation>('SELECT data FROM organisations WHERE id = $1', [orgId], `organisation ${orgId}`))[0];
  }

  async createOrganisation(org: Organisation): Promise<Organisation> {
    await this.run('INSERT INTO organisations (id, data) VALUES ($1, $2)', [org.id, JSON.stringify(org)], `organisation ${org.id}`);
    return org;
  }

  async updateOrganisation(org: Organisation): Promise<Organisation> {
    const changed = await this.run('UPDATE organisations SET data = $1 WHERE id = $2', [JSON.stringify(org), org.id], `organisation ${org.id}`);
    if (changed === 0) throw new AppError('POLICY_NOT_FOUND', `organisation ${org.id}`);
    return org;
  }

  async deleteOrganisation(orgId: string): Promise<void> {
    const changed = await this.run('DELETE FROM organisations WHERE id = $1', [orgId], `organisation ${orgId}`);
    if (changed === 0) throw new AppError('POLICY_NOT_FOUND', `organisation ${orgId}`);
  }

  async listTermsAcceptances(orgId: string): Promise<TermsAcceptance[]> {
    return this.documents<TermsAcceptance>('SELECT data FROM terms_acceptances WHERE org_id = $1 ORDER BY seq', [orgId], 'terms acceptances');
  }

  async putTermsAcceptance(a: TermsAcceptance): Promise<TermsAcceptance> {
    await this.run('INSERT INTO terms_acceptances (org_id, provider_id, data) VALUES ($1, $2, $3)', [a.orgId, a.providerId, JSON.stringify(a)], `terms acceptance for provider ${a.providerId}`);
    return a;
  }

  async listProvisioningRecords(orgId: string): Promise<ProvisioningRecord[]> {
    return this.documents<ProvisioningRecord>('SELECT data FROM provisioning_records WHERE org_id = $1 ORDER BY seq', [orgId], 'provisioning records');
  }

  async getProvisioningRecord(
    orgId: string,
    providerId: string,
    subjectKind: ProvisioningSubjectKind,
    subjectId: string,
  ): Promise<ProvisioningRecord | undefined> {
    const found = await this.documents<ProvisioningRecord>(
      'SELECT data FROM provisioning_records WHERE org_id = $1 AND provider_id = $2 AND subject_kind = $3 AND subject_id = $4',
      [orgId, providerId, subjectKind, subjectId],
      `provisioning record ${subjectKind} ${subjectId}`,
    );
    return found[0];
  }

  async putProvisioningRecord(r: ProvisioningRecord): Promise<ProvisioningRecord> {
    await this.run(
      `INSERT INTO provisioning_records (org_id, provider_id, subject_kind, subject_id, data) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (org_id, provider_id, subject_kind, subject_id) DO UPDATE SET data = excluded.data`,
      [r.orgId, r.providerId, r.subjectKind, r.subjectId, JSON.stringify(r)],
      `provisioning record ${r.subjectKind} ${r.subjectId}`,
    );
    return r;
  }

  /** The record of the provisioning file last applied (provisioning-file-state.ts), as stored. */
  async readProvisioningFileApplied(): Promise<unknown> {
    return (await this.documents<unknown>('SELECT data FROM provisioning_file_applied WHERE id = 1', [], 'provisioning file record'))[0];
  }

  async writeProvisioningFileApplied(value: unknown): Promise<void> {
    await this.run(
      'INSERT INTO provisioning_file_applied (id, data) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      [JSON.stringify(value)],
      'provisioning file record',
    );
  }

  /**
   * Runs `fn` holding a session advisory lock on a connection of its own: nodes starting at once
   * with the same provisioning file apply it one after the other (the second finds it applied).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#open().connect();
    } catch (err) {
      throw storeError(err, 'provisioning file lock');
    }
    let broken: Error | undefined;
    try {
      try {
        // waits while another node applies the file: longer than one query may take (node-postgres reads query_timeout per query)
        await client.query({ text: PROVISIONING_LOCK_SQL, query_timeout: 60_000 } as pg.QueryConfig);
      } catch (err) {
        throw storeError(err, 'provisioning file lock');
      }
      try {
        return await fn();
      } finally {
        // a connection that could not unlock is closed, not pooled: its session's lock ends with it
        await client.query(PROVISIONING_UNLOCK_SQL).catch((err: unknown) => {
          broken = err instanceof Error ? err : new Error(errorReason(err));
        });
      }
    } finally {
      client.release(broken);
    }
  }

  async loadSnapshot(orgId: string): Promise<PolicySnapshot | undefined> {
    return (await this.#snapshots(orgId))[0];
  }

  async loadAllSnapshots(): Promise<PolicySnapshot[]> {
    return this.#snapshots(undefined);
  }

  /** One organisation's snapshot, or every one's, read in one consistent transaction (8 queries however many organisations). */
  async #snapshots(orgId: string | undefined): Promise<PolicySnapshot[]> {
    let client: pg.PoolClient;
    try {
      client = await this.#open().connect();
    } catch (err) {
      throw storeError(err, 'loading the settings');
    }
    try {
      await this.rows('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', [], 'loading the settings', client);
      const where = orgId === undefined ? '' : 'WHERE org_id = $1';
      const params = orgId === undefined ? [] : [orgId];
      const orgs = await this.documents<Organisation>(`SELECT data FROM organisations ${orgId === undefined ? '' : 'WHERE id = $1'} ORDER BY seq`, params, 'organisations', client);
      const lists = new Map<string, Map<string, unknown[]>>();
      for (const [field, table] of SNAPSHOT_LISTS) {
        const byOrg = new Map<string, unknown[]>();
        for (const row of await this.rows<{ org_id: string; data: unknown }>(`SELECT org_id, data FROM ${table} ${where} ORDER BY seq`, params, table, client)) {
          const list = byOrg.get(row.org_id) ?? [];
          list.push(row.data);
          byOrg.set(row.org_id, list);
        }
        lists.set(field, byOrg);
      }
      await this.rows('COMMIT', [], 'loading the settings', client);
      const of = <T>(field: string, id: string): T[] => (lists.get(field)?.get(id) ?? []) as T[];
      return orgs.map((org) => ({
        org,
        providers: of<Provider>('providers', org.id),
        termsAcceptances: of<TermsAcceptance>('termsAcceptances', org.id),
        locations: of<Location>('locations', org.id),
        users: of<User>('users', org.id),
        virtualLines: of<VirtualLine>('virtualLines', org.id),
        features: of<Feature>('features', org.id),
        trunks: of<Trunk>('trunks', org.id),
      }));
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }
}

/**
 * Connect to the settings database and apply the migrations it lacks. Rejects POLICY_STORE_FAILED
 * naming the database (password hidden) and the reason when it cannot: the start fails with one line.
 */
export async function openPostgresRepository(options: PostgresRepositoryOptions): Promise<PostgresPolicyRepository> {
  const location = redactDatabaseUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? POSTGRES_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    query_timeout: options.queryTimeoutMs ?? POSTGRES_DEFAULTS.queryTimeoutMs,
    application_name: APPLICATION_NAME,
    keepAlive: true,
  });
  const repo = new PostgresPolicyRepository(pool, location);
  // an idle connection the server or the network ends is an 'error' on the pool: without a listener it would end the process
  pool.on('error', (err) => {
    repo.countIdleError();
    options.logger?.warn({ err: { message: errorReason(err) }, database: location }, 'settings database connection lost (the pool opens a new one on the next query)');
  });
  try {
    await migratePostgres(pool, options.migrations ?? POSTGRES_MIGRATIONS);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new AppError('POLICY_STORE_FAILED', `cannot open the settings database ${location}: ${errorReason(err)}`, { cause: err });
  }
  return repo;
}
