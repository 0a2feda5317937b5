import { open, type FileHandle } from 'node:fs/promises';
import { encodeWavHeader } from '../media/audio/wav.js';
import { StereoTimelineBuffer, type StereoTimelineBufferOptions, type TimelineBufferStats } from './stereo-timeline-buffer.js';

/**
 * Streams a 2-channel 16-bit 8 kHz WAV file to disk (channel 1 = label 1, channel 2 = label 2):
 * a placeholder header first, frames appended as the timeline buffer releases them, and the RIFF
 * and data sizes fixed up on close(). close() is idempotent; put() after close is ignored (the
 * packet path never throws).
 */
export interface StereoWavWriterOptions extends StereoTimelineBufferOptions {
  /** Default 8000 Hz. */
  sampleRate?: number;
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
  #dataBytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #writeError: unknown;
  #closing: Promise<WavWriteResult> | undefined;

  private constructor(path: string, fh: FileHandle, headerBytes: number, options: StereoWavWriterOptions) {
    this.path = path;
    this.sampleRate = options.sampleRate ?? 8000;
    this.#fh = fh;
    this.#headerBytes = headerBytes;
    this.#buffer = new StereoTimelineBuffer((frames) => this.#append(frames), options);
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

  #append(frames: Buffer): void {
    const at = this.#headerBytes + this.#dataBytes;
    this.#dataBytes += frames.length;
    this.#chain = this.#chain.then(async () => {
      if (this.#writeError) return;
      try {
        await this.#fh.write(frames, 0, frames.length, at);
      } catch (err) {
        this.#writeError = err;
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
        if (!this.#writeError) await this.#fh.write(header, 0, header.length, 0);
      } finally {
        await this.#fh.close();
      }
      if (this.#writeError) throw this.#writeError;
      return { path: this.path, frames: this.#dataBytes / 4, dataBytes: this.#dataBytes };
    })();
    return this.#closing;
  }
}
