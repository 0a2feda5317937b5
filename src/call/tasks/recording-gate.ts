import type { Clock, TimerHandle, Timers } from '../../common/clock.js';
import type { InjectTarget } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import type { InboundInvite } from '../../sip/b2bua-types.js';
import { firstG711, readAudio } from '../../sip/sdp-media.js';
import type { AnnouncementNote, CallMedia, PromptSource } from '../call-ports.js';
import type { LegSdp } from '../leg-sdp.js';
import { remoteMediaOf } from '../leg-media.js';
import type { RecordingController } from '../recording-controller.js';
import { announce } from './announce.js';

/**
 * Task R-40 "recording required" (provider failure policy `endCallWithAnnouncement`): the PSTN
 * party is connected only once the recording server has answered 200.
 *
 *   inbound PSTN (A = PSTN caller)          outbound PSTN (B = PSTN callee)
 *   leg B (user) answers 200                 leg A (user) INVITEs, nothing answered yet
 *   SIPREC INVITE ──▶ SRS                    SIPREC INVITE ──▶ SRS (fork held until B answers)
 *   SRS 200 ──▶ 200 to leg A (connected)     SRS 200 ──▶ leg B INVITEd (dialled)
 *
 * On the recording server's failure, or no 200 within `timeoutMs`, the recording attempt is
 * abandoned (controller closed: CANCEL), `beforeAnnounce` gives the PSTN-facing leg early media
 * (183 with our SDP) and the 'recording-stopped' prompt plays to `target`; the session then ends
 * the call without ever answering leg A (480) and, outbound, without ever INVITing leg B.
 * Never rejects. Returns 'ended' when the call ended meanwhile (CANCEL): nothing is played then.
 */
export interface RecordingGateContext {
  readonly recording: RecordingController;
  /** Outbound: the parties are not talking yet, the fork waits for RecordingController.answered(). */
  readonly holdFork: boolean;
  readonly timeoutMs: number;
  readonly media: CallMedia;
  readonly prompts: PromptSource;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly language: string;
  /** Who hears the 'recording-stopped' prompt (legs that cannot take injected audio are left out). */
  readonly target: InjectTarget;
  /** Give the target early media; false when that is impossible (the prompt is then skipped). */
  readonly beforeAnnounce: () => Promise<boolean>;
  readonly ended: () => boolean;
}

export type RecordingGateOutcome =
  | { readonly result: 'established' }
  | { readonly result: 'ended' }
  | { readonly result: 'failed' | 'timeout'; readonly note: AnnouncementNote };

export async function recordingGate(ctx: RecordingGateContext): Promise<RecordingGateOutcome> {
  let timer: TimerHandle | undefined;
  const expiry = new Promise<'timeout'>((resolve) => {
    timer = ctx.timers.setTimeout(() => resolve('timeout'), ctx.timeoutMs);
  });
  const r = await Promise.race([ctx.recording.startRequired(ctx.holdFork), expiry]);
  ctx.timers.clearTimeout(timer);
  if (ctx.ended()) return { result: 'ended' };
  if (r === 'established') return { result: 'established' };
  ctx.log.warn({ result: r, timeoutMs: ctx.timeoutMs }, 'recording required but not established (R-40): the PSTN party is not connected');
  await ctx.recording.abandon(r); // a late 200 must not start a recording (the pending INVITE is CANCELled)
  const note: AnnouncementNote = (await ctx.beforeAnnounce())
    ? await announce(ctx.media, ctx.prompts, ctx.clock, ctx.log, {
        kind: 'stop',
        prompt: 'recording-stopped',
        language: ctx.language,
        target: ctx.target,
        audience: ctx.target === 'both' ? 'all' : 'pstn',
        phase: 'pre-answer',
      })
    : { kind: 'stop', target: 'pstn', result: 'skipped', phase: 'pre-answer', reason: 'codec' };
  return { result: r, note };
}

/**
 * Outbound: early media towards the unanswered user on leg A, so that it hears why the call is
 * refused: 183 with our answer to its offer, restricted to its first G.711 codec (injectable).
 */
export async function earlyMediaFromOffer(invite: InboundInvite, sdpA: LegSdp, media: CallMedia): Promise<boolean> {
  const audio = readAudio(invite.sdp);
  const g = audio ? firstG711(audio) : undefined;
  const answer = g ? sdpA.answer(invite.sdp, invite.sdp, { payloadTypes: [g.payloadType] }) : undefined;
  if (!audio || !g || !answer) return false;
  await media.setRemote('a', remoteMediaOf(audio, [g.payloadType], answer)).catch(() => undefined);
  invite.progress(183, answer);
  return true;
}
