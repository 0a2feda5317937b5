/**
 * The audio of one forked stream between the moment its fork is prepared (the call's answer) and
 * the moment the recording server's answer gives it a target (startFork): a bounded ring of the
 * packets as the party sent them (headers untouched), so that the recording starts at the answer
 * and not at the recording server's 200 OK. At startFork the session sends them, oldest first,
 * through the stream's rewriter with their arrival times, which makes the output exactly the
 * stream a fork started at the answer would have sent: one SSRC, seq +1, the party's timestamps.
 *
 * Bound: packets that arrived within `maxMs` of the newest one, and at most `maxMs / 10` packets
 * (10 ms is the shortest packet time taken from a leg). Older packets are evicted and counted in
 * `overflowed`. Slots are allocated the first time the ring reaches them and reused after that, so
 * a stream allocates at most `capacity` buffers in its life, none per packet once the ring is full.
 * No I/O, no clock: arrival times come in with the packets.
 */
const SLOT_BYTES = 256;
/** Shortest packet time we take from a leg (sdp-media.ts PTIME_MS). */
const MIN_PACKET_MS = 10;

export interface BufferedPacket {
  /** The packet as received; rewrite it in place, it is not used again. */
  readonly data: Buffer;
  readonly length: number;
  readonly payloadType: number;
  readonly telephoneEvent: boolean;
  /** Monotonic arrival time, ms. */
  readonly atMs: number;
  /** The fork was paused and resumed before this packet (the rewriter starts a new epoch). */
  readonly epochBreak: boolean;
}

export class ForkBuffer {
  readonly maxMs: number;
  readonly capacity: number;
  readonly #slots: Buffer[] = [];
  readonly #length: Uint16Array;
  readonly #pt: Uint8Array;
  readonly #flags: Uint8Array;
  readonly #at: Float64Array;
  #head = 0;
  #count = 0;
  #breakNext = false;
  /** Packets evicted because the buffer was full (lost from the recording). */
  overflowed = 0;
  /** Packets ever put in. */
  buffered = 0;

  /** @param maxMs how much audio to keep (media.forkBufferMs, default 3000); > 0 */
  constructor(maxMs: number) {
    this.maxMs = maxMs;
    this.capacity = Math.max(1, Math.ceil(maxMs / MIN_PACKET_MS));
    this.#length = new Uint16Array(this.capacity);
    this.#pt = new Uint8Array(this.capacity);
    this.#flags = new Uint8Array(this.capacity);
    this.#at = new Float64Array(this.capacity);
  }

  get length(): number {
    return this.#count;
  }

  /** The next packet put in starts a new epoch (the fork was paused and resumed before its start). */
  breakEpoch(): void {
    this.#breakNext = true;
  }

  /** Keep a copy of the first `len` bytes of `buf` (arrived at `atMs`), evicting what is too old or too many. */
  push(buf: Buffer, len: number, payloadType: number, telephoneEvent: boolean, atMs: number): void {
    if (len > 0xffff) return;
    const cap = this.capacity;
    while (this.#count > 0 && (this.#count === cap || atMs - this.#at[this.#head]! >= this.maxMs)) {
      this.#head = (this.#head + 1) % cap;
      this.#count--;
      this.overflowed++;
    }
    const i = (this.#head + this.#count) % cap;
    let slot = this.#slots[i];
    if (slot === undefined || slot.length < len) {
      slot = Buffer.allocUnsafe(Math.max(len, SLOT_BYTES));
      this.#slots[i] = slot;
    }
    buf.copy(slot, 0, 0, len);
    this.#length[i] = len;
    this.#pt[i] = payloadType;
    this.#flags[i] = (telephoneEvent ? 1 : 0) | (this.#breakNext ? 2 : 0);
    this.#at[i] = atMs;
    this.#breakNext = false;
    this.#count++;
    this.buffered++;
  }

  /** Hands every packet to `visit`, oldest first, and empties the buffer; returns how many. */
  drain(visit: (p: BufferedPacket) => void): number {
    const n = this.#count;
    const cap = this.capacity;
    for (let k = 0; k < n; k++) {
      const i = (this.#head + k) % cap;
      const flags = this.#flags[i]!;
      visit({ data: this.#slots[i]!, length: this.#length[i]!, payloadType: this.#pt[i]!, telephoneEvent: (flags & 1) !== 0, atMs: this.#at[i]!, epochBreak: (flags & 2) !== 0 });
    }
    this.#reset();
    return n;
  }

  /** Empties the buffer without sending; returns how many packets were dropped. */
  discard(): number {
    const n = this.#count;
    this.#reset();
    return n;
  }

  #reset(): void {
    this.#head = 0;
    this.#count = 0;
    this.#slots.length = 0;
  }
}
