/**
 * INVITE with Replaces (RFC 3891, R-13) and the recording indication a=record (RFC 7866 section
 * 6.5, R-31) end to end over loopback: real SIPp parties (signalling), RtpPeer endpoints (their
 * audio: each sends a tone and records what it heard), the embedded engine, drachtio-srf, the media
 * plane with the real prompts, and the call layer with a fake recording port whose fork goes to two
 * more RtpPeers (the recording server's streams). What each party heard is checked spectrally.
 *
 * The party that sends the Replaces INVITE learns leg B's dialog (Call-ID and both tags) from the
 * callee SIPp's message trace while the call is up (SIPp writes each message to -message_file as it
 * goes), as a phone learns it from the REFER of an attended transfer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { heard, toneShare } from '../../support/audio-checks.js';
import { useCallTestbed } from '../../support/call-testbed.js';
import { portBlock, type PortRange } from '../../support/ports.js';
import { findMessages, headerOf, parseSippMessages, type SippMessage, type SippProcess } from '../../support/sipp.js';
import { sine } from '../../support/tone-source.js';
import { makeSnapshot } from '../../unit/policy/snapshot-builder.js';
import { sleep, until } from '../../support/wait.js';

const REPLACES_RECORD_PORTS: PortRange = { from: 28000, to: 28499 };
const ALICE = '+15550002001';
/** bob's number: the phone that takes alice's place says it is bob. */
const BOB = '+15550002002';
const CALLER_HZ = 1000;
const USER_HZ = 1500;
const REPLACER_HZ = 700;

// trunk: the carrier (calls in from here, outbound calls go here); pbx: users' phones behind the
// PBX (answer here, call from here); replacer: the phone that sends the INVITE with Replaces;
// stray: Replaces INVITEs naming no live dialog
const block = portBlock(REPLACES_RECORD_PORTS, 0, 500);
const tb = useCallTestbed(block, { parties: ['replacer', 'stray'], trusted: ['pbx'], snapshot: makeSnapshot() });
const { trunk: trunkPort, pbx: pbxPort, replacer: replacerPort, stray: strayPort } = tb.ports;
const { setSnapshot, party, rtpPeer } = tb;

/** The messages a running SIPp has traced so far (its -message_file, written as it goes). */
function messagesSoFar(p: SippProcess): SippMessage[] {
  const file = p.args[p.args.indexOf('-message_file') + 1];
  return file && existsSync(file) ? parseSippMessages(readFileSync(file, 'utf8')) : [];
}

/** The `a=record` value of a message's SDP body, or undefined when it has none. */
function recordOf(m: SippMessage): string | undefined {
  return /^a=record:(\w+)\s*$/m.exec(m.text)?.[1];
}

function tagOf(header: string | undefined): string {
  const tag = /;\s*tag=([^;>\s]+)/i.exec(header ?? '')?.[1];
  if (!tag) throw new Error(`no tag in ${header}`);
  return tag;
}

/** The live call's id (one call at a time in this file). */
function liveCallId(): string {
  const calls = tb.h.manager.list();
  expect(calls).toHaveLength(1);
  return calls[0]!.id;
}

/** Waits until the live call's recording is established (the fake recording server answered). */
async function recordingEstablished(): Promise<void> {
  await until(() => tb.h.manager.list()[0]?.recording.state === 'recording', 'the recording to be established', 5000);
}

/** Waits until `p` has answered `count` INVITEs (initial + re-INVITEs) and received as many ACKs. */
async function answeredInvites(p: SippProcess, count: number, what: string): Promise<void> {
  await until(
    () => {
      const m = messagesSoFar(p);
      return findMessages(m, { direction: 'received', method: 'INVITE' }).length >= count && findMessages(m, { direction: 'received', method: 'ACK' }).length >= count;
    },
    what,
    5000,
  );
}

