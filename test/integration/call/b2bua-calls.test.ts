/**
 * The recording B2BUA end to end over loopback: real SIPp parties (signalling), RtpPeer endpoints
 * (their audio: each sends a tone and records what it hears), the embedded engine, drachtio-srf,
 * the media plane and the real prompts. What each party heard is checked spectrally.
 */
import { describe, expect, it } from 'vitest';
import { useCallTestbed } from '../../support/call-testbed.js';
import { heard, toneShare } from '../../support/audio-checks.js';
import { meanSquare } from '../../support/goertzel.js';
import { portBlock, type PortRange } from '../../support/ports.js';
import { findMessages, scenarioPath } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';

const CALL_PORTS: PortRange = { from: 25000, to: 29999 };
const ALICE = '+15550002001';
const CALLER_HZ = 1000;
const CALLEE_HZ = 1500;

// trunk: the carrier (calls in from here, outbound calls go here); pbx: users' phones behind the
// PBX answer here; phone: a user's phone calling out (trusted source)
const block = portBlock(CALL_PORTS, 0, 1000);
const tb = useCallTestbed(block, { parties: ['phone'], trusted: ['phone', 'pbx'], snapshot: makeSnapshot(), timeoutSec: 15 });
const { trunk: trunkPort, pbx: pbxPort, phone: phonePort } = tb.ports;
const { setSnapshot, party, rtpPeer } = tb;

