import { describe, expect, it } from 'vitest';
import { decideCall } from '../../../src/policy/call-decision.js';
import type { CallDecisionInput, CallParty } from '../../../src/policy/call-decision-types.js';
import type { ComplianceSettings, LocationCallHandling } from '../../../src/policy/policy-types.js';
import { makeSnapshot, type SnapshotOptions } from './snapshot-builder.js';

const PSTN: CallParty = { kind: 'pstn', number: '+442079460000' };
const alice: CallParty = { kind: 'user', id: 'alice' };
const bob: CallParty = { kind: 'user', id: 'bob' };
const carol: CallParty = { kind: 'user', id: 'carol' };
const lobby: CallParty = { kind: 'virtual-line', id: 'lobby' };
const inbound = (callee: CallParty, extra: Partial<CallDecisionInput> = {}): CallDecisionInput => ({ direction: 'inbound-pstn', caller: PSTN, callee, ...extra });
const outbound = (caller: CallParty, extra: Partial<CallDecisionInput> = {}): CallDecisionInput => ({ direction: 'outbound-pstn', caller, callee: PSTN, ...extra });
const internal = (caller: CallParty, callee: CallParty, extra: Partial<CallDecisionInput> = {}): CallDecisionInput => ({ direction: 'internal', caller, callee, ...extra });
const ALWAYS = { enabled: true, mode: 'always' } as const;

