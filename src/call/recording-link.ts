/**
 * What links a call to one of its recordings (docs/admin-api.md "Recording links"): the SIPREC
 * client's session, the SIPREC dialog, the recording server's answer and, for the in-process
 * reference recording server, its recording id and file names. Shown per recording session in
 * GET /v1/calls (`recordings: [...]`) and carried by the recording event log; the ids use the same
 * names as the log lines (docs/observability.md "Log keys").
 */
import type { RecordingFileNames } from '../siprec/recording-id-header.js';

export type { RecordingFileNames };

/** One forked stream as the recording server answered it (RFC 7866 section 8.1.7 labels). */
export interface RecordingLinkStream {
  /** a=label: '1' the other party, '2' the recorded user. */
  readonly label: string;
  /** False when the server refused the stream (port 0). */
  readonly accepted: boolean;
  readonly address: string;
  readonly port: number;
  /** The G.711 payload type it chose; null when none. */
  readonly payloadType: number | null;
}

/** The recording server's answer to the recording INVITE (its 200). */
export interface RecordingServerAnswer {
  /** Final status (2xx). */
  readonly status: number;
  /** The Request-URI that answered (one of the provider's recording servers, R-40 failover order). */
  readonly target: string;
  /** 0-based attempt that was answered (failover, R-40). */
  readonly attempt: number;
  /** The Contact URI of the 200; null when the connector did not report it. */
  readonly contact: string | null;
  /** Where the 200 came from, `address:port`; null when unknown. */
  readonly source: string | null;
  /** Time from the start of the session to the 200, ms. */
  readonly setupMs: number;
  readonly streams: readonly RecordingLinkStream[];
}

/** Finds the files of a recording of the in-process reference recording server by its recording id. */
export type RecordingFileLocator = (srsRecordingId: string) => RecordingFileNames | undefined;

/** One recording session of a call. */
export interface RecordingLink {
  /** The SIPREC client's id of the session (log key `siprecSessionId`). */
  readonly siprecSessionId: string;
  /** RFC 7865 identifiers in the session's metadata (base64 UUIDs): recording group and communication session. */
  readonly metadata: { readonly groupId: string; readonly sessionId: string };
  /** The SIPREC client's state (docs/siprec-client.md): inviting, active, paused, stopped, failed, ... */
  readonly state: string;
  /** Call-ID of the SIPREC dialog (log key `siprecCallId`); null until the recording server answered. */
  readonly siprecCallId: string | null;
  /** The recording server's answer; null until it answered 200. */
  readonly srs: RecordingServerAnswer | null;
  /** The recording server's own id of the recording (header X-Recording-Id, log key `srsRecordingId`); null when it named none. */
  readonly srsRecordingId: string | null;
  /** The files, when the in-process reference recording server holds the recording; null otherwise. */
  readonly files: RecordingFileNames | null;
}

/** The ids of a link as the recording event log and the log lines carry them (absent ones left out). */
export function linkIds(link: RecordingLink | undefined): { siprecSessionId?: string; siprecCallId?: string; srsRecordingId?: string } {
  if (!link) return {};
  return {
    siprecSessionId: link.siprecSessionId,
    ...(link.siprecCallId ? { siprecCallId: link.siprecCallId } : {}),
    ...(link.srsRecordingId ? { srsRecordingId: link.srsRecordingId } : {}),
  };
}
