import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAudio } from '../../../src/sip/sdp-media.js';
import { fakeRequest, sdpOffer } from '../../fakes/fake-legs.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { connectedInbound, flush, setup } from './call-harness-unit.js';

const ALICE = '+15550002001';
const always = { enabled: true, mode: 'always' as const };
const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url), 'utf8');

/** The Warning header of a 488 (RFC 3261 section 20.43): warn-code, our host as warn-agent, the RFC's text. */
const WARNING = {
  304: 'b2bua.example "Media type not available"',
  305: 'b2bua.example "Incompatible media format"',
  302: 'b2bua.example "Incompatible transport protocol"',
} as const;

const disabledAudio = sdpOffer(30000).replace('m=audio 30000', 'm=audio 0');
const videoOnly = sdpOffer(30000).replace(/m=audio 30000 RTP\/AVP 0 8 101\r\n(a=rtpmap:[^\r]*\r\n)+/, 'm=video 30002 RTP/AVP 31\r\na=rtpmap:31 H261/90000\r\n');
const noCodec = sdpOffer(30000, { codecs: '101' });

describe('CallSession: an offer we cannot anchor gets 488 with a Warning, never 500 (RFC 3261 sections 20.43, 21.4.26)', () => {
  const cases = [
    { name: 'm=audio 0', sdp: disabledAudio, warning: `304 ${WARNING[304]}` },
    { name: 'no audio stream (video only)', sdp: videoOnly, warning: `304 ${WARNING[304]}` },
    { name: 'no codec we can relay (telephone-event only)', sdp: noCodec, warning: `305 ${WARNING[305]}` },
    { name: 'DTLS-SRTP (WebRTC) with no RTP/AVP alternative', sdp: fixture('webrtc-dtls-offer.sdp'), warning: `302 ${WARNING[302]}` },
  ];
  for (const c of cases) {
    it(`MUST answer an initial INVITE from a trunk with ${c.name} 488 + Warning, open no media session and dial nobody`, async () => {
      const t = setup(makeSnapshot({ alice: always }));
      const invite = t.inbound(ALICE, { sdp: c.sdp });
      await flush();
      expect(invite.rejected).toBe(488);
      expect(invite.rejectHeaders).toEqual({ Warning: c.warning });
      expect(t.media.sessions).toHaveLength(0);
      expect(t.signaling.dials).toHaveLength(0);
      expect(t.manager.size).toBe(0);
    });
  }

  it('MUST answer a user agent (trusted PBX source) with m=audio 0 the same way', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.fromUser(`${ALICE}@10.0.0.5`, '+15551230000', { sdp: disabledAudio });
    await flush();
    expect(invite.rejected).toBe(488);
    expect(invite.rejectHeaders).toEqual({ Warning: `304 ${WARNING[304]}` });
  });

  it('MUST answer 488 / 305 and BYE the callee when its answer has no codec in common with the offer', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE, { sdp: sdpOffer(30000, { codecs: '0 101' }) });
    await flush();
    // a broken callee answers a codec we never offered
    const legB = t.signaling.answer({ sdp: sdpOffer(31000, { codecs: '18 101', address: '198.51.100.7' }) });
    await flush();
    expect(invite.rejected).toBe(488);
    expect(invite.rejectHeaders).toEqual({ Warning: `305 ${WARNING[305]}` });
    expect(legB.hangups).toBeGreaterThan(0); // Leg.hangup is idempotent: one BYE
    expect(t.media.sessions[0]!.closeCount).toBe(1);
  });

  it('MUST answer 488 / 304 and BYE the callee when it answers with m=audio 0', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE);
    await flush();
    const legB = t.signaling.answer({ sdp: sdpOffer(31000, { codecs: '0 101' }).replace('m=audio 31000', 'm=audio 0') });
    await flush();
    expect(invite.rejected).toBe(488);
    expect(invite.rejectHeaders).toEqual({ Warning: `304 ${WARNING[304]}` });
    expect(legB.hangups).toBeGreaterThan(0); // Leg.hangup is idempotent: one BYE
  });

  for (const method of ['INVITE', 'UPDATE'] as const) {
    it(`MUST answer a re-offer (${method}) with m=audio 0 or no common codec 488 + Warning and keep the call as it was`, async () => {
      const t = setup(makeSnapshot({ alice: always }));
      const { invite, legB } = await connectedInbound(t, ALICE);
      const zero = fakeRequest(method, disabledAudio);
      invite.legA!.emit('reoffer', zero);
      await flush();
      expect(zero.responses[0]).toMatchObject({ status: 488, headers: { Warning: `304 ${WARNING[304]}` } });
      expect(legB.reinvites).toHaveLength(0);
      // the callee answers the relayed re-offer with a codec the caller did not offer
      legB.reinviteAnswer = () => sdpOffer(31000, { codecs: '18 101', address: '198.51.100.7' });
      const g711 = fakeRequest(method, sdpOffer(30000, { codecs: '0 101' }));
      invite.legA!.emit('reoffer', g711);
      await flush();
      expect(g711.responses[0]).toMatchObject({ status: 488, headers: { Warning: `305 ${WARNING[305]}` } });
      expect(t.manager.list()[0]).toMatchObject({ state: 'connected' });
    });
  }
});

describe('CallSession: payload-type numbers in our answers', () => {
  it('MUST answer the caller with its own telephone-event number (101) when the callee answered it as 96, and tell the media plane both numbers', async () => {
    const t = setup(makeSnapshot({ alice: always }));
    const invite = t.inbound(ALICE, { sdp: fixture('baresip-1.0-offer.sdp') });
    await flush();
    t.signaling.answer({ sdp: fixture('callee-answer-te96.sdp') });
    await flush();
    const answer = readAudio(invite.answeredSdp!)!;
    expect(answer.codecs.map((c) => `${c.payloadType}/${c.name}`)).toEqual(['0/PCMU']);
    expect(answer.telephoneEvent?.payloadType).toBe(101);
    const media = t.media.sessions[0]!;
    // leg B receives telephone-event as 96 (its answer); it may send 101 (our offer numbering)
    const last = (leg: 'a' | 'b') => media.remotes.filter((r) => r.leg === leg).at(-1)!.remote;
    const events = (leg: 'a' | 'b') => last(leg).payloadTypes!.filter((p) => p.name === 'telephone-event').map((p) => p.pt);
    expect(events('b')).toEqual([96, 101]);
    expect(events('a')).toEqual([101]);
  });
});
