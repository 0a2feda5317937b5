import { describe, expect, it } from 'vitest';
import type { FailurePolicy, PolicySnapshot } from '../../../src/policy/policy-types.js';
import { readAudio } from '../../../src/sip/sdp-media.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };

function withPolicy(s: PolicySnapshot, failurePolicy: FailurePolicy): PolicySnapshot {
  return { ...s, providers: s.providers.map((p) => ({ ...p, failurePolicy })) };
}

const required = (): PolicySnapshot => withPolicy(makeSnapshot({ alice: always }), 'endCallWithAnnouncement');

describe('R-40 recording required, inbound PSTN: the caller is answered only after the recording server 200', () => {
  it('MUST NOT answer the PSTN caller until the recording is established, then connect and fork (R-40)', async () => {
    const t = setup(required());
    const invite = t.inbound(ALICE);
    await flush();
    expect(t.recording.ports).toHaveLength(0); // nothing before the user answers
    t.signaling.answer();
    await flush();
    const port = t.recording.ports[0]!;
    expect(port.calls).toEqual(['start']);
    expect(invite.answeredSdp).toBeUndefined();
    expect(invite.rejected).toBeUndefined();
    expect(t.manager.list()[0]!.state).toBe('securing-recording');
    t.clock.advance(4999);
    await flush();
    expect(invite.answeredSdp).toBeUndefined();
    port.establish();
    await flush();
    expect(invite.answeredSdp).toBeDefined();
    expect(t.media.sessions[0]!.fork!.targets.map((x) => x.port)).toEqual([40000, 40002]);
    expect(t.manager.list()[0]).toMatchObject({ state: 'connected', recording: { state: 'recording' } });
    expect(port.calls).toEqual(['start']); // started once, not again on answer
  });

  it('MUST play "recording stopped" as early media and end the call with leg A never answered when the recording server fails (R-40)', async () => {
    const t = setup(required());
    const invite = t.inbound(ALICE);
    await flush();
    const legB = t.signaling.answer();
    await flush();
    const media = t.media.sessions[0]!;
    media.holdPrompts = true;
    t.recording.ports[0]!.fail({ policy: 'endCallWithAnnouncement', phase: 'start', detail: 'no-recording-server' });
    await flush();
    // the caller got early media with our SDP and hears the prompt; nothing is ended yet
    const early = invite.progressSent.find((p) => p.status === 183 && p.sdp);
    expect(readAudio(early!.sdp!)).toMatchObject({ address: '127.0.0.1', port: 26000 });
    expect(media.prompts).toEqual([expect.objectContaining({ name: 'recording-stopped', target: 'both' })]);
    expect(invite.rejected).toBeUndefined();
    expect(legB.hangups).toBe(0);
    media.endPrompts();
    await flush();
    expect(invite.answeredSdp).toBeUndefined();
    expect(invite.legA).toBeUndefined();
    expect(invite.rejected).toBe(480);
    expect(legB.hangups).toBe(1);
    expect(media.fork).toBeUndefined();
    expect(media.closeCount).toBe(1);
    expect(t.manager.size).toBe(0);
  });

  it('MUST give up after recordingRequiredTimeoutMs without a 200, CANCEL the recording attempt and refuse the call (R-40)', async () => {
    const t = setup(required(), { recordingRequiredTimeoutMs: 2000 });
    const invite = t.inbound(ALICE);
    await flush();
    t.signaling.answer();
    await flush();
    const port = t.recording.ports[0]!;
    t.clock.advance(1999);
    await flush();
    expect(invite.rejected).toBeUndefined();
    t.clock.advance(1);
    await flush();
    expect(t.media.sessions[0]!.prompts.map((p) => p.name)).toEqual(['recording-stopped']);
    expect(port.calls).toContain('stop'); // the pending SIPREC INVITE is abandoned
    expect(invite.answeredSdp).toBeUndefined();
    expect(invite.rejected).toBe(480);
    expect(t.manager.size).toBe(0);
    port.establish(); // a late 200 starts nothing
    await flush();
    expect(t.media.sessions[0]!.fork).toBeUndefined();
  });

  it('MUST wait 5000 ms by default before giving up (R-40)', async () => {
    const t = setup(required());
    const invite = t.inbound(ALICE);
    await flush();
    t.signaling.answer();
    await flush();
    t.clock.advance(4999);
    await flush();
    expect(invite.rejected).toBeUndefined();
    t.clock.advance(1);
    await flush();
    expect(invite.rejected).toBe(480);
  });

  it('MUST end quietly when the caller CANCELs while the recording is being secured', async () => {
    const t = setup(required());
    const invite = t.inbound(ALICE);
    await flush();
    const legB = t.signaling.answer();
    await flush();
    invite.cancel();
    await flush();
    expect(t.media.sessions[0]!.prompts).toHaveLength(0);
    expect(legB.hangups).toBe(1);
    expect(t.recording.ports[0]!.calls).toContain('stop');
    expect(t.manager.size).toBe(0);
  });

  for (const policy of ['proceedWithoutAnnouncement', 'proceedWithAnnouncement'] as const) {
    it(`MUST answer the caller at once, never waiting for the recording server, with policy ${policy} (R-34)`, async () => {
      const t = setup(withPolicy(makeSnapshot({ alice: always }), policy));
      const invite = t.inbound(ALICE);
      await flush();
      t.signaling.answer();
      await flush();
      expect(invite.answeredSdp).toBeDefined();
      expect(t.manager.list()[0]).toMatchObject({ state: 'connected', recording: { state: 'starting' } });
    });
  }
});

