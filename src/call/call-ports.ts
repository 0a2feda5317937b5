/**
 * The narrow interfaces the call layer drives (STYLE habit 3): the media of one call (what
 * src/media/media-session.ts's MediaSession offers, structurally), the recording session towards
 * the provider (RecordingPort; src/call/siprec-recording-port.ts adapts the SIPREC client), and the
 * settings source. Fakes for all of them live in test/fakes/.
 */
import type { TypedEmitter } from '../common/typed-emitter.js';
import type { ToneSpec } from '../media/audio/tones.js';
import type { Prompt, PromptName } from '../media/audio/prompt-library.js';
import type {
  ForkOptions,
  ForkSrtpOptions,
  InjectTarget,
  LegId,
  LocalRtpAddress,
  MediaSessionEvents,
  PromptResult,
  RemoteMedia,
} from '../media/media-session-types.js';
import type { LatchMode } from '../media/processors/source-latch.js';
import type { ResolvedProvider } from '../policy/effective-settings.js';
import type { CallDirection } from '../policy/call-decision-types.js';
import type { PlatformInfo, PolicySnapshot, RecordingMode } from '../policy/policy-types.js';
import type { RecordingLink } from './recording-link.js';

/** The media of one call (a subset of MediaSession). */
export interface CallMedia extends TypedEmitter<MediaSessionEvents> {
  readonly local: { readonly a: LocalRtpAddress; readonly b: LocalRtpAddress };
  setRemote(leg: LegId, remote: RemoteMedia): Promise<void>;
  canInject(leg: LegId): boolean;
  playPrompt(target: InjectTarget, prompt: Prompt): Promise<PromptResult>;
  stopPrompt(target?: InjectTarget): Promise<void>;
  startReminderTone(intervalMs: number, options?: { initialDelayMs?: number }): Promise<void>;
  stopReminderTone(): Promise<void>;
  /** Report a leg that delivers no accepted RTP for `ms` while the other does (`silent` event); 0 stops watching. */
  watchSilence(ms: number): Promise<void>;
  beep(tone: ToneSpec, target?: InjectTarget): Promise<LegId[]>;
  /** Fork commands name the fork (one per recording of the call); default 'main' (DEFAULT_FORK_ID). */
  prepareFork(forkId?: string): Promise<[LocalRtpAddress, LocalRtpAddress]>;
  startFork(options: ForkOptions): Promise<void>;
  pauseFork(options?: { silence?: boolean; forkId?: string }): Promise<void>;
  resumeFork(forkId?: string): Promise<void>;
  stopFork(forkId?: string): Promise<void>;
  close(): Promise<void>;
}

/** Creates the media of a new call (MediaPlane.createSession). */
export interface MediaFactory {
  createSession(options: { label: string; latching?: { a?: LatchMode; b?: LatchMode } }): Promise<CallMedia>;
}

/** Prompts by name and language (PromptLibrary). */
export interface PromptSource {
  get(name: PromptName, language: string): Prompt;
}

/** A party as the recording metadata names it (RFC 7865 participant, R-31, R-33). */
export interface RecordingParticipant {
  /** sip:/tel: address of record. */
  readonly aor: string;
  /** The party's E.164 number when known (BroadWorks calling/called party number, R-41). */
  readonly number?: string;
  readonly name?: string;
  readonly platform?: PlatformInfo;
}

/** What the call layer knows when it starts a recording. Label 1 = other party, label 2 = user. */
export interface RecordingStartRequest {
  readonly callId: string;
  readonly direction: CallDirection;
  readonly orgId: string;
  readonly locationId: string;
  readonly mode: RecordingMode;
  /** Which side of the call the recorded user is on (BroadWorks call type, R-41). */
  readonly userSide: 'caller' | 'callee';
  readonly provider: ResolvedProvider;
  readonly other: RecordingParticipant;
  readonly user: RecordingParticipant;
  /** Our fork RTP ports per label (prepareFork). */
  readonly local: { readonly address: string; readonly label1Port: number; readonly label2Port: number };
}

