/**
 * When a node of several sharing one database (DATABASE_URL) counts as dead (docs/scaling.md "Live
 * calls across nodes"): each node writes a heartbeat every `heartbeatMs`; a node whose last
 * heartbeat is more than `heartbeatMs x missedHeartbeats` old (default 2000 ms x 3 = 6 s) is dead:
 * its calls are no longer listed, and the next node to beat deletes them. Times are read on one
 * clock, the database's, so clocks that differ between machines do not matter.
 */
export interface NodeLivenessOptions {
  /** [NODE_HEARTBEAT_MS] default 2000. */
  readonly heartbeatMs: number;
  /** [NODE_MISSED_HEARTBEATS] default 3. */
  readonly missedHeartbeats: number;
}

export const NODE_LIVENESS_DEFAULTS: NodeLivenessOptions = Object.freeze({ heartbeatMs: 2000, missedHeartbeats: 3 });

/** How old a node's last heartbeat may be while it still counts as alive. */
export function nodeExpiryMs(options: NodeLivenessOptions): number {
  return options.heartbeatMs * options.missedHeartbeats;
}

/** True while the heartbeat at `lastBeatAt` (ms) is at most nodeExpiryMs old at `now` (ms, the same clock). */
export function nodeAlive(lastBeatAt: number, now: number, options: NodeLivenessOptions): boolean {
  return now - lastBeatAt <= nodeExpiryMs(options);
}
