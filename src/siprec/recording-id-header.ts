/**
 * The header in which a recording server names its own id of the recording it accepted, on the
 * 200 to the recording INVITE (docs/siprec.md "Recording id header"). Not part of RFC 7866 and
 * tied to no provider: the reference recording server (src/srs) sets it to the id its files are
 * named by, the SIPREC client reads it when present and shows it as `srsRecordingId` (admin API
 * GET /v1/calls, the recording event log, log lines). A server that does not send it loses nothing.
 */
export const RECORDING_ID_HEADER = 'X-Recording-Id';
