import type { FastifyInstance } from 'fastify';
import type { Clock, Timers } from '../common/clock.js';
import type { Logger } from '../observability/logger.js';
import type { PolicyRepository } from '../policy/policy-repository.js';
import type { SettingsService } from '../policy/settings-service.js';
import type { ProvisioningClient } from './provisioning/provisioning-client.js';
import type { ProvisioningService } from './provisioning/provisioning-service.js';

/** What every admin plugin receives (its own plus the server's shared services). */
export interface AdminContext {
  readonly service: SettingsService;
  readonly provisioning: ProvisioningService;
  readonly repository: PolicyRepository;
  readonly logger: Logger;
}

/**
 * A resource plugin: registers its routes (under /v1) with JSON schemas. Other planes add theirs
 * (live calls, per-call recording control) through AdminServerOptions.extraPlugins.
 */
export interface AdminPlugin {
  readonly name: string;
  register(app: FastifyInstance, ctx: AdminContext): void | Promise<void>;
}

export interface AdminServerOptions {
  /** The settings store (src/policy/store/sqlite-repository.ts in production). Required. */
  readonly repository: PolicyRepository;
  /**
   * Address to bind; default '127.0.0.1'. Without a token the server binds 127.0.0.1 whatever is
   * asked, and logs that it does.
   */
  readonly host?: string;
  /** Port; default 8080. 0 picks an ephemeral port (tests). */
  readonly port?: number;
  /** Bearer token required on every route except the OpenAPI document and /healthz; default none. */
  readonly token?: string;
  /** Default silentLogger. */
  readonly logger?: Logger;
  /** Default systemClock / systemTimers. */
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** Id generator for entities created without an id; default crypto.randomUUID. */
  readonly newId?: () => string;
  /** R-06 auto-provisioning. */
  readonly provisioning?: {
    /** Base URL for providers without their own provisioningUrl; default none. */
    readonly defaultBaseUrl?: string | null;
    /** Tries per request, default 3; back-off between tries default 200 ms, doubling. */
    readonly attempts?: number;
    readonly backoffMs?: number;
    /** Background retry delay after a failure, default 60 000 ms, doubling; at most maxBackgroundRetries (default 5). */
    readonly retryDelayMs?: number;
    readonly maxBackgroundRetries?: number;
    /** Replace the HTTP client (tests use a real local fake server instead). */
    readonly client?: ProvisioningClient;
  };
  /** Called after any settings write (the settings service announces each), with the organisation id; default no-op. */
  readonly onSettingsChanged?: (orgId: string) => void;
  /** Further resource plugins (other planes). */
  readonly extraPlugins?: readonly AdminPlugin[];
  /**
   * The web console at /console/ (docs/console.md): login with the token into a session cookie,
   * CSRF token on writes. Default on, sessions of 8 h, served from console/dist; false = off.
   */
  readonly console?: false | { readonly dir?: string; readonly ttlMs?: number };
  /** Largest accepted request body; default 1 MiB. */
  readonly bodyLimit?: number;
}

export const ADMIN_DEFAULTS = Object.freeze({ host: '127.0.0.1', port: 8080, bodyLimit: 1024 * 1024 });
