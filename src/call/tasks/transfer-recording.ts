import type { LegId } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import { decideCall } from '../../policy/call-decision.js';
import type { CallDirection, CallParty, PartyRecordingDecision } from '../../policy/call-decision-types.js';
import type { PolicyDirectory } from '../../policy/policy-directory.js';
import type { PolicySnapshot } from '../../policy/policy-types.js';
import { userPart } from '../../sip/admission.js';
import { legOf, type RecordedParties, type RecordedParty } from '../recorded-parties.js';
import { userParticipant } from './participants.js';

/**
 * Task: who records after a transfer (REFER, INVITE with Replaces) put a new party on `side`.
 * Recordings belong to users, so the call is evaluated again for the new party:
 *
 *   1. the user who left `side` (the transferor, or the party an INVITE with Replaces took over)
 *      ends their recording: stopped with their R-16 stop announcement when their settings play one;
 *   2. the recordings of the party who stays get the new party as their other participant;
 *   3. the new party is looked up in the organisation's current settings (number, extension or SIP
 *      identity of a user / virtual line; anything unknown is a PSTN party) and the per-call
 *      decision runs for the call as it is now (caller on leg A, callee on leg B; the direction
 *      follows: a PSTN party on A is inbound PSTN, on B outbound PSTN, none internal), with
 *      `complianceAlreadyPlayed` set when it was (R-13: never again). A new party who records gets
 *      their own recording (own provider, dialect, failure policy, mode, controls), started at once
 *      for the `always` modes (the party has answered, R-14), with their own start announcement
 *      per R-16 (PSTN precedence, internal flag, none on outbound).
 *
 * The compliance announcement is never played by a transfer. Never rejects: a settings
 * lookup that fails leaves the new party unrecorded (warn log). A user already recorded on the
 * other leg (the same user on both sides) gets no second recording.
 */
export interface TransferRecordingContext {
  /** The leg the new party took. */
  readonly side: LegId;
  /** The new party's address: the REFER target, or the From of the INVITE with Replaces. */
  readonly aor: string;
  readonly orgId: string;
  /** The organisation's current settings (CallManager); undefined when the organisation is gone. */
  readonly settings: () => Promise<{ snapshot: PolicySnapshot; directory: PolicyDirectory } | undefined>;
  readonly compliancePlayed: boolean;
  readonly recordings: RecordedParties;
  readonly log: Logger;
  /** False once the call is ending: nothing is started then. */
  readonly live: () => boolean;
}

export interface TransferRecordingOutcome {
  /** The recording of the user who left, now stopped. */
  readonly stopped: RecordedParty | undefined;
  /** The new party's recording, when they record (started unless onDemand). */
  readonly added: RecordedParty | undefined;
}

export async function recordingAfterTransfer(ctx: TransferRecordingContext): Promise<TransferRecordingOutcome> {
  try {
    return await followTransfer(ctx);
  } catch (err) {
    ctx.log.error({ err, side: ctx.side }, 'transfer: the recordings could not follow the new party');
    return { stopped: undefined, added: undefined };
  }
}

async function followTransfer(ctx: TransferRecordingContext): Promise<TransferRecordingOutcome> {
  const { side } = ctx;
  const stopped = await ctx.recordings.leave(side);
  ctx.recordings.otherPartyChanged(side, { aor: ctx.aor });
  ctx.recordings.addresses[side] = ctx.aor;
  const decided = await decideNewParty(ctx);
  if (!decided?.recorded || !ctx.live()) return { stopped, added: undefined };
  const p = decided.recorded.party;
  if (legOf(decided.recorded) !== side || ctx.recordings.active.some((e) => e.decision.party.kind === p.kind && e.decision.party.id === p.id)) {
    // the same user on both legs (e.g. transferred to another of their own phones): their recording on the other leg goes on
    ctx.log.info({ side, party: p.id }, 'transfer: the new party records already in this call; no second recording');
    return { stopped, added: undefined };
  }
  const other: LegId = side === 'a' ? 'b' : 'a';
  const added = ctx.recordings.add(decided.recorded, { user: userParticipant(decided.recorded.party), other: { aor: ctx.recordings.addresses[other] } }, decided.direction);
  ctx.log.info({ side, party: decided.recorded.party.id, mode: decided.recorded.mode, direction: decided.direction }, 'recorded user joined by transfer: their recording starts (R-10)');
  if (decided.recorded.start === 'onAnswer') await added.controller.start();
  return { stopped, added };
}

/** The decision for the call with the new party on ctx.side; `recorded` when that party records. */
async function decideNewParty(ctx: TransferRecordingContext): Promise<{ direction: CallDirection; recorded: PartyRecordingDecision | undefined } | undefined> {
  try {
    const settings = await ctx.settings();
    if (!settings) return undefined;
    const joined = partyOf(settings.directory, ctx.aor, ctx.orgId);
    const parties = ctx.recordings.parties;
    parties[ctx.side] = joined;
    const caller = parties.a;
    const callee = parties.b;
    const direction = directionOf(caller, callee);
    if (!direction || (joined.kind !== 'user' && joined.kind !== 'virtual-line')) return undefined;
    const decision = decideCall(settings.snapshot, { direction, caller, callee, complianceAlreadyPlayed: ctx.compliancePlayed });
    const recorded = decision.parties.find((p) => p.record && p.party.kind === joined.kind && p.party.id === joined.id);
    return { direction, recorded };
  } catch (err) {
    ctx.log.warn({ err, aor: ctx.aor }, 'transfer: the new party could not be evaluated; not recorded');
    return undefined;
  }
}

/** The organisation-side party an address belongs to, else a PSTN party (its user part as the number). */
function partyOf(directory: PolicyDirectory, aor: string, orgId: string): CallParty {
  const m = directory.lookup(aor, orgId);
  if (!m) return { kind: 'pstn', number: userPart(aor) || aor };
  return m.party.kind === 'voicemail' ? { kind: 'voicemail', onBehalfOf: null } : m.party;
}

/** R-10 from the parties on the legs; undefined when both are PSTN parties (nobody of the organisation records). */
function directionOf(caller: CallParty, callee: CallParty): CallDirection | undefined {
  if (caller.kind === 'pstn') return callee.kind === 'pstn' ? undefined : 'inbound-pstn';
  return callee.kind === 'pstn' ? 'outbound-pstn' : 'internal';
}
