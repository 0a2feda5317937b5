import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../observability/logger.js';
import { tokenMatches } from '../admin-auth.js';
import { CSRF_HEADER, SESSION_COOKIE, cookieValue, type ConsoleSessions } from './console-sessions.js';
import type { LoginThrottle } from './login-throttle.js';

/** Where `npm run build:console` writes the console (committed; test/unit/admin/console-build.test.ts checks it is current). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist', import.meta.url));

/**
 * Nothing leaves the admin server's origin: scripts, styles, media and API calls all come from it
 * (the recording player decodes the WAV into blob: URLs only when asked).
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface ConsolePluginOptions {
  readonly sessions: ConsoleSessions;
  /** Refuses logins from a source address after repeated wrong tokens (429 ADMIN_LOGIN_THROTTLED). */
  readonly throttle: LoginThrottle;
  /** The admin bearer token; without one the console needs no login (the API then listens on 127.0.0.1 only). */
  readonly token: string | undefined;
  /** The built console (index.html + assets/); default CONSOLE_DIST. */
  readonly dir?: string;
  readonly logger: Logger;
}

const loginSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1, maxLength: 4096 } },
} as const;

/** Reads index.html and every file of assets/ once: the console is served from memory, by a fixed list of names. */
function loadFiles(dir: string, logger: Logger): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    logger.error({ dir }, 'web console not built: run `npm run build:console`; /console/ answers 404');
    return files;
  }
  files.set('index.html', readFileSync(index));
  const assets = join(dir, 'assets');
  if (existsSync(assets)) for (const name of readdirSync(assets)) files.set(`assets/${name}`, readFileSync(join(assets, name)));
  return files;
}

/**
 * The web console (docs/console.md), at the admin API's origin:
 *
 *   GET    /console/                  the page (a single-page app; index.html)
 *   GET    /console/assets/{file}     its script, style sheet and icons
 *   GET    /console/session           200 { auth, csrfToken } for a live session (or no token configured), else 401
 *   POST   /console/session           { token } -> 200 { auth, csrfToken } + Set-Cookie console_session (HttpOnly,
 *                                     SameSite=Strict); 401 ADMIN_UNAUTHORIZED for a wrong token; after 5
 *                                     wrong tokens from one address within a minute 429 ADMIN_LOGIN_THROTTLED
 *                                     (Retry-After) until a minute after the last one
 *   DELETE /console/session           log out (needs the CSRF token), 204
 *
 * The API itself keeps taking the bearer header; the cookie is an alternative (admin-auth.ts).
 */
export function registerConsole(app: FastifyInstance, opts: ConsolePluginOptions): void {
  const files = loadFiles(opts.dir ?? CONSOLE_DIST, opts.logger);
  const { sessions, token } = opts;

  const send = (reply: FastifyReply, name: string) => {
    const body = files.get(name);
    if (!body) throw new AppError('ADMIN_ROUTE_NOT_FOUND', `/console/${name}`);
    return reply
      .header('content-type', TYPES[extname(name)] ?? 'application/octet-stream')
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body);
  };
  const cookie = (value: string, maxAgeSec: number, req: FastifyRequest) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${req.protocol === 'https' ? '; Secure' : ''}`;
  const current = (req: FastifyRequest) => sessions.find(cookieValue(req.headers.cookie, SESSION_COOKIE));

  const schema = (summary: string, extra: object = {}) => ({ schema: { summary, tags: ['console'], ...extra } as FastifySchema });
  app.get('/console', schema('The web console (redirects to /console/)'), async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/', schema('The web console page'), async (_req, reply) => send(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/console/assets/:file', schema('A file of the web console (script, style sheet)'), async (req, reply) =>
    send(reply, `assets/${req.params.file}`),
  );

  app.get('/console/session', schema('The console session of this browser and its CSRF token'), async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!token) return { auth: 'none', csrfToken: null };
    const s = current(req);
    if (!s) throw new AppError('ADMIN_UNAUTHORIZED', 'no console session');
    return { auth: 'session', csrfToken: s.csrfToken };
  });
  app.post<{ Body: { token: string } }>('/console/session', schema('Log in to the console with the admin token', { body: loginSchema }), async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!token) return { auth: 'none', csrfToken: null };
    const wait = opts.throttle.retryAfterSec(req.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new AppError('ADMIN_LOGIN_THROTTLED', `retry in ${wait} s`);
    }
    if (!tokenMatches(token, req.body.token)) {
      opts.throttle.failed(req.ip);
      opts.logger.warn({ ip: req.ip }, 'console login refused: wrong token');
      throw new AppError('ADMIN_UNAUTHORIZED', 'wrong token');
    }
    opts.throttle.succeeded(req.ip);
    const previous = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (previous) sessions.destroy(previous);
    const s = sessions.create();
    opts.logger.info({ ip: req.ip }, 'console login');
    reply.header('set-cookie', cookie(s.id, Math.floor(sessions.ttlMs / 1000), req));
    return { auth: 'session', csrfToken: s.csrfToken };
  });
  app.delete('/console/session', schema('Log out of the console'), async (req, reply) => {
    const s = current(req);
    if (s) {
      const presented = req.headers[CSRF_HEADER];
      if (!sessions.csrfMatches(s, typeof presented === 'string' ? presented : undefined)) throw new AppError('ADMIN_CSRF_REJECTED');
      sessions.destroy(s.id);
    }
    return reply.header('set-cookie', cookie('', 0, req)).code(204).send();
  });
}