describe('R-40 recording required, outbound PSTN: the PSTN callee is INVITEd only after the recording server 200', () => {
  it('MUST NOT INVITE the PSTN party before the recording is established, and fork only once it answers (R-40, R-14)', async () => {
    const t = setup(required());
    const invite = t.fromUser('alice@acme.example', '+15557770000');
    await flush();
    const port = t.recording.ports[0]!;
    expect(port.started).toMatchObject({ direction: 'outbound-pstn' });
    expect(t.signaling.dials).toHaveLength(0);
    expect(t.manager.list()[0]!.state).toBe('securing-recording');
    port.establish();
    await flush();
    expect(t.signaling.dials).toHaveLength(1);
    expect(t.signaling.dials[0]!.uri).toBe('sip:+15557770000@192.0.2.10');
    const media = t.media.sessions[0]!;
    expect(media.fork).toBeUndefined(); // nobody talks yet: the fork is held
    expect(invite.answeredSdp).toBeUndefined();
    t.signaling.answer();
    await flush();
    expect(invite.answeredSdp).toBeDefined();
    // the user is on leg A: label 2 (40002) is fed by leg A's stream
    expect(media.fork!.targets.map((x) => x.port)).toEqual([40002, 40000]);
    expect(t.manager.list()[0]).toMatchObject({ state: 'connected', recording: { state: 'recording' } });
  });

  it('MUST play "recording stopped" to the user as early media and never call the PSTN party when the recording fails (R-40)', async () => {
    const t = setup(required());
    const invite = t.fromUser('alice@acme.example', '+15557770000');
    await flush();
    t.recording.ports[0]!.fail({ policy: 'endCallWithAnnouncement', phase: 'start', detail: 'no-recording-server' });
    await flush();
    const early = invite.progressSent.find((p) => p.status === 183 && p.sdp);
    expect(readAudio(early!.sdp!)!.codecs.map((c) => c.name)).toEqual(['PCMU']);
    expect(t.media.sessions[0]!.prompts).toEqual([expect.objectContaining({ name: 'recording-stopped', target: 'a' })]);
    expect(invite.answeredSdp).toBeUndefined();
    expect(invite.rejected).toBe(480);
    expect(t.signaling.dials).toHaveLength(0);
    expect(t.manager.size).toBe(0);
  });

  it('MUST dial the PSTN party at once with policy proceedWithAnnouncement (R-34)', async () => {
    const t = setup(withPolicy(makeSnapshot({ alice: always }), 'proceedWithAnnouncement'));
    t.fromUser('alice@acme.example', '+15557770000');
    await flush();
    expect(t.signaling.dials).toHaveLength(1);
    expect(t.recording.ports).toHaveLength(0); // recording starts on answer
  });
});