describe('recording B2BUA calls (SIPp + RTP peers)', () => {
  it('R-11: the PSTN caller hears the compliance announcement as early media before the callee is alerted, then both talk', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' }, aliceLanguage: 'es-ES' }));
    const call = await tb.inboundCall({ toUser: ALICE, callMs: 2500, tones: { callerHz: CALLER_HZ, userHz: CALLEE_HZ, ms: 7000 } });
    const { uac, uas, trace, callerRtp, userRtp: calleeRtp } = call;
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);

    const early = findMessages(rc.messages, { direction: 'received', status: 183 });
    expect(early.length, rc.describe()).toBeGreaterThan(0);
    expect(early[0]!.text).toMatch(/m=audio \d+ RTP\/AVP 0/);
    const prompt = trace.prompts.find((p) => p.name === 'compliance');
    expect(prompt).toMatchObject({ leg: 'a', reason: 'completed' });
    const dial = tb.h.dials.find((d) => d.at >= trace.createdAt)!;
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
    expect(tb.h.recordings.at(-1)!.started).toMatchObject({ direction: 'inbound-pstn', mode: 'always' });
    await tb.idle();
  }, 25_000);

  it('R-11: a caller CANCEL during the compliance announcement ends everything; the callee is never alerted', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' } }));
    const callerRtp = await rtpPeer();
    const dialsBefore = tb.h.dials.length;
    const uac = party('caller-cancel-during-prompt', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: tb.h.target, pauseMs: 600 });
    const r = await uac.done;
    expect(r.exitCode, r.describe()).toBe(0);
    expect(findMessages(r.messages, { direction: 'received', status: 487 })).toHaveLength(1);
    await tb.idle();
    expect(tb.h.dials.length).toBe(dialsBefore);
    const trace = tb.h.sessions.at(-1)!;
    expect(trace.prompts.find((p) => p.name === 'compliance')?.reason).not.toBe('completed');
  }, 20_000);

  it('R-12: on an outbound call the called PSTN party alone hears the announcement, delaySeconds after answer', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { outboundPstn: true, outboundDelay: true, delaySeconds: 1 }, alice: { enabled: true, mode: 'always' } }));
    const userRtp = await rtpPeer();
    const pstnRtp = await rtpPeer();
    const uas = party('callee', trunkPort, { rtp_port: pstnRtp.port });
    await uas.ready();
    const uac = party('caller', phonePort, { from_user: 'alice', from_host: 'acme.example', to_user: '+15557770000', rtp_port: userRtp.port }, { remote: tb.h.target, pauseMs: 4500 });
    const { trace, toA, toB } = await tb.nextCall();
    void userRtp.play(sine(CALLER_HZ, 6000), toA);
    void pstnRtp.play(sine(CALLEE_HZ, 6000), toB);
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    expect(findMessages(rc.messages, { direction: 'received', status: 183 })).toHaveLength(0);
    const answeredAt = tb.h.dials.at(-1)!.at;
    const prompt = trace.prompts.find((p) => p.name === 'compliance')!;
    expect(prompt).toMatchObject({ leg: 'b', reason: 'completed' });
    expect(prompt.startedAt! - answeredAt).toBeGreaterThanOrEqual(1000);
    expect(trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    const pstnDuring = heard(pstnRtp, prompt.startedAt! + 100, prompt.endedAt! - 100);
    expect(toneShare(pstnDuring, CALLER_HZ)).toBeLessThan(0.2);
    // the user kept hearing the PSTN party, never the prompt
    const userDuring = heard(userRtp, prompt.startedAt! + 100, prompt.endedAt! - 100);
    expect(toneShare(userDuring, CALLEE_HZ)).toBeGreaterThan(0.8);
    expect(tb.h.recordings.at(-1)!.started).toMatchObject({ direction: 'outbound-pstn' });
    await tb.idle();
  }, 25_000);

  it('R-10: an internal call is anchored both ways without any announcement', async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true, outboundPstn: true } }));
    const aRtp = await rtpPeer();
    const bRtp = await rtpPeer();
    const uas = party('callee', pbxPort, { rtp_port: bRtp.port });
    await uas.ready();
    const uac = party('caller', phonePort, { from_user: 'alice', from_host: 'acme.example', to_user: '2002', rtp_port: aRtp.port }, { remote: tb.h.target, pauseMs: 1500 });
    const { trace, toA, toB } = await tb.nextCall();
    void aRtp.play(sine(CALLER_HZ, 3000), toA);
    void bRtp.play(sine(CALLEE_HZ, 3000), toB);
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    expect(tb.h.dials.at(-1)!.uri).toBe(`sip:2002@127.0.0.1:${pbxPort}`);
    expect(trace.prompts).toHaveLength(0);
    expect(toneShare(heard(aRtp), CALLEE_HZ)).toBeGreaterThan(0.8);
    expect(toneShare(heard(bRtp), CALLER_HZ)).toBeGreaterThan(0.8);
    await tb.idle();
  }, 20_000);
  it('hold and unhold (re-INVITE sendonly / sendrecv) are relayed with our address; media and the recording fork keep running', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always' } }));
    // recordingsBefore is counted before the call: its recording starts at answer
    const call = await tb.inboundCall({ toUser: ALICE, caller: 'caller-hold', callee: 'callee-reinvite', callMs: 1500, tones: { callerHz: CALLER_HZ, userHz: CALLEE_HZ, ms: 6000 } });
    const { uac, uas, trace, callerRtp, userRtp: calleeRtp } = call;
    const { port, srs } = await tb.recordingFork(call.recordingsBefore);
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
    await tb.idle();
  }, 25_000);
  it('a caller CANCEL while the callee rings is propagated as CANCEL to the callee; nothing is left behind', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'always' } }));
    const callerRtp = await rtpPeer();
    const recordingsBefore = tb.h.recordings.length;
    const uas = tb.sipp({ scenario: scenarioPath('uas-ring-wait-cancel', 'engine'), port: pbxPort });
    await uas.ready();
    const uac = party('caller-cancel-while-ringing', trunkPort, { from_user: '+15559990000', from_host: '127.0.0.1', to_user: ALICE, rtp_port: callerRtp.port }, { remote: tb.h.target, pauseMs: 300 });
    const [rc, rs] = await Promise.all([uac.done, uas.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(rs.exitCode, rs.describe()).toBe(0);
    expect(findMessages(rs.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
    await tb.idle();
    expect(tb.h.recordings.length).toBe(recordingsBefore); // never answered: never recorded
  }, 20_000);
});
