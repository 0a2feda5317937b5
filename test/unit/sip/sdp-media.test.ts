import { describe, expect, it } from 'vitest';
import { buildLegSdp, firstG711, injectable, readAudio } from '../../../src/sip/sdp-media.js';

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
        's=call',
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
        'a=rtpmap:31 H261/90000',
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
});
