import { describe, expect, it } from 'vitest';
import { readAudio } from '../../../src/sip/sdp-media.js';
import { fakeRequest, sdpOffer } from '../../fakes/fake-legs.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

describe('CallSession: inbound PSTN', () => {
  it('MUST play the compliance announcement as early media in the destination language before alerting the callee (R-11)', async () => {
    const t = setup(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: always }));
    const invite = t.inbound(ALICE);
    await flush();
    const media = t.media.sessions[0]!;
    media.holdPrompts = true;
    // the prompt started before holdPrompts was set only if it was synchronous; check order instead
    expect(invite.progressSent[0]?.status).toBe(183);
    const early = readAudio(invite.progressSent[0]!.sdp!)!;
    expect(early.address).toBe('127.0.0.1');
    expect(early.port).toBe(26000);
    expect(early.codecs.map((c) => c.name)).toEqual(['PCMU']);
    expect(media.prompts[0]).toMatchObject({ name: 'compliance', target: 'a', language: 'es-ES' });
    await flush();
    expect(t.signaling.dials).toHaveLength(1);
    expect(t.signaling.dials[0]!.uri).toBe(`sip:${ALICE}@10.0.0.5:5060`);
    // leg B was offered only the codec already answered to the caller
    expect(readAudio(t.signaling.dials[0]!.options.sdp)!.codecs.map((c) => c.name)).toEqual(['PCMU']);
    t.signaling.answer();
    await flush();
    // the 200 carries the very answer sent in the 183 (RFC 3264: one answer per offer)
    expect(invite.answeredSdp).toBe(invite.progressSent[0]!.sdp);
    expect(t.manager.list()[0]).toMatchObject({ state: 'connected', complianceAnnouncementPlayed: true });
  });

  it('MUST NOT alert the callee while the compliance prompt plays, and a CANCEL during it ends everything (R-11)', async () => {
    const t = setup(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: always }));
    const origCreate = t.media.createSession;
    t.media.createSession = async (o) => {
      const m = await origCreate(o);
      (m as unknown as { holdPrompts: boolean }).holdPrompts = true;
      return m;
    };
    const invite = t.inbound(ALICE);
    await flush();
    const media = t.media.sessions[0]!;
    expect(media.promptsPlaying).toBe(1);
    expect(t.signaling.dials).toHaveLength(0);
    invite.cancel();
    await flush();
    expect(media.closeCount).toBe(1);
    expect(t.signaling.dials).toHaveLength(0);
    expect(t.manager.size).toBe(0);
    expect(t.recording.ports).toHaveLength(0);
  });

  it('MUST start recording when the user answers and fork label 1 = caller, label 2 = user (R-14, R-30, R-34)', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE);
    await flush();
    expect(invite.progressSent.filter((p) => p.sdp)).toHaveLength(0);
    expect(t.recording.ports).toHaveLength(0);
    t.signaling.answer();
    await flush();
    expect(invite.answeredSdp).toBeDefined();
    const port = t.recording.ports[0]!;
    expect(port.started).toMatchObject({ direction: 'inbound-pstn', mode: 'always', other: { aor: 'tel:+15559990000' }, user: { aor: 'sip:alice@acme.example' } });
    // label 1 (other party) is fed by leg A's fork stream (26004), label 2 (user) by leg B's (26006)
    expect(port.started!.local).toMatchObject({ label1Port: 26004, label2Port: 26006 });
    const media = t.media.sessions[0]!;
    expect(media.fork).toBeUndefined(); // nothing waits for the recording server
    port.establish();
    await flush();
    expect(media.fork!.targets.map((x) => x.port)).toEqual([40000, 40002]);
    expect(t.manager.list()[0]!.recording.state).toBe('recording');
  });

  it('MUST NOT record or announce when the callee does not record and no announcement is enabled (R-17 never)', async () => {
    const t = setup(makeSnapshot());
    const invite = t.inbound(ALICE);
    await flush();
    expect(invite.progressSent.some((p) => p.sdp)).toBe(false);
    t.signaling.answer();
    await flush();
    expect(t.recording.ports).toHaveLength(0);
    expect(t.media.sessions[0]!.prompts).toHaveLength(0);
  });

  it('MUST refuse an unknown number with 404 and an unknown source with 403 (admission)', async () => {
    const t = setup(makeSnapshot());
    const a = t.inbound('+15550000000');
    const b = t.inbound(ALICE, { source: '198.51.100.99' });
    await flush();
    expect(a.rejected).toBe(404);
    expect(b.rejected).toBe(403);
    expect(t.media.sessions).toHaveLength(0);
  });

  it('MUST pass the callee refusal to the caller and release the media (486)', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE);
    await flush();
    t.signaling.dials[0]!.resolve({ ok: false, status: 486, reason: 'Busy Here', cancelled: false });
    await flush();
    expect(invite.rejected).toBe(486);
    expect(t.media.sessions[0]!.closeCount).toBe(1);
    expect(t.manager.size).toBe(0);
  });

  it('MUST tear the whole call down on a BYE from either leg with one media close and a clean recording stop (R-32)', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { invite, legB } = await connectedInbound(t, ALICE);
    legB.emit('bye', 'BYE');
    await flush();
    expect(invite.legA!.hangups).toBe(1);
    expect(t.media.sessions[0]!.closeCount).toBe(1);
    expect(t.recording.ports[0]!.calls).toContain('stop');
    expect(t.manager.size).toBe(0);
  });

  it('MUST tell a record-aware caller the call is recorded with a=record:on (R-31)', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE, { recordAware: true });
    await flush();
    t.signaling.answer();
    await flush();
    expect(readAudio(invite.answeredSdp!)!.recordIndication).toBe('on');
    const plain = setup(makeSnapshot({ alice: always }));
    const inv2 = plain.inbound(ALICE);
    await flush();
    plain.signaling.answer();
    await flush();
    expect(readAudio(inv2.answeredSdp!)!.recordIndication).toBeUndefined();
  });
});

