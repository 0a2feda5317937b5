import { describe, expect, it } from 'vitest';
import { LatchVerdict, SourceLatch } from '../../../../src/media/processors/source-latch.js';

describe('source latching (symmetric RTP)', () => {
  it('sdp mode MUST accept only the SDP address and port, and nothing before it is known', () => {
    const l = new SourceLatch('sdp');
    expect(l.check('127.0.0.1', 4000)).toBe(LatchVerdict.NotReady);
    l.setExpected('127.0.0.1', 4000);
    expect(l.check('127.0.0.1', 4000)).toBe(LatchVerdict.Accept);
    expect(l.check('127.0.0.1', 4002)).toBe(LatchVerdict.Hijack);
    expect(l.check('127.0.0.2', 4000)).toBe(LatchVerdict.Hijack);
  });

  it('first-source mode MUST latch the first sender and refuse every other source after that', () => {
    const l = new SourceLatch('first-source');
    l.setExpected('10.0.0.5', 4000);
    expect(l.address).toBe('10.0.0.5');
    expect(l.check('203.0.113.9', 61000)).toBe(LatchVerdict.Latched);
    expect(l.address).toBe('203.0.113.9');
    expect(l.port).toBe(61000);
    expect(l.check('203.0.113.9', 61000)).toBe(LatchVerdict.Accept);
    expect(l.check('10.0.0.5', 4000)).toBe(LatchVerdict.Hijack);
  });

  it('re-arms the latch on a new SDP (re-INVITE)', () => {
    const l = new SourceLatch('first-source');
    l.check('198.51.100.1', 5000);
    l.setExpected('198.51.100.2', 6000);
    expect(l.check('198.51.100.3', 7000)).toBe(LatchVerdict.Latched);
  });
});
