import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { AppError, isAppError } from '../../common/errors.js';
import { parseErrorLine } from '../../common/parse-error-line.js';
import { findUnknownKeys, type KeyMap, type KeyShape } from '../../common/unknown-keys.js';
import type { FeatureKind, VoicemailDestination } from '../policy-types.js';
import type {
  CallHandlingInput,
  FeatureInput,
  LocationInput,
  OrganisationInput,
  ProviderInput,
  ServiceSettingsInput,
  TrunkInput,
  UserInput,
  VirtualLineInput,
} from '../settings-input-types.js';
import type { SettingsService } from '../settings-service.js';

/**
 * Bootstrap from a provisioning file (GitOps style), YAML or JSON, applied idempotently:
 * an entity that exists is updated with the fields the file gives, one that does not is created,
 * nothing is deleted. Every write goes through SettingsService, so the file obeys the same rules as
 * the admin API (terms before provider, licences, ranges...). Shape: docs/admin-api.md, example in
 * test/fixtures/provisioning/. A key the shape does not know refuses the file, naming its path and
 * the nearest known key. At start the file is applied only when its content changed since it was
 * last applied (provisioning-file-state.ts), so that changes made through the admin API survive a
 * restart with the same file (docs/policy.md "Provisioning file and the admin API").
 */
export interface ProvisioningFile {
  readonly organisations: readonly ProvisioningOrganisation[];
  /** SHA-256 (hex) of the file's text: what "changed since it was last applied" compares. */
  readonly sha256: string;
}

export interface ProvisioningOrganisation extends OrganisationInput {
  readonly id: string;
  readonly providers?: readonly (ProviderInput & { readonly id: string; readonly terms?: { readonly acceptedBy: string } })[];
  readonly serviceSettings?: ServiceSettingsInput;
  readonly locations?: readonly (LocationInput & { readonly id: string; readonly callHandling?: CallHandlingInput })[];
  readonly users?: readonly (UserInput & { readonly id: string })[];
  readonly virtualLines?: readonly (VirtualLineInput & { readonly id: string })[];
  readonly autoAttendants?: readonly (Omit<FeatureInput, 'kind'> & { readonly id: string })[];
  readonly callQueues?: readonly (Omit<FeatureInput, 'kind'> & { readonly id: string })[];
  readonly huntGroups?: readonly (Omit<FeatureInput, 'kind'> & { readonly id: string })[];
  readonly trunks?: readonly (TrunkInput & { readonly id: string })[];
  readonly voicemail?: Partial<VoicemailDestination>;
}

export interface ProvisioningResult {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
}

function withoutId<T extends { readonly id?: string }>(o: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = o;
  return rest;
}

function fail(where: string, detail: string, cause?: unknown): AppError {
  return new AppError('POLICY_PROVISIONING_FILE_INVALID', `${where}: ${detail}`, { cause });
}

function list<T>(value: unknown, where: string): readonly T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fail(where, 'must be a list');
  value.forEach((v, i) => {
    if (typeof v !== 'object' || v === null || typeof (v as { id?: unknown }).id !== 'string') throw fail(`${where}[${i}]`, 'needs an id');
  });
  return value as T[];
}

const value = 'value';
const compliance: KeyMap = { inboundPstn: value, outboundPstn: value, outboundDelay: value, delaySeconds: value };
const recording: KeyMap = {
  enabled: value,
  mode: value,
  recordVoicemail: value,
  startStopAnnouncement: { pstn: value, internal: value },
  pauseResumeNotification: value,
  repeatTone: { enabled: value, intervalSeconds: value },
};
const addressing: KeyMap = { numbers: value, extension: value, sipIdentities: value };
const platformInfo: KeyMap = { serviceProvider: value, externalGroup: value, externalIdentifier: value, externalType: value };
const feature: KeyShape = [{ id: value, locationId: value, name: value, ...addressing, announcementLanguage: value }];

/**
 * Every key a provisioning file may hold: the admin API's request bodies (src/admin/admin-schemas.ts;
 * a unit test checks the two agree) nested under their organisation, plus the file's own keys
 * (`providers[].terms`, `locations[].callHandling`, `platformInfo`).
 */
export const PROVISIONING_FILE_KEYS: KeyMap = {
  organisations: [
    {
      id: value,
      name: value,
      region: value,
      customerName: value,
      defaultLanguage: value,
      serviceProviderId: value,
      providers: [
        {
          id: value,
          name: value,
          profile: value,
          recordingServers: [{ uri: value, transport: value }],
          transport: value,
          srtp: value,
          dialect: value,
          autoProvisioning: value,
          provisioningUrl: value,
          allowedRegions: value,
          plan: value,
          failurePolicy: value,
          sharedData: value,
          terms: { acceptedBy: value },
        },
      ],
      serviceSettings: { providerId: value, compliance, confirmRemoveForAllUsers: value },
      locations: [
        {
          id: value,
          name: value,
          timeZone: value,
          announcementLanguage: value,
          callHandling: { provider: { mode: value, providerId: value }, compliance: { mode: value, settings: compliance } },
        },
      ],
      users: [{ id: value, locationId: value, firstName: value, lastName: value, email: value, licence: value, ...addressing, timeZone: value, announcementLanguage: value, recording, platformInfo }],
      virtualLines: [{ id: value, locationId: value, displayName: value, assignedUserId: value, ...addressing, announcementLanguage: value, recording, platformInfo }],
      autoAttendants: feature,
      callQueues: feature,
      huntGroups: feature,
      trunks: [{ id: value, name: value, sourceAddresses: value }],
      voicemail: { numbers: value, sipIdentities: value },
    },
  ],
};