describe('CallSession: outbound PSTN', () => {
  it('MUST play the compliance announcement to the PSTN party only, delaySeconds after answer, once (R-12, R-13)', async () => {
    const t = setup(makeSnapshot({ orgCompliance: { outboundPstn: true, outboundDelay: true, delaySeconds: 4 }, alice: always }));
    const invite = t.fromUser('alice@acme.example', '+15557770000');
    await flush();
    expect(t.signaling.dials[0]!.uri).toBe('sip:+15557770000@192.0.2.10');
    expect(invite.progressSent.some((p) => p.sdp)).toBe(false);
    t.signaling.answer();
    await flush();
    const media = t.media.sessions[0]!;
    expect(media.prompts.filter((p) => p.name === 'compliance')).toHaveLength(0);
    t.clock.advance(3999);
    await flush();
    expect(media.prompts.filter((p) => p.name === 'compliance')).toHaveLength(0);
    t.clock.advance(1);
    await flush();
    expect(media.prompts.filter((p) => p.name === 'compliance')).toEqual([expect.objectContaining({ target: 'b' })]);
    t.clock.advance(60_000);
    await flush();
    expect(media.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    // the recording (user = caller = leg A) is told about it
    expect(t.recording.ports[0]!.notes.find((n) => n.kind === 'compliance')).toMatchObject({ result: 'played', target: 'pstn', phase: 'post-answer' });
    // the user is on leg A: label 2 is fed by leg A's stream
    expect(t.recording.ports[0]!.started!.local).toMatchObject({ label1Port: 26006, label2Port: 26004 });
  });
});

describe('CallSession: controls', () => {
  const pauseResume = { enabled: true, mode: 'alwaysWithPauseResume' as const, pauseResumeNotification: 'beep' as const, repeatTone: { enabled: true, intervalSeconds: 15 } };

  it('MUST pause and resume on the user DTMF codes *3 / *4 with beeps to all, reminder tone only while recording (R-17, R-18, R-19)', async () => {
    const t = setup(makeSnapshot({ alice: pauseResume }));
    const { port, media } = await connectedInbound(t, ALICE);
    expect(media.reminderMs).toBe(15_000);
    const dtmf = (leg: 'a' | 'b', digit: string): void => {
      media.emit('dtmf', { leg, digit, end: true, durationMs: 100, rtpTimestamp: 0, at: 0 });
    };
    // the PSTN caller (leg A) cannot control the user's recording
    dtmf('a', '*');
    dtmf('a', '3');
    await flush();
    expect(port.calls).not.toContain('pause');
    dtmf('b', '*');
    dtmf('b', '3');
    await flush();
    expect(port.calls).toContain('pause');
    expect(media.log.indexOf('pauseFork')).toBeLessThan(media.log.lastIndexOf('beep:both'));
    expect(media.reminderMs).toBeUndefined();
    expect(t.manager.list()[0]!.recording.state).toBe('paused');
    dtmf('b', '*');
    dtmf('b', '4');
    await flush();
    expect(port.calls.slice(-1)).toEqual(['resume']);
    expect(media.reminderMs).toBe(15_000);
    expect(media.beeps).toHaveLength(2);
    expect(port.notes.filter((n) => n.kind === 'pause' || n.kind === 'resume').map((n) => n.result)).toEqual(['played', 'played']);
  });

  it('MUST keep a pause that arrives while the fork towards the recording server is still starting (R-18)', async () => {
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume' } }));
    t.inbound(ALICE);
    await flush();
    t.signaling.answer();
    await flush();
    const media = t.media.sessions[0]!;
    media.holdForkStart = true;
    const port = t.recording.ports[0]!;
    port.establish();
    await flush();
    expect(media.log).toContain('startFork');
    const id = t.manager.list()[0]!.id;
    await expect(t.manager.control(id, 'pause')).resolves.toMatchObject({ ok: true });
    media.releaseForkStart();
    await flush();
    expect(t.manager.list()[0]!.recording.state).toBe('paused');
    expect(media.log.indexOf('pauseFork')).toBeGreaterThan(media.log.indexOf('startFork'));
    expect(port.calls).toContain('pause');
  });

  it('MUST refuse pause in mode always, and start an onDemand recording only on the user command (SIP INFO) (R-14, R-17)', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    t.inbound(ALICE);
    await flush();
    t.signaling.answer();
    await flush();
    const id = t.manager.list()[0]!.id;
    await expect(t.manager.control(id, 'pause')).resolves.toMatchObject({ ok: false });

    const d = setup(makeSnapshot({ alice: { enabled: true, mode: 'onDemand' } }));
    d.inbound(ALICE);
    await flush();
    const legB = d.signaling.answer();
    await flush();
    expect(d.recording.ports).toHaveLength(0);
    const info = fakeRequest('INFO', '{"action":"start"}', 'application/vnd.recording-control+json');
    legB.emit('info', info);
    await flush();
    expect(info.responses[0]!.status).toBe(200);
    expect(d.recording.ports).toHaveLength(1);
    const relay = fakeRequest('INFO', 'Signal=*\r\nDuration=160\r\n', 'application/dtmf-relay');
    legB.emit('info', relay);
    legB.emit('info', fakeRequest('INFO', 'Signal=2\r\nDuration=160\r\n', 'application/dtmf-relay'));
    await flush();
    expect(d.recording.ports[0]!.calls).toContain('stop');
    expect(d.manager.list()[0]!.recording.state).toBe('stopped');
  });

  it('MUST relay hold (sendonly) to the other leg with our address and keep the recording running', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const { invite, legB } = await connectedInbound(t, ALICE);
    const hold = fakeRequest('INVITE', sdpOffer(30000, { direction: 'sendonly' }));
    invite.legA!.emit('reoffer', hold);
    await flush();
    const toB = readAudio(legB.reinvites[0]!)!;
    expect(toB.direction).toBe('sendonly');
    expect(toB.port).toBe(26002);
    expect(hold.responses[0]!.status).toBe(200);
    expect(readAudio(hold.responses[0]!.body!)!.port).toBe(26000);
    expect(t.manager.list()[0]!.recording.state).toBe('recording');
    expect(t.media.sessions[0]!.log).not.toContain('stopFork');
  });
});

