/**
 * Messages between the MediaPlane (main thread) and a media engine (worker thread, or the same
 * thread with `workers: 0`). Commands carry a request number `req`; the engine answers each with
 * exactly one reply. Events are unsolicited. All plain data (structured clone).
 */
import type { ToneSpec } from '../audio/tones.js';
import type {
  ForkBufferNotice,
  ForkOptions,
  InjectTarget,
  LatchNotice,
  LegId,
  LocalRtpAddress,
  MediaSessionOptions,
  MediaSessionStats,
  MediaTotals,
  PromptEndReason,
  RemoteMedia,
  SilentLegNotice,
  ToneKind,
} from '../media-session-types.js';

export type EngineCommand =
  | { op: 'registerPrompt'; key: string; pcm: Int16Array }
  | { op: 'createSession'; id: string; address: string; ports: { a: number; b: number }; options: MediaSessionOptions }
  | { op: 'setRemote'; id: string; leg: LegId; remote: RemoteMedia }
  | {
      op: 'playPrompt';
      id: string;
      playbackId: number;
      target: InjectTarget;
      /** A registered prompt (registerPrompt) or raw 8 kHz PCM. */
      source: { key: string } | { pcm: Int16Array };
      name: string;
      language: string | undefined;
    }
  | { op: 'stopPrompt'; id: string; target: InjectTarget }
  | { op: 'startReminder'; id: string; intervalMs: number; initialDelayMs: number; tone: ToneSpec }
  | { op: 'stopReminder'; id: string }
  /** Report a leg that delivers no accepted RTP for `ms` while the other does (0 = stop watching). */
  | { op: 'watchSilence'; id: string; ms: number }
  | { op: 'tone'; id: string; target: InjectTarget; tone: ToneSpec; kind: ToneKind }
  /** Fork commands name the fork (ForkOptions.forkId); undefined = DEFAULT_FORK_ID. */
  | { op: 'prepareFork'; id: string; forkId: string | undefined; ports: [number, number] }
  | { op: 'startFork'; id: string; fork: ForkOptions }
  | { op: 'pauseFork'; id: string; forkId: string | undefined; silence: boolean | undefined }
  | { op: 'resumeFork'; id: string; forkId: string | undefined }
  | { op: 'stopFork'; id: string; forkId: string | undefined }
  | { op: 'stats'; id: string }
  /** Aggregate counters of the engine (reply MediaTotals). */
  | { op: 'totals' }
  /** The V8 heap of the engine's thread, total bytes (live and headroom; reply a number). */
  | { op: 'heap' }
  | { op: 'closeSession'; id: string }
  | { op: 'shutdown' };

export type EngineRequest = EngineCommand & { req: number };

export interface EngineErrorData {
  code: string;
  message: string;
  /** For MEDIA_BIND_FAILED: the RTP ports that could not be bound. */
  ports?: number[];
}

export type EngineEvent =
  | ({ type: 'latched' } & LatchNotice)
  | ({ type: 'silent' } & SilentLegNotice)
  | { type: 'dtmf'; leg: LegId; digit: string; end: boolean; durationMs: number; rtpTimestamp: number; at: number }
  | { type: 'promptStarted'; playbackId: number; leg: LegId; name: string; language: string | undefined; at: number }
  | {
      type: 'promptEnded';
      playbackId: number;
      leg: LegId;
      name: string;
      language: string | undefined;
      at: number;
      reason: PromptEndReason;
      framesSent: number;
    }
  | { type: 'toneStarted'; kind: ToneKind; legs: LegId[]; at: number; durationMs: number }
  | ({ type: 'forkBuffer' } & ForkBufferNotice);

export type EngineMessage =
  | { kind: 'reply'; req: number; ok: true; value?: unknown }
  | { kind: 'reply'; req: number; ok: false; error: EngineErrorData }
  | { kind: 'event'; id: string; event: EngineEvent }
  | { kind: 'ready'; priorityError?: string; ioUring?: string };

/** Reply values by op. */
export interface CreateSessionReply {
  a: LocalRtpAddress;
  b: LocalRtpAddress;
}
export type PrepareForkReply = [LocalRtpAddress, LocalRtpAddress];
export type PlayPromptReply = { legs: LegId[] };
export type StatsReply = MediaSessionStats;
export type TotalsReply = MediaTotals;
