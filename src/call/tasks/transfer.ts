import type { LegId } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import { firstUri } from '../../sip/admission.js';
import type { DialogIdentifiers, InboundInvite, InDialogRequest, Leg, SignalingPort, SipHeaders } from '../../sip/b2bua-types.js';
import { audioRefusal, readAudio } from '../../sip/sdp-media.js';
import { refusalHeaders, warnAgentOf } from '../../sip/sip-warning.js';
import { unescapeUri } from '../../sip/uri-escape.js';
import type { CallMedia } from '../call-ports.js';
import type { LegSdp } from '../leg-sdp.js';
import { payloadTypesOf, remoteMediaOf } from '../leg-media.js';

/**
 * Tasks: replace one leg of a connected call by a new party while the other party, the media
 * session and the recording stay (R-13: the compliance announcement is not played again; the
 * recording continues and its participants are updated by the caller of these tasks).
 *
 * Because media is anchored, the new party simply takes over the replaced leg's local RTP port;
 * the remaining party gets a re-INVITE only so that its direction/codecs follow the new party
 * (e.g. it was put on hold by the transferor before the REFER).
 *
 *   REFER (RFC 3515) from leg X, Refer-To: <target>   -> 202, NOTIFY 100, INVITE target (the B2BUA
 *     builds the new leg itself), NOTIFY 200 / NOTIFY <failure>, BYE leg X
 *   INVITE with Replaces (RFC 3891) naming leg X       -> re-offer to leg Y, answer the new INVITE,
 *     BYE leg X
 */
export interface ReplaceContext {
  /** The leg being replaced. */
  readonly side: LegId;
  readonly legs: { a?: Leg; b?: Leg };
  readonly sdp: { a?: LegSdp; b?: LegSdp };
  readonly media: CallMedia;
  readonly log: Logger;
}

/** The Refer-To target as a Request-URI, with a Replaces header parameter lifted out (attended transfer). */
export function referTarget(referTo: string | undefined): { uri: string; headers: SipHeaders } | undefined {
  const raw = firstUri(referTo);
  if (!raw || !/^sips?:/i.test(raw)) return undefined;
  const full = /<([^>]+)>/.exec(referTo ?? '')?.[1] ?? raw;
  const q = full.indexOf('?');
  const headers: SipHeaders = {};
  if (q >= 0) {
    for (const kv of full.slice(q + 1).split('&')) {
      const [k, v] = kv.split('=');
      const replaces = k && v && k.toLowerCase() === 'replaces' ? unescapeUri(v) : undefined;
      if (replaces !== undefined) headers.Replaces = replaces; // a broken %-escape: no Replaces
    }
  }
  return { uri: q >= 0 ? full.slice(0, q) : full, headers };
}

function sipfrag(leg: Leg, status: string, log: Logger): void {
  leg
    .request('NOTIFY', { body: `SIP/2.0 ${status}\r\n`, contentType: 'message/sipfrag;version=2.0', headers: { Event: 'refer', 'Subscription-State': status.startsWith('1') ? 'active' : 'terminated;reason=noresource' } })
    .catch((err: unknown) => log.debug({ err }, 'REFER NOTIFY failed'));
}

/** Re-offer the remaining leg from the new party's SDP so its direction and codecs follow. */
async function refreshOther(ctx: ReplaceContext, newPartySdp: string): Promise<void> {
  const other: LegId = ctx.side === 'a' ? 'b' : 'a';
  const offer = ctx.sdp[other]!.build(newPartySdp);
  const leg = ctx.legs[other];
  if (!offer || !leg) return;
  try {
    const answer = readAudio(await leg.reinvite(offer));
    if (answer) await ctx.media.setRemote(other, remoteMediaOf(answer, undefined, offer));
  } catch (err) {
    ctx.log.info({ err: (err as Error).message }, 're-offer to the remaining party after transfer failed; media continues');
  }
}

