import { describe, expect, it } from 'vitest';
import { sameTargets, targetsFromAnswer } from '../../../../src/siprec/client/recording-answer.js';

const answer = (m2: string, extra = ''): string =>
  'v=0\r\no=srs 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n' +
  `m=audio 30000 RTP/AVP 8\r\na=recvonly\r\na=label:1\r\n${extra}` +
  `${m2}\r\n`;

describe('the recording server answer as RTP targets (RFC 7866 section 8.1.1)', () => {
  it('MUST map labels 1 and 2 to their addresses, a refused stream to port 0', () => {
    const t = targetsFromAnswer(answer('m=audio 0 RTP/AVP 0'), false);
    expect([t.label1.label, t.label1.accepted, t.label1.address, t.label1.port, t.label1.payloadType]).toEqual(['1', true, '198.51.100.7', 30000, 8]);
    expect([t.label2.label, t.label2.accepted, t.label2.port]).toEqual(['2', false, 0]);
  });

  it('MUST refuse an answer that accepts no stream, and one without keys when SRTP is required (R-42)', () => {
    const none = 'v=0\r\no=srs 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 0 RTP/AVP 0\r\n';
    expect(() => targetsFromAnswer(none, false)).toThrow(/accepted no stream/);
    expect(() => targetsFromAnswer(answer('m=audio 0 RTP/AVP 0'), true)).toThrow(/a=crypto/);
  });

  it('MUST tell a moved stream from the same one (address, port, payload type, accepted)', () => {
    const a = targetsFromAnswer(answer('m=audio 30002 RTP/AVP 8\r\na=recvonly\r\na=label:2'), false);
    const same = targetsFromAnswer(answer('m=audio 30002 RTP/AVP 8\r\na=recvonly\r\na=label:2'), false);
    const moved = targetsFromAnswer(answer('m=audio 30004 RTP/AVP 8\r\na=recvonly\r\na=label:2'), false);
    expect(sameTargets(a, same)).toBe(true);
    expect(sameTargets(a, moved)).toBe(false);
    expect(sameTargets(undefined, a)).toBe(false);
  });
});
