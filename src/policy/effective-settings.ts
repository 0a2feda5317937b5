import { AppError } from '../common/errors.js';
import { retentionDays } from './policy-defaults.js';
import type {
  ComplianceSettings,
  FailurePolicy,
  Location,
  PlatformInfo,
  PolicySnapshot,
  Provider,
  ProviderPlan,
  ProviderProfileName,
  RecordingSettings,
  SipTransport,
  SiprecDialect,
  User,
  VirtualLine,
} from './policy-types.js';

/**
 * Pure resolution organisation -> location -> user / virtual line.
 *
 *   provider   = location override ('provider' -> that one, 'none' -> none) else the organisation's
 *   compliance = location 'custom' values else the organisation's
 *   language   = user / virtual line language else location language else organisation default
 */

/** A provider as the call layer needs it: servers in failover order with their transport resolved. */
export interface ResolvedProvider {
  readonly id: string;
  readonly name: string;
  readonly profile: ProviderProfileName;
  /** R-40 failover order; each server's transport is its own or the provider's. */
  readonly recordingServers: readonly { readonly uri: string; readonly transport: SipTransport }[];
  readonly transport: SipTransport;
  readonly srtp: boolean;
  readonly dialect: SiprecDialect;
  readonly failurePolicy: FailurePolicy;
  readonly plan: ProviderPlan | null;
  /** provider-side retention; null = without limit / unknown. */
  readonly retentionDays: number | null;
  readonly autoProvisioning: boolean;
}

export type SettingSource = 'organisation' | 'location';

export interface EffectiveLocationSettings {
  readonly orgId: string;
  readonly locationId: string;
  /** Null when the effective provider is `none`. */
  readonly provider: ResolvedProvider | null;
  readonly providerSource: SettingSource;
  readonly compliance: ComplianceSettings;
  readonly complianceSource: SettingSource;
  /** Location language else organisation default. */
  readonly language: string;
}

export type RecordableKind = 'user' | 'virtual-line';

export interface EffectiveSettings extends EffectiveLocationSettings {
  readonly subject: { readonly kind: RecordableKind; readonly id: string };
  readonly recording: RecordingSettings;
  /** Subject language else location language else organisation default. */
  readonly language: string;
  readonly platformInfo: PlatformInfo;
}

export function resolveProvider(provider: Provider): ResolvedProvider {
  return {
    id: provider.id,
    name: provider.name,
    profile: provider.profile,
    recordingServers: provider.recordingServers.map((s) => ({ uri: s.uri, transport: s.transport ?? provider.transport })),
    transport: provider.transport,
    srtp: provider.srtp,
    dialect: provider.dialect,
    failurePolicy: provider.failurePolicy,
    plan: provider.plan,
    retentionDays: retentionDays(provider.plan),
    autoProvisioning: provider.autoProvisioning,
  };
}

function findProvider(snapshot: PolicySnapshot, id: string | null): ResolvedProvider | null {
  if (id === null) return null;
  const p = snapshot.providers.find((x) => x.id === id);
  return p ? resolveProvider(p) : null;
}

export function findLocation(snapshot: PolicySnapshot, locationId: string): Location {
  const loc = snapshot.locations.find((l) => l.id === locationId);
  if (!loc) throw new AppError('POLICY_NOT_FOUND', `location ${locationId}`);
  return loc;
}

/** the location's effective provider, compliance settings and language. */
export function resolveLocationSettings(snapshot: PolicySnapshot, locationId: string): EffectiveLocationSettings {
  const loc = findLocation(snapshot, locationId);
  const org = snapshot.org;
  const ph = loc.callHandling.provider;
  const provider =
    ph.mode === 'orgDefault' ? findProvider(snapshot, org.serviceSettings.providerId) : ph.mode === 'none' ? null : findProvider(snapshot, ph.providerId);
  const ch = loc.callHandling.compliance;
  return {
    orgId: org.id,
    locationId: loc.id,
    provider,
    providerSource: ph.mode === 'orgDefault' ? 'organisation' : 'location',
    compliance: ch.mode === 'custom' ? ch.settings : org.serviceSettings.compliance,
    complianceSource: ch.mode === 'custom' ? 'location' : 'organisation',
    language: loc.announcementLanguage ?? org.defaultLanguage,
  };
}

export function findRecordable(snapshot: PolicySnapshot, kind: RecordableKind, id: string): User | VirtualLine {
  const found = kind === 'user' ? snapshot.users.find((u) => u.id === id) : snapshot.virtualLines.find((v) => v.id === id);
  if (!found) throw new AppError('POLICY_NOT_FOUND', `${kind} ${id}`);
  return found;
}

/** the effective settings of a user or virtual line at its location. */
export function resolveEffectiveSettings(snapshot: PolicySnapshot, kind: RecordableKind, id: string): EffectiveSettings {
  const subject = findRecordable(snapshot, kind, id);
  const loc = resolveLocationSettings(snapshot, subject.locationId);
  return {
    ...loc,
    subject: { kind, id },
    recording: subject.recording,
    language: subject.announcementLanguage ?? loc.language,
    platformInfo: subject.platformInfo,
  };
}
