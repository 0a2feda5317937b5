import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { InboundInvite } from '../../sip/b2bua-types.js';
import { firstG711, type AudioDescription } from '../../sip/sdp-media.js';
import type { AnnouncementNote, CallMedia, PromptSource } from '../call-ports.js';
import type { LegSdp } from '../leg-sdp.js';
import { remoteMediaOf } from '../leg-media.js';
import { announce } from './announce.js';

/**
 * Task R-11: the inbound compliance announcement as early media, before the callee is alerted.
 *
 *   caller                B2BUA
 *     |--- INVITE (SDP) --->|
 *     |<-- 183 (our SDP) ---|   answer = the caller's first G.711 codec only (prompt injectable)
 *     |<== prompt (RTP) ====|   in the destination's language (R-04)
 *     |                     |   ...then leg B is INVITEd with that same codec (the caller's 200
 *                               repeats this 183's SDP: one answer per offer, RFC 3264)
 *
 * Returns the committed payload types (undefined when nothing was committed: no G.711 in the
 * offer, reported as skipped with reason 'codec') and the announcement note (R-31).
 */
export interface PreAnswerContext {
  readonly invite: InboundInvite;
  readonly audioA: AudioDescription;
  readonly sdpA: LegSdp;
  readonly media: CallMedia;
  readonly prompts: PromptSource;
  readonly clock: Clock;
  readonly log: Logger;
  readonly language: string;
}

export async function preAnswerCompliance(ctx: PreAnswerContext, onAnnouncing: () => void): Promise<{ keep: number[] | undefined; note: AnnouncementNote }> {
  const g = firstG711(ctx.audioA);
  const answer = g ? ctx.sdpA.answer(ctx.invite.sdp, ctx.invite.sdp, { payloadTypes: [g.payloadType] }) : undefined;
  if (!g || !answer) {
    return { keep: undefined, note: { kind: 'compliance', target: 'pstn', result: 'skipped', phase: 'pre-answer', reason: 'codec' } };
  }
  const keep = [g.payloadType];
  onAnnouncing();
  await ctx.media.setRemote('a', remoteMediaOf(ctx.audioA, keep, answer));
  ctx.invite.progress(183, answer);
  const note = await announce(ctx.media, ctx.prompts, ctx.clock, ctx.log, {
    kind: 'compliance',
    prompt: 'compliance',
    language: ctx.language,
    target: 'a',
    audience: 'pstn',
    phase: 'pre-answer',
  });
  return { keep, note };
}
