/**
 * States of one recording session (SRC side of RFC 7866). docs/siprec-client.md draws the machine.
 *
 *            start()                 200 (usable answer)
 *   idle ------------> inviting ------------------------> active <----------------+
 *    |                  |  |   (failover: next target,     |  ^   pause()          | 2xx
 *    | stop()/close()   |  |    same state)                |  |  ------> pausing --+--> paused
 *    v                  |  | all targets failed /          |  |  non-2xx (rollback)     |   |
 *  stopped <------------+  | start deadline                |  +--------- resuming <-----+   |
 *    ^   stop(): CANCEL    v                               |     2xx / non-2xx (rollback)   |
 *    |                   failed <--------------------------+--- SRS BYE, 408/481 ----------+
 *    |                                                     | stop()
 *    +---------------- stopping <--------------------------+ (final complete snapshot, then BYE)
 *
 * Metadata updates and snapshots are re-INVITEs sent from `active` or `paused` without a state
 * change (one INVITE transaction at a time, RFC 3261 section 14.1).
 */
export type RecordingSessionState =
  | 'idle'
  | 'inviting'
  | 'active'
  | 'pausing'
  | 'paused'
  | 'resuming'
  | 'stopping'
  | 'stopped'
  | 'failed';

/** Every legal move (common/state-machine.ts); anything else is a programmer error (ILLEGAL_STATE_TRANSITION). */
export const RECORDING_SESSION_TRANSITIONS: Readonly<Record<RecordingSessionState, readonly RecordingSessionState[]>> = {
  idle: ['inviting', 'stopped'],
  inviting: ['active', 'failed', 'stopped'],
  active: ['pausing', 'stopping', 'failed', 'stopped'],
  pausing: ['paused', 'active', 'stopping', 'failed', 'stopped'],
  paused: ['resuming', 'stopping', 'failed', 'stopped'],
  resuming: ['active', 'paused', 'stopping', 'failed', 'stopped'],
  stopping: ['stopped'],
  stopped: [],
  failed: [],
};

export const FINAL_STATES: ReadonlySet<RecordingSessionState> = new Set(['stopped', 'failed']);

/** States in which a recording dialog exists with the SRS. */
export const DIALOG_STATES: ReadonlySet<RecordingSessionState> = new Set(['active', 'pausing', 'paused', 'resuming', 'stopping']);
