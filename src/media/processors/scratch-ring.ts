/**
 * A ring of preallocated packet buffers for copies the packet path must make (the forked copy of a
 * relayed packet, generated prompt/tone frames), so the per-packet path does not allocate.
 *
 * Safe because Node's dgram send first tries a synchronous send (uv_udp_try_send): the kernel has
 * the bytes before send() returns. Only when the socket's send queue is not empty does libuv keep a
 * reference to the buffer; callers check `RtpEndpoint.rtpSendQueueCount()` and take a fresh buffer
 * (`take(length, true)`) then. The ring is large enough that a slot is reused only after thousands
 * of later sends.
 */
export class ScratchRing {
  readonly slotSize: number;
  readonly #slots: Buffer[];
  readonly #mask: number;
  #next = 0;
  /** Copies that needed a fresh buffer (too large, or a send queue was backed up). */
  fallbacks = 0;

  /**
   * @param slots number of slots, rounded up to a power of two; default 4096
   * @param slotSize bytes per slot; default 256 (a 20 ms G.711 packet is 172 bytes)
   */
  constructor(slots = 4096, slotSize = 256) {
    let n = 1;
    while (n < slots) n <<= 1;
    this.slotSize = slotSize;
    this.#mask = n - 1;
    const backing = Buffer.allocUnsafeSlow(n * slotSize);
    this.#slots = [];
    for (let i = 0; i < n; i++) this.#slots.push(backing.subarray(i * slotSize, (i + 1) * slotSize));
  }

  /** A buffer of at least `length` bytes; `fresh` forces a new allocation. */
  take(length: number, fresh = false): Buffer {
    if (fresh || length > this.slotSize) {
      this.fallbacks++;
      return Buffer.allocUnsafe(length);
    }
    const slot = this.#slots[this.#next]!;
    this.#next = (this.#next + 1) & this.#mask;
    return slot;
  }
}
