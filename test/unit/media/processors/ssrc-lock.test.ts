import { describe, expect, it } from 'vitest';
import { MIN_SEQUENTIAL, SSRC_SWITCH_SILENCE_MS, SsrcLock, SsrcVerdict } from '../../../../src/media/processors/ssrc-lock.js';

const A = 0x11111111;
const X = 0x22222222;
const N = 0x33333333;

/** Feeds `count` sequential packets of `ssrc` from `seq`, one every `stepMs` from `t`; returns the verdicts. */
function run(lock: SsrcLock, ssrc: number, seq: number, count: number, t: number, stepMs = 20): SsrcVerdict[] {
  const out: SsrcVerdict[] = [];
  for (let i = 0; i < count; i++) out.push(lock.check(ssrc, (seq + i) & 0xffff, t + i * stepMs));
  return out;
}

describe('SSRC lock (RFC 3550 A.1 probation, switch only after silence)', () => {
  it('defaults to MIN_SEQUENTIAL = 2 and a 300 ms silence before a switch', () => {
    const lock = new SsrcLock();
    expect(MIN_SEQUENTIAL).toBe(2);
    expect(SSRC_SWITCH_SILENCE_MS).toBe(300);
    expect(lock.probation).toBe(2);
    expect(lock.switchAfterSilenceMs).toBe(300);
    const bad = new SsrcLock({ probation: 0, switchAfterSilenceMs: -5 });
    expect([bad.probation, bad.switchAfterSilenceMs]).toEqual([2, 300]);
  });

  it('accepts the first source at once, tentatively, and makes it firm after probation', () => {
    const lock = new SsrcLock();
    expect(lock.check(A, 100, 0)).toBe(SsrcVerdict.Locked);
    expect([lock.locked, lock.firm, lock.ssrc]).toEqual([true, false, A]);
    expect(lock.check(A, 101, 20)).toBe(SsrcVerdict.Accept);
    expect(lock.firm).toBe(true);
    expect(lock.switches).toBe(0);
  });

  it('MUST drop an SSRC interleaved with the live locked one, however long and sequential it is', () => {
    const lock = new SsrcLock();
    run(lock, A, 1000, 3, 0);
    const verdicts: SsrcVerdict[] = [];
    for (let i = 0; i < 200; i++) {
      const t = 60 + i * 20;
      verdicts.push(lock.check(A, 1003 + i, t));
      verdicts.push(lock.check(X, 50_000 + i, t + 7));
    }
    expect(verdicts.filter((_, i) => i % 2 === 0).every((v) => v === SsrcVerdict.Accept)).toBe(true);
    expect(verdicts.filter((_, i) => i % 2 === 1).every((v) => v === SsrcVerdict.Foreign)).toBe(true);
    expect([lock.ssrc, lock.switches]).toEqual([A, 0]);
  });

  it('MUST keep the lock when the current SSRC pauses less than the silence window', () => {
    const lock = new SsrcLock();
    run(lock, A, 1, 5, 0); // last packet at 80 ms
    expect(run(lock, X, 9000, 10, 100)).toEqual(Array(10).fill(SsrcVerdict.Foreign)); // 100..280 ms: A silent < 300 ms
    expect(lock.check(A, 6, 370)).toBe(SsrcVerdict.Accept); // A resumes after 290 ms
    expect(lock.ssrc).toBe(A);
  });

  it('switches to a new SSRC (re-INVITE, transfer, PBX restart) once the old one was silent for the window and the new one passed probation', () => {
    const lock = new SsrcLock();
    run(lock, A, 1, 5, 0); // A's last packet at 80 ms, then A stops
    // N starts at once: held back until A has been silent 300 ms (at 380 ms)
    const t0 = 100;
    const verdicts = run(lock, N, 40_000, 20, t0);
    const firstAccepted = verdicts.findIndex((v) => v !== SsrcVerdict.Foreign);
    expect(t0 + firstAccepted * 20).toBe(380);
    expect(verdicts[firstAccepted]).toBe(SsrcVerdict.Locked);
    expect(verdicts.slice(firstAccepted + 1).every((v) => v === SsrcVerdict.Accept)).toBe(true);
    expect([lock.ssrc, lock.firm, lock.switches]).toEqual([N, true, 1]);
    // and now the old one is the foreign one
    expect(lock.check(A, 6, t0 + 20 * 20)).toBe(SsrcVerdict.Foreign);
  });

  it('a new SSRC MUST pass probation: sequential packets, and a non-sequential one starts the count over (RFC 3550 A.1)', () => {
    const lock = new SsrcLock({ probation: 3 });
    run(lock, A, 1, 3, 0);
    const t = 1000; // A long silent
    expect(lock.check(N, 10, t)).toBe(SsrcVerdict.Foreign);
    expect(lock.check(N, 12, t + 20)).toBe(SsrcVerdict.Foreign); // gap: starts over
    expect(lock.check(N, 13, t + 40)).toBe(SsrcVerdict.Foreign);
    expect(lock.check(N, 14, t + 60)).toBe(SsrcVerdict.Locked);
    expect(lock.ssrc).toBe(N);
  });

  it('probation survives a sequence-number wrap', () => {
    const lock = new SsrcLock();
    run(lock, A, 1, 2, 0);
    expect(lock.check(N, 0xffff, 1000)).toBe(SsrcVerdict.Foreign);
    expect(lock.check(N, 0, 1020)).toBe(SsrcVerdict.Locked);
  });

  it('random datagrams (a new SSRC each) never pass probation and never take the lock', () => {
    const lock = new SsrcLock();
    run(lock, A, 1, 2, 0);
    let ssrc = 0x12345678;
    for (let i = 0; i < 500; i++) {
      ssrc = (Math.imul(ssrc, 1103515245) + 12345) >>> 0;
      expect(lock.check(ssrc, (ssrc >>> 7) & 0xffff, 10_000 + i)).toBe(SsrcVerdict.Foreign);
    }
    expect(lock.ssrc).toBe(A);
  });

  it('a tentative lock (one lone packet) yields to the first SSRC that passes probation, without waiting for silence', () => {
    const lock = new SsrcLock();
    expect(lock.check(X, 777, 0)).toBe(SsrcVerdict.Locked); // a stray datagram arrived first
    expect(lock.check(A, 100, 5)).toBe(SsrcVerdict.Foreign);
    expect(lock.check(A, 101, 25)).toBe(SsrcVerdict.Locked);
    expect([lock.ssrc, lock.firm]).toEqual([A, true]);
    expect(lock.check(X, 778, 30)).toBe(SsrcVerdict.Foreign);
  });

  it('keeps accepting the locked SSRC after any gap (VAD, hold) and through reordering', () => {
    const lock = new SsrcLock();
    run(lock, A, 1, 3, 0);
    expect(lock.check(A, 500, 60_000)).toBe(SsrcVerdict.Accept);
    expect(lock.check(A, 499, 60_001)).toBe(SsrcVerdict.Accept);
  });

  it('reset() (new remote address) lets the next source lock at once', () => {
    const lock = new SsrcLock();
    run(lock, A, 1, 3, 0);
    lock.reset();
    expect(lock.locked).toBe(false);
    expect(lock.check(N, 5, 61)).toBe(SsrcVerdict.Locked);
    expect(lock.ssrc).toBe(N);
  });

  it('honours a configured window and probation of 1', () => {
    const lock = new SsrcLock({ switchAfterSilenceMs: 50, probation: 1 });
    expect(lock.check(A, 1, 0)).toBe(SsrcVerdict.Locked);
    expect(lock.firm).toBe(true);
    expect(lock.check(N, 9, 40)).toBe(SsrcVerdict.Foreign);
    expect(lock.check(N, 10, 50)).toBe(SsrcVerdict.Locked);
  });
});
