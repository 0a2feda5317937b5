/**
 * The life of one call (CallSession), signalling side:
 *
 *   admitted ──(R-11 pre-answer compliance)──▶ announcing ──prompt over──▶ dialling
 *      │                                            │                         │
 *      └──────────────(no pre-answer prompt)────────┼────────────────────────▶│
 *                                                   │                         │ leg B 200 OK,
 *                                                   │                         ▼ leg A answered
 *      any of admitted / announcing / dialling / connected ─────────────▶ connected
 *      (CANCEL, BYE, B refused, failure, admin hang-up)       │
 *                                                             ▼
 *                                                          ending ──legs, recording, media closed──▶ ended
 *
 * R-40 recording required (provider policy `endCallWithAnnouncement`, tasks/recording-gate.ts):
 * `securing-recording` waits for the recording server's 200 before the PSTN party is connected:
 * outbound admitted ──▶ securing-recording ──SRS 200──▶ dialling (leg B INVITEd only now);
 * inbound dialling ──leg B 200──▶ securing-recording ──SRS 200──▶ connected (leg A answered only now).
 * Failure or timeout: the 'recording-stopped' prompt as early media, then ending.
 *
 * `ended` is final: the session has released everything with one close().
 */
export type CallState = 'admitted' | 'announcing' | 'securing-recording' | 'dialling' | 'connected' | 'ending' | 'ended';

export const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  admitted: ['announcing', 'securing-recording', 'dialling', 'ending'],
  announcing: ['dialling', 'ending'],
  'securing-recording': ['dialling', 'connected', 'ending'],
  dialling: ['securing-recording', 'connected', 'ending'],
  connected: ['ending'],
  ending: ['ended'],
  ended: [],
};

/**
 * The recording of one call:
 *
 *   idle ──start──▶ starting ──established──▶ recording ◀──resume── paused
 *                      │  └────────pause (kept, applied on established)──▶ paused ◀──pause──┘
 *                      ▼
 *   starting / recording / paused ──stop──▶ stopped ──start (onDemand)──▶ starting
 *   starting / recording / paused ──recording server failed ──▶ failed ──start──▶ starting
 */
export type RecordingState = 'idle' | 'starting' | 'recording' | 'paused' | 'stopped' | 'failed';

export const RECORDING_TRANSITIONS: Readonly<Record<RecordingState, readonly RecordingState[]>> = {
  idle: ['starting', 'stopped'],
  starting: ['recording', 'paused', 'stopped', 'failed'],
  recording: ['paused', 'stopped', 'failed'],
  paused: ['recording', 'stopped', 'failed'],
  stopped: ['starting'],
  failed: ['starting', 'stopped'],
};
