/**
 * Hands out RTP/RTCP port pairs from a configured range: the RTP port is even and RTCP is the next
 * (odd) one (RFC 3550 section 11). Round-robin from a moving cursor, so a port just released is the
 * last to be reused (late packets of an ended call do not reach a new one). Pure: it only tracks
 * numbers; the worker binds, and reports a port that failed to bind with `markUnavailable`.
 */
export class PortAllocator {
  readonly min: number;
  readonly max: number;
  #inUse = new Set<number>();
  #unavailable = new Set<number>();
  #cursor: number;

  /**
   * @param min first port of the range (rounded up to even)
   * @param max last port of the range (inclusive); the range must hold at least one pair
   */
  constructor(min: number, max: number) {
    const lo = min % 2 === 0 ? min : min + 1;
    if (!Number.isInteger(min) || !Number.isInteger(max) || lo < 1024 || max > 65535 || lo + 1 > max) {
      throw new RangeError(`invalid RTP port range ${min}-${max}`);
    }
    this.min = lo;
    this.max = max;
    this.#cursor = lo;
  }

  /** Number of pairs in the range. */
  get capacity(): number {
    return Math.floor((this.max - this.min + 1) / 2);
  }
  get inUse(): number {
    return this.#inUse.size;
  }

  /** The next free even RTP port, or undefined when the range is exhausted. */
  allocate(): number | undefined {
    const pairs = this.capacity;
    for (let i = 0; i < pairs; i++) {
      const port = this.#cursor;
      this.#cursor += 2;
      if (this.#cursor + 1 > this.max) this.#cursor = this.min;
      if (!this.#inUse.has(port) && !this.#unavailable.has(port)) {
        this.#inUse.add(port);
        return port;
      }
    }
    return undefined;
  }

  /** Return a pair to the pool (idempotent). */
  release(port: number): void {
    this.#inUse.delete(port);
  }

  /** A pair some other process holds: skip it from now on (until `forgetUnavailable`). */
  markUnavailable(port: number): void {
    this.#inUse.delete(port);
    this.#unavailable.add(port);
  }

  forgetUnavailable(): void {
    this.#unavailable.clear();
  }
}
