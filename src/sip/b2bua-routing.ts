/**
 * Where the B2BUA sends leg B (pure). The settings model knows who a number belongs to but not where
 * a user's phone is registered, so the rule is:
 *
 *   callee is a user / virtual line / feature / voicemail (inbound PSTN and internal calls):
 *     with `userProxy` (the PBX / registrar that knows the registrations): sip:<dialled>@<proxy host:port>
 *     without it: the callee's first SIP identity (sip:alice@example.com, resolved by DNS)
 *   callee is a PSTN number (outbound PSTN): sip:<dialled>@<trunk target>, the target being
 *     `trunkTargets[trunkId]` or else the trunk's first source address (carriers usually take calls
 *     where they send them from)
 *
 * The dialled user part is kept as received so the PBX / carrier sees the number that was dialled.
 */
import type { Admission } from './admission.js';

export interface RoutingOptions {
  /** SIP URI of the PBX / registrar serving the users, e.g. 'sip:10.0.0.5:5060'. Default none (SIP identities). */
  readonly userProxy?: string;
  /** Per trunk id, the 'host[:port]' to send outbound PSTN calls to. Default: the trunk's first source address. */
  readonly trunkTargets?: Readonly<Record<string, string>>;
}

/** 'sip:host:port;transport=tcp' -> { hostport: 'host:port', params: ';transport=tcp' }. */
function splitUri(uri: string): { hostport: string; params: string } {
  const s = uri.trim().replace(/^<|>$/g, '').replace(/^sips?:/i, '');
  const noUser = s.includes('@') ? s.slice(s.lastIndexOf('@') + 1) : s;
  const semi = noUser.indexOf(';');
  return semi < 0 ? { hostport: noUser, params: '' } : { hostport: noUser.slice(0, semi), params: noUser.slice(semi) };
}

function escapeUser(user: string): string {
  return user.replace(/[^\w+\-.!~*'()&=$,;?/]/g, (c) => encodeURIComponent(c));
}

/** The Request-URI of leg B, or undefined when there is no route (the call is refused 503). */
export function routeLegB(admission: Extract<Admission, { admitted: true }>, options: RoutingOptions = {}): string | undefined {
  const { classified, snapshot, dialled } = admission;
  const user = escapeUser(dialled);
  if (classified.input.direction === 'outbound-pstn') {
    const trunk = admission.trunk;
    if (!trunk || user === '') return undefined;
    const target = options.trunkTargets?.[trunk.id] ?? trunk.sourceAddresses[0];
    if (!target) return undefined;
    const { hostport, params } = splitUri(target);
    return `sip:${user}@${hostport}${params}`;
  }
  if (options.userProxy) {
    if (user === '') return undefined;
    const { hostport, params } = splitUri(options.userProxy);
    return `sip:${user}@${hostport}${params}`;
  }
  const callee = classified.input.callee;
  let identities: readonly string[] = [];
  if (callee.kind === 'user') identities = snapshot.users.find((u) => u.id === callee.id)?.sipIdentities ?? [];
  else if (callee.kind === 'virtual-line') identities = snapshot.virtualLines.find((v) => v.id === callee.id)?.sipIdentities ?? [];
  else if (callee.kind === 'voicemail') identities = snapshot.org.voicemail.sipIdentities;
  else if (callee.kind !== 'pstn') identities = snapshot.features.find((f) => f.id === callee.id)?.sipIdentities ?? [];
  const first = identities[0];
  return first ? `sip:${first.replace(/^sips?:/i, '')}` : undefined;
}
