import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import { AppError } from '../common/errors.js';
import { resolveLocationSettings } from './effective-settings.js';
import { DEFAULT_COMPLIANCE, DEFAULT_LANGUAGE, DEFAULT_LOCATION_CALL_HANDLING, DEFAULT_RECORDING, DEFAULT_REGION, PROVIDER_PROFILES } from './policy-defaults.js';
import type { PolicyRepository } from './policy-repository.js';
import type {
  ComplianceSettings,
  Feature,
  FeatureKind,
  Location,
  LocationCallHandling,
  Organisation,
  OrgServiceSettings,
  PlatformInfo,
  PolicySnapshot,
  Provider,
  RecordingSettings,
  TermsAcceptance,
  Trunk,
  User,
  VirtualLine,
  VoicemailDestination,
} from './policy-types.js';
import type {
  CallExperienceInput,
  CallHandlingInput,
  FeatureInput,
  LocationInput,
  OrganisationInput,
  ProviderInput,
  RecordingInput,
  ServiceSettingsInput,
  TrunkInput,
  Updates,
  UserInput,
  VirtualLineInput,
} from './settings-input-types.js';
import {
  acceptTerms,
  applyLocationCallHandling,
  applyOrgServiceSettings,
  applyUserRecording,
  applyVirtualLineRecording,
  checkAddressesFree,
  checkLocationDeletable,
  checkLocationExists,
  checkProviderDeletable,
  checkUserExists,
  validateProvider,
} from './settings-rules.js';

/**
 * The administrator's operations: apply the defaults and rules (settings-rules.ts) to the current
 * snapshot, then write through the injected PolicyRepository. Used by the admin API and by the
 * provisioning-file loader, so both obey the same rules. No I/O of its own.
 *
 * Size: ~520 lines, one short method per write of each of the seven entity kinds; the rules
 * themselves are in settings-rules.ts and the inheritance in effective-settings.ts.
 */
export interface SettingsServiceOptions {
  readonly repository: PolicyRepository;
  /** Default systemClock (terms acceptance timestamps). */
  readonly clock?: Clock;
  /** Id generator for entities created without an id; default crypto.randomUUID. */
  readonly newId?: () => string;
  /**
   * Told after every successful write, with the organisation's id (e.g. to rebuild the call
   * classification directory); writers never announce changes themselves. Default none.
   */
  readonly onChanged?: (orgId: string) => void;
}

/** Result of a write that may have turned recording on (auto-provisioning, R-06). */
export interface RecordingWrite<T> {
  readonly entity: T;
  /** True when this write turned recording from off to on. */
  readonly recordingTurnedOn: boolean;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function mergeRecording(current: RecordingSettings, input: RecordingInput | undefined): RecordingSettings {
  if (!input) return current;
  return {
    enabled: input.enabled ?? current.enabled,
    mode: input.mode ?? current.mode,
    recordVoicemail: input.recordVoicemail ?? current.recordVoicemail,
    startStopAnnouncement: { ...current.startStopAnnouncement, ...input.startStopAnnouncement },
    pauseResumeNotification: input.pauseResumeNotification ?? current.pauseResumeNotification,
    repeatTone: { ...current.repeatTone, ...input.repeatTone },
  };
}

function mergeCompliance(current: ComplianceSettings, input: Partial<ComplianceSettings> | null | undefined): ComplianceSettings {
  return { ...current, ...(input ?? {}) };
}

export class SettingsService {
  readonly repository: PolicyRepository;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #onChanged: ((orgId: string) => void) | undefined;

  constructor(options: SettingsServiceOptions) {
    this.repository = options.repository;
    this.#clock = options.clock ?? systemClock;
    this.#newId = options.newId ?? randomUUID;
    this.#onChanged = options.onChanged;
  }

  /** Announces a successful write of `orgId`'s settings (options.onChanged); returns `result`. */
  #changed<T>(orgId: string, result?: T): T {
    this.#onChanged?.(orgId);
    return result as T;
  }

