import type { Logger } from '../../observability/logger.js';
import type { PolicyRepository } from '../policy-repository.js';
import type { PolicySnapshot } from '../policy-types.js';

export interface SnapshotCacheOptions {
  /** Where the first failed reload of an outage and the recovery are logged; default none. */
  readonly logger?: Logger;
  /** After a failed reload, how long the snapshots loaded last keep serving before the next attempt; default 1000 ms. */
  readonly retryAfterFailureMs?: number;
  /** Milliseconds clock; default Date.now. */
  readonly now?: () => number;
}

export interface SnapshotCacheStats {
  /** Loads from the repository that succeeded. */
  readonly loads: number;
  /** Loads that failed (the settings store unreachable or failing). */
  readonly loadFailures: number;
  /** Reads answered with the snapshots loaded last because a reload failed. */
  readonly staleReads: number;
}

/**
 * The call path's view of the settings: the repository's snapshots, loaded once and kept until a
 * settings write invalidates them (the admin API's onSettingsChanged hook, or another node's write
 * heard through postgres-settings-changes.ts). Every INVITE needs the snapshots; reading them from
 * the store per call would put a full table scan on the hot path.
 *
 * The first read after an invalidation waits for the reload, so it sees the write. When that
 * reload fails (the settings database unreachable), the snapshots loaded last keep serving: the
 * failure is counted, logged once per outage, and retried after `retryAfterFailureMs`. A load that
 * fails with nothing loaded before is not cached, so the next call tries again.
 */
export class SnapshotCache {
  readonly #repository: Pick<PolicyRepository, 'loadAllSnapshots'>;
  readonly #logger: Logger | undefined;
  readonly #retryMs: number;
  readonly #now: () => number;
  #current: Promise<readonly PolicySnapshot[]> | undefined;
  #lastGood: readonly PolicySnapshot[] | undefined;
  #failedAt: number | undefined;
  #loads = 0;
  #loadFailures = 0;
  #staleReads = 0;

  constructor(repository: Pick<PolicyRepository, 'loadAllSnapshots'>, options: SnapshotCacheOptions = {}) {
    this.#repository = repository;
    this.#logger = options.logger;
    this.#retryMs = options.retryAfterFailureMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  snapshots(): Promise<readonly PolicySnapshot[]> {
    if (this.#current) return this.#current;
    const lastGood = this.#lastGood;
    if (lastGood && this.#failedAt !== undefined && this.#now() - this.#failedAt < this.#retryMs) {
      this.#staleReads++;
      return Promise.resolve(lastGood);
    }
    const loading: Promise<readonly PolicySnapshot[]> = this.#repository.loadAllSnapshots().then(
      (loaded) => {
        this.#loads++;
        if (this.#current === loading || !this.#lastGood) this.#lastGood = loaded;
        if (this.#failedAt !== undefined) {
          this.#logger?.info({ loadFailures: this.#loadFailures, staleReads: this.#staleReads }, 'settings store reachable again: settings reloaded');
          this.#failedAt = undefined;
        }
        return loaded;
      },
      (err: unknown) => {
        this.#loadFailures++;
        if (this.#current === loading) this.#current = undefined;
        if (!lastGood) throw err;
        if (this.#failedAt === undefined) {
          this.#logger?.warn({ err }, 'settings store unreachable: calls use the settings loaded last until it answers again');
        }
        this.#failedAt = this.#now();
        this.#staleReads++;
        return lastGood;
      },
    );
    this.#current = loading;
    return loading;
  }

  /** Drop the cached snapshots; the next call reloads them. */
  invalidate(): void {
    this.#current = undefined;
  }

  stats(): SnapshotCacheStats {
    return { loads: this.#loads, loadFailures: this.#loadFailures, staleReads: this.#staleReads };
  }
}
