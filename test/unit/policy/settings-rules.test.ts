import { describe, expect, it } from 'vitest';
import { DEFAULT_RECORDING } from '../../../src/policy/policy-defaults.js';
import type { RecordingSettings } from '../../../src/policy/policy-types.js';
import {
  acceptTerms,
  applyLocationCallHandling,
  applyOrgServiceSettings,
  applyUserRecording,
  applyVirtualLineRecording,
  checkAddressesFree,
  checkLocationDeletable,
  checkProviderDeletable,
  validateCompliance,
  validateProvider,
} from '../../../src/policy/settings-rules.js';
import { makeSnapshot, rec } from './snapshot-builder.js';

const code = (c: string) => expect.objectContaining({ code: c });
const compliance = (delaySeconds: number) => ({ inboundPstn: false, outboundPstn: true, outboundDelay: true, delaySeconds });

describe('ranges (R-01, R-03, R-19)', () => {
  it.each([1, 30, 60])('R-01 accepts delaySeconds %i', (s) => expect(validateCompliance(compliance(s)).delaySeconds).toBe(s));
  it.each([0, 61, 120, 2.5, -1])('R-01 rejects delaySeconds %s with POLICY_DELAY_OUT_OF_RANGE', (s) => {
    expect(() => validateCompliance(compliance(s))).toThrow(code('POLICY_DELAY_OUT_OF_RANGE'));
  });
  const toneUser = (intervalSeconds: number): RecordingSettings => rec({ enabled: true, mode: 'always', repeatTone: { enabled: true, intervalSeconds } });
  it.each([10, 20, 90])('R-19 accepts repeat tone interval %i', (s) => {
    expect(applyUserRecording({ id: 'u', licence: 'basic' }, toneUser(s)).repeatTone.intervalSeconds).toBe(s);
  });
  it.each([9, 91, 0, 15.5])('R-19 rejects repeat tone interval %s with POLICY_TONE_INTERVAL_OUT_OF_RANGE', (s) => {
    expect(() => applyUserRecording({ id: 'u', licence: 'basic' }, toneUser(s))).toThrow(code('POLICY_TONE_INTERVAL_OUT_OF_RANGE'));
  });
});

describe('user recording (R-03)', () => {
  const on = rec({ enabled: true, mode: 'always', recordVoicemail: true });
  it.each(['professional', 'basic'] as const)('R-03 enabling with a %s licence is allowed', (licence) => {
    expect(applyUserRecording({ id: 'u', licence }, on)).toEqual(on);
  });
  it('R-03 enabling without a licence is refused with POLICY_LICENCE_REQUIRED', () => {
    expect(() => applyUserRecording({ id: 'u', licence: 'none' }, on)).toThrow(code('POLICY_LICENCE_REQUIRED'));
  });
  it('R-03 turning recording off clears every recording setting back to the defaults', () => {
    const off = { ...on, enabled: false, startStopAnnouncement: { pstn: true, internal: true }, repeatTone: { enabled: true, intervalSeconds: 30 } };
    expect(applyUserRecording({ id: 'u', licence: 'basic' }, off)).toEqual(DEFAULT_RECORDING);
  });
  it('R-03 turning off needs no licence', () => {
    expect(applyUserRecording({ id: 'u', licence: 'none' }, rec({ enabled: false }))).toEqual(DEFAULT_RECORDING);
  });
});

