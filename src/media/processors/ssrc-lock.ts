/**
 * SSRC lock for one leg: which synchronization source (RFC 3550 section 3, 8) from the leg's latched
 * transport address is accepted. Latching (source-latch.ts) checks *where* a packet comes from; this
 * checks *which stream* it belongs to, so a second stream that reaches the leg's port from the same
 * address and port (a misbehaving PBX or media server, a stale stream after a transfer, random
 * datagrams that happen to parse as RTP) is neither relayed nor recorded.
 *
 * Rules:
 *   - Probation (RFC 3550 appendix A.1): a source is valid after `probation` packets of one SSRC with
 *     consecutive sequence numbers (default MIN_SEQUENTIAL = 2).
 *   - The first source (nothing locked yet, or after `reset()`) is accepted at once, *tentatively*:
 *     there is no competing stream and the latch has already checked its address, so the first
 *     packet of a call (often a marker or a DTMF start) is not lost. The lock becomes firm when that
 *     source passes probation. While it is tentative, any other SSRC that passes probation replaces
 *     it at once, so a lone datagram that happened to arrive first cannot hold the lock.
 *   - Once locked, packets of the locked SSRC are always accepted (whatever the gap: VAD, hold).
 *   - Another SSRC replaces a firm lock only when the locked one has been silent for
 *     `switchAfterSilenceMs` (default 300 ms) AND the new one has passed probation. A legitimate SSRC
 *     change (re-INVITE to a new endpoint, transfer, PBX or media-server restart) stops the old
 *     stream, so the switch comes at most this long after the old stream stopped. A foreign stream
 *     interleaved with a live one never takes over: the live one is never silent that long. 300 ms is
 *     several packet times (20-60 ms ptime) plus the jitter bursts seen in practice, yet loses little
 *     of the new source's speech after a real change.
 *   - `reset()` (new remote address on re-INVITE, or a newly latched source) forgets the lock, so
 *     the next source only needs probation.
 *
 * Pure and allocation-free: time is passed in (monotonic ms); `check` only compares numbers.
 */

/** RFC 3550 appendix A.1: sequential packets needed before a source is valid. */
export const MIN_SEQUENTIAL = 2;
/** Default silence of the locked SSRC before another one may replace it (see the file comment). */
export const SSRC_SWITCH_SILENCE_MS = 300;

export const SsrcVerdict = {
  /** The locked SSRC: accept. */
  Accept: 0,
  /** Accepted, and this packet locked a new SSRC (the first one or a switch). */
  Locked: 1,
  /** Not the locked SSRC (another stream, or a new one still in probation or waiting): drop. */
  Foreign: 2,
} as const;
export type SsrcVerdict = (typeof SsrcVerdict)[keyof typeof SsrcVerdict];

export interface SsrcLockOptions {
  /** Silence of the locked SSRC before another may replace it, ms. Default SSRC_SWITCH_SILENCE_MS (300). */
  switchAfterSilenceMs?: number;
  /** Sequential packets a new SSRC needs (RFC 3550 A.1 MIN_SEQUENTIAL). Default 2; 1 = no probation. */
  probation?: number;
}

export class SsrcLock {
  readonly switchAfterSilenceMs: number;
  readonly probation: number;
  /** Times the lock moved from one SSRC to another (the first lock not counted). */
  switches = 0;

  #locked = false;
  /** The locked SSRC passed probation (else the lock is tentative). */
  #firm = false;
  #ssrc = 0;
  #lastAt = 0;
  #lockedSeq = 0;
  #lockedRun = 0;
  #hasCandidate = false;
  #candidateSsrc = 0;
  #candidateSeq = 0;
  #candidateRun = 0;

  constructor(options: SsrcLockOptions = {}) {
    const silence = options.switchAfterSilenceMs;
    const probation = options.probation;
    this.switchAfterSilenceMs = typeof silence === 'number' && silence >= 0 ? silence : SSRC_SWITCH_SILENCE_MS;
    this.probation = typeof probation === 'number' && Number.isInteger(probation) && probation >= 1 ? probation : MIN_SEQUENTIAL;
  }

  get locked(): boolean {
    return this.#locked;
  }
  /** The locked SSRC passed probation; a tentative lock yields to any SSRC that passes it. */
  get firm(): boolean {
    return this.#locked && this.#firm;
  }
  /** The locked SSRC (meaningful when `locked`). */
  get ssrc(): number {
    return this.#ssrc;
  }

  /** Forget the locked SSRC and any candidate (re-INVITE to a new address, a newly latched source). */
  reset(): void {
    this.#locked = false;
    this.#firm = false;
    this.#hasCandidate = false;
    this.#candidateRun = 0;
  }

  /** Decide for one packet with `ssrc` and `seq` arriving at monotonic `nowMs`. Allocation-free. */
  check(ssrc: number, seq: number, nowMs: number): SsrcVerdict {
    if (this.#locked && ssrc === this.#ssrc) {
      this.#lastAt = nowMs;
      if (!this.#firm) {
        this.#lockedRun = seq === ((this.#lockedSeq + 1) & 0xffff) ? this.#lockedRun + 1 : 1;
        this.#lockedSeq = seq;
        if (this.#lockedRun >= this.probation) this.#firm = true;
      }
      return SsrcVerdict.Accept;
    }
    if (!this.#locked) {
      // the first source: accepted at once, tentatively (see the file comment)
      this.#lock(ssrc, seq, nowMs, this.probation <= 1);
      return SsrcVerdict.Locked;
    }
    // probation of a new source (RFC 3550 A.1: sequential packets, else start over)
    if (this.#hasCandidate && ssrc === this.#candidateSsrc && seq === ((this.#candidateSeq + 1) & 0xffff)) {
      this.#candidateRun++;
    } else {
      this.#hasCandidate = true;
      this.#candidateSsrc = ssrc;
      this.#candidateRun = 1;
    }
    this.#candidateSeq = seq;
    if (this.#candidateRun < this.probation) return SsrcVerdict.Foreign;
    if (this.#firm && nowMs - this.#lastAt < this.switchAfterSilenceMs) return SsrcVerdict.Foreign;
    this.switches++;
    this.#lock(ssrc, seq, nowMs, true);
    return SsrcVerdict.Locked;
  }

  #lock(ssrc: number, seq: number, nowMs: number, firm: boolean): void {
    this.#locked = true;
    this.#firm = firm;
    this.#ssrc = ssrc;
    this.#lastAt = nowMs;
    this.#lockedSeq = seq;
    this.#lockedRun = 1;
    this.#hasCandidate = false;
    this.#candidateRun = 0;
  }
}
