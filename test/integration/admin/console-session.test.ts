/**
 * The web console at the admin API's origin (docs/console.md): served by the product, a login that
 * turns the admin token into an HttpOnly session cookie, a CSRF token required on every write made
 * with that cookie, and the bearer header accepted as before. HTTP level (Fastify inject); the one
 * test that needs a socket (server-sent events) listens on this file's ports 48000-48009.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../../src/admin/admin-server.js';
import { CONSOLE_CSP } from '../../../src/admin/console/console-plugin.js';
import { callEventsPlugin } from '../../../src/admin/plugins/call-events-plugin.js';
import type { CallSummary } from '../../../src/call/call-session.js';
import { TypedEmitter } from '../../../src/common/typed-emitter.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../src/policy/store/sqlite-repository.js';
import { portBlock } from '../../support/ports.js';
import { tempDbPath, TOKEN } from './admin-harness.js';

const ports = portBlock({ from: 48000, to: 48999 }, 0, 10);

let db: ReturnType<typeof tempDbPath>;
let repo: SqlitePolicyRepository;
let server: AdminServer;
const now = { t: Date.parse('2026-01-01T00:00:00Z') };
const clock = { now: () => now.t, monotonic: () => now.t };

beforeEach(async () => {
  db = tempDbPath();
  repo = openSqliteRepository({ path: db.path });
  server = await createAdminServer({ repository: repo, token: TOKEN, clock, console: { ttlMs: 60_000 } });
});

afterEach(async () => {
  await server.close();
  await repo.close();
  db.cleanup();
});

const inject = (method: string, url: string, opts: { cookie?: string; csrf?: string; bearer?: string; body?: unknown } = {}) =>
  server.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}),
      ...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}),
    },
    ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
  });

async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await inject('POST', '/console/session', { body: { token: TOKEN } });
  expect(res.statusCode).toBe(200);
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, csrf: res.json().csrfToken, setCookie };
}

describe('web console: served by the admin server', () => {
  it('serves the page and its assets without a login, with a same-origin-only content security policy', async () => {
    const page = await inject('GET', '/console/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(page.body).toContain('assets/app.js');
    expect(page.body, 'nothing fetched from elsewhere').not.toMatch(/https?:\/\//);
    const js = await inject('GET', '/console/assets/app.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body.length).toBeGreaterThan(1000);
    expect((await inject('GET', '/console/assets/app.css')).statusCode).toBe(200);
    expect((await inject('GET', '/console')).headers.location).toBe('/console/');
  });

  it('answers 404 for a file that is not part of the console (no path reaches the disk)', async () => {
    for (const url of ['/console/assets/..%2F..%2Fpackage.json', '/console/assets/nope.js', '/console/secret']) {
      const res = await inject('GET', url);
      expect(res.statusCode, url).toBe(404);
    }
  });
});

describe('web console: login and session', () => {
  it('refuses a wrong token with 401 ADMIN_UNAUTHORIZED and sets no cookie', async () => {
    const res = await inject('POST', '/console/session', { body: { token: 'wrong' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('ADMIN_UNAUTHORIZED');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses logins from an address after 5 wrong tokens in a minute (429 ADMIN_LOGIN_THROTTLED, even the right token) until a minute has passed', async () => {
    for (let i = 0; i < 5; i++) expect((await inject('POST', '/console/session', { body: { token: `guess-${i}` } })).statusCode).toBe(401);
    const refused = await inject('POST', '/console/session', { body: { token: TOKEN } });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('ADMIN_LOGIN_THROTTLED');
    expect(Number(refused.headers['retry-after'])).toBe(60);
    expect(refused.headers['set-cookie']).toBeUndefined();
    now.t += 60_001;
    expect((await inject('POST', '/console/session', { body: { token: TOKEN } })).statusCode).toBe(200);
  });

  it('turns the token into an HttpOnly, SameSite=Strict session cookie that reads the API', async () => {
    const { cookie, csrf, setCookie } = await login();
    expect(setCookie).toMatch(/^console_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=60$/);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await inject('GET', '/v1/orgs', { cookie })).statusCode).toBe(200);
    const session = await inject('GET', '/console/session', { cookie });
    expect(session.json()).toEqual({ auth: 'session', csrfToken: csrf });
    expect((await inject('GET', '/v1/orgs')).statusCode, 'no cookie, no header').toBe(401);
    expect((await inject('GET', '/v1/orgs', { cookie: 'console_session=forged' })).statusCode).toBe(401);
  });

  it('MUST refuse a write made with the cookie but without the CSRF token (403 ADMIN_CSRF_REJECTED) and accept it with the token', async () => {
    const { cookie, csrf } = await login();
    const without = await inject('POST', '/v1/orgs', { cookie, body: { id: 'acme', name: 'Acme' } });
    expect(without.statusCode).toBe(403);
    expect(without.json().error.code).toBe('ADMIN_CSRF_REJECTED');
    const wrong = await inject('POST', '/v1/orgs', { cookie, csrf: `${csrf.slice(0, -1)}x`, body: { id: 'acme', name: 'Acme' } });
    expect(wrong.statusCode).toBe(403);
    expect((await inject('GET', '/v1/orgs/acme', { cookie })).statusCode, 'nothing was created').toBe(404);
    const ok = await inject('POST', '/v1/orgs', { cookie, csrf, body: { id: 'acme', name: 'Acme' } });
    expect(ok.statusCode).toBe(201);
  });

  it('keeps accepting the bearer header, for writes too, without any CSRF token', async () => {
    const res = await inject('POST', '/v1/orgs', { bearer: TOKEN, body: { id: 'beta', name: 'Beta' } });
    expect(res.statusCode).toBe(201);
    expect((await inject('GET', '/v1/orgs', { bearer: 'wrong' })).statusCode).toBe(401);
  });

  it('ends the session at logout (which itself needs the CSRF token) and when it expires', async () => {
    const a = await login();
    expect((await inject('DELETE', '/console/session', { cookie: a.cookie })).statusCode).toBe(403);
    const out = await inject('DELETE', '/console/session', { cookie: a.cookie, csrf: a.csrf });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await inject('GET', '/v1/orgs', { cookie: a.cookie })).statusCode).toBe(401);

    const b = await login();
    now.t += 60_001;
    expect((await inject('GET', '/v1/orgs', { cookie: b.cookie })).statusCode, 'expired after ttlMs').toBe(401);
    expect((await inject('GET', '/console/session', { cookie: b.cookie })).statusCode).toBe(401);
  });

  it('needs no login when no token is configured (the API then listens on 127.0.0.1 only)', async () => {
    const open = await createAdminServer({ repository: repo });
    try {
      const res = await open.app.inject({ method: 'GET', url: '/console/session' });
      expect(res.json()).toEqual({ auth: 'none', csrfToken: null });
    } finally {
      await open.close();
    }
  });
});

describe('live calls as server-sent events (GET /v1/calls/events)', () => {
  it('sends the call list at once and again when the call layer reports a change, to a cookie session', async () => {
    await server.close();
    let calls: Partial<CallSummary>[] = [];
    const changes = new TypedEmitter<{ changed: [callId: string] }>();
    const feed = { list: () => calls as CallSummary[], changes };
    server = await createAdminServer({ repository: repo, token: TOKEN, clock, host: '127.0.0.1', port: ports.next(), extraPlugins: [callEventsPlugin(feed, { debounceMs: 10 })] });
    const { url } = await server.listen();
    const { cookie } = await login();
    const ac = new AbortController();
    const res = await fetch(`${url}/v1/calls/events`, { headers: { cookie }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 3000;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no ${needle} in ${text}`);
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('data: {"calls":[]}');
    calls = [{ id: 'c1', direction: 'inbound-pstn', recording: { state: 'paused', party: null, mode: null } }];
    changes.emit('changed', 'c1');
    await readUntil('"id":"c1"');
    expect(text).toContain('event: calls\ndata: {"calls":[{"id":"c1","direction":"inbound-pstn","recording":{"state":"paused"');
    ac.abort();
    expect((await fetch(`${url}/v1/calls/events`)).status, 'authenticated like every route').toBe(401);

    // an open stream does not hold the server's close up
    const open = await fetch(`${url}/v1/calls/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(open.status).toBe(200);
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0, 'close with a stream open').toBeLessThan(2000);
  });
});