describe('virtual lines (R-20)', () => {
  const on = rec({ enabled: true, mode: 'onDemand' });
  it('R-20 enabling with a provider at the organisation is allowed', () => {
    expect(applyVirtualLineRecording(makeSnapshot(), { id: 'lobby', locationId: 'hq' }, on)).toEqual(on);
  });
  it('R-20 enabling with no provider at the location is refused with POLICY_PROVIDER_REQUIRED', () => {
    const snap = makeSnapshot({ hq: { provider: { mode: 'none' } } });
    expect(() => applyVirtualLineRecording(snap, { id: 'lobby', locationId: 'hq' }, on)).toThrow(code('POLICY_PROVIDER_REQUIRED'));
  });
  it('R-20 enabling with no provider at the organisation (location orgDefault) is refused', () => {
    expect(() => applyVirtualLineRecording(makeSnapshot({ orgProvider: null }), { id: 'lobby', locationId: 'hq' }, on)).toThrow(code('POLICY_PROVIDER_REQUIRED'));
  });
  it('R-20 a location provider is enough when the organisation has none', () => {
    const snap = makeSnapshot({ orgProvider: null, hq: { provider: { mode: 'provider', providerId: 'alt' } } });
    expect(applyVirtualLineRecording(snap, { id: 'lobby', locationId: 'hq' }, on)).toEqual(on);
  });
  it('R-20/R-03 turning a virtual line off clears its settings', () => {
    expect(applyVirtualLineRecording(makeSnapshot({ orgProvider: null }), { id: 'lobby', locationId: 'hq' }, rec({ mode: 'always' }))).toEqual(DEFAULT_RECORDING);
  });
  it('R-20 range rules apply to virtual lines too', () => {
    expect(() => applyVirtualLineRecording(makeSnapshot(), { id: 'lobby', locationId: 'hq' }, rec({ enabled: true, repeatTone: { enabled: true, intervalSeconds: 5 } }))).toThrow(
      code('POLICY_TONE_INTERVAL_OUT_OF_RANGE'),
    );
  });
});

describe('organisation service settings (R-01, R-05, R-06, R-07)', () => {
  const off = { inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 };
  it('R-05 a provider whose terms were not accepted cannot be selected', () => {
    const snap = makeSnapshot({ orgProvider: null });
    const noTerms = { ...snap, termsAcceptances: [] };
    expect(() => applyOrgServiceSettings(noTerms, { providerId: 'alt', compliance: off })).toThrow(code('POLICY_TERMS_NOT_ACCEPTED'));
    expect(applyOrgServiceSettings(snap, { providerId: 'alt', compliance: off }).providerId).toBe('alt');
  });
  it('R-06 a region-restricted provider is refused outside its regions', () => {
    const base = makeSnapshot({ orgProvider: null });
    const snap = { ...base, org: { ...base.org, region: 'EU' }, providers: base.providers.map((p) => (p.id === 'alt' ? { ...p, allowedRegions: ['US'] } : p)) };
    expect(() => applyOrgServiceSettings(snap, { providerId: 'alt', compliance: off })).toThrow(code('POLICY_REGION_RESTRICTED'));
    expect(applyOrgServiceSettings({ ...snap, org: { ...snap.org, region: 'US' } }, { providerId: 'alt', compliance: off }).providerId).toBe('alt');
  });
  it('R-07 provider none for the organisation needs the explicit confirmation', () => {
    const snap = makeSnapshot();
    expect(() => applyOrgServiceSettings(snap, { providerId: null, compliance: off })).toThrow(code('POLICY_CONFIRMATION_REQUIRED'));
    expect(applyOrgServiceSettings(snap, { providerId: null, compliance: off }, true).providerId).toBeNull();
  });
  it('R-07 no confirmation is needed when the organisation already has none', () => {
    expect(applyOrgServiceSettings(makeSnapshot({ orgProvider: null }), { providerId: null, compliance: off }).providerId).toBeNull();
  });
  it('R-01 compliance ranges are checked on the organisation', () => {
    expect(() => applyOrgServiceSettings(makeSnapshot(), { providerId: 'srs', compliance: { ...off, delaySeconds: 61 } })).toThrow(code('POLICY_DELAY_OUT_OF_RANGE'));
  });
  it('R-05 a provider that does not exist is a reference error', () => {
    expect(() => applyOrgServiceSettings(makeSnapshot(), { providerId: 'ghost', compliance: off })).toThrow(code('POLICY_REFERENCE_INVALID'));
  });
});

