/**
 * Source latching for one leg: where its RTP may come from, and where media towards it goes
 * (symmetric RTP, RFC 4961; "latching" in RFC 7362 section 4; the learning + strict-source of the
 * media relays in the field: rtpengine's endpoint learning, Kamailio nathelper, SBC latching).
 *
 * Modes (config media.latching; docs/nat.md):
 *   - `sdp` (strict): only the address and port the leg's SDP gave (`c=`/`m=`) are accepted; nothing
 *     before `setExpected`. The first packet from there latches the leg (for the log and counters).
 *   - `auto` (the default): until latched, a packet from the SDP address and port latches at once;
 *     a valid packet (the caller checks the payload type first) from any other source latches it
 *     *tentatively* (accepted, and replies go there: a phone behind NAT). During the learning window
 *     (LEARNING_MS after the tentative latch) a packet from the exact SDP address and port still
 *     takes over; after it, the latch is final. Nothing is accepted before `setExpected`.
 *   - `first-source`: the first source that sends valid RTP latches the leg for good, with or without
 *     an SDP address (the SDP address is only where media goes until then).
 * After latching, packets from any other source are refused (hijack protection), with one exception
 * in `auto` and `first-source`: the same stream (the caller says the SSRC is the leg's locked one)
 * arriving from a new source after the latched source has been silent for `relatchSilenceMs`: a NAT
 * that re-mapped the phone's port (NAT rebinding). `setExpected` with a new address or port (re-INVITE,
 * UPDATE, transfer) re-arms the latch; the same address keeps it, so hold/unhold of a phone behind
 * NAT does not lose its latched source. After a re-arm the source latched before is never learnt
 * again (the old party of a transfer still sending must not be relayed), unless the new SDP names it.
 *
 * Pure and allocation-free: time is passed in (monotonic ms).
 */
export type LatchMode = 'sdp' | 'auto' | 'first-source';

/** Default learning window of `auto` after a tentative latch, ms (rtpengine's delayed learning uses 3 s). */
export const LEARNING_MS = 3000;
/** Default silence of the latched source before the same stream may latch from a new source, ms. */
export const RELATCH_SILENCE_MS = 1000;

export const LatchVerdict = {
  Accept: 0,
  /** Accepted and it latched (or moved) the source: the caller emits an event; `how` says which. */
  Latched: 1,
  /** From a source other than the latched one. */
  Hijack: 2,
  /** No source may be accepted yet (no SDP address in `sdp` / `auto`). */
  NotReady: 3,
} as const;
export type LatchVerdict = (typeof LatchVerdict)[keyof typeof LatchVerdict];

/**
 * How the last latch happened: `sdp` from the SDP address; `learned` from another source (NAT);
 * `relatched` the same stream from a new source after silence (NAT rebinding).
 */
export type LatchHow = 'sdp' | 'learned' | 'relatched';

export interface SourceLatchOptions {
  /** `auto` learning window, ms. Default LEARNING_MS (3000). */
  learningMs?: number;
  /** Silence of the latched source before its stream may come from a new source, ms. Default RELATCH_SILENCE_MS (1000); 0 = never. */
  relatchSilenceMs?: number;
}

const UNLATCHED = 0;
const TENTATIVE = 1;
const FINAL = 2;

export class SourceLatch {
  readonly mode: LatchMode;
  readonly learningMs: number;
  readonly relatchSilenceMs: number;
  /** The SDP address and port (undefined / 0 before `setExpected`). */
  #sdpAddress: string | undefined;
  #sdpPort = 0;
  /** Where media goes and what is accepted once latched. */
  #address: string | undefined;
  #port = 0;
  #state = UNLATCHED;
  #learningUntil = 0;
  #lastAcceptedAt = 0;
  #how: LatchHow = 'sdp';
  /** The source latched before the last re-arm (not learnt again). */
  #retiredAddress: string | undefined;
  #retiredPort = 0;

