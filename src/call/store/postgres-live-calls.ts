/**
 * The live-call registry's store in the PostgreSQL database of DATABASE_URL, the one that holds the
 * settings (docs/scaling.md "Live calls across nodes"): no other server to run. Two tables, created
 * when missing (under a transaction-scoped advisory lock, so nodes starting at once create them once):
 *
 *   cluster_nodes  node_id PK, admin_url, started_at, heartbeat_at (the database's now() at each beat)
 *   live_calls     (node_id -> cluster_nodes ON DELETE CASCADE, id) PK, call_id, summary JSON, updated_at
 *
 * Both are UNLOGGED: live state is rewritten every few seconds and means nothing after a database
 * crash (PostgreSQL empties unlogged tables then; the nodes register again on their next heartbeat),
 * so it costs no write-ahead log and no replication traffic. Heartbeat ages are computed with the
 * database's clock only.
 */
import pg from 'pg';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { CallSummary } from '../call-session.js';
import type { LiveCallStore, NodeRecord, RegisteredNode, RegistryContents } from '../live-call-registry.js';

export interface PostgresLiveCallsOptions {
  /** DATABASE_URL. */
  readonly url: string;
  /** Connections in the pool; default 3 (heartbeat, writes, admin API reads). */
  readonly poolSize?: number;
  /** How long opening a connection may take; default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /** How long one query may take; default 5000 ms. */
  readonly queryTimeoutMs?: number;
  readonly logger?: Logger;
}

const SCHEMA = `
CREATE UNLOGGED TABLE IF NOT EXISTS cluster_nodes (
  node_id TEXT PRIMARY KEY,
  admin_url TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNLOGGED TABLE IF NOT EXISTS live_calls (
  node_id TEXT NOT NULL REFERENCES cluster_nodes(node_id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  summary JSON NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, id)
);
CREATE INDEX IF NOT EXISTS live_calls_by_call_id ON live_calls(call_id);
`;

