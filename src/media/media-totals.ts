/**
 * Pure helpers over MediaTotals (media-session-types.ts): an empty record and summing, used by the
 * engine (one record per worker) and the plane (one record for all workers).
 */
import type { MediaTotals } from './media-session-types.js';

export function emptyMediaTotals(): MediaTotals {
  return {
    sessions: 0,
    sessionsOpened: 0,
    forksActive: 0,
    forksPaused: 0,
    rtpIn: 0,
    rtpInBytes: 0,
    rtpOut: 0,
    rtpGenerated: 0,
    rtpForked: 0,
    rtpForkedBytes: 0,
    dropped: { malformed: 0, hijack: 0, unlatched: 0, foreignSsrc: 0, unknownPayloadType: 0, relayCodec: 0, rewrite: 0, forkCodec: 0 },
    withheld: { prompt: 0, forkPaused: 0 },
    forkBuffer: { sent: 0, overflowed: 0, discarded: 0 },
    rtcpIn: 0,
    rtcpOut: 0,
    sendErrors: 0,
    latches: { sdp: 0, learned: 0, relatched: 0 },
    silentLegs: { hijack: 0, 'payload-type': 0, 'foreign-ssrc': 0, malformed: 0, unlatched: 0, 'none-received': 0 },
  };
}

/**
 * Adds `from` into `into`. With `countersOnly` only the monotonic counters are added (for the
 * totals of a closed session or a failed worker, whose current values no longer hold).
 */
export function addMediaTotals(into: MediaTotals, from: MediaTotals, options: { countersOnly?: boolean } = {}): MediaTotals {
  if (!options.countersOnly) {
    into.sessions += from.sessions;
    into.forksActive += from.forksActive;
    into.forksPaused += from.forksPaused;
  }
  into.sessionsOpened += from.sessionsOpened;
  into.rtpIn += from.rtpIn;
  into.rtpInBytes += from.rtpInBytes;
  into.rtpOut += from.rtpOut;
  into.rtpGenerated += from.rtpGenerated;
  into.rtpForked += from.rtpForked;
  into.rtpForkedBytes += from.rtpForkedBytes;
  for (const k of Object.keys(into.dropped) as (keyof MediaTotals['dropped'])[]) into.dropped[k] += from.dropped[k];
  into.withheld.prompt += from.withheld.prompt;
  into.withheld.forkPaused += from.withheld.forkPaused;
  into.forkBuffer.sent += from.forkBuffer.sent;
  into.forkBuffer.overflowed += from.forkBuffer.overflowed;
  into.forkBuffer.discarded += from.forkBuffer.discarded;
  into.rtcpIn += from.rtcpIn;
  into.rtcpOut += from.rtcpOut;
  into.sendErrors += from.sendErrors;
  for (const k of Object.keys(into.latches) as (keyof MediaTotals['latches'])[]) into.latches[k] += from.latches[k];
  for (const k of Object.keys(into.silentLegs) as (keyof MediaTotals['silentLegs'])[]) into.silentLegs[k] += from.silentLegs[k];
  return into;
}