describe('location call handling (R-02)', () => {
  it('R-02/R-05 a location-specific provider needs accepted terms', () => {
    const snap = { ...makeSnapshot(), termsAcceptances: [] };
    expect(() => applyLocationCallHandling(snap, 'hq', { provider: { mode: 'provider', providerId: 'alt' }, compliance: { mode: 'orgDefault' } })).toThrow(
      code('POLICY_TERMS_NOT_ACCEPTED'),
    );
  });
  it('R-02 location compliance values obey R-01 ranges', () => {
    expect(() =>
      applyLocationCallHandling(makeSnapshot(), 'hq', { provider: { mode: 'orgDefault' }, compliance: { mode: 'custom', settings: compliance(0) } }),
    ).toThrow(code('POLICY_DELAY_OUT_OF_RANGE'));
  });
  it('R-02 none and orgDefault are always allowed', () => {
    const ch = { provider: { mode: 'none' as const }, compliance: { mode: 'orgDefault' as const } };
    expect(applyLocationCallHandling(makeSnapshot(), 'hq', ch)).toEqual(ch);
  });
});

describe('terms (R-05)', () => {
  it('R-05 records who accepted, when, and what is shared', () => {
    const snap = { ...makeSnapshot(), termsAcceptances: [] };
    expect(acceptTerms(snap, 'alt', 'admin@acme.example', '2025-03-04T10:15:00.000Z')).toEqual({
      orgId: 'acme',
      providerId: 'alt',
      acceptedBy: 'admin@acme.example',
      acceptedAt: '2025-03-04T10:15:00.000Z',
      sharedData: ['firstName'],
    });
  });
  it('R-05 acceptance is one-time: accepting again returns the first', () => {
    expect(acceptTerms(makeSnapshot(), 'alt', 'someone-else', '2030-01-01T00:00:00.000Z').acceptedBy).toBe('admin@acme.example');
  });
});

describe('integrity', () => {
  it('R-10 a number already owned by another party is refused with POLICY_ADDRESS_IN_USE', () => {
    expect(() => checkAddressesFree(makeSnapshot(), { kind: 'user', id: 'new' }, { numbers: ['+1 555 000 2001'], extension: null, sipIdentities: [] })).toThrow(
      code('POLICY_ADDRESS_IN_USE'),
    );
    expect(() => checkAddressesFree(makeSnapshot(), { kind: 'user', id: 'new' }, { numbers: [], extension: '3001', sipIdentities: [] })).toThrow(code('POLICY_ADDRESS_IN_USE'));
    expect(() => checkAddressesFree(makeSnapshot(), { kind: 'user', id: 'new' }, { numbers: [], extension: null, sipIdentities: ['sip:VM@acme.example'] })).toThrow(
      code('POLICY_ADDRESS_IN_USE'),
    );
  });
  it('an entity keeps its own numbers on update', () => {
    expect(() => checkAddressesFree(makeSnapshot(), { kind: 'user', id: 'alice' }, { numbers: ['+15550002001'], extension: '2001', sipIdentities: ['alice@acme.example'] })).not.toThrow();
  });
  it('R-40 a provider needs at least one SIP recording server', () => {
    const p = makeSnapshot().providers[0]!;
    expect(() => validateProvider({ ...p, recordingServers: [] })).toThrow(code('POLICY_INVALID'));
    expect(() => validateProvider({ ...p, recordingServers: [{ uri: 'http://example.com' }] })).toThrow(code('POLICY_INVALID'));
  });
  it('a selected provider and a populated location cannot be deleted', () => {
    expect(() => checkProviderDeletable(makeSnapshot(), 'srs')).toThrow(code('POLICY_IN_USE'));
    expect(() => checkProviderDeletable(makeSnapshot(), 'alt')).not.toThrow();
    expect(() => checkLocationDeletable(makeSnapshot(), 'hq')).toThrow(code('POLICY_IN_USE'));
  });
});
