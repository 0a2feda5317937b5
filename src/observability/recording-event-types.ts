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
  /** The SIPREC client's id of the recording session (the log key `siprecSessionId`), when one exists. */
  readonly siprecSessionId?: string;
  /** Call-ID of the SIPREC dialog, once the recording server answered (log key `siprecCallId`). */
  readonly siprecCallId?: string;
  /** The recording server's own id of the recording, when it named one (log key `srsRecordingId`). */
  readonly srsRecordingId?: string;
  /**
   * The call's link to this recording session as GET /v1/calls shows it (src/call/recording-link.ts:
   * metadata ids, the server's answer, the reference server's file names); plain JSON.
   */
  readonly recording?: Readonly<Record<string, unknown>>;
  /**
   * Why it happened; expected for stopped and failed (e.g. 'call-ended', 'user-request', 'party-left',
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
  readonly siprecSessionId?: string;
  readonly siprecCallId?: string;
  readonly srsRecordingId?: string;
  readonly reason?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly recording?: Readonly<Record<string, unknown>>;
}

/**
 * The entries this process recorded lately, kept in memory (RecordingEventLogOptions.historySize), so
 * the recordings API can show a recording's lifecycle next to its summary: its start (with the
 * recording server that answered and the failover attempt, `recording.srs`), pauses, a lost link
 * (`failed`, reason 'srs-lost'), its stop. Not kept across a restart.
 */
export interface RecordingEventHistory {
  /** Entries naming this recording (its srsRecordingId, or the SIPREC dialog's Call-ID), oldest first; [] when none is kept. */
  eventsOf(recording: { readonly srsRecordingId: string; readonly siprecCallId?: string }): RecordingEventRecord[];
}

/** What the call layer calls. record() returns at once; never throws. */
export interface RecordingEventSink {
  record(event: RecordingEventInput): void;
}

/** A sink that writes nothing (tests, tools, no log configured). */
export const noopRecordingEvents: RecordingEventSink = Object.freeze({ record: () => {} });
