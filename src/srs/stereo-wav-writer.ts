import { open, type FileHandle } from 'node:fs/promises';
import { encodeWavHeader } from '../media/audio/wav.js';
import { StereoTimelineBuffer, type StereoTimelineBufferOptions, type TimelineBufferStats } from './stereo-timeline-buffer.js';

/**
 * Frame buffers back from disk, shared by the writers of this thread (a flush takes one, its write
 * gives it back). Recordings flush every half second and a write takes well under that, so a few
 * serve hundreds of recordings; more than SPARE_BUFFERS are left to the garbage collector.
 */
const spare: ArrayBufferLike[] = [];
const SPARE_BUFFERS = 16;

/**
 * Frames a flush may hand out beyond the timeline's usual flush: the packet that triggered it
 * (1,000 frames cover packets up to 125 ms at 8 kHz). A new buffer has room for both, so the
 * spares fit the next flush.
 */
const FLUSH_SLACK_SAMPLES = 1000;

/**
 * Streams a 2-channel 16-bit 8 kHz WAV file to disk (channel 1 = label 1, channel 2 = label 2):
 * a header first, frames appended as the timeline buffer releases them, and the RIFF and data sizes
 * kept current so that a file cut by SIGKILL is a valid WAV of the audio written so far: after every
 * `headerUpdateMs` of audio the 44-byte header is rewritten in place (one positional write in the
 * file's first sector, queued after the frames it counts, so it never claims unwritten bytes), and
 * once more on close(), followed by fdatasync. No periodic fdatasync: after a power loss the
 * header may disagree with what the file system kept, and the start-up repair
 * (recording-repair.ts) recomputes it from the file size. close() is idempotent; put() after close
 * is ignored (the packet path never throws). The frames go to disk from buffers the writers of a
 * thread share and take back once written, not from a new buffer per flush, which left a dead
 * 16 kB buffer per recording every half second for the recording server's worker to collect.
 */
export interface StereoWavWriterOptions extends Omit<StereoTimelineBufferOptions, 'frameBuffer'> {
  /** Default 8000 Hz. */
  sampleRate?: number;
  /** Audio written between two header rewrites, ms of audio. Default 1000. */
  headerUpdateMs?: number;
  /**
   * Called once with the first write error (ENOSPC, EIO...), as it happens: later frames are not
   * written and close() rejects with the same error. Default none.
   */
  onWriteError?: (err: unknown) => void;
}

export interface WavWriteResult {
  path: string;
  frames: number;
  dataBytes: number;
}

export class StereoWavWriter {
  readonly path: string;
  readonly sampleRate: number;
  readonly #fh: FileHandle;
  readonly #buffer: StereoTimelineBuffer;
  readonly #headerBytes: number;
  /** Data bytes between two header rewrites (headerUpdateMs of audio). */
  readonly #headerEveryBytes: number;
  /** The data size the header on disk (or queued for it) states. */
  #headerDataBytes = 0;
  readonly #onWriteError: ((err: unknown) => void) | undefined;
  #dataBytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #writeError: unknown;
  #closing: Promise<WavWriteResult> | undefined;

  private constructor(path: string, fh: FileHandle, headerBytes: number, options: StereoWavWriterOptions) {
    this.path = path;
    this.sampleRate = options.sampleRate ?? 8000;
    this.#fh = fh;
    this.#headerBytes = headerBytes;
    this.#headerEveryBytes = Math.max(4, Math.round(((options.headerUpdateMs ?? 1000) * this.sampleRate) / 1000) * 4);
    this.#onWriteError = options.onWriteError;
    this.#buffer = new StereoTimelineBuffer((frames) => this.#append(frames), { ...options, frameBuffer: (bytes) => this.#lend(bytes) });
  }

  static async create(path: string, options: StereoWavWriterOptions = {}): Promise<StereoWavWriter> {
    const fh = await open(path, 'w');
    const header = encodeWavHeader({ format: 'pcm16', channels: 2, sampleRate: options.sampleRate ?? 8000, dataBytes: 0 });
    await fh.write(header, 0, header.length, 0);
    return new StereoWavWriter(path, fh, header.length, options);
  }

  get stats(): TimelineBufferStats {
    return this.#buffer.stats;
  }

  /** Frames on the timeline so far (the furthest sample written). */
  get lengthFrames(): number {
    return this.#buffer.length;
  }

  /** Puts linear samples of one channel at an absolute sample position. */
  put(channel: 0 | 1, position: number, pcm: Int16Array): void {
    if (this.#closing) return;
    this.#buffer.put(channel, position, pcm);
  }

  /** A frame buffer of `bytes` bytes: a view of a spare one when it is large enough. */
  #lend(bytes: number): Buffer {
    const back = spare.pop();
    const memory = back !== undefined && back.byteLength >= bytes ? back : new ArrayBuffer(Math.max(bytes, 4 * (this.#buffer.flushFrames + FLUSH_SLACK_SAMPLES)));
    return Buffer.from(memory, 0, bytes);
  }

  #append(frames: Buffer): void {
    const at = this.#headerBytes + this.#dataBytes;
    this.#dataBytes += frames.length;
    this.#queueWrite(frames, at, true);
    if (this.#dataBytes - this.#headerDataBytes >= this.#headerEveryBytes) {
      // the header rewrite follows the frames it counts in the queue, so it never claims unwritten bytes
      this.#headerDataBytes = this.#dataBytes;
      this.#queueWrite(encodeWavHeader({ format: 'pcm16', channels: 2, sampleRate: this.sampleRate, dataBytes: this.#dataBytes }), 0);
    }
  }

  /**
   * Queues a positional write; the first error stops every later one. A lent frame buffer
   * (`frames`) comes back to the spares once written or skipped.
   */
  #queueWrite(buf: Buffer, at: number, frames = false): void {
    this.#chain = this.#chain.then(async () => {
      try {
        if (!this.#writeError) await this.#fh.write(buf, 0, buf.length, at);
      } catch (err) {
        this.#writeError = err;
        this.#onWriteError?.(err);
      } finally {
        if (frames && spare.length < SPARE_BUFFERS) spare.push(buf.buffer);
      }
    });
  }

  /**
   * Flushes the remaining frames (at least `minFrames`, so that a recording ends at the call's
   * end even when the last packets are missing), fixes up the header and closes the file.
   */
  close(minFrames = 0): Promise<WavWriteResult> {
    this.#closing ??= (async () => {
      this.#buffer.finish(minFrames);
      await this.#chain;
      const header = encodeWavHeader({ format: 'pcm16', channels: 2, sampleRate: this.sampleRate, dataBytes: this.#dataBytes });
      try {
        if (!this.#writeError) {
          await this.#fh.write(header, 0, header.length, 0);
          await this.#fh.datasync();
        }
      } finally {
        await this.#fh.close();
      }
      if (this.#writeError) throw this.#writeError;
      return { path: this.path, frames: this.#dataBytes / 4, dataBytes: this.#dataBytes };
    })();
    return this.#closing;
  }
}
