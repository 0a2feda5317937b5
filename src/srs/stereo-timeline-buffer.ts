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
 */
import { endianness } from 'node:os';

/** The WAV is little endian: on such a host the samples are copied as they are. */
const LITTLE_ENDIAN = endianness() === 'LE';

export interface StereoTimelineBufferOptions {
  /**
   * Pending capacity per channel in samples; default window + flush + 8000, at least 16000 (2 s at
   * 8 kHz: 64 kB per recording for both channels). A write longer than half of it is refused.
   */
  capacity?: number;
  /** How far behind the newest write frames are kept for late packets; default 4000 (500 ms). */
  windowSamples?: number;
  /** Frames beyond the window gathered before they are handed out; default 4000 (500 ms). */
  flushSamples?: number;
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
  #committed = 0;
  #maxEnd = 0;
  readonly stats: TimelineBufferStats = { lateSamples: 0, refusedWrites: 0, framesFlushed: 0 };

  constructor(onFrames: (interleaved: Buffer) => void, options: StereoTimelineBufferOptions = {}) {
    const window = options.windowSamples ?? 4000;
    const flush = options.flushSamples ?? 4000;
    this.#capacity = options.capacity ?? Math.max(16000, window + flush + 8000);
    this.#window = Math.min(window, this.#capacity);
    this.#flushAt = Math.min(this.#window + flush, this.#capacity);
    this.#ch = [new Int16Array(this.#capacity), new Int16Array(this.#capacity)];
    this.#onFrames = onFrames;
  }

  /** End of the furthest write (frames), i.e. the recording length so far. */
  get length(): number {
    return Math.max(this.#maxEnd, this.#committed);
  }

  put(channel: 0 | 1, position: number, pcm: Int16Array): void {
    if (!Number.isInteger(position) || pcm.length > this.#capacity / 2) {
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
    this.#ch[channel].set(data, pos - this.#committed);
    if (end > this.#maxEnd) this.#maxEnd = end;
  }

  /** Flushes everything up to max(furthest write, minFrames); call once at the end. */
  finish(minFrames = 0): void {
    this.#flushTo(Math.max(this.#maxEnd, minFrames));
  }

  #flushTo(target: number): void {
    while (this.#committed < target) {
      const k = Math.min(target - this.#committed, this.#capacity);
      const [l, r] = this.#ch;
      const out = Buffer.allocUnsafe(k * 4);
      if (LITTLE_ENDIAN && out.byteOffset % 2 === 0) {
        // interleave through a sample view of the output: no per-sample call
        const lr = new Int16Array(out.buffer, out.byteOffset, k * 2);
        for (let i = 0, j = 0; i < k; i++, j += 2) {
          lr[j] = l[i]!;
          lr[j + 1] = r[i]!;
        }
      } else {
        for (let i = 0; i < k; i++) {
          out.writeInt16LE(l[i]!, i * 4);
          out.writeInt16LE(r[i]!, i * 4 + 2);
        }
      }
      l.copyWithin(0, k);
      r.copyWithin(0, k);
      l.fill(0, this.#capacity - k);
      r.fill(0, this.#capacity - k);
      this.#committed += k;
      this.stats.framesFlushed += k;
      this.#onFrames(out);
    }
  }
}