describe('CallSession: announcements precedence and voicemail', () => {
  it('MUST NOT play the user start announcement to a PSTN caller who heard the compliance announcement, and play it otherwise (R-16)', async () => {
    const withCompliance = setup(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { ...always, startStopAnnouncement: { pstn: true, internal: false } } }));
    withCompliance.inbound(ALICE);
    await flush();
    withCompliance.signaling.answer();
    await flush();
    expect(withCompliance.media.sessions[0]!.prompts.map((p) => p.name)).toEqual(['compliance']);
    expect(withCompliance.recording.ports[0]!.notes.find((n) => n.kind === 'start')).toMatchObject({ result: 'skipped', reason: 'compliancePrecedence' });

    const without = setup(makeSnapshot({ alice: { ...always, startStopAnnouncement: { pstn: true, internal: false } } }));
    without.inbound(ALICE);
    await flush();
    without.signaling.answer();
    await flush();
    expect(without.media.sessions[0]!.prompts).toEqual([expect.objectContaining({ name: 'recording-started', target: 'both' })]);
    expect(without.recording.ports[0]!.notes.find((n) => n.kind === 'start')).toMatchObject({ result: 'played', target: 'all' });
  });

  it('MUST record a call answered by voicemail for the user only with recordVoicemail (R-21)', async () => {
    const diverted = { headers: { Diversion: '<sip:+15550002001@acme.example>;reason=no-answer' } };
    const on = setup(makeSnapshot({ alice: { ...always, recordVoicemail: true } }));
    on.inbound('+15550008000', diverted);
    await flush();
    on.signaling.answer();
    await flush();
    expect(on.recording.ports).toHaveLength(1);
    expect(on.recording.ports[0]!.started).toMatchObject({ user: { aor: 'sip:alice@acme.example' } });

    const off = setup(makeSnapshot({ alice: always }));
    off.inbound('+15550008000', diverted);
    await flush();
    off.signaling.answer();
    await flush();
    expect(off.recording.ports).toHaveLength(0);
  });
});

