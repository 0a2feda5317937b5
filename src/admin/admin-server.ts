import Fastify, { type FastifyInstance, type FastifySchema } from 'fastify';
import { systemClock } from '../common/clock.js';
import { AppError } from '../common/errors.js';
import { silentLogger } from '../observability/logger.js';
import { SettingsService } from '../policy/settings-service.js';
import { installBearerAuth } from './admin-auth.js';
import { installErrorHandling } from './admin-errors.js';
import { ADMIN_DEFAULTS, type AdminContext, type AdminPlugin, type AdminServerOptions } from './admin-options.js';
import { registerConsole } from './console/console-plugin.js';
import { ConsoleSessions } from './console/console-sessions.js';
import { LoginThrottle } from './console/login-throttle.js';
import { collectRoutes } from './openapi.js';
import { callDecisionPlugin } from './plugins/call-decision-plugin.js';
import { featuresPlugin } from './plugins/features-plugin.js';
import { locationsPlugin } from './plugins/locations-plugin.js';
import { organisationsPlugin } from './plugins/organisations-plugin.js';
import { providersPlugin } from './plugins/providers-plugin.js';
import { provisioningPlugin } from './plugins/provisioning-plugin.js';
import { trunksPlugin } from './plugins/trunks-plugin.js';
import { usersPlugin } from './plugins/users-plugin.js';
import { virtualLinesPlugin } from './plugins/virtual-lines-plugin.js';
import { ProvisioningService } from './provisioning/provisioning-service.js';

/** The built-in resource plugins, in registration order. */
export const BUILT_IN_PLUGINS: readonly AdminPlugin[] = [
  organisationsPlugin,
  providersPlugin,
  locationsPlugin,
  usersPlugin,
  virtualLinesPlugin,
  featuresPlugin,
  trunksPlugin,
  provisioningPlugin,
  callDecisionPlugin,
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface AdminServer {
  /** The Fastify instance (tests may use app.inject). */
  readonly app: FastifyInstance;
  readonly context: AdminContext;
  /** Bind and listen; resolves the bound address. Rejects CLOSED after close(). */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Idempotent: stops listening, cancels provisioning retries. Does not close the repository (the caller owns it). */
  close(): Promise<void>;
}

/**
 * The admin HTTP API (docs/admin-api.md): Fastify with JSON schemas, one plugin per resource under
 * /v1, bearer-token auth, errors as { error: { code, message } }, OpenAPI at /v1/openapi.json.
 */
export async function createAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const logger = opts.logger ?? silentLogger;
  const requestedHost = opts.host ?? ADMIN_DEFAULTS.host;
  let host = requestedHost;
  if (!opts.token) {
    host = '127.0.0.1';
    logger.warn({ requestedHost }, 'admin API: no token configured, binding to 127.0.0.1 only');
  }
  const port = opts.port ?? ADMIN_DEFAULTS.port;

  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? ADMIN_DEFAULTS.bodyLimit,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  installErrorHandling(app, logger);
  const sessions = opts.console === false ? undefined : new ConsoleSessions(opts.clock ?? systemClock, opts.console ?? {});
  installBearerAuth(app, opts.token, sessions);
  const openapi = collectRoutes(app, { title: 'Recording B2BUA admin API', version: '1' });

  const onChanged = opts.onSettingsChanged;
  const service = new SettingsService({
    repository: opts.repository,
    clock: opts.clock,
    newId: opts.newId,
    onChanged: (orgId) => {
      try {
        onChanged?.(orgId);
      } catch (err) {
        logger.error({ err, orgId }, 'settings change listener failed');
      }
    },
  });
  const p = opts.provisioning ?? {};
  const provisioning = new ProvisioningService({
    repository: opts.repository,
    client: p.client,
    defaultBaseUrl: p.defaultBaseUrl,
    attempts: p.attempts,
    backoffMs: p.backoffMs,
    retryDelayMs: p.retryDelayMs,
    maxBackgroundRetries: p.maxBackgroundRetries,
    clock: opts.clock,
    timers: opts.timers,
    logger,
  });
  const context: AdminContext = { service, provisioning, repository: opts.repository, logger };

  const meta = (summary: string) => ({ schema: { summary, tags: ['meta'] } as FastifySchema });
  app.get('/healthz', meta('Liveness'), async () => ({ status: 'ok' }));
  app.get('/v1/openapi.json', meta('This API as an OpenAPI 3.1 document'), async () => openapi.document());
  if (sessions) registerConsole(app, { sessions, throttle: new LoginThrottle(opts.clock ?? systemClock), token: opts.token, logger, ...(opts.console && opts.console.dir ? { dir: opts.console.dir } : {}) });
  for (const plugin of [...BUILT_IN_PLUGINS, ...(opts.extraPlugins ?? [])]) {
    await app.register(async (scope) => plugin.register(scope, context), { prefix: '/v1' });
  }
  await app.ready();

  let state: 'idle' | 'listening' | 'closed' = 'idle';
  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    async listen() {
      if (state === 'closed') throw new AppError('CLOSED', 'admin server');
      await app.listen({ host, port });
      state = 'listening';
      const addr = app.server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      const h = host.includes(':') ? `[${host}]` : host;
      logger.info({ host, port: bound, auth: opts.token ? 'bearer' : 'none (loopback only)' }, 'admin API listening');
      return { host, port: bound, url: `http://${h}:${bound}` };
    },
    close() {
      closing ??= (async () => {
        state = 'closed';
        provisioning.close();
        await app.close();
      })();
      return closing;
    },
  };
}

/** True when a host is loopback (for callers that want to warn before binding). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host);
}