describe('recorded party and provider (R-10, R-02, R-03, R-17, R-20)', () => {
  type Row = [req: string, opts: SnapshotOptions, input: CallDecisionInput, expected: { id: string; record: boolean; reason: string; provider: string | null }[]];
  const rows: Row[] = [
    ['R-10 outbound PSTN records the calling user', { alice: ALWAYS }, outbound(alice), [{ id: 'alice', record: true, reason: 'always', provider: 'srs' }]],
    ['R-10 inbound PSTN records the called user', { alice: ALWAYS }, inbound(alice), [{ id: 'alice', record: true, reason: 'always', provider: 'srs' }]],
    ['R-10 internal: both users are evaluated, each by its own settings', { alice: ALWAYS }, internal(alice, bob), [
      { id: 'alice', record: true, reason: 'always', provider: 'srs' },
      { id: 'bob', record: false, reason: 'recordingDisabled', provider: 'srs' },
    ]],
    ['R-10 internal: both users may record', { alice: ALWAYS, bob: { enabled: true, mode: 'onDemand' } }, internal(alice, bob), [
      { id: 'alice', record: true, reason: 'always', provider: 'srs' },
      { id: 'bob', record: true, reason: 'onDemand', provider: 'srs' },
    ]],
    ['R-10 a call queue answered by an agent records the agent', { bob: ALWAYS }, inbound({ kind: 'call-queue', id: 'cq' }, { answeredBy: bob }), [{ id: 'bob', record: true, reason: 'always', provider: 'srs' }]],
    ['R-10 a hunt group answered by an agent records the agent', { bob: ALWAYS }, inbound({ kind: 'hunt-group', id: 'hg' }, { answeredBy: bob }), [{ id: 'bob', record: true, reason: 'always', provider: 'srs' }]],
    ['R-10 an auto attendant alone records nobody', {}, inbound({ kind: 'auto-attendant', id: 'aa' }), []],
    ['R-03 recording off (default) records nothing', {}, inbound(alice), [{ id: 'alice', record: false, reason: 'recordingDisabled', provider: 'srs' }]],
    ['R-17 mode never records nothing', { alice: { enabled: true, mode: 'never' } }, inbound(alice), [{ id: 'alice', record: false, reason: 'modeNever', provider: 'srs' }]],
    ['R-17 alwaysWithPauseResume records', { alice: { enabled: true, mode: 'alwaysWithPauseResume' } }, outbound(alice), [{ id: 'alice', record: true, reason: 'alwaysWithPauseResume', provider: 'srs' }]],
    ['R-02 location provider none: users there get no recording', { alice: ALWAYS, hq: { provider: { mode: 'none' } } }, inbound(alice), [{ id: 'alice', record: false, reason: 'noProvider', provider: null }]],
    ['R-02 location provider override wins over the organisation', { alice: ALWAYS, hq: { provider: { mode: 'provider', providerId: 'alt' } } }, inbound(alice), [{ id: 'alice', record: true, reason: 'always', provider: 'alt' }]],
    ['R-02 organisation none + location orgDefault: no recording', { orgProvider: null, alice: ALWAYS }, inbound(alice), [{ id: 'alice', record: false, reason: 'noProvider', provider: null }]],
    ['R-02 organisation none + location provider: the location records', { orgProvider: null, alice: ALWAYS, hq: { provider: { mode: 'provider', providerId: 'alt' } } }, outbound(alice), [{ id: 'alice', record: true, reason: 'always', provider: 'alt' }]],
    ['R-02 another location keeps the organisation provider', { carol: ALWAYS, hq: { provider: { mode: 'none' } } }, inbound(carol), [{ id: 'carol', record: true, reason: 'always', provider: 'srs' }]],
    ['R-20 a virtual line records by its own settings', { lobby: ALWAYS }, inbound(lobby), [{ id: 'lobby', record: true, reason: 'always', provider: 'srs' }]],
    ['R-20 a virtual line is off by default', {}, outbound(lobby), [{ id: 'lobby', record: false, reason: 'recordingDisabled', provider: 'srs' }]],
    ['R-21 voicemail on behalf of a user records with recordVoicemail', { alice: { ...ALWAYS, recordVoicemail: true } }, inbound(alice, { answeredBy: { kind: 'voicemail', onBehalfOf: { kind: 'user', id: 'alice' } } }), [
      { id: 'alice', record: true, reason: 'voicemail', provider: 'srs' },
    ]],
    ['R-21 voicemail on behalf of a user is not recorded without recordVoicemail', { alice: ALWAYS }, inbound(alice, { answeredBy: { kind: 'voicemail', onBehalfOf: { kind: 'user', id: 'alice' } } }), [
      { id: 'alice', record: false, reason: 'voicemailNotRecorded', provider: 'srs' },
    ]],
    ['R-21 recordVoicemail also covers onDemand users (voicemail starts at answer)', { alice: { enabled: true, mode: 'onDemand', recordVoicemail: true } }, inbound({ kind: 'voicemail', onBehalfOf: { kind: 'user', id: 'alice' } }), [
      { id: 'alice', record: true, reason: 'voicemail', provider: 'srs' },
    ]],
    ['R-21 messages sent from the user\'s voicemail (user calls voicemail) follow recordVoicemail', { alice: { ...ALWAYS, recordVoicemail: true } }, internal(alice, { kind: 'voicemail', onBehalfOf: { kind: 'user', id: 'alice' } }), [
      { id: 'alice', record: true, reason: 'voicemail', provider: 'srs' },
    ]],
    ['R-21 a user calling voicemail without recordVoicemail is not recorded', { alice: ALWAYS }, internal(alice, { kind: 'voicemail', onBehalfOf: null }), [
      { id: 'alice', record: false, reason: 'voicemailNotRecorded', provider: 'srs' },
    ]],
  ];
  it.each(rows)('%s', (_req, opts, input, expected) => {
    const d = decideCall(makeSnapshot(opts), input);
    expect(d.parties.map((p) => ({ id: p.party.id, record: p.record, reason: p.reason, provider: p.provider?.id ?? null }))).toEqual(expected);
    expect(d.record).toBe(expected.some((e) => e.record));
  });

  it('R-10/R-31 the recorded party carries identity and platform information for the metadata', () => {
    const d = decideCall(makeSnapshot({ alice: ALWAYS }), outbound(alice));
    expect(d.parties[0]?.party).toEqual({
      kind: 'user',
      id: 'alice',
      orgId: 'acme',
      locationId: 'hq',
      displayName: 'Alice Example',
      numbers: ['+15550002001'],
      extension: '2001',
      sipIdentities: ['alice@acme.example'],
      platformInfo: { serviceProvider: 'acme-sp', externalGroup: 'hq-group', externalIdentifier: 'ext-alice', externalType: 'BroadWorks' },
      side: 'caller',
    });
  });

  it('R-40 the provider comes with its recording servers in failover order, transport, dialect and failure policy', () => {
    const p = decideCall(makeSnapshot({ alice: ALWAYS }), outbound(alice)).parties[0]?.provider;
    expect(p?.recordingServers).toEqual([
      { uri: 'sip:srs@127.0.0.1:5090', transport: 'udp' },
      { uri: 'sip:srs@127.0.0.1:5090-backup', transport: 'tcp' },
    ]);
    expect(p?.dialect).toBe('rfc7865');
    expect(p?.failurePolicy).toBe('proceedWithAnnouncement');
  });
});

