/**
 * The provisioning file's relation to the admin API (docs/policy.md "Provisioning file and the
 * admin API"): at start the file is applied only when its content differs from the content last
 * applied to this settings database. The SHA-256 of the file's text is stored with the settings
 * (table provisioning_file_applied, migration 2) after a successful apply, so:
 *   - the same file at the next start is read and checked (a bad file still refuses the start) but
 *     not re-applied: changes made through the admin API since then are kept;
 *   - an edited file (any byte, a comment too) is applied again: its entities get the file's
 *     fields, over changes made through the API; entities it does not name are left alone;
 *   - a failed apply records nothing, so the next start applies the file again.
 */
import type { PolicyRepository } from '../policy-repository.js';
import type { SettingsService } from '../settings-service.js';
import { applyProvisioning, readProvisioningFile, type ProvisioningResult } from './provisioning-file.js';

/**
 * Where a settings store keeps the record of the file last applied (one row of its
 * provisioning_file_applied table): both stores (sqlite-repository.ts, postgres-repository.ts).
 */
export interface ProvisioningFileLedger {
  /** The record stored last, undefined when none. */
  readProvisioningFileApplied(): Promise<unknown>;
  writeProvisioningFileApplied(value: unknown): Promise<void>;
  /**
   * Runs `fn` while no other node sharing the database runs it (PostgreSQL: an advisory lock), so
   * nodes starting at once with the same file apply it once. Absent: `fn` runs as is (one process).
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
}

/** A settings store: the repository and its provisioning-file record. */
export type SettingsStore = PolicyRepository & ProvisioningFileLedger;

export interface AppliedProvisioningFile {
  /** SHA-256 (hex) of the text applied. */
  readonly sha256: string;
  /** The path it was read from (for the log; a different path with the same text counts as unchanged). */
  readonly path: string;
  /** ISO 8601. */
  readonly appliedAt: string;
  readonly result: ProvisioningResult;
}

export type ProvisioningFileOutcome =
  | { readonly applied: true; readonly result: ProvisioningResult; readonly previous: AppliedProvisioningFile | undefined }
  | { readonly applied: false; readonly previous: AppliedProvisioningFile };

/** The file last applied to this database, if any. */
export async function lastAppliedProvisioningFile(store: ProvisioningFileLedger): Promise<AppliedProvisioningFile | undefined> {
  return (await store.readProvisioningFileApplied()) as AppliedProvisioningFile | undefined;
}

/**
 * Reads and checks the file (POLICY_PROVISIONING_FILE_INVALID when it does not fit), then applies it
 * through the service when its content changed since it was last applied to this database.
 */
export async function applyProvisioningFileIfChanged(
  service: SettingsService,
  store: ProvisioningFileLedger,
  path: string,
  now: () => Date = () => new Date(),
): Promise<ProvisioningFileOutcome> {
  const file = await readProvisioningFile(path);
  const apply = async (): Promise<ProvisioningFileOutcome> => {
    const previous = await lastAppliedProvisioningFile(store);
    if (previous?.sha256 === file.sha256) return { applied: false, previous };
    const result = await applyProvisioning(service, file);
    await store.writeProvisioningFileApplied({ sha256: file.sha256, path, appliedAt: now().toISOString(), result } satisfies AppliedProvisioningFile);
    return { applied: true, result, previous };
  };
  return store.exclusive ? store.exclusive(apply) : apply();
}
