/**
 * Console sessions are per process (docs/console.md "Logging in"): a restart of the admin server on
 * the same settings database logs everybody out: the old cookie answers 401 and a write made with it
 * and its CSRF token changes nothing; the bearer token and a new login work at once. Fastify inject,
 * no socket.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../../src/admin/admin-server.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../src/policy/store/sqlite-repository.js';
import { tempDbPath, TOKEN } from './admin-harness.js';

let db: ReturnType<typeof tempDbPath>;
let repo: SqlitePolicyRepository | undefined;
let server: AdminServer | undefined;

const start = async (): Promise<AdminServer> => {
  repo = openSqliteRepository({ path: db.path });
  server = await createAdminServer({ repository: repo, token: TOKEN });
  return server;
};
const stop = async (): Promise<void> => {
  await server?.close();
  await repo?.close();
  server = undefined;
  repo = undefined;
};

beforeEach(() => {
  db = tempDbPath();
});
afterEach(async () => {
  await stop();
  db.cleanup();
});

describe('web console: sessions across a restart', () => {
  it('MUST log everybody out at a restart: the old cookie answers 401, its write changes nothing, the token logs in again', async () => {
    const first = await start();
    const res = await first.app.inject({ method: 'POST', url: '/console/session', payload: { token: TOKEN } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const csrf = (res.json() as { csrfToken: string }).csrfToken;
    expect((await first.app.inject({ method: 'GET', url: '/v1/orgs', headers: { cookie } })).statusCode, 'the session reads the API').toBe(200);
    await stop();

    const second = await start();
    expect((await second.app.inject({ method: 'GET', url: '/console/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await second.app.inject({ method: 'GET', url: '/v1/orgs', headers: { cookie } })).statusCode).toBe(401);
    const write = await second.app.inject({ method: 'POST', url: '/v1/orgs', headers: { cookie, 'x-csrf-token': csrf }, payload: { id: 'after-restart', name: 'After restart' } });
    expect([write.statusCode, (write.json() as { error: { code: string } }).error.code]).toEqual([401, 'ADMIN_UNAUTHORIZED']);
    expect((await second.app.inject({ method: 'GET', url: '/v1/orgs/after-restart', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 'nothing created').toBe(404);
    expect((await second.app.inject({ method: 'POST', url: '/console/session', payload: { token: TOKEN } })).statusCode, 'a new login').toBe(200);
  });
});
