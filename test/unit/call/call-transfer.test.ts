import { describe, expect, it } from 'vitest';
import { referTarget } from '../../../src/call/tasks/transfer.js';
import { readAudio } from '../../../src/sip/sdp-media.js';
import { FakeInvite, fakeRequest, sdpOffer } from '../../fakes/fake-legs.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';

async function connectedInboundCall() {
  const t = setup(makeSnapshot({ orgCompliance: { inboundPstn: true }, alice: { enabled: true, mode: 'always' } }));
  return { t, ...(await connectedInbound(t, ALICE)) };
}

describe('R-13 transfer: the call continues, no second announcement', () => {
  it('MUST perform a REFER itself: 202, NOTIFY 100/200, new leg on the same local port, old leg released', async () => {
    const { t, invite, legB, media } = await connectedInboundCall();
    const refer = fakeRequest('REFER', '', undefined, { 'Refer-To': '<sip:+15550002002@10.0.0.5>' });
    legB.emit('refer', refer);
    await flush();
    expect(refer.responses[0]!.status).toBe(202);
    const dial = t.signaling.dials[1]!;
    expect(dial.uri).toBe('sip:+15550002002@10.0.0.5');
    expect(dial.options.from).toBe('<sip:+15559990000@192.0.2.10>');
    expect(readAudio(dial.options.sdp)!.port).toBe(26002); // leg B's anchored port is reused
    const newB = t.signaling.answer({ port: 32000, sdp: sdpOffer(32000, { address: '198.51.100.8', codecs: '0 101' }) });
    await flush();
    expect(legB.requests.map((r) => r.body)).toEqual(['SIP/2.0 100 Trying\r\n', 'SIP/2.0 200 OK\r\n']);
    expect(legB.hangups).toBe(1);
    expect(media.remotes.at(-1)).toMatchObject({ leg: 'a' });
    expect(media.remotes.some((r) => r.leg === 'b' && r.remote.port === 32000)).toBe(true);
    expect(invite.legA!.reinvites).toHaveLength(1); // the caller follows the new party (e.g. off hold)
    // alice (the recorded user) transferred the call away and left: her recording ended; bob does not record
    expect(t.recording.ports[0]!.calls).toEqual(['start', 'stop']);
    expect(t.recording.ports[0]!.participantChanges).toEqual([]);
    expect(media.prompts.filter((p) => p.name === 'compliance')).toHaveLength(1);
    expect(t.recording.ports).toHaveLength(1);
    // the transferor's own BYE no longer ends the call; the new party's does
    legB.emit('bye', 'BYE');
    await flush();
    expect(t.manager.list()[0]!.state).toBe('connected');
    newB.emit('bye', 'BYE');
    await flush();
    expect(t.manager.size).toBe(0);
    expect(invite.legA!.hangups).toBe(1);
  });

  it('MUST keep the call as it was when the transfer target refuses (NOTIFY with the failure)', async () => {
    const { t, legB } = await connectedInboundCall();
    legB.emit('refer', fakeRequest('REFER', '', undefined, { 'Refer-To': '<sip:busy@10.0.0.5>' }));
    await flush();
    t.signaling.dials[1]!.resolve({ ok: false, status: 486, reason: 'Busy Here', cancelled: false });
    await flush();
    expect(legB.requests.at(-1)!.body).toBe('SIP/2.0 486 Busy Here\r\n');
    expect(legB.hangups).toBe(0);
    expect(t.manager.list()[0]!.state).toBe('connected');
  });

  it('MUST let an INVITE with Replaces take over the named leg (RFC 3891: Call-ID, to-tag = our tag, from-tag = theirs), 481 when no dialog matches, 486 for early-only', async () => {
    const { t, invite, legB, media } = await connectedInboundCall();
    const replacesOf = (value: string, callId: string): FakeInvite =>
      new FakeInvite({ from: '<sip:carol@acme.example>;tag=z', to: '<sip:+15559990000@b2bua>', source: '10.0.0.5', sdp: sdpOffer(33000), headers: { Replaces: value }, callId });
    // the right Call-ID with the tags swapped or wrong is no match (RFC 3891 section 3)
    for (const [i, value] of ['call-b;to-tag=remote-b;from-tag=local-b', 'call-b;to-tag=local-b;from-tag=x', 'call-b;to-tag=local-b', 'call-b'].entries()) {
      const wrong = replacesOf(value, `wrong-${i}`);
      t.signaling.deliver(wrong);
      await flush();
      expect(wrong.rejected, value).toBe(481);
    }
    const early = replacesOf('call-b;to-tag=local-b;from-tag=remote-b;early-only', 'early-1');
    t.signaling.deliver(early);
    await flush();
    expect(early.rejected).toBe(486);
    expect(legB.hangups).toBe(0);
    const replacing = replacesOf('call-b;to-tag=local-b;from-tag=remote-b', 'replacing-1');
    t.signaling.deliver(replacing);
    await flush();
    expect(invite.legA!.reinvites).toHaveLength(1);
    expect(readAudio(replacing.answeredSdp!)!.port).toBe(26002);
    expect(legB.hangups).toBe(1);
    expect(media.remotes.some((r) => r.leg === 'b' && r.remote.port === 33000)).toBe(true);
    expect(t.recording.ports[0]!.calls).toEqual(['start', 'stop']); // alice's leg was taken over: her recording ended
    const stray = new FakeInvite({ from: '<sip:x@y>', to: '<sip:z@w>', headers: { Replaces: 'nope;to-tag=1;from-tag=2' } });
    t.signaling.deliver(stray);
    await flush();
    expect(stray.rejected).toBe(481);
  });

  it('R-31: a REFER target is offered no a=record (its support is unknown), then told a=record:on by re-INVITE when its answer says record-aware', async () => {
    // bob records too: after alice's transfer to him the call is still recorded (his recording)
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'always' }, bob: { enabled: true, mode: 'always' } }));
    const { legB } = await connectedInbound(t, ALICE, { answer: { recordAware: true } });
    expect(readAudio(legB.reinvites.at(-1)!)!.recordIndication).toBe('on');
    const refer = fakeRequest('REFER', '', undefined, { 'Refer-To': '<sip:+15550002002@10.0.0.5>' });
    legB.emit('refer', refer);
    await flush();
    const dial = t.signaling.dials[1]!;
    expect(readAudio(dial.options.sdp)!.recordIndication).toBeUndefined();
    const target = t.signaling.answer({ port: 32000, recordAware: true, sdp: sdpOffer(32000, { address: '198.51.100.8', codecs: '0 101' }) });
    await flush();
    expect(target.reinvites).toHaveLength(1);
    expect(readAudio(target.reinvites[0]!)!.recordIndication).toBe('on');
    expect(t.recording.ports.map((p) => p.started!.user.aor)).toEqual(['sip:alice@acme.example', 'sip:bob@acme.example']);
  });

  it('reads Refer-To with an embedded Replaces (attended transfer)', () => {
    expect(referTarget('<sip:bob@pbx?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>')).toEqual({ uri: 'sip:bob@pbx', headers: { Replaces: 'abc;to-tag=1;from-tag=2' } });
    expect(referTarget('tel:+1555')).toBeUndefined();
    expect(referTarget(undefined)).toBeUndefined();
    // a broken %-escape from the network never throws: the target stands, without Replaces
    expect(referTarget('<sip:bob@pbx?Replaces=abc%4G%3B>')).toEqual({ uri: 'sip:bob@pbx', headers: {} });
  });
});
