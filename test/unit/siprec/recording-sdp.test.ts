import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { buildSrcOffer, buildSrsAnswer, parseRecordingSdp, parseSrsAnswer } from '../../../src/siprec/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/siprec/${name}`, import.meta.url), 'utf8');
const base = { sessionId: '3724394400', version: 1, address: '192.0.2.10', streams: [{ label: '1', port: 40000 }, { label: '2', port: 40002 }] };
const KEY = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isAppError(err) ? err.code : 'other';
  }
}

describe('SRC offer towards the SRS (RFC 7866 section 8, R-30, R-42)', () => {
  it('matches the golden two-stream RTP/AVP offer', () => {
    expect(buildSrcOffer(base)).toBe(fixture('src-offer-avp.sdp'));
  });

  it('matches the golden SRTP offer: RTP/SAVP with a=crypto on every m-line', () => {
    const offer = buildSrcOffer({
      ...base,
      streams: [
        { label: '1', port: 40000, crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: KEY } },
        { label: '2', port: 40002, crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: KEY } },
      ],
    });
    expect(offer).toBe(fixture('src-offer-savp.sdp'));
  });

  it('offers two sendonly labelled streams, PSTN (label 1) first, same profile, PCMU/PCMA/telephone-event at 20 ms', () => {
    const p = parseRecordingSdp(buildSrcOffer(base));
    expect(p.streams.map((s) => [s.label, s.direction, s.profile, s.port, s.ptime])).toEqual([
      ['1', 'sendonly', 'RTP/AVP', 40000, 20],
      ['2', 'sendonly', 'RTP/AVP', 40002, 20],
    ]);
    expect(p.streams[0]!.formats.map((f) => f.encoding)).toEqual(['PCMU', 'PCMA']);
    expect(p.streams[0]!.telephoneEventPayloadType).toBe(101);
  });

  it('bumps the o= version and uses a=inactive while paused (R-18)', () => {
    const paused = buildSrcOffer({ ...base, version: 2, direction: 'inactive' });
    expect(paused).toContain('o=- 3724394400 2 IN IP4 192.0.2.10');
    expect(parseRecordingSdp(paused).streams.every((s) => s.direction === 'inactive')).toBe(true);
  });

  it('refuses mixed AVP/SAVP m-lines', () => {
    expect(() => buildSrcOffer({ ...base, streams: [{ label: '1', port: 1, crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: KEY } }, { label: '2', port: 3 }] })).toThrow(RangeError);
  });
});

describe('SRS answer', () => {
  const offer = parseRecordingSdp(buildSrcOffer(base));

  it('SRS side: answers recvonly per stream on its own ports with the first acceptable codec', () => {
    const a = buildSrsAnswer(offer, { sessionId: '99', version: 1, address: '127.0.0.1', ports: [17100, 17102] });
    expect(a.sdp).toBe(fixture('srs-answer-avp.sdp'));
    expect(a.streams.map((s) => [s.label, s.accepted, s.encoding, s.direction])).toEqual([
      ['1', true, 'PCMU', 'recvonly'],
      ['2', true, 'PCMU', 'recvonly'],
    ]);
  });

  it('SRS side: refuses a stream without a port with port 0, answers inactive to inactive, 488 when nothing fits', () => {
    const a = buildSrsAnswer(offer, { sessionId: '99', version: 1, address: '127.0.0.1', ports: [17100] });
    expect(a.streams.map((s) => s.accepted)).toEqual([true, false]);
    expect(a.sdp).toContain('m=audio 0 RTP/AVP 0');
    const paused = parseRecordingSdp(buildSrcOffer({ ...base, direction: 'inactive' }));
    expect(buildSrsAnswer(paused, { sessionId: '9', version: 2, address: '127.0.0.1', ports: [1, 2] }).streams[0]!.direction).toBe('inactive');
    expect(code(() => buildSrsAnswer(offer, { sessionId: '9', version: 1, address: '127.0.0.1', ports: [1, 2], acceptCodecs: ['G722'] }))).toBe('SIPREC_SDP_UNACCEPTABLE');
    const savp = parseRecordingSdp(buildSrcOffer({ ...base, streams: base.streams.map((s) => ({ ...s, crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: KEY } })) }));
    expect(code(() => buildSrsAnswer(savp, { sessionId: '9', version: 1, address: '127.0.0.1', ports: [1, 2] }))).toBe('SIPREC_SDP_UNACCEPTABLE');
  });

  it('SRC side: maps the answer to the offered labels (accepted, inactive, refused)', () => {
    const answer = 'v=0\r\no=srs 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n' +
      'm=audio 30000 RTP/AVP 8\r\na=recvonly\r\na=label:1\r\n' +
      'm=audio 0 RTP/AVP 0\r\n';
    expect(parseSrsAnswer(answer, ['1', '2']).map((s) => [s.label, s.accepted, s.active, s.port, s.payloadType, s.address])).toEqual([
      ['1', true, true, 30000, 8, '198.51.100.7'],
      ['2', false, false, 0, undefined, '198.51.100.7'],
    ]);
    const inactive = answer.replace('a=recvonly', 'a=inactive');
    expect(parseSrsAnswer(inactive, ['1', '2'])[0]).toMatchObject({ accepted: true, active: false });
    expect(code(() => parseSrsAnswer(answer, ['1', '2', '3']))).toBe('SIPREC_SDP_INVALID');
    expect(code(() => parseRecordingSdp('hello'))).toBe('SIPREC_SDP_INVALID');
  });
});