describe('modes, controls, notifications and tones (R-14, R-17, R-18, R-19)', () => {
  type Row = [req: string, mode: 'always' | 'alwaysWithPauseResume' | 'onDemand', start: string, controls: [boolean, boolean, boolean, boolean], notification: string];
  const rows: Row[] = [
    ['R-14/R-17 always starts at answer, no user controls, no pause notification', 'always', 'onAnswer', [false, false, false, false], 'none'],
    ['R-17/R-18 alwaysWithPauseResume allows pause and resume with the notification', 'alwaysWithPauseResume', 'onAnswer', [false, false, true, true], 'beep'],
    ['R-14/R-17/R-18 onDemand starts when the user starts it; start, stop, pause, resume', 'onDemand', 'onDemand', [true, true, true, true], 'beep'],
  ];
  it.each(rows)('%s', (_req, mode, start, [s, st, p, r], notification) => {
    const d = decideCall(makeSnapshot({ alice: { enabled: true, mode, pauseResumeNotification: 'beep' } }), outbound(alice)).parties[0]!;
    expect(d.start).toBe(start);
    expect(d.controls).toEqual({ start: s, stop: st, pause: p, resume: r });
    expect(d.pauseResumeNotification).toBe(notification);
  });

  it('R-18 the announcement kind of notification is passed through', () => {
    const d = decideCall(makeSnapshot({ alice: { enabled: true, mode: 'onDemand', pauseResumeNotification: 'announcement' } }), outbound(alice)).parties[0]!;
    expect(d.pauseResumeNotification).toBe('announcement');
  });

  it('R-17 a party that does not record has no controls', () => {
    const d = decideCall(makeSnapshot({ alice: { enabled: true, mode: 'onDemand' }, hq: { provider: { mode: 'none' } } }), outbound(alice)).parties[0]!;
    expect(d.controls).toEqual({ start: false, stop: false, pause: false, resume: false });
    expect(d.start).toBeNull();
  });

  type ToneRow = [req: string, opts: SnapshotOptions, interval: number | null];
  const tones: ToneRow[] = [
    ['R-19 repeat tone on: the interval is given', { alice: { ...ALWAYS, repeatTone: { enabled: true, intervalSeconds: 45 } } }, 45],
    ['R-19 repeat tone off: no tone', { alice: { ...ALWAYS, repeatTone: { enabled: false, intervalSeconds: 45 } } }, null],
    ['R-19 not recording: no tone even when on', { alice: { enabled: false, repeatTone: { enabled: true, intervalSeconds: 45 } } }, null],
  ];
  it.each(tones)('%s', (_req, opts, interval) => {
    expect(decideCall(makeSnapshot(opts), outbound(alice)).parties[0]?.repeatToneIntervalSeconds).toBe(interval);
  });

  it('R-21 recordVoicemail is reported to the call layer', () => {
    expect(decideCall(makeSnapshot({ alice: { ...ALWAYS, recordVoicemail: true } }), outbound(alice)).parties[0]?.recordVoicemail).toBe(true);
  });
});

