/**
 * Faults the reference SRS can simulate so tests can exercise the SRC's failover and failure
 * policy:
 *
 * - `none`        behave normally (default);
 * - `no-answer`   never answer the INVITE (the SRC's timer must fire; CANCEL is answered 487);
 * - `reject`      answer with `status` (default 503) and an optional Retry-After;
 * - `slow-answer` answer normally after `delayMs` (default 3000) with 180 Ringing before;
 * - `bye-after`   answer normally, then send BYE `afterMs` (default 2000) after the ACK
 *                 (the recording is lost mid-call).
 */
export type SrsFaultOptions =
  | { mode: 'none' }
  | { mode: 'no-answer' }
  | { mode: 'reject'; status?: number; retryAfterSec?: number }
  | { mode: 'slow-answer'; delayMs?: number }
  | { mode: 'bye-after'; afterMs?: number };

export const DEFAULT_REJECT_STATUS = 503;
export const DEFAULT_SLOW_ANSWER_MS = 3000;
export const DEFAULT_BYE_AFTER_MS = 2000;
