import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminServer, type AdminServer } from '../../../src/admin/admin-server.js';
import type { AdminServerOptions } from '../../../src/admin/admin-options.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../src/policy/store/sqlite-repository.js';

/** Parsed JSON answers, read loosely by the tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** An admin server over a real listener (127.0.0.1, ephemeral port) and a temporary SQLite file. */
export interface Harness {
  readonly server: AdminServer;
  readonly repo: SqlitePolicyRepository;
  readonly url: string;
  readonly dbPath: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Json }>;
  /** Close server and store, keep the file. */
  stop(): Promise<void>;
}

export const TOKEN = 'test-token-0123456789';

export function tempDbPath(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'admin-api-'));
  return { dir, path: join(dir, 'settings.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startHarness(dbPath: string, opts: Partial<AdminServerOptions> = {}): Promise<Harness> {
  const repo = openSqliteRepository({ path: dbPath });
  const server = await createAdminServer({ repository: repo, host: '127.0.0.1', port: 0, token: TOKEN, ...opts });
  const { url } = await server.listen();
  const token = opts.token === undefined && 'token' in opts ? undefined : (opts.token ?? TOKEN);
  return {
    server,
    repo,
    url,
    dbPath,
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await server.close();
      await repo.close();
    },
  };
}
