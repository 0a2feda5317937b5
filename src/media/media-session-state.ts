/**
 * Lifecycle of a MediaSession (main-thread side):
 *
 *     open ──close()──▶ closing ──engine confirmed──▶ closed
 *       └──────────── worker failure ─────────────────▲
 *
 * Commands are accepted only in `open`; close() is idempotent.
 */
import { AppError } from '../common/errors.js';

export type MediaSessionState = 'open' | 'closing' | 'closed';

const ALLOWED: Record<MediaSessionState, readonly MediaSessionState[]> = {
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

export function assertTransition(from: MediaSessionState, to: MediaSessionState): void {
  if (!ALLOWED[from].includes(to)) throw new AppError('ILLEGAL_STATE_TRANSITION', `media session ${from} -> ${to}`);
}