describe('compliance announcement (R-11, R-12, R-13, R-04, R-02)', () => {
  const on: Partial<ComplianceSettings> = { inboundPstn: true, outboundPstn: true };
  type Row = [req: string, opts: SnapshotOptions, input: CallDecisionInput, expected: object];
  const rows: Row[] = [
    ['R-11 inbound PSTN: before answer, in the called user\'s language', { orgCompliance: on }, inbound(alice), { play: true, to: 'pstn', phase: 'pre-answer', delaySeconds: 0, language: 'es-ES' }],
    ['R-11 inbound PSTN: user without a language falls back to the location language', { orgCompliance: on, aliceLanguage: null }, inbound(alice), { play: true, language: 'fr-FR' }],
    ['R-11 inbound PSTN: then to the organisation default', { orgCompliance: on, aliceLanguage: null, hqLanguage: null }, inbound(alice), { play: true, language: 'en-US' }],
    ['R-11/R-20 inbound PSTN to a virtual line: the line\'s language', { orgCompliance: on }, inbound(lobby), { play: true, language: 'de-DE' }],
    ['R-04 inbound PSTN to an auto attendant: its language', { orgCompliance: on }, inbound({ kind: 'auto-attendant', id: 'aa' }), { play: true, language: 'it-IT' }],
    ['R-04 inbound PSTN to a call queue: its language, even when an agent answers', { orgCompliance: on }, inbound({ kind: 'call-queue', id: 'cq' }, { answeredBy: bob }), { play: true, language: 'nl-NL' }],
    ['R-04 inbound PSTN to a hunt group without a language: its location\'s', { orgCompliance: on }, inbound({ kind: 'hunt-group', id: 'hg' }), { play: true, language: 'fr-FR' }],
    ['R-11 plays even when the called user does not record (the announcement says "may be")', { orgCompliance: on }, inbound(bob), { play: true }],
    ['R-11 inbound off: not played', { orgCompliance: { outboundPstn: true } }, inbound(alice), { play: false, reason: 'disabled' }],
    ['R-12 outbound PSTN: after answer, no delay', { orgCompliance: on, alice: ALWAYS }, outbound(alice), { play: true, to: 'pstn', phase: 'post-answer', delaySeconds: 0, language: 'es-ES' }],
    ['R-12 outbound PSTN with delay: starts delaySeconds after answer', { orgCompliance: { ...on, outboundDelay: true, delaySeconds: 12 } }, outbound(alice), { play: true, phase: 'post-answer', delaySeconds: 12 }],
    ['R-12 delaySeconds without outboundDelay is ignored', { orgCompliance: { ...on, delaySeconds: 12 } }, outbound(alice), { play: true, delaySeconds: 0 }],
    ['R-12 outbound off: not played', { orgCompliance: { inboundPstn: true } }, outbound(alice), { play: false, reason: 'disabled' }],
    ['R-13 already played earlier in the call (transfer): not again', { orgCompliance: on }, inbound(alice, { complianceAlreadyPlayed: true }), { play: false, reason: 'alreadyPlayed' }],
    ['R-13 already played, outbound: not again', { orgCompliance: on }, outbound(alice, { complianceAlreadyPlayed: true }), { play: false, reason: 'alreadyPlayed' }],
    ['R-11 internal calls never get it', { orgCompliance: on }, internal(alice, bob), { play: false, reason: 'internalCall' }],
    ['R-02 location custom compliance wins over the organisation (on)', { hq: { compliance: { mode: 'custom', settings: { inboundPstn: true, outboundPstn: false, outboundDelay: false, delaySeconds: 5 } } } }, inbound(alice), { play: true }],
    ['R-02 location custom compliance wins over the organisation (off)', { orgCompliance: on, hq: { compliance: { mode: 'custom', settings: { inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 } } } }, inbound(alice), { play: false, reason: 'disabled' }],
    ['R-02 location custom delay is used for outbound', { hq: { compliance: { mode: 'custom', settings: { inboundPstn: false, outboundPstn: true, outboundDelay: true, delaySeconds: 30 } } } }, outbound(alice), { play: true, delaySeconds: 30 }],
    ['R-02 another location keeps the organisation settings', { orgCompliance: on, hq: { compliance: { mode: 'custom', settings: { inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 } } } }, inbound(carol), { play: true, language: 'en-US' }],
    ['R-02 no recording provider at the location: nothing to announce', { orgCompliance: on, hq: { provider: { mode: 'none' } } }, inbound(alice), { play: false, reason: 'noProvider' }],
  ];
  it.each(rows)('%s', (_req, opts, input, expected) => {
    expect(decideCall(makeSnapshot(opts), input).compliance).toMatchObject(expected);
  });
});

