import type { G711Codec } from '../media/audio/g711.js';
import type { StreamStats } from './rtp-receiver.js';
import type { SdesKey } from './srtp-receive.js';
import type { TimelineBufferStats } from './stereo-timeline-buffer.js';
import type { WavWriteResult } from './stereo-wav-writer.js';

/**
 * The boundary between an SRS recording's signalling side (srs-recording.ts: SDP, metadata,
 * summary, on the main thread) and its media side (recording-media.ts: RTP sockets, SRTP, decode,
 * timeline, WAV file, in an srs media worker or in the same thread). Everything here crosses a
 * worker's message port, so it is plain data (structured clone): no functions, no class instances.
 */

/** One recorded stream as the media side opens it. */
export interface RecordingMediaStream {
  label: string;
  /** WAV channel (0 = left = label 1). */
  channel: 0 | 1;
  /** RTP port to bind (even); RTCP binds port + 1. Allocated by the main thread's PortAllocator. */
  port: number;
  /** Payload type -> codec from the negotiated SDP (PT 0 and 8 are always known). */
  payloadTypes: Array<[number, G711Codec]>;
  telephoneEventPayloadType?: number;
  /** SDES keys of an RTP/SAVP stream: the SRC's and ours; absent = plain RTP. */
  srtp?: { remote: SdesKey; local: SdesKey };
}

/** What the media side of one recording opens: the WAV file and one socket pair per stream. */
export interface RecordingMediaSpec {
  recordingId: string;
  wavPath: string;
  /** Address the RTP sockets bind. */
  address: string;
  streams: RecordingMediaStream[];
  /** Late-packet window of the WAV timeline, samples (jitterWindowMs x 8). */
  windowSamples: number;
  /** Re-anchor threshold of the stream timelines, ms. */
  reanchorMs: number;
}

/**
 * Why an open failed: 'file' = the WAV could not be created (a disk fault: 503 SRS_DISK_ERROR),
 * 'bind' = a port was taken (the caller retries with other ports; after 5 tries 503
 * SRS_NO_RTP_PORTS), 'setup' = anything else (the SRTP keys could not be set up...), 'worker' =
 * the srs media worker died during the open (503 SRS_MEDIA_WORKER_FAILED). Nothing stays open.
 */
export type RecordingMediaOpenStage = 'file' | 'bind' | 'setup' | 'worker';

/** An open's outcome: the handle, or the stage it failed at with the underlying error. */
export type RecordingMediaOpenResult = { ok: true; handle: RecordingMediaHandle } | { ok: false; stage: RecordingMediaOpenStage; error: unknown };

/** What the media side of a recording hands back when it is closed. */
export interface RecordingMediaResult {
  /** Per-stream receive statistics at the close (the summary's streams). */
  streams: StreamStats[];
  /** The finalised WAV file; absent when the file failed (see `error`). */
  wav?: WavWriteResult;
  /** The write error that failed the file (the first one, or the close's own). */
  error?: unknown;
  /** How far the WAV starts before the recording's start (RecordingRtpReceiver.originShiftMs). */
  originShiftMs: number;
  /** The WAV timeline's own figures (late samples dropped, refused writes, frames flushed). */
  timeline: TimelineBufferStats;
}

/** Events of one recording's media side, as they happen. */
export interface RecordingMediaListener {
  /** The first write error (ENOSPC, EIO...): later frames are not written. Once. */
  onWriteError(err: unknown): void;
  /** The first decodable packet of a stream. */
  onFirstPacket?(label: string): void;
  /** The media side died (its worker crashed): the recording is failed. Once. */
  onFailure?(err: Error): void;
}

/** The media side of one open recording, as the signalling side drives it. */
export interface RecordingMediaHandle {
  /** Sample rate of the WAV file (8000). */
  readonly sampleRate: number;
  /** Recording timeline position now, ms since the open (the signalling side's clock). */
  elapsedMs(): number;
  /** Pause (false, SDP a=inactive) or resume (true) a stream; on resume its timeline re-anchors. */
  setActive(label: string, active: boolean): void;
  /** The payload types of a stream after a re-negotiation. */
  setPayloadTypes(label: string, payloadTypes: ReadonlyMap<number, G711Codec>, telephoneEventPayloadType?: number): void;
  /** The last statistics known on this side (the close's, once closed). */
  stats(): StreamStats[];
  /**
   * Closes the sockets, flushes the WAV timeline (at least `elapsedMs` of audio, so a recording
   * ends at the call's end even when the last packets are missing), fixes up the header,
   * fdatasyncs and closes the file. Never rejects: a failure is in the result. Idempotent.
   */
  close(elapsedMs: number): Promise<RecordingMediaResult>;
}

/** Opens recordings' media sides: in this thread or in srs media workers (srs-media-pool.ts). */
export interface RecordingMediaBackend {
  /** Creates the WAV file and binds every stream's sockets. Never rejects: a failure is in the result. */
  open(spec: RecordingMediaSpec, listener: RecordingMediaListener): Promise<RecordingMediaOpenResult>;
  /** Starts the workers ahead of the first recording (no-op in this thread). */
  start(): void;
  /** Ends the workers (after every recording was closed). Idempotent. */
  close(): Promise<void>;
}
