/**
 * Access control for every request, not only INVITE: turns AccessControl's decision
 * (access-control.ts) into what the SIP server does with a request before any transaction exists
 * for it. With the embedded engine this is its request gate (src/engine/request-gate.ts, which
 * answers statelessly and never with more bytes than the request carried); with an external
 * drachtio-server the same function runs as srf middleware (SrfSignalingPort.gateRequests).
 *
 *   deny list             -> drop (silence)
 *   outside the allow list -> 403 (or drop, aclAction)
 *   rate limited          -> 503 + Retry-After within the source's 503 budget, else drop
 *   ACK, CANCEL           -> never answered when refused
 *
 * Trunks and trusted sources (`isKnown`, matched by address and port where their entry has a port)
 * are limited in buckets of their own, so a flood from the carrier's address on another port does
 * not starve the carrier. In-dialog requests pass the ACL only.
 */
import type { AccessControl, AccessRejectReason } from './access-control.js';

export interface GateRequest {
  readonly address: string;
  readonly port: number;
  readonly method: string;
  readonly inDialog: boolean;
}

export type GateDecision =
  | { readonly action: 'allow' }
  | { readonly action: 'drop' }
  | { readonly action: 'reject'; readonly status: number; readonly headers?: Readonly<Record<string, string>> };

/**
 * Builds the gate. `isKnown(address, port)`: a trunk or trusted source; cheap, must not throw.
 * `onRefused` is told of every refusal (metrics); a throw there is ignored.
 */
export function accessGate(
  access: AccessControl,
  isKnown: (address: string, port: number) => boolean,
  onRefused?: (request: GateRequest, reason: AccessRejectReason, action: 'reject' | 'drop') => void,
): (request: GateRequest) => GateDecision {
  return (request) => {
    let known = false;
    try {
      known = isKnown(request.address, request.port);
    } catch {
      known = false;
    }
    const d = access.checkRequest({ address: request.address, port: request.port }, request.method, { known, inDialog: request.inDialog });
    if (d.action === 'allow') return ALLOW;
    try {
      onRefused?.(request, d.reason, d.action);
    } catch {
      // counting must not change the decision
    }
    if (d.action === 'drop') return DROP;
    return d.retryAfterSec === undefined ? { action: 'reject', status: d.status } : { action: 'reject', status: d.status, headers: { 'Retry-After': String(d.retryAfterSec) } };
  };
}

const ALLOW: GateDecision = { action: 'allow' };
const DROP: GateDecision = { action: 'drop' };
