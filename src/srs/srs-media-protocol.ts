import type { G711Codec } from '../media/audio/g711.js';
import type { FileOp } from './file-ops.js';
import type { StreamStats } from './rtp-receiver.js';
import type { RecordingMediaOpenStage, RecordingMediaSpec } from './recording-media-types.js';
import type { TimelineBufferStats } from './stereo-timeline-buffer.js';
import type { WavWriteResult } from './stereo-wav-writer.js';

/**
 * Messages between the main thread (srs-media-pool.ts) and an srs media worker
 * (srs-media-worker.ts). Commands carry the recording id; `open` and `close` carry a request id
 * the reply repeats. Errors cross as plain objects (WireError) keeping the errno `code`, so that
 * the main thread maps them exactly as it would a local error (disk-guard.ts: ENOSPC = disk-full).
 *
 *   main -> worker   open, set-active, set-payload-types, close, memory, files
 *   worker -> main   ready, opened, closed, write-error, first-packet, memory, files-done
 */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
}

export type SrsMediaRequest =
  /** `originMs`: when the main thread asked, as performance.timeOrigin + performance.now() (comparable across threads): the recording timeline's start. */
  | { kind: 'open'; id: number; spec: RecordingMediaSpec; originMs: number }
  | { kind: 'set-active'; recordingId: string; label: string; active: boolean }
  | { kind: 'set-payload-types'; recordingId: string; label: string; payloadTypes: Array<[number, G711Codec]>; telephoneEventPayloadType?: number }
  | { kind: 'close'; id: number; recordingId: string; elapsedMs: number }
  /** The worker's own memory (metrics: srs_worker_heap_bytes, srs_worker_array_buffer_bytes). */
  | { kind: 'memory'; id: number }
  /** A recording's small file steps, run in order (file-ops.ts). */
  | { kind: 'files'; id: number; ops: FileOp[] };

export type SrsMediaMessage =
  | { kind: 'ready' }
  | { kind: 'opened'; id: number; failure?: { stage: RecordingMediaOpenStage; error: WireError } }
  | { kind: 'closed'; id: number; streams: StreamStats[]; wav?: WavWriteResult; error?: WireError; originShiftMs: number; timeline: TimelineBufferStats }
  | { kind: 'write-error'; recordingId: string; error: WireError }
  | { kind: 'first-packet'; recordingId: string; label: string }
  /** The worker's V8 heap (total, live and headroom) and its ArrayBuffers (timelines, WAV frame buffers, sockets' packets). */
  | { kind: 'memory'; id: number; heapBytes: number; arrayBufferBytes: number }
  /** The steps ran; `error`: the first that failed (the rest did not run). */
  | { kind: 'files-done'; id: number; error?: WireError };

/** An error as it crosses the port (name, message, errno fields). */
export function toWireError(err: unknown): WireError {
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.errno === 'number' ? { errno: e.errno } : {}),
    ...(typeof e?.syscall === 'string' ? { syscall: e.syscall } : {}),
  };
}

/** The Error a WireError stands for, with its errno fields back. */
export function fromWireError(w: WireError): Error {
  const err = new Error(w.message) as NodeJS.ErrnoException;
  err.name = w.name;
  if (w.code !== undefined) err.code = w.code;
  if (w.errno !== undefined) err.errno = w.errno;
  if (w.syscall !== undefined) err.syscall = w.syscall;
  return err;
}
