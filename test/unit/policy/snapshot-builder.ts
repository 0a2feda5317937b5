import { DEFAULT_COMPLIANCE, DEFAULT_RECORDING } from '../../../src/policy/policy-defaults.js';
import type {
  ComplianceSettings,
  Feature,
  Location,
  LocationCallHandling,
  PolicySnapshot,
  Provider,
  RecordingSettings,
  User,
  VirtualLine,
} from '../../../src/policy/policy-types.js';

/**
 * A small organisation for the pure policy tests:
 *   org 'acme' (region US, en-US), providers 'srs' (custom, terms accepted) and 'alt' (custom, terms
 *   accepted), location 'hq' (fr-FR) and 'branch' (no language), users alice + bob at hq, carol at
 *   branch, virtual line 'lobby' at hq, auto attendant / call queue / hunt group at hq, trunk.
 */
export interface SnapshotOptions {
  orgProvider?: string | null;
  orgCompliance?: Partial<ComplianceSettings>;
  hq?: Partial<LocationCallHandling>;
  branch?: Partial<LocationCallHandling>;
  alice?: Partial<RecordingSettings>;
  bob?: Partial<RecordingSettings>;
  carol?: Partial<RecordingSettings>;
  lobby?: Partial<RecordingSettings>;
  aliceLanguage?: string | null;
  hqLanguage?: string | null;
}

export function rec(r: Partial<RecordingSettings>): RecordingSettings {
  return { ...DEFAULT_RECORDING, ...r };
}

const provider = (id: string, uri: string): Provider => ({
  id,
  orgId: 'acme',
  name: id,
  profile: 'custom',
  recordingServers: [{ uri }, { uri: `${uri}-backup`, transport: 'tcp' }],
  transport: 'udp',
  srtp: false,
  dialect: 'rfc7865',
  autoProvisioning: false,
  provisioningUrl: null,
  allowedRegions: null,
  plan: null,
  failurePolicy: 'proceedWithAnnouncement',
  sharedData: ['firstName'],
});

const platform = (id: string) => ({ serviceProvider: 'acme-sp', externalGroup: 'hq-group', externalIdentifier: `ext-${id}`, externalType: 'BroadWorks' as const });

function user(id: string, locationId: string, recording: RecordingSettings, n: string, language: string | null = null): User {
  return {
    id,
    orgId: 'acme',
    locationId,
    firstName: id[0]!.toUpperCase() + id.slice(1),
    lastName: 'Example',
    email: `${id}@acme.example`,
    licence: 'professional',
    numbers: [`+1555000${n}`],
    extension: n,
    sipIdentities: [`${id}@acme.example`],
    timeZone: null,
    announcementLanguage: language,
    recording,
    platformInfo: platform(id),
  };
}

function feature(kind: Feature['kind'], id: string, n: string, language: string | null): Feature {
  return { id, orgId: 'acme', kind, locationId: 'hq', name: id, numbers: [`+1555000${n}`], extension: n, sipIdentities: [], announcementLanguage: language };
}

export function makeSnapshot(o: SnapshotOptions = {}): PolicySnapshot {
  const loc = (id: string, language: string | null, ch: Partial<LocationCallHandling> | undefined): Location => ({
    id,
    orgId: 'acme',
    name: id,
    timeZone: 'UTC',
    announcementLanguage: language,
    callHandling: { provider: { mode: 'orgDefault' }, compliance: { mode: 'orgDefault' }, ...ch },
  });
  const lobby: VirtualLine = {
    id: 'lobby',
    orgId: 'acme',
    locationId: 'hq',
    displayName: 'Lobby line',
    assignedUserId: 'alice',
    numbers: ['+15550009000'],
    extension: '9000',
    sipIdentities: ['lobby@acme.example'],
    announcementLanguage: 'de-DE',
    recording: rec(o.lobby ?? {}),
    platformInfo: platform('lobby'),
  };
  return {
    org: {
      id: 'acme',
      name: 'Acme',
      region: 'US',
      customerName: 'Acme Inc',
      defaultLanguage: 'en-US',
      serviceProviderId: 'acme-sp',
      serviceSettings: { providerId: o.orgProvider === undefined ? 'srs' : o.orgProvider, compliance: { ...DEFAULT_COMPLIANCE, ...o.orgCompliance } },
      voicemail: { numbers: ['+15550008000'], sipIdentities: ['vm@acme.example'] },
    },
    providers: [provider('srs', 'sip:srs@127.0.0.1:5090'), provider('alt', 'sip:alt@127.0.0.1:5092')],
    termsAcceptances: [
      { orgId: 'acme', providerId: 'srs', acceptedBy: 'admin@acme.example', acceptedAt: '2025-01-01T00:00:00.000Z', sharedData: ['firstName'] },
      { orgId: 'acme', providerId: 'alt', acceptedBy: 'admin@acme.example', acceptedAt: '2025-01-01T00:00:00.000Z', sharedData: ['firstName'] },
    ],
    locations: [loc('hq', o.hqLanguage === undefined ? 'fr-FR' : o.hqLanguage, o.hq), loc('branch', null, o.branch)],
    users: [
      user('alice', 'hq', rec(o.alice ?? {}), '2001', o.aliceLanguage === undefined ? 'es-ES' : o.aliceLanguage),
      user('bob', 'hq', rec(o.bob ?? {}), '2002'),
      user('carol', 'branch', rec(o.carol ?? {}), '2003'),
    ],
    virtualLines: [lobby],
    features: [feature('auto-attendant', 'aa', '3001', 'it-IT'), feature('call-queue', 'cq', '3002', 'nl-NL'), feature('hunt-group', 'hg', '3003', null)],
    trunks: [{ id: 'carrier', orgId: 'acme', name: 'Carrier', sourceAddresses: ['192.0.2.10', '[2001:db8::10]:5060'] }],
  };
}
