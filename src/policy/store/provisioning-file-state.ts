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
import type { SettingsService } from '../settings-service.js';
import { applyProvisioning, readProvisioningFile, type ProvisioningResult } from './provisioning-file.js';
import type { SqlitePolicyRepository } from './sqlite-repository.js';

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
export function lastAppliedProvisioningFile(repository: SqlitePolicyRepository): AppliedProvisioningFile | undefined {
  const row = repository.database().prepare('SELECT data FROM provisioning_file_applied WHERE id = 1').get() as { data: string } | undefined;
  return row ? (JSON.parse(row.data) as AppliedProvisioningFile) : undefined;
}

function recordAppliedProvisioningFile(repository: SqlitePolicyRepository, applied: AppliedProvisioningFile): void {
  repository
    .database()
    .prepare('INSERT INTO provisioning_file_applied (id, data) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data')
    .run(JSON.stringify(applied));
}

/**
 * Reads and checks the file (POLICY_PROVISIONING_FILE_INVALID when it does not fit), then applies it
 * through the service when its content changed since it was last applied to this database.
 */
export async function applyProvisioningFileIfChanged(
  service: SettingsService,
  repository: SqlitePolicyRepository,
  path: string,
  now: () => Date = () => new Date(),
): Promise<ProvisioningFileOutcome> {
  const file = await readProvisioningFile(path);
  const previous = lastAppliedProvisioningFile(repository);
  if (previous?.sha256 === file.sha256) return { applied: false, previous };
  const result = await applyProvisioning(service, file);
  recordAppliedProvisioningFile(repository, { sha256: file.sha256, path, appliedAt: now().toISOString(), result });
  return { applied: true, result, previous };
}
