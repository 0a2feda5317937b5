/**
 * The media plane's public API (what the call layer uses).
 *
 * ```ts
 * const plane = await MediaPlane.start({ portMin, portMax, address, workers: 1, prompts: library });
 * const media = await plane.createSession({ label: callId, latching: { a: 'sdp', b: 'first-source' } });
 * media.local.a / media.local.b          // { address, rtpPort, rtcpPort } for the SDP sent to each leg
 * await media.setRemote('a', { address, port, payloadTypes: [{ pt: 0, name: 'PCMU' }, { pt: 101, name: 'telephone-event' }] });
 * media.canInject('b')                   // false when leg B negotiated no PCMU/PCMA (relayed untouched)
 * const r = await media.playPrompt('a', library.get('compliance', 'de'));   // -> PromptResult (start/end per leg)
 * media.on('promptStarted', e => ...); media.on('promptEnded', e => ...);   // R-31: what played, to whom, when
 * await media.startReminderTone(20_000); await media.stopReminderTone();   // R-19
 * await media.beep(PAUSE_BEEP);                                            // R-18
 * const [s1, s2] = await media.prepareFork();      // local addresses for the SIPREC offer
 * await media.startFork({ targets: [srsStream1, srsStream2] });            // R-30: A's speech, B's speech
 * await media.pauseFork({ silence: false }); await media.resumeFork(); await media.stopFork();
 * media.on('dtmf', e => ...)             // RFC 4733 digits: start and end (R-17 feature codes)
 * await media.getStats(); await media.close(); await plane.close();
 * await plane.stats();                  // MediaPlaneStats: packets in/out/forked, drops by reason, sessions (metrics)
 * ```
 *
 * Threading: the sockets and the per-packet path live in media worker threads (`workers`, default
 * 1); every MediaSession method is a message to its worker. Policies and the design are in
 * docs/media.md.
 */
export { MediaPlane, type MediaPlaneOptions } from './media-plane.js';
export { MediaSession, type PromptInput } from './media-session.js';
export type { MediaSessionState } from './media-session-state.js';
export type * from './media-session-types.js';
export { REMINDER_TONE, PAUSE_BEEP, RESUME_BEEP, type ToneSpec } from './audio/tones.js';
export { PromptLibrary, type Prompt, type PromptName } from './audio/prompt-library.js';