  #id(given: string | undefined): string {
    const id = given ?? this.#newId();
    if (!ID_PATTERN.test(id)) throw new AppError('POLICY_INVALID', `id '${id}' must match ${ID_PATTERN.source}`);
    return id;
  }

  /** The organisation's snapshot; POLICY_NOT_FOUND when it does not exist. */
  async snapshot(orgId: string): Promise<PolicySnapshot> {
    const s = await this.repository.loadSnapshot(orgId);
    if (!s) throw new AppError('POLICY_NOT_FOUND', `organisation ${orgId}`);
    return s;
  }

  async #found<T>(p: Promise<T | undefined>, what: string): Promise<T> {
    const v = await p;
    if (v === undefined) throw new AppError('POLICY_NOT_FOUND', what);
    return v;
  }

  // ---- organisation (R-01, R-07, R-08) ----

  async getOrganisation(orgId: string): Promise<Organisation> {
    return this.#found(this.repository.getOrganisation(orgId), `organisation ${orgId}`);
  }

  async createOrganisation(input: OrganisationInput): Promise<Organisation> {
    const id = this.#id(input.id);
    const created = await this.repository.createOrganisation({
      id,
      name: input.name,
      region: input.region ?? DEFAULT_REGION,
      customerName: input.customerName ?? null,
      defaultLanguage: input.defaultLanguage ?? DEFAULT_LANGUAGE,
      serviceProviderId: input.serviceProviderId ?? id,
      serviceSettings: { providerId: null, compliance: DEFAULT_COMPLIANCE },
      voicemail: { numbers: [], sipIdentities: [] },
    });
    this.#changed(created.id);
    return created;
  }

  async updateOrganisation(orgId: string, input: Updates<OrganisationInput>): Promise<Organisation> {
    const snap = await this.snapshot(orgId);
    const next: Organisation = {
      ...snap.org,
      name: input.name ?? snap.org.name,
      region: input.region ?? snap.org.region,
      customerName: input.customerName === undefined ? snap.org.customerName : input.customerName,
      defaultLanguage: input.defaultLanguage ?? snap.org.defaultLanguage,
      serviceProviderId: input.serviceProviderId ?? snap.org.serviceProviderId,
    };
    if (next.region !== snap.org.region) {
      // the selected providers must stay available in the new region.
      const selected = [snap.org.serviceSettings.providerId, ...snap.locations.map((l) => (l.callHandling.provider.mode === 'provider' ? l.callHandling.provider.providerId : null))];
      for (const p of snap.providers) {
        if (selected.includes(p.id) && p.allowedRegions !== null && !p.allowedRegions.includes(next.region)) {
          throw new AppError('POLICY_REGION_RESTRICTED', `provider ${p.id} is selected and is not available in region ${next.region}`);
        }
      }
    }
    return this.#changed(orgId, await this.repository.updateOrganisation(next));
  }

  async deleteOrganisation(orgId: string): Promise<void> {
    await this.repository.deleteOrganisation(orgId);
    this.#changed(orgId);
  }

  async putServiceSettings(orgId: string, input: ServiceSettingsInput): Promise<OrgServiceSettings> {
    const snap = await this.snapshot(orgId);
    const cur = snap.org.serviceSettings;
    const next = applyOrgServiceSettings(
      snap,
      { providerId: input.providerId === undefined ? cur.providerId : input.providerId, compliance: mergeCompliance(cur.compliance, input.compliance) },
      input.confirmRemoveForAllUsers ?? false,
    );
    await this.repository.updateOrganisation({ ...snap.org, serviceSettings: next });
    return this.#changed(orgId, next);
  }

  async putVoicemail(orgId: string, input: Partial<VoicemailDestination>): Promise<VoicemailDestination> {
    const snap = await this.snapshot(orgId);
    const next: VoicemailDestination = {
      numbers: input.numbers ?? snap.org.voicemail.numbers,
      sipIdentities: input.sipIdentities ?? snap.org.voicemail.sipIdentities,
    };
    checkAddressesFree(snap, { kind: 'voicemail', id: 'voicemail' }, { ...next, extension: null });
    await this.repository.updateOrganisation({ ...snap.org, voicemail: next });
    return this.#changed(orgId, next);
  }

  // ---- providers and terms (R-01, R-05, R-06, R-08, R-40..R-42) ----

  async createProvider(orgId: string, input: ProviderInput): Promise<Provider> {
    await this.getOrganisation(orgId);
    const profile = PROVIDER_PROFILES[input.profile ?? 'custom'];
    const p: Provider = validateProvider({
      id: this.#id(input.id ?? (input.profile && input.profile !== 'custom' ? input.profile : undefined)),
      orgId,
      name: input.name ?? profile.displayName,
      profile: profile.name,
      recordingServers: input.recordingServers,
      transport: input.transport ?? profile.transport,
      srtp: input.srtp ?? profile.srtp,
      dialect: input.dialect ?? profile.dialect,
      autoProvisioning: input.autoProvisioning ?? profile.autoProvisioning,
      provisioningUrl: input.provisioningUrl ?? null,
      allowedRegions: input.allowedRegions === undefined ? profile.allowedRegions : input.allowedRegions,
      plan: input.plan === undefined ? profile.plan : input.plan,
      failurePolicy: input.failurePolicy ?? profile.failurePolicy,
      sharedData: input.sharedData ?? profile.sharedData,
    });
    return this.#changed(orgId, await this.repository.providers.create(p));
  }

  async updateProvider(orgId: string, id: string, input: Updates<ProviderInput>): Promise<Provider> {
    const cur = await this.#found(this.repository.providers.get(orgId, id), `provider ${id}`);
    const next: Provider = validateProvider({
      ...cur,
      ...Object.fromEntries(Object.entries(input).filter(([k, v]) => v !== undefined && k !== 'profile')),
    } as Provider);
    if (next.allowedRegions !== null) {
      const snap = await this.snapshot(orgId);
      const selected = snap.org.serviceSettings.providerId === id || snap.locations.some((l) => l.callHandling.provider.mode === 'provider' && l.callHandling.provider.providerId === id);
      if (selected && !next.allowedRegions.includes(snap.org.region)) {
        throw new AppError('POLICY_REGION_RESTRICTED', `provider ${id} is selected in region ${snap.org.region}`);
      }
    }
    return this.#changed(orgId, await this.repository.providers.update(next));
  }

  async deleteProvider(orgId: string, id: string): Promise<void> {
    checkProviderDeletable(await this.snapshot(orgId), id);
    await this.repository.providers.delete(orgId, id);
    this.#changed(orgId);
  }

  /** accept once; accepting again returns the first acceptance unchanged. */
  async acceptTerms(orgId: string, providerId: string, acceptedBy: string): Promise<TermsAcceptance> {
    const snap = await this.snapshot(orgId);
    const existing = snap.termsAcceptances.find((t) => t.providerId === providerId);
    const a = acceptTerms(snap, providerId, acceptedBy, new Date(this.#clock.now()).toISOString());
    return this.#changed(orgId, existing ?? (await this.repository.putTermsAcceptance(a)));
  }

  async getTerms(orgId: string, providerId: string): Promise<TermsAcceptance | null> {
    const snap = await this.snapshot(orgId);
    if (!snap.providers.some((p) => p.id === providerId)) throw new AppError('POLICY_NOT_FOUND', `provider ${providerId}`);
    return snap.termsAcceptances.find((t) => t.providerId === providerId) ?? null;
  }

  // ---- locations (R-02) ----

  async createLocation(orgId: string, input: LocationInput & { callHandling?: CallHandlingInput }): Promise<Location> {
    const snap = await this.snapshot(orgId);
    const id = this.#id(input.id);
    const loc: Location = {
      id,
      orgId,
      name: input.name,
      timeZone: input.timeZone ?? 'UTC',
      announcementLanguage: input.announcementLanguage ?? null,
      callHandling: DEFAULT_LOCATION_CALL_HANDLING,
    };
    const callHandling = input.callHandling ? this.#callHandling({ ...snap, locations: [...snap.locations, loc] }, loc, input.callHandling) : loc.callHandling;
    return this.#changed(orgId, await this.repository.locations.create({ ...loc, callHandling }));
  }

  async updateLocation(orgId: string, id: string, input: Updates<LocationInput>): Promise<Location> {
    const cur = await this.#found(this.repository.locations.get(orgId, id), `location ${id}`);
    return this.#changed(orgId, await this.repository.locations.update({
      ...cur,
      name: input.name ?? cur.name,
      timeZone: input.timeZone ?? cur.timeZone,
      announcementLanguage: input.announcementLanguage === undefined ? cur.announcementLanguage : input.announcementLanguage,
    }));
  }

  async deleteLocation(orgId: string, id: string): Promise<void> {
    const snap = await this.snapshot(orgId);
    if (!snap.locations.some((l) => l.id === id)) throw new AppError('POLICY_NOT_FOUND', `location ${id}`);
    checkLocationDeletable(snap, id);
    await this.repository.locations.delete(orgId, id);
    this.#changed(orgId);
  }

  #callHandling(snap: PolicySnapshot, loc: Location, input: CallHandlingInput): LocationCallHandling {
    const cur = loc.callHandling;
    const orgCompliance = snap.org.serviceSettings.compliance;
    let provider: LocationCallHandling['provider'] = cur.provider;
    if (input.provider) {
      if (input.provider.mode === 'provider') {
        if (!input.provider.providerId) throw new AppError('POLICY_INVALID', "provider.mode 'provider' needs provider.providerId");
        provider = { mode: 'provider', providerId: input.provider.providerId };
      } else provider = { mode: input.provider.mode };
    }
    let compliance: LocationCallHandling['compliance'] = cur.compliance;
    if (input.compliance) {
      if (input.compliance.mode === 'custom') {
        // Starting from the values the location has now (its own, else the organisation's).
        const base = cur.compliance.mode === 'custom' ? cur.compliance.settings : orgCompliance;
        compliance = { mode: 'custom', settings: mergeCompliance(base, input.compliance.settings) };
      } else compliance = { mode: 'orgDefault' };
    }
    return applyLocationCallHandling(snap, loc.id, { provider, compliance });
  }

  async putCallHandling(orgId: string, locationId: string, input: CallHandlingInput): Promise<LocationCallHandling> {
    const snap = await this.snapshot(orgId);
    const loc = snap.locations.find((l) => l.id === locationId);
    if (!loc) throw new AppError('POLICY_NOT_FOUND', `location ${locationId}`);
    const next = this.#callHandling(snap, loc, input);
    await this.repository.locations.update({ ...loc, callHandling: next });
    return this.#changed(orgId, next);
  }

  // ---- users (R-03, R-33) ----

  #platformInfo(snap: PolicySnapshot, locationId: string, given: Partial<PlatformInfo> | undefined): PlatformInfo {
    return {
      serviceProvider: given?.serviceProvider ?? snap.org.serviceProviderId,
      externalGroup: given?.externalGroup ?? locationId,
      externalIdentifier: given?.externalIdentifier ?? this.#newId(),
      externalType: 'BroadWorks',
    };
  }

  async createUser(orgId: string, input: UserInput): Promise<RecordingWrite<User>> {
    const snap = await this.snapshot(orgId);
    checkLocationExists(snap, input.locationId);
    const id = this.#id(input.id);
    const base: User = {
      id,
      orgId,
      locationId: input.locationId,
      firstName: input.firstName,
      lastName: input.lastName,
      email: input.email ?? null,
      licence: input.licence ?? 'none',
      numbers: input.numbers ?? [],
      extension: input.extension ?? null,
      sipIdentities: input.sipIdentities ?? [],
      timeZone: input.timeZone ?? null,
      announcementLanguage: input.announcementLanguage ?? null,
      recording: DEFAULT_RECORDING,
      platformInfo: this.#platformInfo(snap, input.locationId, input.platformInfo),
    };
    checkAddressesFree(snap, { kind: 'user', id }, base);
    const user = { ...base, recording: applyUserRecording(base, mergeRecording(DEFAULT_RECORDING, input.recording)) };
    return this.#changed(orgId, { entity: await this.repository.users.create(user), recordingTurnedOn: user.recording.enabled });
  }

  async updateUser(orgId: string, id: string, input: Updates<UserInput>): Promise<RecordingWrite<User>> {
    const snap = await this.snapshot(orgId);
    const cur = snap.users.find((u) => u.id === id);
    if (!cur) throw new AppError('POLICY_NOT_FOUND', `user ${id}`);
    if (input.locationId !== undefined) checkLocationExists(snap, input.locationId);
    const next: User = {
      ...cur,
      locationId: input.locationId ?? cur.locationId,
      firstName: input.firstName ?? cur.firstName,
      lastName: input.lastName ?? cur.lastName,
      email: input.email === undefined ? cur.email : input.email,
      licence: input.licence ?? cur.licence,
      numbers: input.numbers ?? cur.numbers,
      extension: input.extension === undefined ? cur.extension : input.extension,
      sipIdentities: input.sipIdentities ?? cur.sipIdentities,
      timeZone: input.timeZone === undefined ? cur.timeZone : input.timeZone,
      announcementLanguage: input.announcementLanguage === undefined ? cur.announcementLanguage : input.announcementLanguage,
    };
    checkAddressesFree(snap, { kind: 'user', id }, next);
    const recording = applyUserRecording(next, mergeRecording(cur.recording, input.recording));
    const saved = await this.repository.users.update({ ...next, recording });
    return this.#changed(orgId, { entity: saved, recordingTurnedOn: recording.enabled && !cur.recording.enabled });
  }

  async deleteUser(orgId: string, id: string): Promise<void> {
    const snap = await this.snapshot(orgId);
    const line = snap.virtualLines.find((v) => v.assignedUserId === id);
    if (line) throw new AppError('POLICY_IN_USE', `user ${id} is assigned virtual line ${line.id}`);
    await this.repository.users.delete(orgId, id);
    this.#changed(orgId);
  }

  /** R-03 user call experience: language and recording settings (off clears them). */
  async putUserCallExperience(orgId: string, id: string, input: CallExperienceInput): Promise<RecordingWrite<User>> {
    return this.updateUser(orgId, id, { announcementLanguage: input.announcementLanguage, recording: input.recording });
  }

  // ---- virtual lines (R-20, R-33) ----

  async createVirtualLine(orgId: string, input: VirtualLineInput): Promise<RecordingWrite<VirtualLine>> {
    const snap = await this.snapshot(orgId);
    checkLocationExists(snap, input.locationId);
    if (input.assignedUserId) checkUserExists(snap, input.assignedUserId);
    const id = this.#id(input.id);
    const base: VirtualLine = {
      id,
      orgId,
      locationId: input.locationId,
      displayName: input.displayName,
      assignedUserId: input.assignedUserId ?? null,
      numbers: input.numbers ?? [],
      extension: input.extension ?? null,
      sipIdentities: input.sipIdentities ?? [],
      announcementLanguage: input.announcementLanguage ?? null,
      recording: DEFAULT_RECORDING,
      platformInfo: this.#platformInfo(snap, input.locationId, input.platformInfo),
    };
    checkAddressesFree(snap, { kind: 'virtual-line', id }, base);
    const line = { ...base, recording: applyVirtualLineRecording(snap, base, mergeRecording(DEFAULT_RECORDING, input.recording)) };
    return this.#changed(orgId, { entity: await this.repository.virtualLines.create(line), recordingTurnedOn: line.recording.enabled });
  }

  async updateVirtualLine(orgId: string, id: string, input: Updates<VirtualLineInput>): Promise<RecordingWrite<VirtualLine>> {
    const snap = await this.snapshot(orgId);
    const cur = snap.virtualLines.find((v) => v.id === id);
    if (!cur) throw new AppError('POLICY_NOT_FOUND', `virtual line ${id}`);
    if (input.locationId !== undefined) checkLocationExists(snap, input.locationId);
    if (input.assignedUserId) checkUserExists(snap, input.assignedUserId);
    const next: VirtualLine = {
      ...cur,
      locationId: input.locationId ?? cur.locationId,
      displayName: input.displayName ?? cur.displayName,
      assignedUserId: input.assignedUserId === undefined ? cur.assignedUserId : input.assignedUserId,
      numbers: input.numbers ?? cur.numbers,
      extension: input.extension === undefined ? cur.extension : input.extension,
      sipIdentities: input.sipIdentities ?? cur.sipIdentities,
      announcementLanguage: input.announcementLanguage === undefined ? cur.announcementLanguage : input.announcementLanguage,
    };
    checkAddressesFree(snap, { kind: 'virtual-line', id }, next);
    const recording = applyVirtualLineRecording(snap, next, mergeRecording(cur.recording, input.recording));
    const saved = await this.repository.virtualLines.update({ ...next, recording });
    return this.#changed(orgId, { entity: saved, recordingTurnedOn: recording.enabled && !cur.recording.enabled });
  }

  async deleteVirtualLine(orgId: string, id: string): Promise<void> {
    await this.repository.virtualLines.delete(orgId, id);
    this.#changed(orgId);
  }

  // ---- features, trunks and voicemail (R-10, R-21) ----

  async createFeature(orgId: string, input: FeatureInput): Promise<Feature> {
    const snap = await this.snapshot(orgId);
    checkLocationExists(snap, input.locationId);
    const id = this.#id(input.id);
    const f: Feature = {
      id,
      orgId,
      kind: input.kind,
      locationId: input.locationId,
      name: input.name,
      numbers: input.numbers ?? [],
      extension: input.extension ?? null,
      sipIdentities: input.sipIdentities ?? [],
      announcementLanguage: input.announcementLanguage ?? null,
    };
    checkAddressesFree(snap, { kind: 'feature', id }, f);
    return this.#changed(orgId, await this.repository.features.create(f));
  }

  async updateFeature(orgId: string, kind: FeatureKind, id: string, input: Updates<FeatureInput>): Promise<Feature> {
    const snap = await this.snapshot(orgId);
    const cur = snap.features.find((f) => f.id === id && f.kind === kind);
    if (!cur) throw new AppError('POLICY_NOT_FOUND', `${kind} ${id}`);
    if (input.locationId !== undefined) checkLocationExists(snap, input.locationId);
    const next: Feature = {
      ...cur,
      locationId: input.locationId ?? cur.locationId,
      name: input.name ?? cur.name,
      numbers: input.numbers ?? cur.numbers,
      extension: input.extension === undefined ? cur.extension : input.extension,
      sipIdentities: input.sipIdentities ?? cur.sipIdentities,
      announcementLanguage: input.announcementLanguage === undefined ? cur.announcementLanguage : input.announcementLanguage,
    };
    checkAddressesFree(snap, { kind: 'feature', id }, next);
    return this.#changed(orgId, await this.repository.features.update(next));
  }

  async deleteFeature(orgId: string, kind: FeatureKind, id: string): Promise<void> {
    const cur = await this.repository.features.get(orgId, id);
    if (!cur || cur.kind !== kind) throw new AppError('POLICY_NOT_FOUND', `${kind} ${id}`);
    await this.repository.features.delete(orgId, id);
    this.#changed(orgId);
  }

  async createTrunk(orgId: string, input: TrunkInput): Promise<Trunk> {
    await this.getOrganisation(orgId);
    return this.#changed(orgId, await this.repository.trunks.create({ id: this.#id(input.id), orgId, name: input.name, sourceAddresses: input.sourceAddresses }));
  }

  async updateTrunk(orgId: string, id: string, input: Updates<TrunkInput>): Promise<Trunk> {
    const cur = await this.#found(this.repository.trunks.get(orgId, id), `trunk ${id}`);
    return this.#changed(orgId, await this.repository.trunks.update({ ...cur, name: input.name ?? cur.name, sourceAddresses: input.sourceAddresses ?? cur.sourceAddresses }));
  }

  async deleteTrunk(orgId: string, id: string): Promise<void> {
    await this.repository.trunks.delete(orgId, id);
    this.#changed(orgId);
  }

  /** The effective provider of a location, for callers that need it without a decision. */
  async locationProvider(orgId: string, locationId: string): Promise<Provider | null> {
    const snap = await this.snapshot(orgId);
    const eff = resolveLocationSettings(snap, locationId);
    return eff.provider ? (snap.providers.find((p) => p.id === eff.provider?.id) ?? null) : null;
  }
}
