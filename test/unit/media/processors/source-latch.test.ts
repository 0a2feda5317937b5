import { describe, expect, it } from 'vitest';
import { LEARNING_MS, LatchVerdict, RELATCH_SILENCE_MS, SourceLatch } from '../../../../src/media/processors/source-latch.js';

const SDP = ['10.0.0.5', 4000] as const;
const NAT = ['203.0.113.9', 61000] as const;

describe('source latching (symmetric RTP, RFC 4961 / RFC 7362 section 4)', () => {
  it('sdp mode MUST accept only the SDP address and port, and nothing before it is known', () => {
    const l = new SourceLatch('sdp');
    expect(l.check('127.0.0.1', 4000, 0)).toBe(LatchVerdict.NotReady);
    l.setExpected('127.0.0.1', 4000);
    expect(l.check('127.0.0.1', 4002, 1)).toBe(LatchVerdict.Hijack);
    expect(l.latched).toBe(false);
    expect(l.check('127.0.0.1', 4000, 2)).toBe(LatchVerdict.Latched);
    expect(l.how).toBe('sdp');
    expect(l.check('127.0.0.1', 4000, 3)).toBe(LatchVerdict.Accept);
    expect(l.check('127.0.0.2', 4000, 4)).toBe(LatchVerdict.Hijack);
  });

  it('sdp mode MUST NOT move to the same stream from another source (no NAT rebinding in strict mode)', () => {
    const l = new SourceLatch('sdp');
    l.setExpected(...SDP);
    l.check(...SDP, 0);
    expect(l.check(...NAT, 10 * RELATCH_SILENCE_MS, true)).toBe(LatchVerdict.Hijack);
  });

  it('auto mode MUST latch at once onto the SDP address when media comes from there', () => {
    const l = new SourceLatch('auto');
    l.setExpected(...SDP);
    expect(l.check(...SDP, 0)).toBe(LatchVerdict.Latched);
    expect(l.how).toBe('sdp');
    expect(l.check(...NAT, 1)).toBe(LatchVerdict.Hijack);
  });

  it('auto mode MUST latch onto another source (phone behind NAT) and send media back to it', () => {
    const l = new SourceLatch('auto');
    l.setExpected(...SDP);
    expect(l.address).toBe(SDP[0]);
    expect(l.check(...NAT, 0)).toBe(LatchVerdict.Latched);
    expect(l.how).toBe('learned');
    expect([l.address, l.port]).toEqual([...NAT]);
    expect(l.check(...NAT, 20)).toBe(LatchVerdict.Accept);
    // a third source during the learning window does not take over
    expect(l.check('198.51.100.7', 5000, 40)).toBe(LatchVerdict.Hijack);
    expect([l.address, l.port]).toEqual([...NAT]);
  });

  it('auto mode: the SDP address MUST win over a learnt source during the learning window, not after it', () => {
    const early = new SourceLatch('auto');
    early.setExpected(...SDP);
    early.check(...NAT, 0);
    expect(early.check(...SDP, LEARNING_MS - 1)).toBe(LatchVerdict.Latched);
    expect(early.how).toBe('sdp');
    expect(early.check(...NAT, LEARNING_MS)).toBe(LatchVerdict.Hijack);

    const late = new SourceLatch('auto');
    late.setExpected(...SDP);
    late.check(...NAT, 0);
    expect(late.check(...NAT, LEARNING_MS + 5)).toBe(LatchVerdict.Accept);
    expect(late.check(...SDP, LEARNING_MS + 10)).toBe(LatchVerdict.Hijack);
  });

  it('auto mode MUST NOT accept anything before the leg has an SDP address', () => {
    const l = new SourceLatch('auto');
    expect(l.check(...NAT, 0)).toBe(LatchVerdict.NotReady);
    expect(l.latched).toBe(false);
  });

  it('first-source mode MUST latch the first sender, with or without an SDP address, and refuse every other source', () => {
    const l = new SourceLatch('first-source');
    expect(l.check(...NAT, 0)).toBe(LatchVerdict.Latched);
    l.setExpected(...SDP);
    expect(l.check(...SDP, 1)).toBe(LatchVerdict.Latched);
    expect(l.check(...NAT, 2)).toBe(LatchVerdict.Hijack);
    expect(l.check(...SDP, 3)).toBe(LatchVerdict.Accept);
  });

  it('MUST move to the same stream from a new source after the latched one fell silent (NAT rebinding), never while it is live', () => {
    const l = new SourceLatch('auto', { learningMs: 0 });
    l.setExpected(...SDP);
    l.check(...NAT, 0);
    expect(l.check(...NAT, 100)).toBe(LatchVerdict.Accept);
    expect(l.check('203.0.113.9', 61002, 120, true)).toBe(LatchVerdict.Hijack);
    expect(l.check('203.0.113.9', 61002, 100 + RELATCH_SILENCE_MS - 1, false)).toBe(LatchVerdict.Hijack);
    expect(l.check('203.0.113.9', 61002, 100 + RELATCH_SILENCE_MS, true)).toBe(LatchVerdict.Latched);
    expect(l.how).toBe('relatched');
    expect(l.port).toBe(61002);
    expect(l.check(...NAT, 100 + RELATCH_SILENCE_MS + 20)).toBe(LatchVerdict.Hijack);
  });

  it('MUST re-arm on a new SDP address (re-INVITE) and keep the latch when the SDP is the same (hold/unhold behind NAT)', () => {
    const l = new SourceLatch('auto', { learningMs: 0 });
    l.setExpected(...SDP);
    l.check(...NAT, 0);
    l.setExpected(...SDP);
    expect(l.latched).toBe(true);
    expect(l.check(...NAT, 10)).toBe(LatchVerdict.Accept);
    l.setExpected('10.0.0.6', 4002);
    expect(l.latched).toBe(false);
    expect([l.address, l.port]).toEqual(['10.0.0.6', 4002]);
    expect(l.check('198.51.100.3', 7000, 20)).toBe(LatchVerdict.Latched);
  });
});

describe('source latching after a re-arm', () => {
  it('MUST NOT learn the previously latched source again (the old party of a transfer still sending)', () => {
    const l = new SourceLatch('auto');
    l.setExpected(...SDP);
    l.check(...SDP, 0);
    l.setExpected('10.0.0.6', 4002);
    expect(l.check(...SDP, 10)).toBe(LatchVerdict.Hijack);
    expect(l.check('10.0.0.6', 4002, 20)).toBe(LatchVerdict.Latched);
  });
});