/** Parse the text of a provisioning file (YAML 1.2, so JSON too); unknown keys and syntax errors are one-line POLICY_PROVISIONING_FILE_INVALID errors. */
export function parseProvisioningFile(text: string, source = 'provisioning file'): ProvisioningFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw fail(source, parseErrorLine(err, text), err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fail(source, 'must be a mapping with `organisations`');
  const unknown = findUnknownKeys(doc, PROVISIONING_FILE_KEYS);
  if (unknown.length > 0) throw fail(source, unknown.join('; '));
  const orgs = list<ProvisioningOrganisation>((doc as { organisations?: unknown }).organisations, `${source}: organisations`);
  return { organisations: orgs, sha256: createHash('sha256').update(text).digest('hex') };
}

export async function readProvisioningFile(path: string): Promise<ProvisioningFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fail(path, (err as Error).message, err);
  }
  return parseProvisioningFile(text, path);
}

/** Apply a provisioning document through the service. Idempotent. Rejects POLICY_PROVISIONING_FILE_INVALID naming the entry. */
export async function applyProvisioning(service: SettingsService, file: ProvisioningFile): Promise<ProvisioningResult> {
  const repo = service.repository;
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const step = async <T>(where: string, before: () => Promise<T | undefined>, create: () => Promise<unknown>, update: () => Promise<unknown>): Promise<void> => {
    try {
      const prev = await before();
      if (prev === undefined) {
        await create();
        created += 1;
        return;
      }
      await update();
      const after = await before();
      if (JSON.stringify(after) === JSON.stringify(prev)) unchanged += 1;
      else updated += 1;
    } catch (err) {
      if (isAppError(err) && err.code === 'POLICY_PROVISIONING_FILE_INVALID') throw err;
      throw fail(where, isAppError(err) ? `${err.code}: ${err.message}` : (err as Error).message, err);
    }
  };

  for (const [oi, o] of file.organisations.entries()) {
    const at = `organisations[${oi}] (${o.id})`;
    const { providers, serviceSettings, locations, users, virtualLines, autoAttendants, callQueues, huntGroups, trunks, voicemail, ...orgInput } = o;
    await step(at, () => repo.getOrganisation(o.id), () => service.createOrganisation(orgInput), () => service.updateOrganisation(o.id, withoutId(orgInput)));

    for (const [i, p] of list<NonNullable<typeof providers>[number]>(providers, `${at}.providers`).entries()) {
      const where = `${at}.providers[${i}] (${p.id})`;
      const { terms, ...input } = p;
      await step(where, () => repo.providers.get(o.id, p.id), () => service.createProvider(o.id, input), () => service.updateProvider(o.id, p.id, withoutId(input)));
      if (terms) {
        await step(`${where}.terms`, async () => (await repo.listTermsAcceptances(o.id)).find((t) => t.providerId === p.id), () => service.acceptTerms(o.id, p.id, terms.acceptedBy), async () => undefined);
      }
    }
    const locs = list<NonNullable<typeof locations>[number]>(locations, `${at}.locations`);
    for (const [i, l] of locs.entries()) {
      const { callHandling: _ch, ...input } = l;
      await step(`${at}.locations[${i}] (${l.id})`, () => repo.locations.get(o.id, l.id), () => service.createLocation(o.id, input), () => service.updateLocation(o.id, l.id, withoutId(input)));
    }
    if (serviceSettings) {
      await step(`${at}.serviceSettings`, () => repo.getOrganisation(o.id), async () => undefined, () => service.putServiceSettings(o.id, serviceSettings));
    }
    for (const [i, l] of locs.entries()) {
      const ch = l.callHandling;
      if (ch) await step(`${at}.locations[${i}].callHandling`, () => repo.locations.get(o.id, l.id), async () => undefined, () => service.putCallHandling(o.id, l.id, ch));
    }
    for (const [i, u] of list<NonNullable<typeof users>[number]>(users, `${at}.users`).entries()) {
      const { platformInfo: _pi, ...upd } = u;
      await step(`${at}.users[${i}] (${u.id})`, () => repo.users.get(o.id, u.id), () => service.createUser(o.id, u), () => service.updateUser(o.id, u.id, withoutId(upd)));
    }
    for (const [i, v] of list<NonNullable<typeof virtualLines>[number]>(virtualLines, `${at}.virtualLines`).entries()) {
      const { platformInfo: _pi, ...upd } = v;
      await step(`${at}.virtualLines[${i}] (${v.id})`, () => repo.virtualLines.get(o.id, v.id), () => service.createVirtualLine(o.id, v), () => service.updateVirtualLine(o.id, v.id, withoutId(upd)));
    }
    const features: [string, FeatureKind, unknown][] = [
      ['autoAttendants', 'auto-attendant', autoAttendants],
      ['callQueues', 'call-queue', callQueues],
      ['huntGroups', 'hunt-group', huntGroups],
    ];
    for (const [key, kind, entries] of features) {
      for (const [i, f] of list<Omit<FeatureInput, 'kind'> & { id: string }>(entries, `${at}.${key}`).entries()) {
        await step(`${at}.${key}[${i}] (${f.id})`, () => repo.features.get(o.id, f.id), () => service.createFeature(o.id, { ...f, kind }), () => service.updateFeature(o.id, kind, f.id, withoutId(f)));
      }
    }
    for (const [i, t] of list<NonNullable<typeof trunks>[number]>(trunks, `${at}.trunks`).entries()) {
      await step(`${at}.trunks[${i}] (${t.id})`, () => repo.trunks.get(o.id, t.id), () => service.createTrunk(o.id, t), () => service.updateTrunk(o.id, t.id, withoutId(t)));
    }
    if (voicemail) await step(`${at}.voicemail`, () => repo.getOrganisation(o.id), async () => undefined, () => service.putVoicemail(o.id, voicemail));
  }
  return { created, updated, unchanged };
}