/** ms since the epoch of a timestamptz, as a float8 node-postgres hands over as a number. */
const MS = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8`;

/** The URL with its password hidden (logs, errors). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

function reason(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: unknown[] };
  if (e?.message) return e.message;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return e.errors.map(reason).join('; ');
  return e?.code ?? String(err);
}

export class PostgresLiveCalls implements LiveCallStore {
  readonly #pool: pg.Pool;
  readonly #location: string;
  #closed = false;

  private constructor(pool: pg.Pool, location: string) {
    this.#pool = pool;
    this.#location = location;
  }

  /** Connects and creates the tables when missing; rejects CALL_REGISTRY_UNAVAILABLE when it cannot (a start failure). */
  static async open(options: PostgresLiveCallsOptions): Promise<PostgresLiveCalls> {
    const location = redact(options.url);
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 3,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      query_timeout: options.queryTimeoutMs ?? 5000,
      application_name: 'siprec-b2bua live-call registry',
      keepAlive: true,
    });
    pool.on('error', (err) => options.logger?.warn({ err: { message: reason(err) }, database: location }, 'live-call registry: idle database connection lost (the pool opens a new one)'));
    const store = new PostgresLiveCalls(pool, location);
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query("SELECT pg_advisory_xact_lock(hashtext('siprec-b2bua live-call registry schema'))");
        await client.query(SCHEMA);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new AppError('CALL_REGISTRY_UNAVAILABLE', `cannot open the live-call registry in ${location}: ${reason(err)}`, { cause: err });
    }
    return store;
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    if (this.#closed) throw new AppError('CLOSED', 'live-call registry');
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw new AppError('CALL_REGISTRY_UNAVAILABLE', `${this.#location}: ${reason(err)}`, { cause: err });
    }
  }

  async beat(node: NodeRecord): Promise<boolean> {
    // xmax = 0 only on a freshly inserted row
    const rows = await this.#query<{ created: boolean }>(
      `INSERT INTO cluster_nodes (node_id, admin_url) VALUES ($1, $2)
       ON CONFLICT (node_id) DO UPDATE SET admin_url = EXCLUDED.admin_url, heartbeat_at = now()
       RETURNING (xmax = 0) AS created`,
      [node.nodeId, node.adminUrl],
    );
    return rows[0]?.created === true;
  }

  async putCalls(nodeId: string, calls: readonly CallSummary[]): Promise<void> {
    if (calls.length === 0) return;
    await this.#query(
      `INSERT INTO live_calls (node_id, id, call_id, summary)
       SELECT $1, c->>'id', c->>'callId', c FROM json_array_elements($2::json) AS c
       ON CONFLICT (node_id, id) DO UPDATE SET summary = EXCLUDED.summary, call_id = EXCLUDED.call_id, updated_at = now()`,
      [nodeId, JSON.stringify(calls)],
    );
  }

  async removeCalls(nodeId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#query('DELETE FROM live_calls WHERE node_id = $1 AND id = ANY($2::text[])', [nodeId, ids]);
  }

  async replaceCalls(nodeId: string, calls: readonly CallSummary[]): Promise<void> {
    // one statement: the node's other calls go, these are written
    await this.#query(
      `WITH gone AS (DELETE FROM live_calls WHERE node_id = $1 AND NOT (id = ANY($3::text[])))
       INSERT INTO live_calls (node_id, id, call_id, summary)
       SELECT $1, c->>'id', c->>'callId', c FROM json_array_elements($2::json) AS c
       ON CONFLICT (node_id, id) DO UPDATE SET summary = EXCLUDED.summary, call_id = EXCLUDED.call_id, updated_at = now()`,
      [nodeId, JSON.stringify(calls), calls.map((c) => c.id)],
    );
  }

  /** Every node, and the database's now() (one row with null node columns when there is none). */
  async #nodes(): Promise<{ now: number; nodes: RegisteredNode[] }> {
    const rows = await this.#query<{ node_id: string | null; admin_url: string; heartbeat_at: number; now: number }>(
      `SELECT n.node_id, n.admin_url, ${MS('n.heartbeat_at')} AS heartbeat_at, ${MS('t.now')} AS now
       FROM (SELECT now() AS now) t LEFT JOIN cluster_nodes n ON true`,
      [],
    );
    return {
      now: rows[0]!.now,
      nodes: rows.flatMap((n) => (n.node_id === null ? [] : [{ nodeId: n.node_id, adminUrl: n.admin_url, heartbeatAt: n.heartbeat_at }])),
    };
  }

  async changeMark(nodeId: string): Promise<{ now: number; nodes: RegisteredNode[]; calls: number; lastWriteAt: number }> {
    const [mark] = await this.#query<{ calls: number; last_write_at: number }>(
      `SELECT count(*)::int AS calls, coalesce(${MS('max(updated_at)')}, 0) AS last_write_at FROM live_calls WHERE node_id <> $1`,
      [nodeId],
    );
    return { ...(await this.#nodes()), calls: mark!.calls, lastWriteAt: mark!.last_write_at };
  }

  async read(callId?: string): Promise<RegistryContents> {
    const { now, nodes } = await this.#nodes();
    const calls = await this.#query<{ node_id: string; summary: CallSummary }>(
      callId === undefined
        ? "SELECT node_id, summary FROM live_calls ORDER BY summary->>'startedAt', node_id, id"
        : 'SELECT node_id, summary FROM live_calls WHERE id = $1 OR call_id = $1 ORDER BY node_id',
      callId === undefined ? [] : [callId],
    );
    return { now, nodes, calls: calls.map((c) => ({ nodeId: c.node_id, summary: c.summary })) };
  }

  async purge(expiryMs: number): Promise<string[]> {
    const rows = await this.#query<{ node_id: string }>("DELETE FROM cluster_nodes WHERE heartbeat_at < now() - $1 * interval '1 millisecond' RETURNING node_id", [expiryMs]);
    return rows.map((r) => r.node_id);
  }

  async removeNode(nodeId: string): Promise<void> {
    await this.#query('DELETE FROM cluster_nodes WHERE node_id = $1', [nodeId]);
  }

  /** Ends the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end().catch(() => undefined);
  }
}
