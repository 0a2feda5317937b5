import type { CallDecision, PartyRecordingDecision, RecordedPartyInfo } from '../../policy/call-decision-types.js';
import { firstUri, type Admission } from '../../sip/admission.js';
import type { InboundInvite } from '../../sip/b2bua-types.js';
import type { LegId } from '../../media/media-session-types.js';
import type { RecordingParticipant } from '../call-ports.js';

/**
 * Task: the two participants of the recording metadata: the recorded user (label 2,
 * with the platform information) and the other party (label 1): the PSTN number as tel:+E164 when
 * it is one, otherwise the SIP address the signalling carried.
 */
export function participantsOf(
  decision: CallDecision,
  party: PartyRecordingDecision,
  invite: InboundInvite,
  admission: Extract<Admission, { admitted: true }>,
): { user: RecordingParticipant; other: RecordingParticipant } {
  const p = party.party;
  const input = admission.classified.input;
  const pstn = input.caller.kind === 'pstn' ? input.caller.number : input.callee.kind === 'pstn' ? input.callee.number : undefined;
  let otherAor: string;
  if (pstn && decision.direction !== 'internal') otherAor = /^\+\d+$/.test(pstn) ? `tel:${pstn}` : `sip:${pstn}@pstn.invalid`;
  else otherAor = (p.side === 'caller' ? firstUri(invite.requestUri) : firstUri(invite.from)) ?? 'sip:unknown@invalid';
  return { user: userParticipant(p), other: { aor: otherAor } };
}

/** The recorded user as the metadata names it (label 2): first SIP identity, else first number, with the platform information. */
export function userParticipant(p: RecordedPartyInfo): RecordingParticipant {
  const aor = p.sipIdentities[0] ? `sip:${p.sipIdentities[0].replace(/^sips?:/i, '')}` : p.numbers[0] ? `tel:${p.numbers[0]}` : `sip:${p.id}@invalid`;
  return { aor, ...(p.numbers[0] ? { number: p.numbers[0] } : {}), name: p.displayName, platform: p.platformInfo };
}

/**
 * The address of the party on each leg as the metadata names an other party: a PSTN party as
 * tel:+E164 (its number), a user as the SIP address the signalling carried (From for leg A, the
 * Request-URI for leg B).
 */
export function partyAddresses(invite: InboundInvite, admission: Extract<Admission, { admitted: true }>): Record<LegId, string> {
  const { caller, callee } = admission.classified.input;
  const pstn = (n: string): string => (/^\+\d+$/.test(n) ? `tel:${n}` : `sip:${n}@pstn.invalid`);
  return {
    a: caller.kind === 'pstn' ? pstn(caller.number) : (firstUri(invite.from) ?? 'sip:unknown@invalid'),
    b: callee.kind === 'pstn' ? pstn(callee.number) : (firstUri(invite.requestUri) ?? 'sip:unknown@invalid'),
  };
}
