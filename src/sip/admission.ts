/**
 * INVITE admission: who may place calls through the B2BUA and what kind of call
 * each INVITE is. Pure: the caller passes the policy snapshots; no I/O, never throws on odd input.
 *
 *   source is a trunk (Trunk.sourceAddresses)          -> inbound PSTN; the callee is looked up in
 *                                                         the trunk's organisation (user, virtual line,
 *                                                         auto attendant / queue / hunt group R-04,
 *                                                         voicemail R-21); unknown callee: 404
 *   source is a trusted PBX / user agent (options)     -> the caller is looked up by P-Asserted-Identity
 *   or admission is open                                  or From; a user / virtual line calling a number
 *                                                         of the organisation is internal, anything else
 *                                                         outbound PSTN; unknown caller: 403
 *   the caller proved digest credentials               -> the same, but looked up by From only: a
 *   (facts.authenticated, src/sip/digest-auth.ts)         P-Asserted-Identity from outside the trust domain
 *                                                         is ignored (RFC 3325 section 5); admitted even
 *                                                         when admission is not open
 *   any other source                                   -> 403 Forbidden
 *
 * Source entries are 'host' (any port) or 'host:port' (that port only); a trunk entry with a port
 * matches only that port here, which lets several parties share one address (e.g. on a test host).
 *
 * the party voicemail answers for comes from the Diversion header (RFC 5806) or, without it,
 * the last History-Info entry (RFC 7044) that is not the voicemail itself.
 */
import { normaliseHost } from '../policy/address-normalise.js';
import type { CallParty } from '../policy/call-decision-types.js';
import type { ClassifiedCall, DirectoryMatch, PolicyDirectory } from '../policy/policy-directory.js';
import type { PolicySnapshot, Trunk } from '../policy/policy-types.js';
import { unescapeUri } from './uri-escape.js';

export interface AdmissionOptions {
  /** Addresses ('host' or 'host:port') of PBXs / registrars / user agents whose calls are accepted. Default none. */
  readonly trustedSources?: readonly string[];
  /** Accept calls from any source (the caller must still be a known user). Default false. */
  readonly open?: boolean;
}

export interface InviteFacts {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly from: string;
  readonly requestUri: string;
  readonly to: string;
  /** Header values, undefined when absent. */
  readonly pAssertedIdentity?: string;
  readonly diversion?: string;
  readonly historyInfo?: string;
  /**
   * The caller proved digest credentials (the call layer checked them and that From is one of the
   * user's identities). Admits a source that is neither trunk nor trusted; default false.
   */
  readonly authenticated?: boolean;
}

export type SourceRole = 'trunk' | 'trusted' | 'authenticated' | 'open';

export type Admission =
  | { readonly admitted: false; readonly status: 403 | 404; readonly reason: string }
  | {
      readonly admitted: true;
      readonly source: SourceRole;
      readonly classified: ClassifiedCall;
      readonly snapshot: PolicySnapshot;
      /** The trunk the call came in on (inbound) or leaves by (outbound: the organisation's first trunk). */
      readonly trunk: Trunk | null;
      /** The dialled user part (Request-URI user, else To user). */
      readonly dialled: string;
    };

/** True when a 'host' or 'host:port' entry matches the source. */
export function sourceMatches(entry: string, address: string, port: number): boolean {
  const e = entry.trim().toLowerCase();
  const host = normaliseHost(e);
  if (host === '' || host !== normaliseHost(address)) return false;
  const m = /^(?:\[[^\]]+\]|[^:]+):(\d+)$/.exec(e);
  return m === null || Number(m[1]) === port;
}

/** The first URI of a header value ('<sip:a@b>;reason=x, <...>' -> 'sip:a@b'), or undefined. */
export function firstUri(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bracket = /<([^>]+)>/.exec(value);
  const raw = bracket ? bracket[1]! : value.split(',')[0]!.split(';')[0]!.trim();
  return raw === '' ? undefined : raw.split('?')[0];
}

/** The user part of a SIP/tel URI or name-addr, '' when none. */
export function userPart(value: string): string {
  const uri = firstUri(value) ?? value;
  const m = /^(?:sips?:|tel:)?([^@;>]+)@/i.exec(uri.trim()) ?? /^tel:([^;>]+)/i.exec(uri.trim());
  // a broken %-escape stays as it is: admission never throws
  return m ? (unescapeUri(m[1]!) ?? m[1]!) : '';
}

function historyTarget(historyInfo: string | undefined): string | undefined {
  if (!historyInfo) return undefined;
  const entries = [...historyInfo.matchAll(/<([^>]+)>/g)].map((m) => m[1]!.split('?')[0]!);
  // the last entry is the current target (voicemail); the one before it is who was diverted
  return entries.length >= 2 ? entries[entries.length - 2] : undefined;
}

