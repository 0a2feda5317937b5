import { AppError } from '../common/errors.js';
import { normaliseNumber, normaliseSipIdentity } from './address-normalise.js';
import { resolveLocationSettings } from './effective-settings.js';
import { DEFAULT_RECORDING, DELAY_SECONDS_RANGE, REPEAT_TONE_RANGE } from './policy-defaults.js';
import type {
  Addressing,
  ComplianceSettings,
  LicenceType,
  LocationCallHandling,
  OrgServiceSettings,
  PolicySnapshot,
  Provider,
  RecordingSettings,
  TermsAcceptance,
} from './policy-types.js';

/**
 * The administrator's rules (R-01..R-07, R-20), pure: each function takes the organisation's current
 * snapshot and the proposed value, and returns the value to store or throws an AppError with a code.
 * The admin API calls these before it writes; the provisioning-file loader calls them too.
 */

/** delaySeconds 1..60 (integer). */
export function validateCompliance(c: ComplianceSettings): ComplianceSettings {
  const { min, max } = DELAY_SECONDS_RANGE;
  if (!Number.isInteger(c.delaySeconds) || c.delaySeconds < min || c.delaySeconds > max) {
    throw new AppError('POLICY_DELAY_OUT_OF_RANGE', `delaySeconds must be ${min}..${max}, got ${c.delaySeconds}`);
  }
  return c;
}

/** repeat tone interval 10..90 (integer). */
export function validateRecordingRanges(r: RecordingSettings): RecordingSettings {
  const { min, max } = REPEAT_TONE_RANGE;
  const s = r.repeatTone.intervalSeconds;
  if (!Number.isInteger(s) || s < min || s > max) {
    throw new AppError('POLICY_TONE_INTERVAL_OUT_OF_RANGE', `repeatTone.intervalSeconds must be ${min}..${max}, got ${s}`);
  }
  return r;
}

function provider(snapshot: PolicySnapshot, providerId: string): Provider {
  const p = snapshot.providers.find((x) => x.id === providerId);
  if (!p) throw new AppError('POLICY_REFERENCE_INVALID', `provider ${providerId} does not exist in organisation ${snapshot.org.id}`);
  return p;
}

/** R-05 + R-06: a provider may be selected only after its terms are accepted, and only in its regions. */
export function checkProviderSelectable(snapshot: PolicySnapshot, providerId: string): Provider {
  const p = provider(snapshot, providerId);
  if (p.allowedRegions !== null && !p.allowedRegions.includes(snapshot.org.region)) {
    throw new AppError(
      'POLICY_REGION_RESTRICTED',
      `provider ${p.id} (${p.profile}) is available in ${p.allowedRegions.join(', ')} only; organisation region is ${snapshot.org.region}`,
    );
  }
  if (!snapshot.termsAcceptances.some((t) => t.providerId === providerId)) {
    throw new AppError('POLICY_TERMS_NOT_ACCEPTED', `accept the terms of provider ${p.id} before selecting it`);
  }
  return p;
}

/**
 * new organisation service settings. Turning recording off for the whole
 * organisation (provider none while one is set) needs `confirmRemoveForAllUsers`.
 */
export function applyOrgServiceSettings(
  snapshot: PolicySnapshot,
  next: OrgServiceSettings,
  confirmRemoveForAllUsers = false,
): OrgServiceSettings {
  validateCompliance(next.compliance);
  if (next.providerId === null) {
    if (snapshot.org.serviceSettings.providerId !== null && !confirmRemoveForAllUsers) {
      throw new AppError('POLICY_CONFIRMATION_REQUIRED', 'provider none removes the feature for all users; set confirmRemoveForAllUsers: true');
    }
  } else if (next.providerId !== snapshot.org.serviceSettings.providerId) {
    checkProviderSelectable(snapshot, next.providerId);
  }
  return next;
}

/** location call handling; a location-specific provider obeys like the organisation's. */
export function applyLocationCallHandling(snapshot: PolicySnapshot, locationId: string, next: LocationCallHandling): LocationCallHandling {
  const current = snapshot.locations.find((l) => l.id === locationId);
  if (next.provider.mode === 'provider') {
    const same = current?.callHandling.provider.mode === 'provider' && current.callHandling.provider.providerId === next.provider.providerId;
    if (!same) checkProviderSelectable(snapshot, next.provider.providerId);
  }
  if (next.compliance.mode === 'custom') validateCompliance(next.compliance.settings);
  return next;
}

/** recording needs a Professional or Basic licence. */
export function hasRecordingLicence(licence: LicenceType): boolean {
  return licence === 'professional' || licence === 'basic';
}

/**
 * a user's new recording settings. Off clears everything back to the defaults; on needs a
 * licence and values in range.
 */
export function applyUserRecording(user: { readonly id: string; readonly licence: LicenceType }, next: RecordingSettings): RecordingSettings {
  if (!next.enabled) return DEFAULT_RECORDING;
  if (!hasRecordingLicence(user.licence)) {
    throw new AppError('POLICY_LICENCE_REQUIRED', `user ${user.id} has licence '${user.licence}'; recording needs a Professional or Basic calling licence`);
  }
  return validateRecordingRanges(next);
}

/**
 * a virtual line's new recording settings. Off clears them (as R-03); on needs a provider at the
 * line's location or organisation.
 */
