/**
 * Call behaviours end to end over loopback (R-13, R-14/R-17 onDemand, R-16, R-19, R-20, R-21, R-04):
 * real SIPp parties (signalling), RtpPeer endpoints (their audio: each sends a tone and records what
 * it heard), the embedded engine, drachtio-srf, the media plane with the real prompts, and the call
 * layer with a fake recording port whose fork goes to two more RtpPeers (the recording server's
 * streams). What each party heard is checked spectrally (Goertzel).
 */
import { describe, expect, it } from 'vitest';
import { PromptLibrary } from '../../../src/media/audio/prompt-library.js';
import { useCallTestbed, type InboundCallOptions } from '../../support/call-testbed.js';
import { heard, toneShare } from '../../support/audio-checks.js';
import { meanSquare } from '../../support/goertzel.js';
import { portBlock, type PortRange } from '../../support/ports.js';
import type { RtpPeer, Target } from '../../support/rtp-peer.js';
import { findMessages } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { sleep, until } from '../../support/wait.js';

// the upper half of this task's range 28000-29999 (the lower half is left to a media-plane range that reaches into it)
const BEHAVIOUR_PORTS: PortRange = { from: 29000, to: 29999 };
const ALICE = '+15550002001';
const CALLER_HZ = 1000;
const USER_HZ = 1500;
const TARGET_HZ = 700;

// trunk: the carrier (calls in from here); pbx: users' phones behind the PBX answer here;
// target: the transfer target's phone
const block = portBlock(BEHAVIOUR_PORTS, 0, 500);
const tb = useCallTestbed(block, { parties: ['target'], trusted: ['pbx', 'target'], snapshot: makeSnapshot() });
const { target: targetPort } = tb.ports;
const { setSnapshot, party, rtpPeer } = tb;

const prompts = PromptLibrary.load('prompts', { languages: ['en', 'es', 'de'] });

interface BehaviourCall extends Omit<InboundCallOptions, 'tones'> {
  /** Runs while the call is up. */
  readonly during?: (ctx: { toB: Target; userRtp: RtpPeer }) => Promise<void>;
}

