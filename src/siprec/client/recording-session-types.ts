import type { SdesCrypto } from '../recording-sdp.js';
import type { SrsAnswerFacts } from './srs-connector-types.js';
import type { AttemptOutcome } from './failover-rules.js';
import type { RecordingFailurePolicy } from './recording-session-options.js';
import type { RecordingSessionState } from './recording-session-state.js';

/** Where the media plane sends one forked stream (from the SRS's SDP answer). */
export interface RecordingRtpTarget {
  label: string;
  /** False when the SRS refused this stream (port 0): send nothing for it. */
  accepted: boolean;
  address: string;
  port: number;
  rtcpPort: number;
  /** G.711 payload type the SRS chose. */
  payloadType: number | undefined;
  telephoneEventPayloadType: number | undefined;
  /** The SRS's SDES key (to decrypt its RTCP), when SRTP is in use. */
  remoteCrypto: SdesCrypto | undefined;
}

/** Both forked streams: label 1 = PSTN/other party, label 2 = user. */
export interface RecordingRtpTargets {
  label1: RecordingRtpTarget;
  label2: RecordingRtpTarget;
}

/** One INVITE attempt, for reports and logs. */
export interface AttemptRecord {
  /** 0-based attempt number. */
  attempt: number;
  target: string;
  outcome: AttemptOutcome | { kind: 'established' };
  /** Time from sending to the outcome, ms (monotonic clock). */
  elapsedMs: number;
}

export interface RecordingEstablished {
  /** The URI that answered. */
  target: string;
  attempt: number;
  callId: string;
  targets: RecordingRtpTargets;
  /** Time from start() to the 200, ms. */
  setupMs: number;
  /** What the 200 said about the recording server (status, Contact, its recording id when it names one). */
  answer: SrsAnswerFacts;
}

export type RecordingFailureReason =
  /** Every target failed (or the attempts were used up); see `attempts`. */
  | 'no-recording-server'
  /** start() took longer than the start deadline. */
  | 'start-deadline'
  /** The SRS answered 200 with an SDP we cannot use (no stream accepted, no SRTP when required). */
  | 'answer-unusable'
  /** The SRS sent BYE mid-recording. */
  | 'srs-bye'
  /** A re-INVITE got 408/481 or no answer: the dialog is gone (RFC 3261 section 14.1). */
  | 'dialog-lost';

export interface RecordingFailure {
  /** Error code for the call log (docs/errors.md). */
  code: 'SIPREC_CLIENT_SRS_UNAVAILABLE' | 'SIPREC_CLIENT_SRS_LOST';
  reason: RecordingFailureReason;
  /** 'start' before the recording was established, 'mid-call' after. */
  phase: 'start' | 'mid-call';
  /** The R-40 policy the call layer should apply. */
  policy: RecordingFailurePolicy;
  attempts: AttemptRecord[];
  detail: string;
}

export type RecordingStopReason = 'stop' | 'close' | 'cancelled';

/** The outcome start() resolves with; it never rejects, so callers may ignore it. */
export type RecordingStartOutcome =
  | { established: true; info: RecordingEstablished }
  | { established: false; failure: RecordingFailure | undefined; state: RecordingSessionState };

export type RecordingRequestKind = 'pause' | 'resume' | 'update' | 'snapshot' | 'final-snapshot';

/** What pause()/resume()/updateMetadata() resolve with; SIP outcomes never reject. */
export interface RecordingRequestResult {
  ok: boolean;
  /** Final status of the re-INVITE, when one was sent (0 = none sent). */
  status: number;
  detail: string;
}

export type RecordingSessionEvents = {
  state: [from: RecordingSessionState, to: RecordingSessionState];
  /** The SRS accepted: start forking to `info.targets` (the media layer's cue). */
  established: [info: RecordingEstablished];
  attemptFailed: [record: AttemptRecord];
  /** The SRS changed its media addresses with its own re-INVITE. */
  targetsChanged: [targets: RecordingRtpTargets];
  paused: [];
  resumed: [];
  /** A pause/resume/update re-INVITE was refused and rolled back. */
  refused: [kind: RecordingRequestKind, status: number];
  /** The SRS asked for a metadata snapshot (RFC 7866 section 9.3). */
  snapshotRequested: [reason: string | undefined];
  failed: [failure: RecordingFailure];
  stopped: [reason: RecordingStopReason];
};