describe('CallSession: recording indication and recording failure', () => {
  it('MUST update a=record on record-aware legs as the recording starts and pauses (R-31)', async () => {
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume' } }));
    const invite = t.inbound(ALICE, { recordAware: true });
    await flush();
    const legB = t.signaling.answer({ recordAware: true });
    await flush();
    expect(readAudio(invite.answeredSdp!)!.recordIndication).toBe('on');
    expect(readAudio(legB.reinvites.at(-1)!)!.recordIndication).toBe('on');
    t.recording.ports[0]!.establish();
    await flush();
    await t.manager.control(t.manager.list()[0]!.id, 'pause');
    await flush();
    expect(readAudio(legB.reinvites.at(-1)!)!.recordIndication).toBe('paused');
    expect(readAudio(invite.legA!.reinvites.at(-1)!)!.recordIndication).toBe('paused');
  });

  it('MUST NOT overlap a=record re-INVITEs on a leg: a pause and resume during a slow re-INVITE send only the latest value after it (R-31, RFC 3261 section 14.1)', async () => {
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume' } }));
    const { legB } = await connectedInbound(t, ALICE, { answer: { recordAware: true } });
    legB.holdReinvites = true;
    const sentBefore = legB.reinvites.length;
    const id = t.manager.list()[0]!.id;
    await t.manager.control(id, 'pause');
    await flush();
    await t.manager.control(id, 'resume');
    await flush();
    await t.manager.control(id, 'pause');
    await flush();
    // one in progress (paused), the later changes wait
    expect(legB.reinvites.length - sentBefore).toBe(1);
    expect(legB.reinvitesInProgress).toBe(1);
    expect(readAudio(legB.reinvites.at(-1)!)!.recordIndication).toBe('paused');
    await t.manager.control(id, 'resume');
    await flush();
    legB.releaseReinvite();
    await flush();
    // then exactly one more, with the latest value
    expect(legB.reinvites.length - sentBefore).toBe(2);
    expect(readAudio(legB.reinvites.at(-1)!)!.recordIndication).toBe('on');
    legB.releaseReinvite();
    await flush();
    expect(legB.reinvites.length - sentBefore).toBe(2);
    expect(legB.reinvitesInProgress).toBe(0);
  });

  it('MUST retry an a=record re-INVITE answered 491 after the RFC 3261 section 14.1 wait (2.1-4 s on leg B, whose Call-ID is ours)', async () => {
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume' } }));
    const { legB } = await connectedInbound(t, ALICE, { answer: { recordAware: true } });
    const answer = legB.reinviteAnswer;
    legB.reinviteAnswer = 491;
    const sentBefore = legB.reinvites.length;
    await t.manager.control(t.manager.list()[0]!.id, 'pause');
    await flush();
    expect(legB.reinvites.length - sentBefore).toBe(1);
    legB.reinviteAnswer = answer;
    t.clock.advance(2099);
    await flush();
    expect(legB.reinvites.length - sentBefore).toBe(1);
    t.clock.advance(1901);
    await flush();
    expect(legB.reinvites.length - sentBefore).toBe(2);
    expect(readAudio(legB.reinvites.at(-1)!)!.recordIndication).toBe('paused');
  });

  it('MUST apply the R-40 policy: "endCallWithAnnouncement" plays the stop prompt to all and ends the call', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE);
    await flush();
    t.signaling.answer();
    await flush();
    t.recording.ports[0]!.fail({ policy: 'endCallWithAnnouncement', phase: 'start', detail: 'no-recording-server' });
    await flush();
    expect(t.media.sessions[0]!.prompts.at(-1)).toMatchObject({ name: 'recording-stopped', target: 'both' });
    expect(t.manager.size).toBe(0);
    expect(invite.legA!.hangups).toBe(1);

    const p = setup(makeSnapshot({ alice: always }));
    p.inbound(ALICE);
    await flush();
    p.signaling.answer();
    await flush();
    p.recording.ports[0]!.fail({ policy: 'proceedWithoutAnnouncement', phase: 'start', detail: 'x' });
    await flush();
    expect(p.media.sessions[0]!.prompts).toHaveLength(0);
    expect(p.manager.list()[0]).toMatchObject({ state: 'connected', recording: { state: 'failed' } });
  });
});

