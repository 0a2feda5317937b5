/**
 * The settings store the configuration names: the PostgreSQL database of `store.databaseUrl`
 * (DATABASE_URL) when set, shared by every node naming it, else the embedded SQLite file
 * `store.sqlitePath` (the default). Both are created and migrated when opened
 * (docs/policy.md "Settings database").
 */
import type { Logger } from '../../observability/logger.js';
import type { SettingsStore } from './provisioning-file-state.js';
import { openPostgresRepository, redactDatabaseUrl } from './postgres-repository.js';
import { openSqliteRepository } from './sqlite-repository.js';

export interface SettingsStoreOptions {
  /** Default 'data/settings.db' in the configuration; used when databaseUrl is unset. */
  readonly sqlitePath: string;
  /** postgres:// URL; unset = the SQLite file. */
  readonly databaseUrl: string | undefined;
  readonly logger?: Logger;
}

export interface OpenedSettingsStore {
  readonly store: SettingsStore;
  readonly kind: 'sqlite' | 'postgres';
  /** The file, or the database URL with its password hidden (for the log). */
  readonly location: string;
}

/** Opens (creates, migrates) the configured store; rejects POLICY_STORE_FAILED when it cannot. */
export async function openSettingsStore(options: SettingsStoreOptions): Promise<OpenedSettingsStore> {
  if (options.databaseUrl !== undefined) {
    const store = await openPostgresRepository({ url: options.databaseUrl, logger: options.logger });
    return { store, kind: 'postgres', location: redactDatabaseUrl(options.databaseUrl) };
  }
  return { store: openSqliteRepository({ path: options.sqlitePath }), kind: 'sqlite', location: options.sqlitePath };
}
