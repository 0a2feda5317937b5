/**
 * The recording B2BUA end to end over loopback: real SIPp parties (signalling), RtpPeer endpoints
 * (their audio: each sends a tone and records what it hears), the embedded engine, drachtio-srf,
 * the media plane and the real prompts. What each party heard is checked spectrally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const CALL_PORTS: PortRange = { from: 25000, to: 29999 };
const ALICE = '+15550002001';
const CALLER_HZ = 1000;
const CALLEE_HZ = 1500;

const block = portBlock(CALL_PORTS, 0, 1000);
const [sipPort] = block.take(10);
const [rtpMin] = block.take(100);
const trunkPort = block.next(); // the carrier: calls in from here, outbound calls go here
const pbxPort = block.next(); // users' phones behind the PBX answer here
const phonePort = block.next(); // a user's phone calling out (trusted source)

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
      admission: { trustedSources: [`127.0.0.1:${phonePort}`, `127.0.0.1:${pbxPort}`] },
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
    timeoutSec: 15,
    ...extra,
  });
}

describe('recording B2BUA calls (SIPp + RTP peers)', () => {
  it('R-11: the PSTN caller hears the compliance announcement as early media before the callee is alerted, then both talk', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' }, aliceLanguage: 'es-ES' }));
    const callerRtp = await RtpPeer.open(block.take(2)[0]!);
    const calleeRtp = await RtpPeer.open(block.take(2)[0]!);
    try {
      const uas = party('callee', pbxPort, { rtp_port: calleeRtp.port });
      await uas.ready();
      const uac = party('caller', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: h.target, pauseMs: 2500 });
      const index = h.sessions.length;
      const trace = await h.nextSession(index);
      void callerRtp.play(sine(CALLER_HZ, 7000), { address: '127.0.0.1', port: trace.session.local.a.rtpPort });
      void calleeRtp.play(sine(CALLEE_HZ, 7000), { address: '127.0.0.1', port: trace.session.local.b.rtpPort });
      const [rc, rs] = await Promise.all([uac.done, uas.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);

      const early = findMessages(rc.messages, { direction: 'received', status: 183 });
      expect(early.length, rc.describe()).toBeGreaterThan(0);
      expect(early[0]!.text).toMatch(/m=audio \d+ RTP\/AVP 0/);
      const prompt = trace.prompts.find((p) => p.name === 'compliance');
      expect(prompt).toMatchObject({ leg: 'a', reason: 'completed' });
      const dial = h.dials.find((d) => d.at >= trace.createdAt)!;
      // the callee is INVITEd only after the prompt has played out
      expect(dial.at).toBeGreaterThanOrEqual(prompt!.endedAt!);
      // what the caller heard during the prompt: speech, not the callee's tone; afterwards the callee
      const duringPrompt = heard(callerRtp, prompt!.startedAt!, prompt!.endedAt!);
      expect(duringPrompt.length).toBeGreaterThan(8000);
      expect(meanSquare(duringPrompt)).toBeGreaterThan(1e-4);
      expect(toneShare(duringPrompt, CALLEE_HZ)).toBeLessThan(0.1);
      const afterAnswer = heard(callerRtp, dial.at + 600);
      expect(toneShare(afterAnswer, CALLEE_HZ)).toBeGreaterThan(0.8);
      // the callee heard the caller's tone and never the announcement (R-11: PSTN party only)
      const calleeHeard = heard(calleeRtp);
      expect(calleeHeard.length).toBeGreaterThan(8000);
      expect(toneShare(calleeHeard, CALLER_HZ)).toBeGreaterThan(0.8);
      // recording started on answer (fake recording server)
      expect(h.recordings.at(-1)!.started).toMatchObject({ direction: 'inbound-pstn', mode: 'always' });
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
    } finally {
      callerRtp.close();
      calleeRtp.close();
    }
  }, 25_000);

  it('R-11: a caller CANCEL during the compliance announcement ends everything; the callee is never alerted', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' } }));
    const callerRtp = await RtpPeer.open(block.take(2)[0]!);
    try {
      const dialsBefore = h.dials.length;
      const uac = party('caller-cancel-during-prompt', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: h.target, pauseMs: 600 });
      const r = await uac.done;
      expect(r.exitCode, r.describe()).toBe(0);
      expect(findMessages(r.messages, { direction: 'received', status: 487 })).toHaveLength(1);
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
      expect(h.dials.length).toBe(dialsBefore);
      const trace = h.sessions.at(-1)!;
      expect(trace.prompts.find((p) => p.name === 'compliance')?.reason).not.toBe('completed');
    } finally {
      callerRtp.close();
    }
  }, 20_000);

  it('R-12: on an outbound call the called PSTN party alone hears the announcement, delaySeconds after answer', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { outboundPstn: true, outboundDelay: true, delaySeconds: 1 }, alice: { enabled: true, mode: 'always' } }));
    const userRtp = await RtpPeer.open(block.take(2)[0]!);
    const pstnRtp = await RtpPeer.open(block.take(2)[0]!);
    try {
      const uas = party('callee', trunkPort, { rtp_port: pstnRtp.port });
      await uas.ready();
      const uac = party('caller', phonePort, { from_user: 'alice', from_host: 'acme.example', to_user: '+15557770000', rtp_port: userRtp.port }, { remote: h.target, pauseMs: 4500 });
      const index = h.sessions.length;
      const trace = await h.nextSession(index);
      void userRtp.play(sine(CALLER_HZ, 6000), { address: '127.0.0.1', port: trace.session.local.a.rtpPort });
      void pstnRtp.play(sine(CALLEE_HZ, 6000), { address: '127.0.0.1', port: trace.session.local.b.rtpPort });
      const [rc, rs] = await Promise.all([uac.done, uas.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);
      expect(findMessages(rc.messages, { direction: 'received', status: 183 })).toHaveLength(0);
      const answeredAt = h.dials.at(-1)!.at;
      const prompt = trace.prompts.find((p) => p.name === 'compliance')!;
      expect(prompt).toMatchObject({ leg: 'b', reason: 'completed' });
      expect(prompt.startedAt! - answeredAt).toBeGreaterThanOrEqual(1000);
      expect(trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
      const pstnDuring = heard(pstnRtp, prompt.startedAt! + 100, prompt.endedAt! - 100);
      expect(toneShare(pstnDuring, CALLER_HZ)).toBeLessThan(0.2);
      // the user kept hearing the PSTN party, never the prompt
      const userDuring = heard(userRtp, prompt.startedAt! + 100, prompt.endedAt! - 100);
      expect(toneShare(userDuring, CALLEE_HZ)).toBeGreaterThan(0.8);
      expect(h.recordings.at(-1)!.started).toMatchObject({ direction: 'outbound-pstn' });
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
    } finally {
      userRtp.close();
      pstnRtp.close();
    }
  }, 25_000);

  it('R-10: an internal call is anchored both ways without any announcement', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true, outboundPstn: true } }));
    const aRtp = await RtpPeer.open(block.take(2)[0]!);
    const bRtp = await RtpPeer.open(block.take(2)[0]!);
    try {
      const uas = party('callee', pbxPort, { rtp_port: bRtp.port });
      await uas.ready();
      const uac = party('caller', phonePort, { from_user: 'alice', from_host: 'acme.example', to_user: '2002', rtp_port: aRtp.port }, { remote: h.target, pauseMs: 1500 });
      const trace = await h.nextSession(h.sessions.length);
      void aRtp.play(sine(CALLER_HZ, 3000), { address: '127.0.0.1', port: trace.session.local.a.rtpPort });
      void bRtp.play(sine(CALLEE_HZ, 3000), { address: '127.0.0.1', port: trace.session.local.b.rtpPort });
      const [rc, rs] = await Promise.all([uac.done, uas.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);
      expect(h.dials.at(-1)!.uri).toBe(`sip:2002@127.0.0.1:${pbxPort}`);
      expect(trace.prompts).toHaveLength(0);
      expect(toneShare(heard(aRtp), CALLEE_HZ)).toBeGreaterThan(0.8);
      expect(toneShare(heard(bRtp), CALLER_HZ)).toBeGreaterThan(0.8);
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
    } finally {
      aRtp.close();
      bRtp.close();
    }
  }, 20_000);
  it('hold and unhold (re-INVITE sendonly / sendrecv) are relayed with our address; media and the recording fork keep running', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always' } }));
    const callerRtp = await RtpPeer.open(block.take(2)[0]!);
    const calleeRtp = await RtpPeer.open(block.take(2)[0]!);
    const srs = [await RtpPeer.open(block.take(2)[0]!), await RtpPeer.open(block.take(2)[0]!)] as const;
    try {
      const recordingsBefore = h.recordings.length; // before the call: its recording starts at answer
      const uas = party('callee-reinvite', pbxPort, { rtp_port: calleeRtp.port });
      await uas.ready();
      const uac = party('caller-hold', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: h.target, pauseMs: 1500 });
      const trace = await h.nextSession(h.sessions.length);
      void callerRtp.play(sine(CALLER_HZ, 6000), { address: '127.0.0.1', port: trace.session.local.a.rtpPort });
      void calleeRtp.play(sine(CALLEE_HZ, 6000), { address: '127.0.0.1', port: trace.session.local.b.rtpPort });
      await waitFor(() => h.recordings.length > recordingsBefore, 'h.recordings.length > recordingsBefore');
      const port = h.recordings.at(-1)!;
      port.establish('127.0.0.1', [srs[0].port, srs[1].port]);
      const [rc, rs] = await Promise.all([uac.done, uas.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);
      const reinvites = findMessages(rs.messages, { direction: 'received', method: 'INVITE' }).slice(1);
      expect(reinvites).toHaveLength(2);
      expect(reinvites[0]!.text).toContain(`m=audio ${trace.session.local.b.rtpPort} `);
      expect(reinvites[0]!.text).toMatch(/c=IN IP4 127\.0\.0\.1/);
      expect(reinvites[0]!.text).toContain('a=sendonly');
      // the recording was never stopped before the call ended, and the fork ran after unhold
      expect(port.calls).toEqual(['start', 'stop']);
      const unholdAt = port.times[1]! - 1500;
      for (const peer of srs) expect(peer.packets((p) => p.at > unholdAt && p.at < unholdAt + 1000).length).toBeGreaterThan(25);
      // after unhold both parties hear each other again
      expect(toneShare(heard(callerRtp, unholdAt, unholdAt + 1000), CALLEE_HZ)).toBeGreaterThan(0.8);
      expect(toneShare(heard(calleeRtp, unholdAt, unholdAt + 1000), CALLER_HZ)).toBeGreaterThan(0.8);
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
    } finally {
      for (const p of [callerRtp, calleeRtp, ...srs]) p.close();
    }
  }, 25_000);
  it('a caller CANCEL while the callee rings is propagated as CANCEL to the callee; nothing is left behind', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always' } }));
    const callerRtp = await RtpPeer.open(block.take(2)[0]!);
    try {
      const recordingsBefore = h.recordings.length;
      const uas = startSipp({ scenario: scenarioPath('uas-ring-wait-cancel', 'engine'), port: pbxPort, controlPort: block.next(), mediaPort: block.take(4)[0]!, timeoutSec: 15 });
      await uas.ready();
      const uac = party('caller-cancel-while-ringing', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: h.target, pauseMs: 300 });
      const [rc, rs] = await Promise.all([uac.done, uas.done]);
      expect(rc.exitCode, rc.describe()).toBe(0);
      expect(rs.exitCode, rs.describe()).toBe(0);
      expect(findMessages(rs.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
      await waitFor(() => h.manager.size === 0 && h.plane.sessionCount === 0, 'h.manager.size === 0 && h.plane.sessionCount === 0');
      expect(h.recordings.length).toBe(recordingsBefore); // never answered: never recorded
    } finally {
      callerRtp.close();
    }
  }, 20_000);
});