describe('CallSession: early media from the callee', () => {
  it('MUST forward the callee 183 early media with our SDP and answer with that same SDP; 180 as ringing; never 100', async () => {
    const t = setup(makeSnapshot());
    const invite = t.inbound(ALICE);
    await flush();
    const dial = t.signaling.dials[0]!;
    dial.options.onProvisional!(100, undefined);
    expect(invite.progressSent).toHaveLength(0);
    dial.options.onProvisional!(180, undefined);
    expect(invite.progressSent).toEqual([{ status: 180 }]);
    dial.options.onProvisional!(183, sdpOffer(34000, { address: '198.51.100.7', codecs: '0 101' }));
    await flush();
    const early = invite.progressSent[1]!;
    expect(early.status).toBe(183);
    expect(readAudio(early.sdp!)).toMatchObject({ address: '127.0.0.1', port: 26000 });
    expect(t.media.sessions[0]!.remotes.some((r) => r.leg === 'b' && r.remote.port === 34000)).toBe(true);
    t.signaling.answer();
    await flush();
    expect(invite.answeredSdp).toBe(early.sdp);
  });
});

describe('CallSession: the caller goes while being answered', () => {
  it('MUST end leg A when the call ended while its 200 OK was on the way, and end the call once (no illegal ending -> connected)', async () => {
    const t = setup(makeSnapshot());
    const invite = t.inbound(ALICE);
    await flush();
    let release!: () => void;
    const answering = new Promise<void>((r) => (release = r));
    const answer = invite.answer.bind(invite);
    invite.answer = async (sdp: string) => {
      const leg = await answer(sdp);
      await answering;
      return leg;
    };
    const legB = t.signaling.answer();
    await flush();
    const ended: string[] = [];
    const call = t.manager.list()[0]!;
    expect(call.state).toBe('dialling');
    t.manager.get(call.id)?.on('ended', (reason) => ended.push(reason));
    await t.manager.get(call.id)?.hangup('admin-hangup');
    release();
    await flush();
    expect(invite.legA?.hangups).toBe(1);
    expect(legB.hangups).toBeGreaterThanOrEqual(1);
    expect(ended).toEqual(['admin-hangup']);
    expect(t.manager.size).toBe(0);
  });
});