export function admitInvite(
  facts: InviteFacts,
  snapshots: readonly PolicySnapshot[],
  directory: PolicyDirectory,
  options: AdmissionOptions = {},
): Admission {
  const dialledUri = facts.requestUri || facts.to;
  const dialled = userPart(dialledUri) || userPart(facts.to);
  const divertedFrom = firstUri(facts.diversion) ?? historyTarget(facts.historyInfo);
  const trunkHit = findTrunk(snapshots, facts.sourceAddress, facts.sourcePort);
  if (trunkHit) {
    const callee = directory.lookup(dialledUri, trunkHit.orgId) ?? directory.lookup(facts.to, trunkHit.orgId);
    const snapshot = snapshots.find((s) => s.org.id === trunkHit.orgId);
    if (!callee || !snapshot) return { admitted: false, status: 404, reason: 'no such number in the organisation' };
    const from = firstUri(facts.pAssertedIdentity) ?? firstUri(facts.from) ?? facts.from;
    const classified: ClassifiedCall = {
      orgId: trunkHit.orgId,
      trunkId: trunkHit.id,
      input: {
        direction: 'inbound-pstn',
        caller: { kind: 'pstn', number: userPart(from) || from },
        callee: calleeParty(directory, callee, divertedFrom, trunkHit.orgId),
      },
    };
    return { admitted: true, source: 'trunk', classified, snapshot, trunk: trunkHit, dialled };
  }
  const trusted = isTrustedSource(options, facts.sourceAddress, facts.sourcePort);
  const authenticated = !trusted && facts.authenticated === true;
  if (!trusted && !authenticated && options.open !== true) return { admitted: false, status: 403, reason: 'source not allowed' };
  // An empty source address never matches a trunk: the call is classified from the caller's identity.
  // RFC 3325 section 5: P-Asserted-Identity counts only from inside the trust domain.
  const classified =
    (authenticated ? null : classifyUserSide(directory, facts.pAssertedIdentity, dialledUri, divertedFrom)) ??
    classifyUserSide(directory, facts.from, dialledUri, divertedFrom);
  if (!classified) return { admitted: false, status: 403, reason: 'caller is not a user of any organisation' };
  const snapshot = snapshots.find((s) => s.org.id === classified.orgId);
  if (!snapshot) return { admitted: false, status: 403, reason: 'caller is not a user of any organisation' };
  const trunk = classified.input.direction === 'outbound-pstn' ? (snapshot.trunks[0] ?? null) : null;
  return {
    admitted: true,
    source: trusted ? 'trusted' : authenticated ? 'authenticated' : 'open',
    classified: { ...classified, trunkId: trunk?.id ?? null },
    snapshot,
    trunk,
    dialled,
  };
}

/** 'trunk' when a trunk's source entry matches, 'trusted' for options.trustedSources, else undefined. Never throws. */
export function knownSourceRole(
  snapshots: readonly PolicySnapshot[],
  address: string,
  port: number,
  options: AdmissionOptions = {},
): 'trunk' | 'trusted' | undefined {
  if (findTrunk(snapshots, address, port)) return 'trunk';
  return isTrustedSource(options, address, port) ? 'trusted' : undefined;
}

function isTrustedSource(options: AdmissionOptions, address: string, port: number): boolean {
  return (options.trustedSources ?? []).some((e) => sourceMatches(e, address, port));
}

/** voicemail answers on behalf of the diverting user / virtual line, when known. */
function calleeParty(directory: PolicyDirectory, m: DirectoryMatch, divertedFrom: string | undefined, orgId: string): CallParty {
  if (m.party.kind !== 'voicemail') return m.party;
  const owner = divertedFrom ? directory.lookup(divertedFrom, orgId)?.party : undefined;
  return { kind: 'voicemail', onBehalfOf: owner && (owner.kind === 'user' || owner.kind === 'virtual-line') ? { kind: owner.kind, id: owner.id } : null };
}

function classifyUserSide(directory: PolicyDirectory, from: string | undefined, to: string, divertedFrom: string | undefined): ClassifiedCall | null {
  if (!from) return null;
  const uri = firstUri(from) ?? from;
  return directory.classify({ sourceAddress: '', from: uri, to, ...(divertedFrom ? { divertedFrom } : {}) });
}

function findTrunk(snapshots: readonly PolicySnapshot[], address: string, port: number): Trunk | undefined {
  // entries with a port are more specific: try them first
  const all = snapshots.flatMap((s) => s.trunks.flatMap((t) => t.sourceAddresses.map((a) => ({ t, a }))));
  const withPort = all.filter((x) => /:\d+$/.test(x.a) && x.a.split(':').length === 2);
  const hit = withPort.find((x) => sourceMatches(x.a, address, port)) ?? all.filter((x) => !withPort.includes(x)).find((x) => sourceMatches(x.a, address, port));
  return hit?.t;
}
