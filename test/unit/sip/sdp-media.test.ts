import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { audioRefusal, buildLegSdp, firstG711, injectable, readAudio } from '../../../src/sip/sdp-media.js';
import { fixture, GOLDEN_CASES, render } from './sdp-goldens.js';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

const PSTN_OFFER = crlf([
  'v=0',
  'o=carrier 2890844526 2890844526 IN IP4 203.0.113.5',
  's=call',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=audio 49170 RTP/AVP 18 8 0 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  'm=video 51372 RTP/AVP 31',
  'a=rtpmap:31 H261/90000',
]);

describe('SDP media helpers', () => {
  it('reads the audio stream, naming static payload types without rtpmap', () => {
    const audio = readAudio(PSTN_OFFER);
    expect(audio).toMatchObject({ address: '203.0.113.5', port: 49170, direction: 'sendrecv', ptime: 20, onHold: false });
    expect(audio?.codecs.map((c) => `${c.payloadType}/${c.name}`)).toEqual(['18/G729', '8/PCMA', '0/PCMU']);
    expect(audio?.telephoneEvent).toMatchObject({ payloadType: 101, fmtp: '0-16' });
    expect(injectable(audio!)).toBe(false);
  });

  it('recognises hold (sendonly, inactive, c=0.0.0.0) and the RFC 7866 record attribute', () => {
    const held = PSTN_OFFER.replace('a=sendrecv', 'a=sendonly\r\na=record:paused');
    expect(readAudio(held)).toMatchObject({ onHold: true, direction: 'sendonly', recordIndication: 'paused' });
    expect(readAudio(PSTN_OFFER.replace('c=IN IP4 203.0.113.5', 'c=IN IP4 0.0.0.0'))?.onHold).toBe(true);
  });

  it('returns undefined instead of throwing for SDP it cannot use', () => {
    for (const bad of ['', 'garbage', 'v=0\r\nm=video 1 RTP/AVP 31\r\n', 'v=0\r\nm=audio 5000 RTP/AVP 0\r\n', '\u0000\u0001']) {
      expect(readAudio(bad)).toBeUndefined();
      expect(buildLegSdp(bad, { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 1 })).toBeUndefined();
    }
  });

  it('rewrites the offer for the other leg: our origin, address and port; video refused; G.711 first when recorded', () => {
    const out = buildLegSdp(PSTN_OFFER, {
      address: '192.0.2.10',
      port: 40002,
      sessionId: 7001,
      sessionVersion: 3,
      preferG711: true,
      recordIndication: 'on',
    });
    expect(out).toBe(
      crlf([
        'v=0',
        'o=- 7001 3 IN IP4 192.0.2.10',
        's=-',
        'c=IN IP4 192.0.2.10',
        't=0 0',
        'm=audio 40002 RTP/AVP 8 0 18 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:18 G729/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
        'a=record:on',
        'm=video 0 RTP/AVP 31',
      ]),
    );
  });

  it('offers only G.711 and telephone-event when asked, and keeps other codecs when there is no G.711', () => {
    const only = buildLegSdp(PSTN_OFFER, { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 1, onlyG711: true });
    expect(readAudio(only!)?.codecs.map((c) => c.name)).toEqual(['PCMA', 'PCMU']);
    expect(only).not.toContain('G729');
    const g729 = PSTN_OFFER.replace('RTP/AVP 18 8 0 101', 'RTP/AVP 18 101');
    const kept = buildLegSdp(g729, { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 1, onlyG711: true });
    expect(readAudio(kept!)?.codecs.map((c) => c.name)).toEqual(['G729']);
    expect(injectable(readAudio(kept!)!)).toBe(false);
  });

  it('removes a record attribute the other leg sent unless we set one, and can force the direction', () => {
    const withRecord = PSTN_OFFER.replace('a=sendrecv', 'a=sendrecv\r\na=record:on');
    const out = buildLegSdp(withRecord, { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 2, direction: 'inactive' });
    expect(out).not.toContain('record:');
    expect(readAudio(out!)?.direction).toBe('inactive');
  });
  it('keeps only the payload types asked for (the codec already answered in early media), plus telephone-event', () => {
    const sdp = buildLegSdp(PSTN_OFFER, { address: '127.0.0.1', port: 40000, sessionId: 7, sessionVersion: 1, payloadTypes: [8] })!;
    const audio = readAudio(sdp)!;
    expect(audio.codecs.map((c) => c.name)).toEqual(['PCMA']);
    expect(audio.telephoneEvent?.payloadType).toBe(101);
    // a restriction that matches nothing is not applied (never an SDP without codecs)
    expect(readAudio(buildLegSdp(PSTN_OFFER, { address: '127.0.0.1', port: 40000, sessionId: 7, sessionVersion: 1, payloadTypes: [96] })!)!.codecs).toHaveLength(3);
    expect(firstG711(readAudio(PSTN_OFFER)!)?.name).toBe('PCMA');
    expect(firstG711(readAudio(PSTN_OFFER.replace('18 8 0 101', '18 101'))!)).toBeUndefined();
  });

  describe('MUST send only what we implement (golden files, real-world offers)', () => {
    for (const c of GOLDEN_CASES) {
      it(`${c.name}: ${c.what}`, () => {
        const out = render(c);
        expect(out).toBe(fixture(c.golden));
      });
    }

    it('MUST NOT repeat a party\'s ssrc, label, msid, rtcp-rsize, minptime, maxptime, ICE, crypto, fingerprint, extmap, rtcp-fb, mid/group lines', () => {
      const forbidden = /^(a=(ssrc|ssrc-group|label|msid|msid-semantic|rtcp-rsize|minptime|maxptime|candidate|ice-|end-of-candidates|crypto|fingerprint|setup|extmap|rtcp-fb|rtcp-xr|mid|group|tool|silenceSupp|sctp|rtcp:)|b=)/m;
      for (const c of GOLDEN_CASES) expect(render(c)!).not.toMatch(forbidden);
      const anyOffer = buildLegSdp(fixture('baresip-1.0-offer.sdp'), { address: '192.0.2.10', port: 40002, sessionId: 1, sessionVersion: 1 })!;
      expect(anyOffer).not.toMatch(forbidden);
      expect(anyOffer).toContain('a=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1\r\n');
    });

    it('round-trips: every golden parses, reads back as the audio we meant, and rebuilding from it changes nothing', () => {
      for (const c of GOLDEN_CASES) {
        const out = render(c)!;
        const session = parse(out);
        expect(session.media.length).toBe(parse(fixture(c.options.answerTo ?? c.source)).media.length);
        const audio = readAudio(out)!;
        expect(audio.address).toBe('192.0.2.10');
        expect([40000, 40002]).toContain(audio.port);
        const again = buildLegSdp(out, { address: '192.0.2.10', port: audio.port, sessionId: session.origin!.sessionId as number, sessionVersion: 0, ...(audio.recordIndication ? { recordIndication: audio.recordIndication } : {}), ...(c.options.answerTo ? { answerTo: out } : {}) });
        expect(again).toBe(out);
      }
    });
  });

  describe('MUST say why an offer gets 488 (warn-code, RFC 3261 section 20.43), never throw', () => {
    it('304 for m=audio 0, for no audio stream at all, and for no SDP', () => {
      expect(audioRefusal(PSTN_OFFER.replace('m=audio 49170', 'm=audio 0'))).toMatchObject({ code: 304 });
      expect(readAudio(PSTN_OFFER.replace('m=audio 49170', 'm=audio 0'))).toBeUndefined();
      expect(audioRefusal(crlf(['v=0', 'o=- 1 1 IN IP4 203.0.113.5', 's=-', 'c=IN IP4 203.0.113.5', 't=0 0', 'm=video 5000 RTP/AVP 31']))).toMatchObject({ code: 304 });
      expect(audioRefusal('')).toMatchObject({ code: 304 });
    });

    it('302 for SRTP / DTLS-SRTP audio with no RTP/AVP alternative (we do not do SRTP towards legs)', () => {
      expect(audioRefusal(fixture('webrtc-dtls-offer.sdp'))).toMatchObject({ code: 302 });
      expect(audioRefusal(PSTN_OFFER.replace('RTP/AVP 18', 'RTP/SAVP 18'))).toMatchObject({ code: 302 });
      expect(audioRefusal(fixture('savp-with-avp-alternative-offer.sdp'))).toBeUndefined();
    });

    it('305 for no codec we can relay (only telephone-event, or dynamic types without rtpmap)', () => {
      expect(audioRefusal(PSTN_OFFER.replace('RTP/AVP 18 8 0 101', 'RTP/AVP 101'))).toMatchObject({ code: 305 });
      expect(audioRefusal(PSTN_OFFER.replace('RTP/AVP 18 8 0 101', 'RTP/AVP 97 98'))).toMatchObject({ code: 305 });
    });

    it('301 for an audio stream of the other address family than our media address', () => {
      expect(audioRefusal(fixture('linphone-5.1-offer-ipv6.sdp'), '192.0.2.10')).toMatchObject({ code: 301 });
      expect(audioRefusal(fixture('linphone-5.1-offer-ipv6.sdp'))).toBeUndefined();
      expect(audioRefusal(fixture('linphone-5.1-offer.sdp'), '192.0.2.10')).toBeUndefined();
    });

    it('an answer with no codec in common with the offer it answers is undefined (the caller refuses with 305)', () => {
      const pcmaOnly = fixture('callee-answer-te96.sdp').replace('RTP/AVP 0 96', 'RTP/AVP 8 96').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');
      const pcmuOffer = PSTN_OFFER.replace('RTP/AVP 18 8 0 101', 'RTP/AVP 0 101');
      expect(buildLegSdp(pcmaOnly, { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 1, answerTo: pcmuOffer })).toBeUndefined();
    });
  });

  it('writes a=ptime as the other leg asked when it is 10, 20, 30 or 40 ms, else 20', () => {
    for (const [asked, sent] of [[10, 10], [20, 20], [30, 30], [40, 40], [60, 20], [5, 20]] as const) {
      const out = buildLegSdp(PSTN_OFFER.replace('a=ptime:20', `a=ptime:${asked}`), { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 1 })!;
      expect(out).toContain(`a=ptime:${sent}\r\n`);
    }
    expect(buildLegSdp(PSTN_OFFER.replace('a=ptime:20\r\n', ''), { address: '127.0.0.1', port: 40000, sessionId: 1, sessionVersion: 1 })).toContain('a=ptime:20\r\n');
  });
});
