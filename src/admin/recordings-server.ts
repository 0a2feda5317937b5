import Fastify, { type FastifyInstance } from 'fastify';
import { installBearerAuth } from './admin-auth.js';
import { installErrorHandling } from './admin-errors.js';
import { registerRecordingRoutes } from './plugins/recordings-plugin.js';
import { silentLogger, type Logger } from '../observability/logger.js';

/**
 * The standalone recording server's own HTTP port (config srs.httpPort, off by default): the
 * recordings read API under /v1 (docs/admin-api.md "Recordings", the same routes and errors the
 * admin API serves for the in-process server) and GET /healthz. With a token every route but
 * /healthz needs `Authorization: Bearer <token>` (RFC 6750); without one it binds 127.0.0.1 only.
 */
export interface RecordingsHttpOptions {
  recordingsDir: string;
  /** Default '127.0.0.1'; without a token any other address is refused. */
  host?: string;
  /** 0 = an ephemeral port. */
  port: number;
  token?: string | undefined;
  logger?: Logger;
}

export interface RecordingsHttpServer {
  readonly app: FastifyInstance;
  readonly url: string;
  /** Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startRecordingsHttpServer(o: RecordingsHttpOptions): Promise<RecordingsHttpServer> {
  const logger = o.logger ?? silentLogger;
  const host = o.host ?? '127.0.0.1';
  if (!o.token && !LOOPBACK.has(host)) throw new RangeError(`the recordings API may listen on ${host} only with a token (srs.httpToken)`);
  const app = Fastify({ logger: false });
  installErrorHandling(app, logger);
  installBearerAuth(app, o.token);
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(async (scope) => registerRecordingRoutes(scope, o.recordingsDir), { prefix: '/v1' });
  await app.listen({ host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, auth: o.token ? 'bearer' : 'none (loopback only)' }, 'recordings API listening');
  let closing: Promise<void> | undefined;
  return { app, url, close: () => (closing ??= app.close()) };
}
