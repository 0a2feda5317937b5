/**
 * The recording event log's contract with the call layer (implementation:
 * src/observability/recording-events.ts; format: docs/observability.md). The call layer reports
 * each recording lifecycle step once; the log writes it as a JSON line and/or POSTs it to a webhook,
 * never blocking and never throwing.
 */

export type RecordingEventKind = 'started' | 'paused' | 'resumed' | 'stopped' | 'failed';

/** What the call layer passes to record(). */
export interface RecordingEventInput {
  readonly event: RecordingEventKind;
  /** The call's id (the id per-call log lines carry, callLogger). */
  readonly callId: string;
  /** The recording session's id (RFC 7865 session id), when one exists; absent for a recording that failed before it had one. */
  readonly recordingId?: string;
  /**
   * Why it happened; expected for stopped and failed (e.g. 'call-ended', 'user-request',
   * 'srs-unavailable', 'srs-lost'), optional otherwise (e.g. pause 'feature-code').
   */
  readonly reason?: string;
  /** When it happened (ms since the epoch); default: when record() is called. */
  readonly at?: number;
  /** Further plain-JSON context: organisation id, recording server URI, failover attempt, who paused. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** One entry: one JSON line of the file, one element of a webhook batch's `events`. */
export interface RecordingEventRecord {
  /** 1-based, increasing within one process run: a gap in a sink shows entries that sink dropped. */
  readonly seq: number;
  /** ISO 8601 UTC time of the event. */
  readonly time: string;
  readonly event: RecordingEventKind;
  readonly callId: string;
  readonly recordingId?: string;
  readonly reason?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** What the call layer calls. record() returns at once; never throws. */
export interface RecordingEventSink {
  record(event: RecordingEventInput): void;
}

/** A sink that writes nothing (tests, tools, no log configured). */
export const noopRecordingEvents: RecordingEventSink = Object.freeze({ record: () => {} });
