import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../common/errors.js';
import { CSRF_HEADER, SESSION_COOKIE, cookieValue, type ConsoleSessions } from './console/console-sessions.js';

/** Paths anyone may read: the API description and the liveness probe. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/v1/openapi.json', '/healthz']);

/** Methods that change nothing (RFC 9110 section 9.2.1): a session cookie alone is enough for them. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The console's page, assets and login route check what they need themselves (console-plugin.ts). */
export const isConsolePath = (path: string): boolean => path === '/console' || path.startsWith('/console/');

/** True when `presented` is the configured token (constant-time compare of their digests). */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Bearer-token authentication (RFC 6750 section 2.1): `Authorization: Bearer <token>` on every
 * route but PUBLIC_PATHS and the console's own paths. Compared in constant time. With no token
 * configured nothing is checked (the server then binds to 127.0.0.1 only, see admin-server.ts).
 *
 * With `sessions` (the web console, docs/console.md) a request may instead carry the console's
 * session cookie; a write (any method but GET/HEAD/OPTIONS) with the cookie must also carry the
 * session's CSRF token in `x-csrf-token`, else 403 ADMIN_CSRF_REJECTED. The bearer header never
 * needs a CSRF token: a browser does not add it by itself.
 */
export function installBearerAuth(app: FastifyInstance, token: string | undefined, sessions?: ConsoleSessions): void {
  if (!token) return;
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path) || (sessions && isConsolePath(path))) return;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (m && timingSafeEqual(digest(m[1]!.trim()), expected)) return;
    const session = sessions?.find(cookieValue(req.headers.cookie, SESSION_COOKIE));
    if (sessions && session) {
      if (SAFE_METHODS.has(req.method)) return;
      const presented = req.headers[CSRF_HEADER];
      if (sessions.csrfMatches(session, typeof presented === 'string' ? presented : undefined)) return;
      throw new AppError('ADMIN_CSRF_REJECTED');
    }
    reply.header('www-authenticate', 'Bearer realm="admin"');
    throw new AppError('ADMIN_UNAUTHORIZED');
  });
}