/** Where one forked stream goes (the recording server's answer). */
export interface RecordingStreamTarget {
  readonly accepted: boolean;
  readonly address: string;
  readonly port: number;
  /** G.711 payload type chosen by the recording server. */
  readonly payloadType: number | undefined;
  /** Our SRTP sending key for this stream, when the provider requires SRTP. */
  readonly srtp?: ForkSrtpOptions;
}

/** R-31 an announcement, tone or beep that was played or skipped. */
export interface AnnouncementNote {
  readonly kind: 'compliance' | 'start' | 'stop' | 'pause' | 'resume' | 'reminder-tone';
  /** 'pstn' | 'user' | 'all'. */
  readonly target: string;
  readonly result: 'played' | 'skipped';
  readonly phase?: 'pre-answer' | 'post-answer' | 'mid-call';
  readonly media?: string;
  readonly language?: string;
  readonly start?: number;
  readonly end?: number;
  readonly reason?: string;
  /** 'reminder-tone' only: one note per play, cumulative for the recording: latest play, plays so far, interval (s). */
  readonly last?: number;
  readonly count?: number;
  readonly intervalSeconds?: number;
}

/**
 * Audio of the recording that is missing and why, marked in the metadata so the provider sees it:
 * `silent-stream` (`b2b:silent-stream`): a stream that carries no audio from `since` (the media
 * plane's silent-leg watch, detected at `detected`); `lost-start` (`b2b:lost-start`): the stream's
 * audio from `since` (the answer) to `detected` is not in the recording, because the recording
 * server answered later than the fork keeps audio (reason `recording-server-late`) or the fork keeps
 * none (`no-fork-buffer`, media.forkBufferMs 0).
 */
export interface MediaProblemNote {
  readonly kind: 'silent-stream' | 'lost-start';
  /** The stream: '1' the other party, '2' the user. */
  readonly label: '1' | '2';
  /** silent-stream: SilenceReason of the media plane (hijack, payload-type, foreign-ssrc, malformed, unlatched, none-received); lost-start: recording-server-late | no-fork-buffer. */
  readonly reason: string;
  readonly since: number;
  readonly detected: number;
  readonly dropped?: number;
  /** 'address:port' the party's SDP named, and where its media goes (the latched source). */
  readonly sdp?: string;
  readonly source?: string;
}

export interface RecordingFailureNote {
  /** R-40 policy to apply. */
  readonly policy: 'proceedWithoutAnnouncement' | 'proceedWithAnnouncement' | 'endCallWithAnnouncement';
  readonly phase: 'start' | 'mid-call';
  readonly detail: string;
}

export interface RecordingPortEvents extends Record<string, unknown[]> {
  /** The recording server accepted: fork to these targets (R-34: the call never waited for it). */
  established: [targets: { label1: RecordingStreamTarget; label2: RecordingStreamTarget }];
  failed: [failure: RecordingFailureNote];
}

/**
 * One recording session towards the provider (RFC 7866 SRC). start() returns at once; `established`
 * or `failed` follows. pause/resume/stop never reject (SIP outcomes are logged by the adapter).
 */
export interface RecordingPort extends TypedEmitter<RecordingPortEvents> {
  start(request: RecordingStartRequest): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Final metadata, then BYE. */
  stop(): Promise<void>;
  /** record in the metadata (sent with the next update). */
  announcement(note: AnnouncementNote): void;
  /** A silent stream and its cause, recorded in the metadata (sent with the next update). */
  mediaProblem(problem: MediaProblemNote): void;
  /** R-13 transfer: the party on `side` was replaced; the recording continues. */
  participantChanged(side: 'other' | 'user', joining: RecordingParticipant): void;
  /** Abrupt end (CANCEL/BYE, no final snapshot); idempotent. */
  close(): Promise<void>;
  /** What links the call to this recording session (recording-link.ts); undefined before start(). Optional. */
  link?(): RecordingLink | undefined;
}

export type RecordingPortFactory = (context: { callId: string }) => RecordingPort;

/** The current settings (snapshots of every organisation). */
export interface PolicySource {
  snapshots(): Promise<readonly PolicySnapshot[]>;
}