export function applyVirtualLineRecording(
  snapshot: PolicySnapshot,
  line: { readonly id: string; readonly locationId: string },
  next: RecordingSettings,
): RecordingSettings {
  if (!next.enabled) return DEFAULT_RECORDING;
  validateRecordingRanges(next);
  if (resolveLocationSettings(snapshot, line.locationId).provider === null) {
    throw new AppError('POLICY_PROVIDER_REQUIRED', `virtual line ${line.id}: choose a provider for its location or organisation first`);
  }
  return next;
}

/** A referenced location must exist in the organisation. */
export function checkLocationExists(snapshot: PolicySnapshot, locationId: string): void {
  if (!snapshot.locations.some((l) => l.id === locationId)) {
    throw new AppError('POLICY_REFERENCE_INVALID', `location ${locationId} does not exist in organisation ${snapshot.org.id}`);
  }
}

export function checkUserExists(snapshot: PolicySnapshot, userId: string): void {
  if (!snapshot.users.some((u) => u.id === userId)) {
    throw new AppError('POLICY_REFERENCE_INVALID', `user ${userId} does not exist in organisation ${snapshot.org.id}`);
  }
}

/**
 * Numbers, extensions and SIP identities reach exactly one party of the organisation (so call
 * classification, R-10, is unambiguous). `owner` is the entity being written (excluded from the check).
 */
export function checkAddressesFree(snapshot: PolicySnapshot, owner: { kind: string; id: string }, a: Addressing): void {
  const taken = new Map<string, string>();
  const add = (key: string, who: string): void => {
    if (key !== '') taken.set(key, who);
  };
  const others: { who: string; kind: string; id: string; a: Addressing }[] = [
    ...snapshot.users.map((u) => ({ who: `user ${u.id}`, kind: 'user', id: u.id, a: u })),
    ...snapshot.virtualLines.map((v) => ({ who: `virtual line ${v.id}`, kind: 'virtual-line', id: v.id, a: v })),
    ...snapshot.features.map((f) => ({ who: `${f.kind} ${f.id}`, kind: 'feature', id: f.id, a: f })),
    { who: 'voicemail', kind: 'voicemail', id: 'voicemail', a: { ...snapshot.org.voicemail, extension: null } },
  ];
  for (const o of others) {
    if (o.kind === owner.kind && o.id === owner.id) continue;
    for (const n of o.a.numbers) add(`n:${normaliseNumber(n)}`, o.who);
    if (o.a.extension) add(`e:${normaliseNumber(o.a.extension)}`, o.who);
    for (const i of o.a.sipIdentities) add(`i:${normaliseSipIdentity(i)}`, o.who);
  }
  const mine = [
    ...a.numbers.map((n) => [`n:${normaliseNumber(n)}`, n] as const),
    ...(a.extension ? [[`e:${normaliseNumber(a.extension)}`, a.extension] as const] : []),
    ...a.sipIdentities.map((i) => [`i:${normaliseSipIdentity(i)}`, i] as const),
  ];
  for (const [key, raw] of mine) {
    if (key.length <= 2) throw new AppError('POLICY_INVALID', `not a usable number or SIP identity: '${raw}'`);
    const who = taken.get(key);
    if (who) throw new AppError('POLICY_ADDRESS_IN_USE', `'${raw}' already belongs to ${who}`);
  }
}

/** A provider needs at least one sip:/sips: recording server. */
export function validateProvider(p: Provider): Provider {
  if (p.recordingServers.length === 0) throw new AppError('POLICY_INVALID', `provider ${p.id}: at least one recording server is required`);
  for (const s of p.recordingServers) {
    if (!/^sips?:[^\s@]+(@[^\s]+)?$/i.test(s.uri)) throw new AppError('POLICY_INVALID', `provider ${p.id}: not a SIP URI: '${s.uri}'`);
  }
  return p;
}

/** A provider selected by the organisation or a location cannot be deleted. */
export function checkProviderDeletable(snapshot: PolicySnapshot, providerId: string): void {
  if (snapshot.org.serviceSettings.providerId === providerId) {
    throw new AppError('POLICY_IN_USE', `provider ${providerId} is the organisation's provider`);
  }
  const loc = snapshot.locations.find((l) => l.callHandling.provider.mode === 'provider' && l.callHandling.provider.providerId === providerId);
  if (loc) throw new AppError('POLICY_IN_USE', `provider ${providerId} is selected by location ${loc.id}`);
}

/** A location that still has users, virtual lines or features cannot be deleted. */
export function checkLocationDeletable(snapshot: PolicySnapshot, locationId: string): void {
  const n =
    snapshot.users.filter((u) => u.locationId === locationId).length +
    snapshot.virtualLines.filter((v) => v.locationId === locationId).length +
    snapshot.features.filter((f) => f.locationId === locationId).length;
  if (n > 0) throw new AppError('POLICY_IN_USE', `location ${locationId} still has ${n} users, virtual lines or features`);
}

/** accept a provider's terms once; accepting again returns the first acceptance. */
export function acceptTerms(snapshot: PolicySnapshot, providerId: string, acceptedBy: string, nowIso: string): TermsAcceptance {
  const p = provider(snapshot, providerId);
  const existing = snapshot.termsAcceptances.find((t) => t.providerId === providerId);
  if (existing) return existing;
  if (acceptedBy.trim() === '') throw new AppError('POLICY_INVALID', 'acceptedBy is required');
  return { orgId: snapshot.org.id, providerId, acceptedBy, acceptedAt: nowIso, sharedData: p.sharedData };
}