describe('R-16 start/stop announcement precedence, every combination', () => {
  type Compliance = 'org-on' | 'location-on' | 'off' | 'location-off-over-org-on';
  const complianceOpts = (c: Compliance): SnapshotOptions => {
    const custom = (v: boolean): Partial<LocationCallHandling> => ({
      compliance: { mode: 'custom', settings: { inboundPstn: v, outboundPstn: v, outboundDelay: false, delaySeconds: 5 } },
    });
    switch (c) {
      case 'org-on':
        return { orgCompliance: { inboundPstn: true, outboundPstn: true } };
      case 'location-on':
        return { hq: custom(true) };
      case 'off':
        return {};
      case 'location-off-over-org-on':
        return { orgCompliance: { inboundPstn: true, outboundPstn: true }, hq: custom(false) };
    }
  };
  type Row = [direction: 'inbound' | 'outbound' | 'internal', compliance: Compliance, pstn: boolean, internalFlag: boolean, alreadyPlayed: boolean, compliancePlays: boolean, startStop: string];
  const rows: Row[] = [
    // inbound PSTN: user start/stop only when the compliance announcement neither plays nor was played
    ['inbound', 'org-on', true, false, false, true, 'compliancePrecedence'],
    ['inbound', 'org-on', false, false, false, true, 'settingOff'],
    ['inbound', 'org-on', true, false, true, false, 'compliancePrecedence'],
    ['inbound', 'org-on', false, false, true, false, 'settingOff'],
    ['inbound', 'location-on', true, false, false, true, 'compliancePrecedence'],
    ['inbound', 'location-on', false, false, false, true, 'settingOff'],
    ['inbound', 'location-on', true, false, true, false, 'compliancePrecedence'],
    ['inbound', 'off', true, false, false, false, 'play'],
    ['inbound', 'off', false, false, false, false, 'settingOff'],
    ['inbound', 'off', true, false, true, false, 'compliancePrecedence'],
    ['inbound', 'off', true, true, false, false, 'play'],
    ['inbound', 'off', false, true, false, false, 'settingOff'],
    ['inbound', 'location-off-over-org-on', true, false, false, false, 'play'],
    ['inbound', 'location-off-over-org-on', false, false, false, false, 'settingOff'],
    // outbound PSTN: the user-level start/stop never plays (inbound only)
    ['outbound', 'org-on', true, false, false, true, 'outboundPstn'],
    ['outbound', 'org-on', false, false, false, true, 'settingOff'],
    ['outbound', 'off', true, false, false, false, 'outboundPstn'],
    ['outbound', 'off', false, false, false, false, 'settingOff'],
    ['outbound', 'location-on', true, true, false, true, 'outboundPstn'],
    ['outbound', 'location-off-over-org-on', true, false, false, false, 'outboundPstn'],
    // internal: the internal flag, regardless of compliance settings and the pstn flag
    ['internal', 'org-on', false, true, false, false, 'play'],
    ['internal', 'org-on', true, false, false, false, 'settingOff'],
    ['internal', 'off', false, true, false, false, 'play'],
    ['internal', 'off', true, false, false, false, 'settingOff'],
    ['internal', 'off', true, true, false, false, 'play'],
    ['internal', 'location-on', false, false, false, false, 'settingOff'],
    ['internal', 'location-on', false, true, true, false, 'play'],
  ];
  it.each(rows)('R-16 %s call, compliance %s, pstn=%s internal=%s alreadyPlayed=%s -> compliance plays %s, start/stop %s', (direction, c, pstn, internalFlag, alreadyPlayed, compliancePlays, startStop) => {
    const opts: SnapshotOptions = { ...complianceOpts(c), alice: { ...ALWAYS, startStopAnnouncement: { pstn, internal: internalFlag } } };
    const extra = { complianceAlreadyPlayed: alreadyPlayed };
    const input = direction === 'inbound' ? inbound(alice, extra) : direction === 'outbound' ? outbound(alice, extra) : internal(bob, alice, extra);
    const d = decideCall(makeSnapshot(opts), input);
    expect(d.compliance.play).toBe(compliancePlays);
    const a = d.parties.find((p) => p.party.id === 'alice')!;
    if (startStop === 'play') expect(a.startStopAnnouncement).toEqual({ play: true, to: 'all', language: 'es-ES' });
    else expect(a.startStopAnnouncement).toEqual({ play: false, reason: startStop });
  });

  it('R-16 a party that does not record plays no start/stop announcement', () => {
    const d = decideCall(makeSnapshot({ alice: { enabled: false, startStopAnnouncement: { pstn: true, internal: true } } }), inbound(alice));
    expect(d.parties[0]?.startStopAnnouncement).toEqual({ play: false, reason: 'notRecording' });
  });

  it('R-16 internal call: each user\'s own internal setting and language', () => {
    const d = decideCall(
      makeSnapshot({ alice: { ...ALWAYS, startStopAnnouncement: { pstn: false, internal: true } }, bob: { ...ALWAYS, startStopAnnouncement: { pstn: true, internal: false } } }),
      internal(alice, bob),
    );
    expect(d.parties.map((p) => [p.party.id, p.startStopAnnouncement])).toEqual([
      ['alice', { play: true, to: 'all', language: 'es-ES' }],
      ['bob', { play: false, reason: 'settingOff' }],
    ]);
  });
});

describe('destination', () => {
  it('R-04 the destination kind and language are reported', () => {
    expect(decideCall(makeSnapshot(), inbound({ kind: 'auto-attendant', id: 'aa' })).destination).toEqual({ kind: 'auto-attendant', language: 'it-IT' });
    expect(decideCall(makeSnapshot(), outbound(alice)).destination).toEqual({ kind: 'pstn', language: null });
  });

  it('an unknown party is a programmer error with a code', () => {
    expect(() => decideCall(makeSnapshot(), inbound({ kind: 'user', id: 'nobody' }))).toThrow(expect.objectContaining({ code: 'POLICY_NOT_FOUND' }));
  });
});
