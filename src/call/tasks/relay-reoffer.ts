import type { LegId } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import type { InDialogRequest, Leg } from '../../sip/b2bua-types.js';
import { readAudio } from '../../sip/sdp-media.js';
import type { CallMedia } from '../call-ports.js';
import type { LegSdp } from '../leg-sdp.js';
import { remoteMediaOf } from '../leg-media.js';

/**
 * Task: a re-INVITE / UPDATE from one leg (hold with sendonly/inactive, unhold, new address or
 * codec, RFC 3264 section 8) is relayed to the other leg as our own offer; the other leg's answer
 * is rewritten into our answer. The media session follows both sides, so relaying, the fork and
 * the recording keep running through hold/unhold (a held party simply sends nothing).
 *
 * An offerless re-INVITE is answered with our current description (RFC 3261 section 14.2). When
 * the other leg refuses, the offering leg gets that status (or 488) and nothing changes.
 */
export interface ReofferContext {
  readonly req: InDialogRequest;
  readonly from: LegId;
  readonly toLeg: Leg;
  readonly sdp: { a?: LegSdp; b?: LegSdp };
  readonly media: CallMedia;
  readonly log: Logger;
}

export async function relayReoffer(ctx: ReofferContext): Promise<void> {
  const { req, from, toLeg, sdp, media, log } = ctx;
  const to: LegId = from === 'a' ? 'b' : 'a';
  const mine = sdp[from]!;
  if (req.body.trim() === '') {
    req.respond(200, { body: mine.last ?? '', contentType: 'application/sdp' });
    return;
  }
  const offer = readAudio(req.body);
  if (!offer) return req.respond(488, {});
  const toOther = sdp[to]!.build(req.body);
  if (!toOther) return req.respond(488, {});
  let answer: string;
  try {
    answer = await toLeg.reinvite(toOther);
  } catch (err) {
    const status = (err as { status?: number }).status;
    log.info({ status, from }, 're-offer refused by the other leg');
    return req.respond(typeof status === 'number' && status >= 400 ? status : 488, {});
  }
  const answerAudio = readAudio(answer);
  const ours = answerAudio ? mine.build(answer) : undefined;
  if (!answerAudio || !ours) return req.respond(488, {});
  await Promise.all([media.setRemote(from, remoteMediaOf(offer)), media.setRemote(to, remoteMediaOf(answerAudio))]).catch((err: unknown) =>
    log.warn({ err }, 'media update after re-offer failed'),
  );
  req.respond(200, { body: ours, contentType: 'application/sdp' });
  log.info({ from, hold: offer.onHold }, 're-offer relayed');
}
