/**
 * A two-channel sample buffer on a common timeline (pure, no I/O). Samples are put at absolute
 * positions per channel; positions nobody wrote stay silent. Once the newest write is more than
 * `windowSamples` + `flushSamples` ahead, the frames older than the window are handed out
 * interleaved (L = channel 0 = label 1, R = channel 1 = label 2, 16-bit little endian) through
 * `onFrames`, so memory stays bounded, late packets within the window still land in the right
 * place, and a crash loses at most window + flushSamples of audio (the WAV writer writes each batch
 * out at once).
 *
 *   committed            (committed + capacity)
 *   |<- window ->|   newest write
 *   [ flushed... | pending samples, both channels, zero = silence ]
 *
 * Each channel is a ring of `capacity` samples (position p at p mod capacity): a flush reads the
 * frames it hands out and clears their slots, nothing else moves. Per recording that is
 * 4 x capacity bytes, 32 kB with the defaults, for as long as the recording lasts.
 */
import { endianness } from 'node:os';

/** The WAV is little endian: on such a host the samples are copied as they are. */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Rings of finished buffers, all silent again (a finish clears every slot it hands out), for the
 * next buffers of this thread with the same capacity: with a new recording every few tens of
 * milliseconds at load, a new pair each time was 1 MB/s of garbage in the recording server's
 * worker. At most SPARE_RINGS are kept.
 */
const spareRings: Int16Array[] = [];
const SPARE_RINGS = 64;

function takeRing(capacity: number): Int16Array {
  for (let i = spareRings.length - 1; i >= 0; i--) {
    const ring = spareRings[i]!;
    if (ring.length === capacity) {
      spareRings.splice(i, 1);
      return ring;
    }
  }
  return new Int16Array(capacity);
}

export interface StereoTimelineBufferOptions {
  /**
   * Pending capacity per channel in samples; default window + flush (8000 = 1 s at 8 kHz: 32 kB
   * per recording for both channels). A write longer than half of it is refused (with the defaults
   * 500 ms: no RTP packet carries that much).
   */
  capacity?: number;
  /** How far behind the newest write frames are kept for late packets; default 4000 (500 ms). */
  windowSamples?: number;
  /** Frames beyond the window gathered before they are handed out; default 4000 (500 ms). */
  flushSamples?: number;
  /**
   * Where a flush interleaves its frames: a buffer of exactly `bytes` bytes, at an even offset,
   * that `onFrames` then owns. Default a new buffer per flush; the WAV writer lends buffers it
   * takes back once they are on disk, so a recording does not leave a dead buffer per flush.
   */
  frameBuffer?: (bytes: number) => Buffer;
}

export interface TimelineBufferStats {
  /** Samples dropped because they arrived for positions already flushed. */
  lateSamples: number;
  /** Writes refused (longer than half the capacity, or negative positions before start). */
  refusedWrites: number;
  /** Frames handed out so far. */
  framesFlushed: number;
}

export class StereoTimelineBuffer {
  readonly #capacity: number;
  readonly #window: number;
  /** Pending frames (window + flushSamples, at most capacity) that trigger a flush. */
  readonly #flushAt: number;
  readonly #ch: [Int16Array, Int16Array];
  readonly #onFrames: (interleaved: Buffer) => void;
  readonly #frameBuffer: (bytes: number) => Buffer;
  #committed = 0;
  #maxEnd = 0;
  /** finish() ran: the rings went back to the spares, later writes are refused. */
  #finished = false;
  readonly stats: TimelineBufferStats = { lateSamples: 0, refusedWrites: 0, framesFlushed: 0 };

  constructor(onFrames: (interleaved: Buffer) => void, options: StereoTimelineBufferOptions = {}) {
    const window = options.windowSamples ?? 4000;
    const flush = options.flushSamples ?? 4000;
    this.#capacity = options.capacity ?? window + flush;
    this.#window = Math.min(window, this.#capacity);
    this.#flushAt = Math.min(this.#window + flush, this.#capacity);
    this.#ch = [takeRing(this.#capacity), takeRing(this.#capacity)];
    this.#onFrames = onFrames;
    this.#frameBuffer = options.frameBuffer ?? ((bytes) => Buffer.allocUnsafe(bytes));
  }

  /**
   * Frames a flush usually hands out: what gathers beyond the window before it runs. One may hand
   * out a packet's worth more (the write that triggered it), or, after a gap, up to the capacity.
   */
  get flushFrames(): number {
    return this.#flushAt - this.#window;
  }

  /** End of the furthest write (frames), i.e. the recording length so far. */
  get length(): number {
    return Math.max(this.#maxEnd, this.#committed);
  }

  put(channel: 0 | 1, position: number, pcm: Int16Array): void {
    if (this.#finished || !Number.isInteger(position) || pcm.length > this.#capacity / 2) {
      this.stats.refusedWrites++;
      return;
    }
    let data = pcm;
    let pos = position;
    if (pos < this.#committed) {
      const skip = this.#committed - pos;
      if (skip >= data.length) {
        this.stats.lateSamples += data.length;
        return;
      }
      this.stats.lateSamples += skip;
      data = data.subarray(skip);
      pos = this.#committed;
    }
    const end = pos + data.length;
    // Keep `window` frames behind the newest write, but never flush past this write's start.
    if (end - this.#committed > this.#flushAt) this.#flushTo(Math.min(pos, end - this.#window));
    const ring = this.#ch[channel];
    const at = pos % this.#capacity;
    const first = Math.min(data.length, this.#capacity - at);
    ring.set(first === data.length ? data : data.subarray(0, first), at);
    if (first < data.length) ring.set(data.subarray(first), 0);
    if (end > this.#maxEnd) this.#maxEnd = end;
  }

  /**
   * Flushes everything up to max(furthest write, minFrames); call once at the end. The rings, all
   * silent again, go back to the spares; later writes are refused.
   */
  finish(minFrames = 0): void {
    if (this.#finished) return;
    this.#flushTo(Math.max(this.#maxEnd, minFrames));
    this.#finished = true;
    for (const ring of this.#ch) if (spareRings.length < SPARE_RINGS) spareRings.push(ring);
  }

  #flushTo(target: number): void {
    const cap = this.#capacity;
    const [l, r] = this.#ch;
    while (this.#committed < target) {
      // one batch per contiguous run of the ring
      const from = this.#committed % cap;
      const k = Math.min(target - this.#committed, cap - from);
      const out = this.#frameBuffer(k * 4);
      if (LITTLE_ENDIAN && out.byteOffset % 2 === 0) {
        // interleave through a sample view of the output: no per-sample call
        const lr = new Int16Array(out.buffer, out.byteOffset, k * 2);
        for (let i = 0, j = 0; i < k; i++, j += 2) {
          lr[j] = l[from + i]!;
          lr[j + 1] = r[from + i]!;
        }
      } else {
        for (let i = 0; i < k; i++) {
          out.writeInt16LE(l[from + i]!, i * 4);
          out.writeInt16LE(r[from + i]!, i * 4 + 2);
        }
      }
      l.fill(0, from, from + k);
      r.fill(0, from, from + k);
      this.#committed += k;
      this.stats.framesFlushed += k;
      this.#onFrames(out);
    }
  }
}