describe('recording B2BUA call behaviours (SIPp + RTP peers)', () => {
  it("R-13: a REFER transfer replaces the transferor by the target; no second compliance announcement; the transferor's recording ends with their leaving (R-10: recordings belong to users)", async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' } }));
    const targetRtp = await rtpPeer();
    const target = party('callee', targetPort, { rtp_port: targetRtp.port });
    await target.ready();
    const call = await tb.inboundCall({
      toUser: ALICE,
      caller: 'caller-reinvited',
      callee: 'callee-refer',
      calleeKeys: { target: `bob@127.0.0.1:${targetPort}` },
      calleePauseMs: 1500,
      callMs: 2500,
      tones: { callerHz: CALLER_HZ, userHz: USER_HZ, ms: 15000 },
    });
    const { uac, uas, trace, toB, callerRtp } = call;
    const { port, srs } = await tb.recordingFork(call.recordingsBefore, 10_000);
    // the target answers the B2BUA's INVITE: from then on it talks into the same anchored side
    await until(() => tb.h.dials.length >= 2 && tb.h.dials.at(-1)!.uri.includes(`:${targetPort}`), 'the target to be dialled', 10_000);
    void targetRtp.play(sine(TARGET_HZ, 8000), toB);
    await until(() => port.calls.includes('stop'), "the end of alice's recording", 5000);
    const transferredAt = performance.now();
    const [rc, rs, rt] = await Promise.all([uac.done, uas.done, target.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    expect(rt.exitCode, rt.describe()).toBe(0);

    // SIP: 202 to the REFER, sipfrag NOTIFYs 100 then 200, then the transferor's BYE
    const notifies = findMessages(rs.messages, { direction: 'received', method: 'NOTIFY' });
    expect(notifies.map((n) => /SIP\/2\.0 (\d+)/.exec(n.text.split(/\r?\n\r?\n/)[1] ?? '')?.[1])).toEqual(['100', '200']);
    expect(findMessages(rs.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    // the target was INVITEd by the B2BUA and later got the BYE when the caller hung up
    expect(findMessages(rt.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);

    // the compliance announcement played once (before answer), never again
    expect(trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    expect(trace.prompts.every((p) => p.startedAt! < transferredAt - 500)).toBe(true);
    // the remaining party (the PSTN caller) hears the target, and no prompt energy (not speech)
    const after = heard(callerRtp, transferredAt + 300, transferredAt + 2300);
    expect(after.length).toBeGreaterThan(8000);
    expect(toneShare(after, TARGET_HZ)).toBeGreaterThan(0.8);
    // the target hears the caller
    expect(toneShare(heard(targetRtp), CALLER_HZ)).toBeGreaterThan(0.8);

    // alice (the recorded user) left: her recording stopped at the transfer and its fork with it; the
    // target is no user of the organisation, so nobody records the rest of the call
    expect(port.participantChanges).toEqual([]);
    expect(port.calls.filter((c) => c !== 'close')).toEqual(['start', 'stop']);
    expect(tb.h.recordings).toHaveLength(call.recordingsBefore + 1);
    expect(toneShare(heard(srs[1], 0, transferredAt - 500), USER_HZ)).toBeGreaterThan(0.8);
    expect(heard(srs[1], transferredAt + 300, transferredAt + 2300).length).toBeLessThan(160);
    expect(heard(srs[0], transferredAt + 300, transferredAt + 2300).length).toBeLessThan(160);
    await tb.idle();
  }, 30_000);

  /**
   * An inbound PSTN call to `toUser` answered by a phone behind the PBX (scenario `callee`, default
   * 'callee'); both parties play a tone; the first recording port of the call is pointed at two
   * RtpPeers (the recording server's streams). `during` runs while the call is up. The peers are
   * closed on return; what they received stays readable.
   */
  async function inboundCall(o: BehaviourCall) {
    const srs = [await rtpPeer(), await rtpPeer()] as const;
    const call = await tb.inboundCall({ ...o, tones: { callerHz: CALLER_HZ, userHz: USER_HZ, ms: o.callMs + 6000 } });
    const { uac, uas, trace, toB, callerRtp, userRtp, recordingsBefore } = call;
    let uacPending = true;
    const establish = (async () => {
      const deadline = performance.now() + o.callMs + 6000;
      while (performance.now() < deadline && uacPending) {
        const p = tb.h.recordings[recordingsBefore];
        if (p) return p.establish('127.0.0.1', [srs[0].port, srs[1].port]);
        await sleep(10);
      }
    })();
    if (o.during) await o.during({ toB, userRtp });
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    uacPending = false;
    await establish;
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    await tb.idle();
    tb.closeRtpPeers(); // stops their tones before a test's next call
    return { trace, callerRtp, userRtp, srs, rc, recordings: tb.h.recordings.slice(recordingsBefore) };
  }

  it('R-14/R-17 onDemand: nothing is recorded until the user keys *1 (RFC 4733); then the recording starts and the fork carries both parties', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'onDemand' } }));
    let keyedAt = 0;
    let recordingsAtKey = -1;
    const r = await inboundCall({
      toUser: ALICE,
      callMs: 4000,
      during: async ({ toB, userRtp }) => {
        await until(() => tb.h.dials.length > 0 && performance.now() - tb.h.dials.at(-1)!.at > 1500, '1.5 s after the user was dialled', 5000);
        recordingsAtKey = tb.h.recordings.filter((p) => p.calls.includes('start')).length;
        keyedAt = performance.now();
        await userRtp.sendDtmf('*', 100, toB);
        await userRtp.sendDtmf('1', 100, toB);
      },
    });
    // before *1: no recording started for this call
    expect(recordingsAtKey).toBe(tb.h.recordings.filter((p) => p.calls.includes('start')).length - 1);
    expect(r.recordings).toHaveLength(1);
    const port = r.recordings[0]!;
    expect(port.times[0]!).toBeGreaterThan(keyedAt);
    expect(port.started).toMatchObject({ mode: 'onDemand', direction: 'inbound-pstn' });
    expect(r.srs[0].packets().length).toBeGreaterThan(25);
    expect(r.srs[0].packets().every((p) => p.at > keyedAt)).toBe(true);
    expect(toneShare(heard(r.srs[0]), CALLER_HZ)).toBeGreaterThan(0.8);
    expect(toneShare(heard(r.srs[1]), USER_HZ)).toBeGreaterThan(0.8);
  }, 20_000);

  it('R-14/R-17 onDemand: a SIP INFO application/vnd.recording-control+json {"action":"start"} from the user starts the recording (200 to the INFO)', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'onDemand' } }));
    let startedBefore = -1;
    const r = await inboundCall({
      toUser: ALICE,
      callee: 'callee-info-start',
      calleePauseMs: 1500,
      callMs: 3500,
      during: async () => {
        await until(() => tb.h.dials.length > 0 && performance.now() - tb.h.dials.at(-1)!.at > 1000, '1 s after the user was dialled', 5000);
        startedBefore = tb.h.recordings.filter((p) => p.calls.includes('start')).length;
      },
    });
    expect(startedBefore).toBe(tb.h.recordings.filter((p) => p.calls.includes('start')).length - 1);
    expect(r.recordings).toHaveLength(1);
    expect(r.recordings[0]!.started).toMatchObject({ mode: 'onDemand' });
    expect(r.srs[1].packets().length).toBeGreaterThan(25);
    expect(toneShare(heard(r.srs[1]), USER_HZ)).toBeGreaterThan(0.8);
  }, 20_000);

  it('R-16: with the compliance announcement enabled the PSTN caller does not hear the user-level start announcement', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always', startStopAnnouncement: { pstn: true, internal: false } } }));
    const r = await inboundCall({ toUser: ALICE, callMs: 3500 });
    expect(r.trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    expect(r.trace.prompts.filter((p) => p.name === 'recording-started')).toHaveLength(0);
    const answeredAt = tb.h.dials.at(-1)!.at;
    // after answer the caller hears the user's voice only, no prompt energy
    const after = heard(r.callerRtp, answeredAt + 600, answeredAt + 3000);
    expect(after.length).toBeGreaterThan(8000);
    expect(toneShare(after, USER_HZ)).toBeGreaterThan(0.8);
  }, 25_000);

  it('R-16: with the compliance announcement disabled and startStopAnnouncement.pstn on, the PSTN caller hears the start announcement', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always', startStopAnnouncement: { pstn: true, internal: false } } }));
    const r = await inboundCall({ toUser: ALICE, callMs: 5000 });
    expect(r.trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(0);
    const started = r.trace.prompts.filter((p) => p.name === 'recording-started');
    expect(started.map((p) => p.leg)).toContain('a');
    const prompt = started.find((p) => p.leg === 'a')!;
    expect(prompt.reason).toBe('completed');
    // during the prompt the caller hears speech mixed over / instead of the user's pure tone
    const during = heard(r.callerRtp, prompt.startedAt! + 100, prompt.endedAt! - 100);
    expect(during.length).toBeGreaterThan(4000);
    expect(toneShare(during, USER_HZ)).toBeLessThan(0.7);
  }, 25_000);

  it('R-20: a call to a virtual line whose recording is enabled is recorded', async () => {
    setSnapshot(makeSnapshot({ lobby: { enabled: true, mode: 'always' } }));
    const r = await inboundCall({ toUser: '+15550009000', callMs: 2000 });
    expect(tb.h.dials.at(-1)!.uri).toContain('+15550009000');
    expect(r.recordings).toHaveLength(1);
    expect(r.recordings[0]!.started).toMatchObject({ direction: 'inbound-pstn', mode: 'always' });
    expect(toneShare(heard(r.srs[1]), USER_HZ)).toBeGreaterThan(0.8);
  }, 20_000);

  it('R-21: a call diverted to voicemail is recorded only when the user has recordVoicemail', async () => {
    const call = () => inboundCall({ toUser: '+15550008000', caller: 'caller-diverted', callerKeys: { diverted: ALICE }, callMs: 1500 });
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always', recordVoicemail: false } }));
    const without = await call();
    expect(without.recordings).toHaveLength(0);
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always', recordVoicemail: true } }));
    const withVm = await call();
    expect(withVm.recordings).toHaveLength(1);
    expect(withVm.srs[0].packets().length).toBeGreaterThan(10);
  }, 25_000);
  it('R-04: a call straight to an auto attendant gets the compliance announcement in the attendant\'s language', async () => {
    const base = makeSnapshot({ orgCompliance: { inboundPstn: true }, aliceLanguage: 'es-ES' });
    setSnapshot({ ...base, features: base.features.map((f) => (f.id === 'aa' ? { ...f, announcementLanguage: 'de-DE' } : f)) });
    const aa = base.features.find((f) => f.id === 'aa')!;
    const r = await inboundCall({ toUser: aa.numbers[0]!, callMs: 1000 });
    const compliance = r.trace.prompts.filter((p) => p.name === 'compliance');
    expect(compliance).toHaveLength(1);
    expect(compliance[0]).toMatchObject({ leg: 'a', reason: 'completed' });
    // the German prompt (not the organisation's en fallback nor the user's es) is what played and was heard
    const de = prompts.get('compliance', 'de');
    const en = prompts.get('compliance', 'en');
    expect(de.language).toBe('de');
    expect(Math.abs(de.durationMs - en.durationMs)).toBeGreaterThan(400);
    const played = compliance[0]!.endedAt! - compliance[0]!.startedAt!;
    expect(Math.abs(played - de.durationMs)).toBeLessThan(250);
    const during = heard(r.callerRtp, compliance[0]!.startedAt!, compliance[0]!.endedAt!);
    expect(during.length).toBeGreaterThan(de.pcm.length * 0.8);
    expect(meanSquare(during)).toBeGreaterThan(1e-4);
    expect(toneShare(during, USER_HZ)).toBeLessThan(0.1);
  }, 20_000);
});
