/**
 * Source latching for one leg (symmetric RTP, RFC 4961; the "latching" of RFC 7362 section 4).
 *
 * A leg's media is accepted only from one transport address:
 *   - mode `sdp` (default): the address and port the leg's SDP gave (`c=`/`m=`); nothing is accepted
 *     before `setExpected` is called;
 *   - mode `first-source` (behind NAT): the first source that sends to our port after `setExpected`
 *     (or at all, when no SDP address is known yet) is latched; the SDP address is only a hint.
 * Packets from any other source are refused (the session counts them as hijack attempts and drops
 * them). Replies (relayed media towards this leg) go to the latched address, so RTP is symmetric.
 * `setExpected` again (re-INVITE) re-arms the latch.
 */
export type LatchMode = 'sdp' | 'first-source';

export const LatchVerdict = {
  Accept: 0,
  /** Accepted and it is the packet that latched the source (the caller may emit an event). */
  Latched: 1,
  /** From a source other than the latched one. */
  Hijack: 2,
  /** No source is known yet (mode `sdp` before the remote SDP). */
  NotReady: 3,
} as const;
export type LatchVerdict = (typeof LatchVerdict)[keyof typeof LatchVerdict];

export class SourceLatch {
  readonly mode: LatchMode;
  #address: string | undefined;
  #port = 0;
  #latched = false;

  constructor(mode: LatchMode = 'sdp') {
    this.mode = mode;
  }

  /** The SDP address of the leg (may be set again on re-INVITE). */
  setExpected(address: string, port: number): void {
    this.#address = address;
    this.#port = port;
    this.#latched = this.mode === 'sdp';
  }

  /** Where media towards this leg goes: the latched source, else the SDP address. */
  get address(): string | undefined {
    return this.#address;
  }
  get port(): number {
    return this.#port;
  }
  get latched(): boolean {
    return this.#latched;
  }

  /** Decide for one packet from `address:port`. Allocation-free. */
  check(address: string, port: number): LatchVerdict {
    if (this.#latched) {
      return port === this.#port && address === this.#address ? LatchVerdict.Accept : LatchVerdict.Hijack;
    }
    if (this.mode === 'sdp') return LatchVerdict.NotReady;
    this.#address = address;
    this.#port = port;
    this.#latched = true;
    return LatchVerdict.Latched;
  }
}