describe('recording B2BUA: INVITE with Replaces and the a=record indication (SIPp + RTP peers)', () => {
  it("R-13: an INVITE with Replaces naming leg B takes the user's place (RFC 3891): BYE to the replaced phone, no second compliance announcement, audio both ways; alice's recording ends and bob, who records too, gets his own (R-10); 481 for a dialog that does not exist", async () => {
    setSnapshot(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' }, bob: { enabled: true, mode: 'always' } }));
    const bobRtp = await rtpPeer();
    const call = await tb.inboundCall({ toUser: ALICE, caller: 'caller-reinvited', callMs: 3000, tones: { callerHz: CALLER_HZ, userHz: USER_HZ, ms: 15000 } });
    const { uac: carrier, uas: alice, trace, toB, callerRtp } = call;
    const { port, srs } = await tb.recordingFork(call.recordingsBefore, 10_000);

    // leg B's dialog as alice's phone sees it: the 200 it sent carries the Call-ID, the B2BUA's
    // tag (From: the B2BUA is the UAC of leg B) and alice's own tag (To)
    await until(() => findMessages(messagesSoFar(alice), { direction: 'sent', status: 200, cseqMethod: 'INVITE' }).length > 0, 'alice to answer', 10_000);
    const ok = findMessages(messagesSoFar(alice), { direction: 'sent', status: 200, cseqMethod: 'INVITE' })[0]!;
    const legB = { callId: ok.callId!, b2buaTag: tagOf(headerOf(ok.text, 'From', 'f')), aliceTag: tagOf(headerOf(ok.text, 'To', 't')) };
    await sleep(500); // carrier and alice talk a little

    // a Replaces naming no live dialog: 481 (RFC 3891 section 3), the call goes on untouched
    const stray = await party('replacer', strayPort, {
      from_user: 'mallory',
      to_user: ALICE,
      rtp_port: block.take(2)[0]!,
      replaces_call_id: `no-such-dialog-${legB.callId}`,
      replaces_to_tag: legB.b2buaTag,
      replaces_from_tag: legB.aliceTag,
    }, { remote: tb.h.target }).done;
    expect(stray.exitCode, stray.describe()).toBe(0);
    expect(findMessages(stray.messages, { direction: 'received', status: 481 })).toHaveLength(1);
    expect(findMessages(stray.messages, { direction: 'received', status: 200 })).toHaveLength(0);
    expect(tb.h.manager.size).toBe(1);

    // RFC 3891 section 3: to-tag is matched against the recipient's (the B2BUA's) local tag,
    // from-tag against the remote one (alice's)
    const bob = party(
      'replacer',
      replacerPort,
      { from_user: BOB, to_user: ALICE, rtp_port: bobRtp.port, supported: 'record-aware', replaces_call_id: legB.callId, replaces_to_tag: legB.b2buaTag, replaces_from_tag: legB.aliceTag },
      { remote: tb.h.target },
    );
    void bobRtp.play(sine(REPLACER_HZ, 8000), toB);
    // alice's leg was taken over: her recording ends; bob records his calls, so his own recording starts
    const bobRecording = await tb.recordingFork(call.recordingsBefore + 1, 5000);
    const replacedAt = performance.now();
    const [rc, ra, rb] = await Promise.all([carrier.done, alice.done, bob.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(ra.exitCode, ra.describe()).toBe(0);
    expect(rb.exitCode, rb.describe()).toBe(0);

    // SIP: bob's INVITE answered 200; alice's dialog ended by the B2BUA's BYE; the carrier was
    // re-offered (the new party's media) and later hung up, which BYEd bob
    expect(findMessages(rb.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })).toHaveLength(1);
    expect(findMessages(ra.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    expect(findMessages(rc.messages, { direction: 'received', method: 'INVITE' })).toHaveLength(1);
    expect(findMessages(rb.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    // R-31 stays on: the record-aware new party is told in our answer; the others never see a=record
    expect(recordOf(findMessages(rb.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!)).toBe('on');
    expect(rc.messages.filter((m) => m.direction === 'received').map(recordOf).filter(Boolean)).toEqual([]);
    expect(ra.messages.filter((m) => m.direction === 'received').map(recordOf).filter(Boolean)).toEqual([]);

    // the compliance announcement played once (before answer), never again
    expect(trace.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    expect(trace.prompts.every((p) => p.startedAt! < replacedAt - 500)).toBe(true);
    // the carrier hears the new party (no prompt, no alice); the new party hears the carrier
    const after = heard(callerRtp, replacedAt + 300, replacedAt + 2300);
    expect(after.length).toBeGreaterThan(8000);
    expect(toneShare(after, REPLACER_HZ)).toBeGreaterThan(0.8);
    expect(toneShare(heard(bobRtp), CALLER_HZ)).toBeGreaterThan(0.8);

    // alice's recording stopped at the takeover (its fork with it); bob's carries the rest: label 2 his voice
    expect(port.participantChanges).toEqual([]);
    expect(port.calls.filter((c) => c !== 'close')).toEqual(['start', 'stop']);
    expect(heard(srs[1], replacedAt + 300, replacedAt + 2300).length).toBeLessThan(160);
    expect(bobRecording.port.started).toMatchObject({ direction: 'inbound-pstn', user: { aor: 'sip:bob@acme.example' }, other: { aor: 'tel:+15559990000' } });
    const userStream = heard(bobRecording.srs[1], replacedAt + 300, replacedAt + 2300);
    expect(userStream.length).toBeGreaterThan(8000);
    expect(toneShare(userStream, REPLACER_HZ)).toBeGreaterThan(0.8);
    expect(toneShare(heard(bobRecording.srs[0], replacedAt + 300, replacedAt + 2300), CALLER_HZ)).toBeGreaterThan(0.8);
    await tb.idle();
  }, 30_000);

  it('R-31: a record-aware callee (Supported: record-aware) is told a=record:on once recording starts and a=record:paused / a=record:on by re-INVITE on pause and resume; the carrier without record-aware never sees a=record', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'alwaysWithPauseResume' } }));
    const call = await tb.inboundCall({ toUser: ALICE, callee: 'callee-record-aware', calleeKeys: { supported: 'record-aware' }, callMs: 4000 });
    const { uac: carrier, uas: alice } = call;
    const port = await tb.nextRecording(call.recordingsBefore);
    port.establish();
    await recordingEstablished();
    await answeredInvites(alice, 2, 'the a=record:on re-INVITE');
    const id = liveCallId();
    expect(await tb.h.manager.control(id, 'pause')).toMatchObject({ ok: true, state: 'paused' });
    await answeredInvites(alice, 3, 'the a=record:paused re-INVITE');
    expect(await tb.h.manager.control(id, 'resume')).toMatchObject({ ok: true, state: 'recording' });
    await answeredInvites(alice, 4, 'the a=record:on re-INVITE after resume');
    const [rc, ra] = await Promise.all([carrier.done, alice.done]);
    expect(rc.exitCode, rc.describe()).toBe(0);
    expect(ra.exitCode, ra.describe()).toBe(0);

    const invites = findMessages(ra.messages, { direction: 'received', method: 'INVITE' });
    // the first offer goes out before we know alice is record-aware (her 200 says so)
    expect(invites.map(recordOf)).toEqual([undefined, 'on', 'paused', 'on']);
    expect(new Set(invites.map((m) => m.callId)).size).toBe(1);
    expect(rc.messages.filter((m) => m.direction === 'received').map(recordOf).filter(Boolean)).toEqual([]);
    expect(port.calls.filter((c) => c !== 'close')).toEqual(['start', 'pause', 'resume', 'stop']);
    await tb.idle();
  }, 25_000);

  it('R-31: a record-aware calling phone gets a=record:off in our answer (onDemand, not yet recording), then on / paused / on / off by re-INVITE as the user starts, pauses, resumes and stops; the PSTN callee without record-aware never sees a=record', async () => {
    setSnapshot(makeSnapshot({ alice: { enabled: true, mode: 'onDemand' } }));
    const aliceRtp = await rtpPeer();
    const pstnRtp = await rtpPeer();
    const pstn = party('callee', trunkPort, { rtp_port: pstnRtp.port });
    await pstn.ready();
    const recordingsBefore = tb.h.recordings.length;
    const alice = party('caller-record-aware', pbxPort, { from_user: 'alice', from_host: 'acme.example', to_user: '+15557770000', rtp_port: aliceRtp.port, supported: 'record-aware' }, { remote: tb.h.target });
    await until(() => findMessages(messagesSoFar(alice), { direction: 'sent', method: 'ACK' }).length > 0, 'alice to be connected', 5000);
    // her ACK is on the wire; the call is connected once the B2BUA has taken it
    await until(() => tb.h.manager.list()[0]?.state === 'connected', 'the call to be connected', 5000);
    const id = liveCallId();
    expect(await tb.h.manager.control(id, 'start')).toMatchObject({ ok: true });
    (await tb.nextRecording(recordingsBefore)).establish();
    await recordingEstablished();
    await answeredInvites(alice, 1, 'the a=record:on re-INVITE');
    for (const [action, n] of [['pause', 2], ['resume', 3], ['stop', 4]] as const) {
      expect(await tb.h.manager.control(id, action)).toMatchObject({ ok: true });
      await answeredInvites(alice, n, `the re-INVITE after ${action}`);
    }
    await tb.h.manager.get(id)!.hangup('admin-hangup');
    const [ra, rp] = await Promise.all([alice.done, pstn.done]);
    expect(ra.exitCode, ra.describe()).toBe(0);
    expect(rp.exitCode, rp.describe()).toBe(0);

    const answer = findMessages(ra.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' });
    expect(answer.map(recordOf)).toEqual(['off']);
    expect(findMessages(ra.messages, { direction: 'received', method: 'INVITE' }).map(recordOf)).toEqual(['on', 'paused', 'on', 'off']);
    expect(rp.messages.filter((m) => m.direction === 'received').map(recordOf).filter(Boolean)).toEqual([]);
    expect(findMessages(rp.messages, { direction: 'received', method: 'INVITE' })).toHaveLength(1);
    await tb.idle();
  }, 25_000);
});
