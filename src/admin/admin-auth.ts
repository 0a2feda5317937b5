import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../common/errors.js';

/** Paths anyone may read: the API description and the liveness probe. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/v1/openapi.json', '/healthz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-token authentication (RFC 6750 section 2.1): `Authorization: Bearer <token>` on every
 * route but PUBLIC_PATHS. Compared in constant time. With no token configured nothing is checked
 * (the server then binds to 127.0.0.1 only, see admin-server.ts).
 */
export function installBearerAuth(app: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC_PATHS.has(req.url.split('?')[0] ?? '')) return;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (m && timingSafeEqual(digest(m[1]!.trim()), expected)) return;
    reply.header('www-authenticate', 'Bearer realm="admin"');
    throw new AppError('ADMIN_UNAUTHORIZED');
  });
}
