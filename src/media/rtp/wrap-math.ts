/**
 * Modular arithmetic for RTP sequence numbers (16 bit) and timestamps (32 bit), RFC 3550 section
 * 5.1 and appendix A.1. Everything returns plain numbers in range; nothing allocates.
 */

/** Sequence number `a + n` modulo 2^16. */
export function addSeq(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** Signed distance `a - b` between two sequence numbers, in -32768..32767 (wrap-aware). */
export function seqDelta(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** Timestamp `a + n` modulo 2^32, as an unsigned number. */
export function addTs(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance `a - b` between two timestamps, in -2^31..2^31-1 (wrap-aware). */
export function tsDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** True when sequence number `a` is newer than `b` (RFC 3550 A.1 comparison, half-range rule). */
export function seqNewer(a: number, b: number): boolean {
  return seqDelta(a, b) > 0;
}
