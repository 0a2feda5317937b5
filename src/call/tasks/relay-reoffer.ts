import type { LegId } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import type { InDialogRequest, Leg } from '../../sip/b2bua-types.js';
import { audioRefusal, readAudio, type SdpRefusal } from '../../sip/sdp-media.js';
import { refusalHeaders } from '../../sip/sip-warning.js';
import type { CallMedia } from '../call-ports.js';
import type { LegSdp } from '../leg-sdp.js';
import { payloadTypesOf, remoteMediaOf } from '../leg-media.js';

/**
 * Task: a re-INVITE / UPDATE from one leg (hold with sendonly/inactive, unhold, new address or
 * codec, RFC 3264 section 8) is relayed to the other leg as our own offer; the other leg's answer
 * is rewritten into our answer (numbered as the offer, sdp-media.ts). The media session follows
 * both sides, so relaying, the fork and the recording keep running through hold/unhold (a held
 * party simply sends nothing).
 *
 * An offerless re-INVITE is answered with our current description (RFC 3261 section 14.2). An offer
 * we cannot anchor (`m=audio 0`, no audio, SRTP only, no codec) is answered 488 with a Warning
 * (RFC 3261 section 20.43) without asking the other leg; an answer from the other leg with no codec
 * in common gets 488 / 305. When the other leg refuses, the offering leg gets that status (or 488).
 * In every refusal the session stays as it was.
 */
export interface ReofferContext {
  readonly req: InDialogRequest;
  readonly from: LegId;
  readonly toLeg: Leg;
  readonly sdp: { a?: LegSdp; b?: LegSdp };
  readonly media: CallMedia;
  readonly log: Logger;
  /** warn-agent of our Warning headers (sip-warning.ts). */
  readonly warnAgent: string;
}

export async function relayReoffer(ctx: ReofferContext): Promise<void> {
  const { req, from, toLeg, sdp, media, log } = ctx;
  const to: LegId = from === 'a' ? 'b' : 'a';
  const mine = sdp[from]!;
  if (req.body.trim() === '') {
    req.respond(200, { body: mine.last ?? '', contentType: 'application/sdp' });
    return;
  }
  const refuse = (r: SdpRefusal): void => {
    log.info({ from, method: req.method, warnCode: r.code, reason: r.detail }, 're-offer refused');
    req.respond(488, { headers: refusalHeaders(r, ctx.warnAgent) });
  };
  const refused = audioRefusal(req.body, media.local[from].address);
  if (refused) return refuse(refused);
  const offer = readAudio(req.body)!;
  const toOther = sdp[to]!.build(req.body);
  if (!toOther) return refuse({ code: 305, detail: 'no codec left for the other leg' });
  let answer: string;
  try {
    answer = await toLeg.reinvite(toOther);
  } catch (err) {
    const status = (err as { status?: number }).status;
    log.info({ status, from }, 're-offer refused by the other leg');
    return req.respond(typeof status === 'number' && status >= 400 ? status : 488, {});
  }
  const answerAudio = readAudio(answer);
  if (!answerAudio) return refuse(audioRefusal(answer) ?? { code: 304, detail: 'the other leg answered without audio' });
  const ours = mine.answer(req.body, answer);
  if (!ours) return refuse({ code: 305, detail: 'no codec in common with the other leg answer' });
  await Promise.all([
    media.setRemote(from, remoteMediaOf(offer, payloadTypesOf(readAudio(ours)!), ours)),
    media.setRemote(to, remoteMediaOf(answerAudio, undefined, toOther)),
  ]).catch((err: unknown) => log.warn({ err }, 'media update after re-offer failed'));
  req.respond(200, { body: ours, contentType: 'application/sdp' });
  log.info({ from, hold: offer.onHold }, 're-offer relayed');
}