/** REFER: returns the new leg (already swapped into ctx.legs), or undefined when the transfer failed. */
export async function transferByRefer(
  ctx: ReplaceContext,
  req: InDialogRequest,
  signaling: SignalingPort,
  from: string,
): Promise<Leg | undefined> {
  const target = referTarget(req.header('Refer-To'));
  if (!target) {
    req.respond(400, {});
    return undefined;
  }
  const old = ctx.legs[ctx.side]!;
  const other: LegId = ctx.side === 'a' ? 'b' : 'a';
  req.respond(202, {});
  sipfrag(old, '100 Trying', ctx.log);
  // whether the target is record-aware shows only in its answer, so the offer carries no
  // a=record; the call layer tells a record-aware target afterwards (sendRecordIndication)
  const offer = ctx.sdp[ctx.side]!.build(ctx.legs[other]!.remoteSdp, undefined, false);
  if (!offer) {
    sipfrag(old, '488 Not Acceptable Here', ctx.log);
    return undefined;
  }
  const outcome = await signaling.dial(target.uri, { sdp: offer, from, headers: target.headers }).result;
  if (!outcome.ok) {
    ctx.log.info({ status: outcome.status, target: target.uri }, 'transfer target refused');
    sipfrag(old, `${outcome.status} ${outcome.reason || 'Failed'}`, ctx.log);
    return undefined;
  }
  const leg = outcome.leg;
  const audio = readAudio(leg.remoteSdp);
  if (!audio) {
    await leg.hangup();
    sipfrag(old, '488 Not Acceptable Here', ctx.log);
    return undefined;
  }
  await ctx.media.setRemote(ctx.side, remoteMediaOf(audio, undefined, offer));
  ctx.legs[ctx.side] = leg;
  ctx.sdp[ctx.side]!.recordAware = leg.recordAware;
  old.removeAllListeners();
  sipfrag(old, '200 OK', ctx.log);
  await refreshOther(ctx, leg.remoteSdp);
  void old.hangup();
  ctx.log.info({ side: ctx.side, target: target.uri }, 'call transferred (REFER)');
  return leg;
}

/**
 * RFC 3891 section 6.1: `Replaces: callid;to-tag=x;from-tag=y[;early-only]`. The tags are as the
 * recipient (the B2BUA) sees the dialog: to-tag is its local tag, from-tag the remote party's.
 * Undefined when a part is missing.
 */
export function parseReplaces(value: string): DialogIdentifiers & { earlyOnly: boolean } | undefined {
  const [callId, ...params] = value.split(';').map((p) => p.trim());
  const param = (name: string): string | undefined =>
    params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1).replace(/^"|"$/g, '');
  const localTag = param('to-tag');
  const remoteTag = param('from-tag');
  if (!callId || !localTag || !remoteTag) return undefined;
  return { callId, localTag, remoteTag, earlyOnly: params.some((p) => p.toLowerCase() === 'early-only') };
}

/** INVITE with Replaces naming the leg on ctx.side: returns the new leg, or undefined (the INVITE was refused). */
export async function replaceByInvite(ctx: ReplaceContext, invite: InboundInvite): Promise<Leg | undefined> {
  const other: LegId = ctx.side === 'a' ? 'b' : 'a';
  const offered = readAudio(invite.sdp);
  const otherLeg = ctx.legs[other];
  const toOther = offered ? ctx.sdp[other]!.build(invite.sdp) : undefined;
  if (!offered || !otherLeg || !toOther) {
    const refused = audioRefusal(invite.sdp) ?? { code: 305, detail: 'no codec left for the other leg' };
    invite.reject(488, undefined, refusalHeaders(refused, warnAgentOf(invite.requestUri)));
    return undefined;
  }
  let answerOther: string;
  try {
    answerOther = await otherLeg.reinvite(toOther);
  } catch (err) {
    invite.reject((err as { status?: number }).status ?? 488);
    return undefined;
  }
  const audioOther = readAudio(answerOther);
  // R-31 stays on: the answer carries a=record when the new party is record-aware, never otherwise
  const mine = ctx.sdp[ctx.side]!;
  const answer = audioOther ? mine.answer(invite.sdp, answerOther, undefined, invite.recordAware) : undefined;
  if (!audioOther || !answer) {
    const refused = (audioOther ? undefined : audioRefusal(answerOther)) ?? { code: 305, detail: 'no codec in common with the other leg answer' };
    invite.reject(488, undefined, refusalHeaders(refused, warnAgentOf(invite.requestUri)));
    return undefined;
  }
  await ctx.media.setRemote(other, remoteMediaOf(audioOther, undefined, toOther));
  await ctx.media.setRemote(ctx.side, remoteMediaOf(offered, payloadTypesOf(readAudio(answer)!), answer));
  const leg = await invite.answer(answer);
  const old = ctx.legs[ctx.side]!;
  ctx.legs[ctx.side] = leg;
  mine.recordAware = leg.recordAware;
  old.removeAllListeners();
  void old.hangup();
  ctx.log.info({ side: ctx.side }, 'leg replaced (INVITE with Replaces)');
  return leg;
}
