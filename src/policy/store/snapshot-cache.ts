import type { PolicyRepository } from '../policy-repository.js';
import type { PolicySnapshot } from '../policy-types.js';

/**
 * The call path's view of the settings: the repository's snapshots, loaded once and kept until a
 * settings write invalidates them (the admin API's onSettingsChanged hook). Every INVITE needs the
 * snapshots; reading them from SQLite per call would put a full table scan on the hot path.
 *
 * A load that fails is not cached, so the next call tries again.
 */
export class SnapshotCache {
  readonly #repository: Pick<PolicyRepository, 'loadAllSnapshots'>;
  #current: Promise<readonly PolicySnapshot[]> | undefined;

  constructor(repository: Pick<PolicyRepository, 'loadAllSnapshots'>) {
    this.#repository = repository;
  }

  snapshots(): Promise<readonly PolicySnapshot[]> {
    if (this.#current) return this.#current;
    const loading = this.#repository.loadAllSnapshots();
    this.#current = loading;
    loading.catch(() => {
      if (this.#current === loading) this.#current = undefined;
    });
    return loading;
  }

  /** Drop the cached snapshots; the next call reloads them. */
  invalidate(): void {
    this.#current = undefined;
  }
}
