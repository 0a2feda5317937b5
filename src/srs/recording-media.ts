import type { Clock } from '../common/clock.js';
import type { G711Codec } from '../media/audio/g711.js';
import { RecordingRtpReceiver, type ReceiverStreamConfig, type StreamStats } from './rtp-receiver.js';
import { StereoWavWriter } from './stereo-wav-writer.js';
import { createSrtpDecryptor, type SdesKey } from './srtp-receive.js';
import type {
  RecordingMediaBackend,
  RecordingMediaHandle,
  RecordingMediaListener,
  RecordingMediaOpenResult,
  RecordingMediaResult,
  RecordingMediaSpec,
} from './recording-media-types.js';

/**
 * The media side of one SRS recording (recording-media-types.ts): the stereo WAV writer and the
 * RTP receiver feeding it, opened and driven in the thread it runs in, an srs media worker
 * (srs-media-worker.ts) or the main thread (InThreadRecordingMedia, `srs.mediaWorkers: 0`).
 *
 * Open: the WAV file first (a failure is stage 'file'), then the SRTP decryptors ('setup'), then
 * the sockets ('bind': the file is closed again so that the caller can retry with other ports).
 * Close: statistics taken, sockets closed, the timeline flushed to at least the elapsed time, the
 * header fixed up, fdatasync, the file closed (stereo-wav-writer.ts).
 */
export class RecordingMedia implements RecordingMediaHandle {
  readonly #receiver: RecordingRtpReceiver;
  readonly #writer: StereoWavWriter;
  #closing: Promise<RecordingMediaResult> | undefined;
  #finalStats: StreamStats[] | undefined;

  private constructor(receiver: RecordingRtpReceiver, writer: StereoWavWriter) {
    this.#receiver = receiver;
    this.#writer = writer;
  }

  /**
   * Opens the file and the sockets of `spec` on `clock` (the thread's own); the recording timeline
   * starts at `startMonotonic` on that clock (default: once the sockets are bound). Never rejects.
   */
  static async open(spec: RecordingMediaSpec, clock: Clock, listener: RecordingMediaListener, startMonotonic?: number): Promise<{ ok: true; media: RecordingMedia } | Extract<RecordingMediaOpenResult, { ok: false }>> {
    let writer: StereoWavWriter;
    try {
      writer = await StereoWavWriter.create(spec.wavPath, { windowSamples: spec.windowSamples, onWriteError: (err) => listener.onWriteError(err) });
    } catch (error) {
      return { ok: false, stage: 'file', error };
    }
    let configs: ReceiverStreamConfig[];
    try {
      configs = await Promise.all(
        spec.streams.map(async (s) => {
          const decryptor = s.srtp ? await createSrtpDecryptor(sdesKey(s.srtp.remote), sdesKey(s.srtp.local)) : undefined;
          return {
            label: s.label,
            channel: s.channel,
            port: s.port,
            payloadTypes: new Map(s.payloadTypes),
            ...(s.telephoneEventPayloadType === undefined ? {} : { telephoneEventPayloadType: s.telephoneEventPayloadType }),
            ...(decryptor ? { decryptor } : {}),
          };
        }),
      );
    } catch (error) {
      await writer.close().catch(() => undefined);
      return { ok: false, stage: 'setup', error };
    }
    let receiver: RecordingRtpReceiver;
    try {
      receiver = await RecordingRtpReceiver.open({
        address: spec.address,
        streams: configs,
        sink: writer,
        clock,
        reanchorMs: spec.reanchorMs,
        ...(startMonotonic === undefined ? {} : { startMonotonic }),
      });
    } catch (error) {
      await writer.close().catch(() => undefined);
      return { ok: false, stage: 'bind', error };
    }
    receiver.on('media', (label) => listener.onFirstPacket?.(label));
    return { ok: true, media: new RecordingMedia(receiver, writer) };
  }

  get sampleRate(): number {
    return this.#writer.sampleRate;
  }

  elapsedMs(): number {
    return this.#receiver.elapsedMs();
  }

  setActive(label: string, active: boolean): void {
    this.#receiver.setActive(label, active);
  }

  setPayloadTypes(label: string, payloadTypes: ReadonlyMap<number, G711Codec>, telephoneEventPayloadType?: number): void {
    this.#receiver.setPayloadTypes(label, payloadTypes, telephoneEventPayloadType);
  }

  stats(): StreamStats[] {
    return this.#finalStats ?? this.#receiver.stats();
  }

  close(elapsedMs: number): Promise<RecordingMediaResult> {
    this.#closing ??= (async () => {
      const streams = this.#receiver.stats();
      this.#finalStats = streams;
      this.#receiver.close();
      try {
        const originShiftMs = this.#receiver.originShiftMs;
        const wav = await this.#writer.close(Math.round((elapsedMs + originShiftMs) * 8));
        return { streams, wav, originShiftMs, timeline: { ...this.#writer.stats } };
      } catch (error) {
        return { streams, error, originShiftMs: this.#receiver.originShiftMs, timeline: { ...this.#writer.stats } };
      }
    })();
    return this.#closing;
  }
}

/** Keys that crossed a message port arrive as Uint8Array: Buffers again for the SRTP session. */
function sdesKey(k: SdesKey): SdesKey {
  return { masterKey: Buffer.from(k.masterKey), masterSalt: Buffer.from(k.masterSalt) };
}

/**
 * The media side in the signalling thread (`srs.mediaWorkers: 0`): the recordings' sockets and
 * files share the main event loop, and run on the injected clock (tests with a fake clock).
 */
export class InThreadRecordingMedia implements RecordingMediaBackend {
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async open(spec: RecordingMediaSpec, listener: RecordingMediaListener): Promise<RecordingMediaOpenResult> {
    const res = await RecordingMedia.open(spec, this.#clock, listener);
    return res.ok ? { ok: true, handle: res.media } : res;
  }

  start(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
