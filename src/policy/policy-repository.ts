import type {
  Feature,
  FeatureKind,
  Location,
  Organisation,
  PolicySnapshot,
  Provider,
  ProvisioningRecord,
  ProvisioningSubjectKind,
  TermsAcceptance,
  Trunk,
  User,
  VirtualLine,
} from './policy-types.js';

/**
 * Persistence of the settings model (STYLE habit 3: I/O behind a narrow injected interface).
 * Implemented by src/policy/store/sqlite-repository.ts (embedded, one instance); a PostgreSQL store
 * for several instances implements the same interface. Asynchronous so that a networked store fits.
 *
 * Contract: `get*` resolves undefined when absent; `create*` rejects POLICY_ALREADY_EXISTS on a
 * duplicate id; `update*` / `delete*` reject POLICY_NOT_FOUND when absent; every entity belongs to
 * exactly one organisation, deleting an organisation deletes everything it owns. The repository
 * stores what it is given: the rules (settings-rules.ts) are applied by the caller before writing.
 * Methods on a closed repository reject with CLOSED; close() is idempotent.
 */
export interface EntityStore<T extends { readonly id: string }> {
  list(orgId: string): Promise<T[]>;
  get(orgId: string, id: string): Promise<T | undefined>;
  create(entity: T): Promise<T>;
  update(entity: T): Promise<T>;
  delete(orgId: string, id: string): Promise<void>;
}

export interface PolicyRepository {
  listOrganisations(): Promise<Organisation[]>;
  getOrganisation(orgId: string): Promise<Organisation | undefined>;
  createOrganisation(org: Organisation): Promise<Organisation>;
  updateOrganisation(org: Organisation): Promise<Organisation>;
  deleteOrganisation(orgId: string): Promise<void>;

  readonly providers: EntityStore<Provider>;
  readonly locations: EntityStore<Location>;
  readonly users: EntityStore<User>;
  readonly virtualLines: EntityStore<VirtualLine>;
  /** Auto attendants, call queues and hunt groups; `list` returns all kinds. */
  readonly features: EntityStore<Feature> & { listByKind(orgId: string, kind: FeatureKind): Promise<Feature[]> };
  readonly trunks: EntityStore<Trunk>;

  /** acceptances are written once and never changed. */
  listTermsAcceptances(orgId: string): Promise<TermsAcceptance[]>;
  putTermsAcceptance(acceptance: TermsAcceptance): Promise<TermsAcceptance>;

  /** one record per (org, provider, subject). */
  listProvisioningRecords(orgId: string): Promise<ProvisioningRecord[]>;
  getProvisioningRecord(
    orgId: string,
    providerId: string,
    subjectKind: ProvisioningSubjectKind,
    subjectId: string,
  ): Promise<ProvisioningRecord | undefined>;
  putProvisioningRecord(record: ProvisioningRecord): Promise<ProvisioningRecord>;

  /** Everything the pure functions need about one organisation; undefined when it does not exist. */
  loadSnapshot(orgId: string): Promise<PolicySnapshot | undefined>;
  /** Snapshots of every organisation (to build the call-classification directory). */
  loadAllSnapshots(): Promise<PolicySnapshot[]>;

  close(): Promise<void>;
}
