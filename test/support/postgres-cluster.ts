/**
 * A throwaway PostgreSQL cluster for tests of the PostgreSQL settings store (docs/policy.md
 * "Settings database"): Debian's `postgresql` package (binaries under
 * /usr/lib/postgresql/<version>/bin, the newest version found), `initdb` in a temporary directory,
 * `pg_ctl start` on 127.0.0.1 and a port the caller takes from its PortBlock, its Unix socket in
 * that directory. PostgreSQL refuses to run as root: as root, every command runs through
 * `runuser -u <user>` as the `postgres` system user (the package creates it) or else `nobody`, who
 * owns the directory. `stop()` stops the cluster and deletes the directory.
 *
 * When the cluster cannot start, `startPostgresCluster` rejects with the reason (missing package,
 * initdb or pg_ctl output, the server log's tail): a test using it fails loudly, never skips.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PortBlock, PortRange } from './ports.js';

const run = promisify(execFile);

/**
 * The range the PostgreSQL tests take their ports from (one block per test file): the upper half of
 * 18000-18999, whose lower part the SIPREC client's integration test holds (18000-18199).
 */
export const POSTGRES_TEST_PORTS: PortRange = { from: 18500, to: 18999 };

const PACKAGE_ROOT = '/usr/lib/postgresql';

export interface PostgresCluster {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, superuser). */
  readonly url: string;
  /** The temporary directory (data directory, socket, server log). */
  readonly dir: string;
  /** A URL naming `database` on this cluster. */
  urlOf(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Drops a database, ending its connections first. */
  dropDatabase(name: string): Promise<void>;
  /** Runs one SQL statement as the superuser on `database` (default postgres). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** Stops the cluster (fast shutdown) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The newest `bin` directory of Debian's postgresql package that holds initdb, or undefined. */
export function findPostgresBinDir(root = PACKAGE_ROOT): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** The unprivileged user to run the cluster as when this process is root. */
async function clusterUser(): Promise<{ name: string; uid: number; gid: number }> {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number((await run('id', ['-u', name])).stdout.trim());
      const gid = Number((await run('id', ['-g', name])).stdout.trim());
      return { name, uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

function outputOf(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  return [e.message, e.stderr, e.stdout].filter((s) => s && s.trim() !== '').join(' | ').trim();
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no server log)';
  }
}

export interface PostgresClusterOptions {
  /**
   * The port, or a block to take it from: when the port is in use (another process holds it), the
   * next port of the block is tried, up to 5 times.
   */
  readonly port: number | PortBlock;
}

/** initdb + pg_ctl start; rejects with the reason when the cluster does not come up. */
export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const bin = findPostgresBinDir();
  if (!bin) {
    throw new Error(`cannot start a test PostgreSQL cluster: no initdb under ${PACKAGE_ROOT}/*/bin; install Debian's postgresql package (scripts/test-all.sh installs it)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pg-cluster-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? await clusterUser() : undefined;
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
  const exec = (tool: string, args: string[]): Promise<{ stdout: string }> =>
    user ? run('runuser', ['-u', user.name, '--', join(bin, tool), ...args], { cwd: dir }) : run(join(bin, tool), args, { cwd: dir });

  let port = typeof options.port === 'number' ? options.port : options.port.next();
  const fail = (step: string, err: unknown): Error => {
    const reason = `cannot start a test PostgreSQL cluster (${bin}, port ${port}${user ? `, as ${user.name}` : ''}): ${step} failed: ${outputOf(err)}\nserver log:\n${logTail(log)}`;
    rmSync(dir, { recursive: true, force: true });
    return new Error(reason);
  };
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    throw fail('initdb', err);
  }
  for (let attempt = 1; ; attempt++) {
    const serverOptions = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      await exec('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '30', '-o', serverOptions, 'start']);
      break;
    } catch (err) {
      // pg_ctl may have left a postmaster behind (e.g. a timeout): stop it before deleting its directory
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      const inUse = /could not bind .*Address already in use/.test(logTail(log));
      if (!inUse || typeof options.port === 'number' || attempt >= 5 || options.port.remaining === 0) throw fail('pg_ctl start', err);
      port = options.port.next();
    }
  }

  const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<R[]> => {
    const client = new pg.Client({ connectionString: urlOf(database) });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  let stopped: Promise<void> | undefined;
  return {
    port,
    url: urlOf('postgres'),
    dir,
    urlOf,
    query,
    async createDatabase(name) {
      await query(`CREATE DATABASE "${name}"`);
      return urlOf(name);
    },
    async dropDatabase(name) {
      await query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    stop: () =>
      (stopped ??= (async () => {
        try {
          await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        } catch {
          await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })()),
  };
}