  constructor(mode: LatchMode = 'auto', options: SourceLatchOptions = {}) {
    this.mode = mode;
    this.learningMs = typeof options.learningMs === 'number' && options.learningMs >= 0 ? options.learningMs : LEARNING_MS;
    this.relatchSilenceMs = typeof options.relatchSilenceMs === 'number' && options.relatchSilenceMs >= 0 ? options.relatchSilenceMs : RELATCH_SILENCE_MS;
  }

  /** The SDP address of the leg (set again on re-INVITE/UPDATE; a new address or port re-arms the latch). */
  setExpected(address: string, port: number): void {
    const same = address === this.#sdpAddress && port === this.#sdpPort;
    this.#sdpAddress = address;
    this.#sdpPort = port;
    if (same && this.#state !== UNLATCHED) return;
    if (this.#state !== UNLATCHED) {
      this.#retiredAddress = this.#address;
      this.#retiredPort = this.#port;
    }
    this.#state = UNLATCHED;
    this.#address = address;
    this.#port = port;
  }

  /** Where media towards this leg goes: the latched source, else the SDP address. */
  get address(): string | undefined {
    return this.#address;
  }
  get port(): number {
    return this.#port;
  }
  /** The SDP address and port the leg gave (undefined / 0 before its SDP). */
  get sdpAddress(): string | undefined {
    return this.#sdpAddress;
  }
  get sdpPort(): number {
    return this.#sdpPort;
  }
  /** A source is latched (tentatively or for good). */
  get latched(): boolean {
    return this.#state !== UNLATCHED;
  }
  /** How the current latch happened (meaningful when `latched`). */
  get how(): LatchHow {
    return this.#how;
  }

  /**
   * Decide for one packet from `address:port` arriving at monotonic `nowMs`. Call it only for a
   * packet that is valid RTP of a negotiated payload type, or a latch could be learnt from garbage.
   * `sameStream`: the packet carries the SSRC the leg is locked to (for NAT rebinding). Allocation-free.
   */
  check(address: string, port: number, nowMs: number, sameStream = false): LatchVerdict {
    const fromLatched = port === this.#port && address === this.#address;
    if (this.#state === FINAL) {
      if (fromLatched) return this.#accept(nowMs);
      if (sameStream && this.mode !== 'sdp' && this.relatchSilenceMs > 0 && nowMs - this.#lastAcceptedAt >= this.relatchSilenceMs) {
        return this.#latch(address, port, FINAL, 'relatched', nowMs);
      }
      return LatchVerdict.Hijack;
    }
    const fromSdp = port === this.#sdpPort && address === this.#sdpAddress;
    if (this.#state === TENTATIVE) {
      if (fromLatched) {
        if (nowMs >= this.#learningUntil) this.#state = FINAL;
        return this.#accept(nowMs);
      }
      if (fromSdp) return this.#latch(address, port, FINAL, 'sdp', nowMs);
      if (nowMs >= this.#learningUntil) this.#state = FINAL;
      return LatchVerdict.Hijack;
    }
    // unlatched
    if (fromSdp) return this.#latch(address, port, FINAL, 'sdp', nowMs);
    if (port === this.#retiredPort && address === this.#retiredAddress) return LatchVerdict.Hijack;
    if (this.mode === 'first-source') return this.#latch(address, port, FINAL, 'learned', nowMs);
    if (this.#sdpAddress === undefined) return LatchVerdict.NotReady;
    if (this.mode === 'sdp') return LatchVerdict.Hijack;
    this.#learningUntil = nowMs + this.learningMs;
    return this.#latch(address, port, this.learningMs > 0 ? TENTATIVE : FINAL, 'learned', nowMs);
  }

  #accept(nowMs: number): LatchVerdict {
    this.#lastAcceptedAt = nowMs;
    return LatchVerdict.Accept;
  }

  #latch(address: string, port: number, state: number, how: LatchHow, nowMs: number): LatchVerdict {
    this.#address = address;
    this.#port = port;
    this.#state = state;
    this.#how = how;
    this.#lastAcceptedAt = nowMs;
    return LatchVerdict.Latched;
  }
}
