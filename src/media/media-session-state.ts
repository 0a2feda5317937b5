/**
 * Lifecycle of a MediaSession (main-thread side):
 *
 *     open ──close()──▶ closing ──engine confirmed──▶ closed
 *       └──────────── worker failure ─────────────────▲
 *
 * Commands are accepted only in `open`; close() is idempotent.
 */
import type { TransitionTable } from '../common/state-machine.js';

export type MediaSessionState = 'open' | 'closing' | 'closed';

/** The legal moves (common/state-machine.ts; drawn in docs/state-machines.md). */
export const MEDIA_SESSION_TRANSITIONS: TransitionTable<MediaSessionState> = {
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};
