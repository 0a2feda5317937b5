/**
 * Settings changes made on any node, heard on this one: a dedicated connection to the settings
 * database LISTENs on the `settings_changed` channel (postgres-migrations.ts, migration 3: every
 * write to a snapshot table notifies it with the organisation's id when its transaction commits),
 * and each notification tells `onChange(orgId)` so this node drops its cached snapshots at once,
 * without waiting for any expiry (docs/policy.md "Settings database").
 *
 * When the connection is lost (database restart, network, an administrator ending it), it is
 * counted and logged, and reopened with a growing delay (default 100 ms doubling to 5 s); after it
 * is back, `onChange('all')` is told once, since notifications sent meanwhile were missed.
 */
import pg from 'pg';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../observability/logger.js';
import { SETTINGS_CHANGED_CHANNEL } from './postgres-migrations.js';
import { APPLICATION_NAME, errorReason, redactDatabaseUrl } from './postgres-repository.js';

/** The payload told after a reconnect: every organisation may have changed. */
export const ALL_ORGANISATIONS = 'all';

export interface SettingsChangesOptions {
  /** The settings database (DATABASE_URL). */
  readonly url: string;
  /** Told with the organisation's id on each notification, with 'all' after a reconnect. A throwing listener is logged. */
  readonly onChange: (orgId: string) => void;
  readonly logger?: Logger;
  /** First delay before reopening a lost connection; default 100 ms, doubling on each failed attempt. */
  readonly reconnectMinMs?: number;
  /** Longest delay between attempts; default 5000 ms. */
  readonly reconnectMaxMs?: number;
  /** How long opening the connection may take; default 3000 ms. */
  readonly connectTimeoutMs?: number;
}

export interface SettingsChangesStats {
  /** Notifications received. */
  readonly notifications: number;
  /** Times the listening connection was lost. */
  readonly connectionsLost: number;
  /** Times it was reopened (each followed by onChange('all')). */
  readonly reconnects: number;
  /** Failed attempts to reopen it. */
  readonly reconnectFailures: number;
  /** True while LISTEN is in effect. */
  readonly listening: boolean;
}

export class PostgresSettingsChanges {
  readonly #options: SettingsChangesOptions;
  readonly #location: string;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #closed = false;
  #notifications = 0;
  #connectionsLost = 0;
  #reconnects = 0;
  #reconnectFailures = 0;

  private constructor(options: SettingsChangesOptions) {
    this.#options = options;
    this.#location = redactDatabaseUrl(options.url);
    this.#delayMs = options.reconnectMinMs ?? 100;
  }

  /** Opens the listening connection; rejects POLICY_STORE_FAILED when it cannot (a start failure). */
  static async start(options: SettingsChangesOptions): Promise<PostgresSettingsChanges> {
    const changes = new PostgresSettingsChanges(options);
    try {
      await changes.#listen();
    } catch (err) {
      throw new AppError('POLICY_STORE_FAILED', `cannot listen for settings changes on ${changes.#location}: ${errorReason(err)}`, { cause: err });
    }
    return changes;
  }

  stats(): SettingsChangesStats {
    return {
      notifications: this.#notifications,
      connectionsLost: this.#connectionsLost,
      reconnects: this.#reconnects,
      reconnectFailures: this.#reconnectFailures,
      listening: this.#client !== undefined,
    };
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 3000,
      application_name: `${APPLICATION_NAME} settings listener`,
      keepAlive: true,
    });
    // errors before LISTEN is in effect reject the attempt below instead
    let live = false;
    let lost = false;
    const onLost = (err?: Error): void => {
      if (!live || lost) return;
      lost = true;
      void client.end().catch(() => undefined);
      if (this.#client === client) this.#client = undefined;
      if (this.#closed) return;
      this.#connectionsLost++;
      this.#options.logger?.warn(
        { err: err ? { message: errorReason(err) } : undefined, database: this.#location, connectionsLost: this.#connectionsLost },
        'settings change listener lost its database connection: reconnecting (settings written meanwhile are reloaded once it is back)',
      );
      this.#schedule();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel !== SETTINGS_CHANGED_CHANNEL) return;
      this.#notifications++;
      this.#tell(msg.payload ?? ALL_ORGANISATIONS);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SETTINGS_CHANGED_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    live = true;
  }

  #tell(orgId: string): void {
    try {
      this.#options.onChange(orgId);
    } catch (err) {
      this.#options.logger?.error({ err, orgId }, 'settings change listener failed');
    }
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(delay * 2, this.#options.reconnectMaxMs ?? 5000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reconnect();
    }, delay);
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#listen();
    } catch (err) {
      this.#reconnectFailures++;
      // logged once per loss (the first failed attempt) and then every 10th, not once per attempt
      if (this.#reconnectFailures % 10 === 1) {
        this.#options.logger?.warn({ err: { message: errorReason(err) }, database: this.#location, attempts: this.#reconnectFailures }, 'settings change listener: database still unreachable, retrying');
      }
      this.#schedule();
      return;
    }
    if (this.#closed) return;
    this.#reconnects++;
    this.#delayMs = this.#options.reconnectMinMs ?? 100;
    this.#options.logger?.info({ database: this.#location, reconnects: this.#reconnects }, 'settings change listener reconnected: reloading every organisation (notifications may have been missed)');
    this.#tell(ALL_ORGANISATIONS);
  }

  /** Stops listening. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
