/**
 * Hands out even RTP ports from a range (RTCP on port + 1, RFC 3550 section 11). Ports that failed
 * to bind can be skipped by the caller and released again. Pure bookkeeping; no sockets here.
 */
export class PortPool {
  readonly #from: number;
  readonly #to: number;
  readonly #used = new Set<number>();
  #cursor: number;

  constructor(range: { from: number; to: number }) {
    const from = range.from + (range.from % 2);
    if (!(from + 1 <= range.to)) throw new RangeError(`RTP port range ${range.from}-${range.to} holds no even/odd pair`);
    this.#from = from;
    this.#to = range.to;
    this.#cursor = from;
  }

  /** An even port not in use (round robin, so a just-released port is not reused at once); undefined when exhausted. */
  allocate(): number | undefined {
    const pairs = Math.floor((this.#to - this.#from + 1) / 2);
    for (let i = 0; i < pairs; i++) {
      const p = this.#cursor;
      this.#cursor += 2;
      if (this.#cursor + 1 > this.#to) this.#cursor = this.#from;
      if (!this.#used.has(p)) {
        this.#used.add(p);
        return p;
      }
    }
    return undefined;
  }

  release(port: number): void {
    this.#used.delete(port);
  }

  get inUse(): number {
    return this.#used.size;
  }
}
