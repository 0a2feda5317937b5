import { normaliseHost, normaliseNumber, normaliseSipIdentity, sipUserPart } from './address-normalise.js';
import type { CallDecisionInput, CallParty } from './call-decision-types.js';
import type { PolicySnapshot } from './policy-types.js';

/**
 * The lookup the call layer needs to classify a call: which user / virtual line / feature /
 * voicemail owns a number, extension or SIP identity, and which source addresses are trunks.
 * Built once from snapshots (rebuild after settings change); pure, never throws on odd input.
 */

/** An organisation-side party a number or identity belongs to. */
export type DirectoryParty = Exclude<CallParty, { kind: 'pstn' } | { kind: 'voicemail' }> | { readonly kind: 'voicemail' };

export interface DirectoryMatch {
  readonly orgId: string;
  readonly party: DirectoryParty;
}

/** What the signalling layer knows about a new call. */
export interface SignalingFacts {
  /** Source IP (optionally ':port') the INVITE came from. */
  readonly sourceAddress: string;
  /** From URI / number of the caller (or P-Asserted-Identity). */
  readonly from: string;
  /** Request-URI / To of the callee. */
  readonly to: string;
  /** Original called party when the call was forwarded (e.g. Diversion / History-Info): who voicemail answers for. */
  readonly divertedFrom?: string;
}

export interface ClassifiedCall {
  readonly orgId: string;
  readonly trunkId: string | null;
  readonly input: CallDecisionInput;
}

export interface PolicyDirectory {
  /** The party owning a number, extension (within orgId) or SIP identity; null when none. */
  lookup(address: string, orgId?: string): DirectoryMatch | null;
  /** The trunk a source address belongs to; null when it is not a trunk. */
  trunkFor(sourceAddress: string): { readonly orgId: string; readonly trunkId: string } | null;
  /** classify a call from its signalling facts; null when it involves no known party. */
  classify(facts: SignalingFacts): ClassifiedCall | null;
}

export function createPolicyDirectory(snapshots: readonly PolicySnapshot[]): PolicyDirectory {
  const numbers = new Map<string, DirectoryMatch>();
  const identities = new Map<string, DirectoryMatch>();
  const extensions = new Map<string, DirectoryMatch>(); // key `${orgId}\n${ext}`
  const trunks = new Map<string, { orgId: string; trunkId: string }>();
  const put = (map: Map<string, DirectoryMatch>, key: string, m: DirectoryMatch): void => {
    if (key !== '' && !map.has(key)) map.set(key, m);
  };

  for (const s of snapshots) {
    const orgId = s.org.id;
    const owners: { party: DirectoryParty; numbers: readonly string[]; extension: string | null; sipIdentities: readonly string[] }[] = [
      ...s.users.map((u) => ({ party: { kind: 'user' as const, id: u.id }, ...u })),
      ...s.virtualLines.map((v) => ({ party: { kind: 'virtual-line' as const, id: v.id }, ...v })),
      ...s.features.map((f) => ({ party: { kind: f.kind, id: f.id }, ...f })),
      { party: { kind: 'voicemail' as const }, numbers: s.org.voicemail.numbers, extension: null, sipIdentities: s.org.voicemail.sipIdentities },
    ];
    for (const o of owners) {
      const m: DirectoryMatch = { orgId, party: o.party };
      for (const n of o.numbers) put(numbers, normaliseNumber(n), m);
      for (const i of o.sipIdentities) put(identities, normaliseSipIdentity(i), m);
      if (o.extension) put(extensions, `${orgId}\n${normaliseNumber(o.extension)}`, m);
    }
    for (const t of s.trunks) {
      for (const a of t.sourceAddresses) {
        const key = normaliseHost(a);
        if (key !== '' && !trunks.has(key)) trunks.set(key, { orgId, trunkId: t.id });
      }
    }
  }

  function lookup(address: string, orgId?: string): DirectoryMatch | null {
    const id = normaliseSipIdentity(address);
    if (id !== '') {
      const byId = identities.get(id);
      if (byId && (orgId === undefined || byId.orgId === orgId)) return byId;
    }
    const num = normaliseNumber(id !== '' ? sipUserPart(address) : address);
    if (num === '') return null;
    const byNumber = numbers.get(num);
    if (byNumber && (orgId === undefined || byNumber.orgId === orgId)) return byNumber;
    if (orgId !== undefined) return extensions.get(`${orgId}\n${num}`) ?? null;
    return null;
  }

  function trunkFor(sourceAddress: string) {
    return trunks.get(normaliseHost(sourceAddress)) ?? null;
  }

  function numberOf(address: string): string {
    const user = sipUserPart(address);
    return normaliseNumber(user !== '' ? user : address) || address;
  }

  function toParty(m: DirectoryMatch, divertedFrom: DirectoryMatch | null, fallbackOwner: DirectoryMatch | null): CallParty {
    if (m.party.kind !== 'voicemail') return m.party;
    const owner = [divertedFrom, fallbackOwner].find((x) => x && (x.party.kind === 'user' || x.party.kind === 'virtual-line'));
    const p = owner?.party;
    return { kind: 'voicemail', onBehalfOf: p && (p.kind === 'user' || p.kind === 'virtual-line') ? { kind: p.kind, id: p.id } : null };
  }

  function classify(facts: SignalingFacts): ClassifiedCall | null {
    const trunk = trunkFor(facts.sourceAddress);
    if (trunk) {
      const callee = lookup(facts.to, trunk.orgId);
      if (!callee) return null;
      const diverted = facts.divertedFrom ? lookup(facts.divertedFrom, trunk.orgId) : null;
      return {
        orgId: trunk.orgId,
        trunkId: trunk.trunkId,
        input: { direction: 'inbound-pstn', caller: { kind: 'pstn', number: numberOf(facts.from) }, callee: toParty(callee, diverted, null) },
      };
    }
    const caller = lookup(facts.from);
    if (!caller || (caller.party.kind !== 'user' && caller.party.kind !== 'virtual-line')) return null;
    const callee = lookup(facts.to, caller.orgId);
    if (!callee) {
      return {
        orgId: caller.orgId,
        trunkId: null,
        input: { direction: 'outbound-pstn', caller: caller.party, callee: { kind: 'pstn', number: numberOf(facts.to) } },
      };
    }
    const diverted = facts.divertedFrom ? lookup(facts.divertedFrom, caller.orgId) : null;
    return {
      orgId: caller.orgId,
      trunkId: null,
      input: { direction: 'internal', caller: caller.party, callee: toParty(callee, diverted, caller) },
    };
  }

  return { lookup, trunkFor, classify };
}
