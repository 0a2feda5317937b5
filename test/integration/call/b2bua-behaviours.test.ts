/**
 * Call behaviours end to end over loopback (R-13, R-14/R-17 onDemand, R-16, R-19, R-20, R-21, R-04):
 * real SIPp parties (signalling), RtpPeer endpoints (their audio: each sends a tone and records what
 * it heard), the embedded engine, drachtio-srf, the media plane with the real prompts, and the call
 * layer with a fake recording port whose fork goes to two more RtpPeers (the recording server's
 * streams). What each party heard is checked spectrally (Goertzel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptLibrary } from '../../../src/media/audio/prompt-library.js';
import type { PolicySnapshot } from '../../../src/policy/policy-types.js';
import { startCallHarness, type CallHarness } from '../../support/call-harness.js';
import { waitFor } from '../../support/engine-harness.js';
import { heard, toneShare } from '../../support/audio-checks.js';
import { meanSquare } from '../../support/goertzel.js';
import { portBlock, type PortRange } from '../../support/ports.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { findMessages, scenarioPath, startSipp, type SippProcess } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';

// the upper half of this task's range 28000-29999 (the lower half is left to a media-plane range that reaches into it)
const BEHAVIOUR_PORTS: PortRange = { from: 29000, to: 29999 };
const ALICE = '+15550002001';
const CALLER_HZ = 1000;
const USER_HZ = 1500;
const TARGET_HZ = 700;

const block = portBlock(BEHAVIOUR_PORTS, 0, 500);
const [sipPort] = block.take(10);
const [rtpMin] = block.take(100);
const trunkPort = block.next(); // the carrier: calls in from here
const pbxPort = block.next(); // users' phones behind the PBX answer here
const targetPort = block.next(); // the transfer target's phone

const prompts = PromptLibrary.load('prompts', { languages: ['en', 'es', 'de'] });
let snapshot: PolicySnapshot = makeSnapshot();
let h: CallHarness;

function setSnapshot(s: PolicySnapshot): void {
  snapshot = { ...s, trunks: [{ ...s.trunks[0]!, sourceAddresses: [`127.0.0.1:${trunkPort}`] }] };
}

beforeAll(async () => {
  h = await startCallHarness({
    sipPort: sipPort!,
    rtpPortMin: rtpMin!,
    rtpPortMax: rtpMin! + 99,
    snapshots: () => [snapshot],
    options: {
      admission: { trustedSources: [`127.0.0.1:${pbxPort}`, `127.0.0.1:${targetPort}`] },
      routing: { userProxy: `sip:127.0.0.1:${pbxPort}` },
    },
  });
});

afterAll(async () => {
  await h?.close();
});

function party(scenario: string, port: number, keys: Record<string, string | number>, extra: { remote?: string; pauseMs?: number } = {}): SippProcess {
  return startSipp({
    scenario: scenarioPath(scenario, 'calls'),
    port,
    controlPort: block.next(),
    mediaPort: block.take(4)[0]!,
    keys: { supported: 'timer', ...keys },
    timeoutSec: 20,
    ...extra,
  });
}

interface InboundCall {
  readonly toUser: string;
  readonly callee?: string;
  readonly caller?: string;
  readonly calleeKeys?: Record<string, string | number>;
  readonly callerKeys?: Record<string, string | number>;
  /** The callee scenario's -d (e.g. before it sends INFO). */
  readonly calleePauseMs?: number;
  /** How long the caller stays after the ACK (-d). */
  readonly callMs: number;
  readonly during?: (ctx: { toB: { address: string; port: number }; userRtp: RtpPeer }) => Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('recording B2BUA call behaviours (SIPp + RTP peers)', () => {
  it('R-13: a REFER transfer replaces the transferor by the target; no second compliance announcement; the recording continues with a participant update', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' } }));
    const callerRtp = await RtpPeer.open(block.take(2)[0]!);
    const userRtp = await RtpPeer.open(block.take(2)[0]!);
    const targetRtp = await RtpPeer.open(block.take(2)[0]!);
    const srs = [await RtpPeer.open(block.take(2)[0]!), await RtpPeer.open(block.take(2)[0]!)] as const;
    try {
      const target = party('callee', targetPort, { rtp_port: targetRtp.port });
      await target.ready();
      const uas = party('callee-refer', pbxPort, { rtp_port: userRtp.port, target: `bob@127.0.0.1:${targetPort}` }, { pauseMs: 1500 });
      await uas.ready();
      const recordingsBefore = h.recordings.length;
      const uac = party('caller-reinvited', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: h.target, pauseMs: 2500 });
      const trace = await h.nextSession(h.sessions.length);
      const toA = { address: '127.0.0.1', port: trace.session.local.a.rtpPort };
      const toB = { address: '127.0.0.1', port: trace.session.local.b.rtpPort };
      void callerRtp.play(sine(CALLER_HZ, 15000), toA);
      void userRtp.play(sine(USER_HZ, 15000), toB);
      await waitFor(() => h.recordings.length > recordingsBefore, 'h.recordings.length > recordingsBefore', 10_000);
      const port = h.recordings.at(-1)!;
      port.establish('127.0.0.1', [srs[0].port, srs[1].port]);
      // the target answers the B2BUA's INVITE: from then on it talks into the same anchored side
      await waitFor(() => h.dials.length >= 2 && h.dials.at(-1)!.uri.includes(`:${targetPort}`), 'h.dials.length >= 2 && h.dials.at(-1)!.uri.includes(`:${targetPort}`)', 10_000);
      void targetRtp.play(sine(TARGET_HZ, 8000), toB);
      await waitFor(() => port.participantChanges.length > 0, 'port.participantChanges.length > 0', 5000);
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

      // the same recording session continues: a participant update, no stop until the end
      expect(port.participantChanges).toEqual([{ side: 'user', joining: { aor: `sip:bob@127.0.0.1:${targetPort}` } }]);
      expect(port.calls.filter((c) => c !== 'close')).toEqual(['start', 'stop']);
      const userStream = heard(srs[1], transferredAt + 300, transferredAt + 2300);
      expect(userStream.length).toBeGreaterThan(8000);
      expect(toneShare(userStream, TARGET_HZ)).toBeGreaterThan(0.8);
      expect(toneShare(heard(srs[0], transferredAt + 300, transferredAt + 2300), CALLER_HZ)).toBeGreaterThan(0.8);
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
    } finally {
      for (const p of [callerRtp, userRtp, targetRtp, ...srs]) p.close();
    }
  }, 30_000);

  /**
   * An inbound PSTN call to `toUser` answered by a phone behind the PBX (scenario `callee`, default
   * 'callee'); both parties play a tone; the first recording port of the call is pointed at two
   * RtpPeers (the recording server's streams). `during` runs while the call is up. The peers are
   * closed on return; what they received stays readable.
   */
  async function inboundCall(o: InboundCall) {
    const callerRtp = await RtpPeer.open(block.take(2)[0]!);
    const userRtp = await RtpPeer.open(block.take(2)[0]!);
    const srs = [await RtpPeer.open(block.take(2)[0]!), await RtpPeer.open(block.take(2)[0]!)] as const;
    const recordingsBefore = h.recordings.length;
    try {
      const uas = party(o.callee ?? 'callee', pbxPort, { rtp_port: userRtp.port, ...o.calleeKeys }, o.calleePauseMs === undefined ? {} : { pauseMs: o.calleePauseMs });
      await uas.ready();
      const uac = party(o.caller ?? 'caller', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: o.toUser, rtp_port: callerRtp.port, ...o.callerKeys }, { remote: h.target, pauseMs: o.callMs });
      const trace = await h.nextSession(h.sessions.length);
      const toA = { address: '127.0.0.1', port: trace.session.local.a.rtpPort };
      const toB = { address: '127.0.0.1', port: trace.session.local.b.rtpPort };
      void callerRtp.play(sine(CALLER_HZ, o.callMs + 6000), toA);
      void userRtp.play(sine(USER_HZ, o.callMs + 6000), toB);
      let uacPending = true;
      const establish = (async () => {
        const until = performance.now() + o.callMs + 6000;
        while (performance.now() < until && uacPending) {
          const p = h.recordings[recordingsBefore];
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
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
      return { trace, callerRtp, userRtp, srs, rc, recordings: h.recordings.slice(recordingsBefore) };
    } finally {
      for (const p of [callerRtp, userRtp, ...srs]) p.close();
    }
  }

  it('R-14/R-17 onDemand: nothing is recorded until the user keys *1 (RFC 4733); then the recording starts and the fork carries both parties', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'onDemand' } }));
    let keyedAt = 0;
    let recordingsAtKey = -1;
    const r = await inboundCall({
      toUser: ALICE,
      callMs: 4000,
      during: async ({ toB, userRtp }) => {
        await waitFor(() => h.dials.length > 0 && performance.now() - h.dials.at(-1)!.at > 1500, 'h.dials.length > 0 && performance.now() - h.dials.at(-1)!.at > 1500', 5000);
        recordingsAtKey = h.recordings.filter((p) => p.calls.includes('start')).length;
        keyedAt = performance.now();
        await userRtp.sendDtmf('*', 100, toB);
        await userRtp.sendDtmf('1', 100, toB);
      },
    });
    // before *1: no recording started for this call
    expect(recordingsAtKey).toBe(h.recordings.filter((p) => p.calls.includes('start')).length - 1);
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
        await waitFor(() => h.dials.length > 0 && performance.now() - h.dials.at(-1)!.at > 1000, 'h.dials.length > 0 && performance.now() - h.dials.at(-1)!.at > 1000', 5000);
        startedBefore = h.recordings.filter((p) => p.calls.includes('start')).length;
      },
    });
    expect(startedBefore).toBe(h.recordings.filter((p) => p.calls.includes('start')).length - 1);
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
    const answeredAt = h.dials.at(-1)!.at;
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
    expect(h.dials.at(-1)!.uri).toContain('+15550009000');
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
