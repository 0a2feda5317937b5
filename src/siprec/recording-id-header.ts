/**
 * The header in which a recording server names its own id of the recording it accepted, on the
 * 200 to the recording INVITE (docs/siprec.md "Recording id header"). Not part of RFC 7866 and
 * tied to no provider: the reference recording server (src/srs) sets it to the id its files are
 * named by, the SIPREC client reads it when present and shows it as `srsRecordingId` (admin API
 * GET /v1/calls, the recording event log, log lines). A server that does not send it loses nothing.
 */
export const RECORDING_ID_HEADER = 'X-Recording-Id';

/**
 * The file names of one recording at the reference recording server (in `dir`), as the in-process
 * server reports them for the B2BUA's view of the call (GET /v1/calls recording links).
 */
export interface RecordingFileNames {
  /** The recording's folder (absolute when the recordings directory is). */
  readonly dir: string;
  readonly wav: string;
  /** The summary (JSON), written when the recording ends. */
  readonly summary: string;
  /** The latest metadata document. */
  readonly metadata: string;
  /** Every metadata document received so far, oldest first. */
  readonly metadataHistory: readonly string[];
}
