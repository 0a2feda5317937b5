import type { LatchMode } from '../media/processors/source-latch.js';
import type { Admission } from '../sip/admission.js';
import type { CallDecision } from '../policy/call-decision-types.js';

/**
 * Which RTP latching mode each leg of a call gets (config media.latching*; docs/nat.md): by the class
 * of the party on the leg. Leg A is the caller: a trunk, a trusted source (PBX, SBC), or a user agent
 * admitted by digest or open admission. Leg B is the callee: the trunk for an outbound PSTN call, the
 * PBX when users are reached through a user proxy (trusted), else the user's own user agent.
 * Pure: no I/O.
 */
export interface LatchingPolicy {
  /** The mode of a class with none of its own. Default 'auto'. */
  readonly default: LatchMode;
  /** Legs of trunks (carriers, SBCs facing them); default `default`. */
  readonly trunk?: LatchMode;
  /** Legs of trusted sources (PBX, SBC); default `default`. */
  readonly trusted?: LatchMode;
  /** Legs of other user agents (phones); default `default`. */
  readonly userAgent?: LatchMode;
  /** One trunk's mode, above `trunk`. Default none. */
  readonly byTrunk?: Readonly<Record<string, LatchMode>>;
}

export const DEFAULT_LATCHING: LatchingPolicy = { default: 'auto' };

export type LegClass = 'trunk' | 'trusted' | 'user-agent';

export function latchingOf(policy: LatchingPolicy, cls: LegClass, trunkId?: string): LatchMode {
  if (cls === 'trunk') return (trunkId !== undefined ? policy.byTrunk?.[trunkId] : undefined) ?? policy.trunk ?? policy.default;
  if (cls === 'trusted') return policy.trusted ?? policy.default;
  return policy.userAgent ?? policy.default;
}

/** The latching modes of both legs of an admitted call. `viaUserProxy`: users are reached through a PBX. */
export function callLatching(
  policy: LatchingPolicy,
  admission: Extract<Admission, { admitted: true }>,
  decision: Pick<CallDecision, 'direction'>,
  viaUserProxy: boolean,
): { a: LatchMode; b: LatchMode } {
  const trunkId = admission.trunk?.id;
  const classA: LegClass = admission.source === 'trunk' ? 'trunk' : admission.source === 'trusted' ? 'trusted' : 'user-agent';
  const classB: LegClass = decision.direction === 'outbound-pstn' ? 'trunk' : viaUserProxy ? 'trusted' : 'user-agent';
  return {
    a: latchingOf(policy, classA, classA === 'trunk' ? trunkId : undefined),
    b: latchingOf(policy, classB, classB === 'trunk' ? trunkId : undefined),
  };
}
