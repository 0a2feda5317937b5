/**
 * The request gate: a policy the embedding process gives the engine (EngineOptions.requestGate),
 * asked about every request from the network before any server transaction exists for it. The
 * engine knows nothing of the policy (the app's access control: deny list, per-source rate limit,
 * src/sip/access-control.ts); it only carries the decision out:
 *
 *   allow  -> the request goes on as before (transaction, app, dialog)
 *   drop   -> silence: nothing is sent, nothing is kept
 *   reject -> one stateless response (RFC 3261 section 8.2.7: a stateless UAS sends no 1xx and
 *             never retransmits), and only when it is no larger than the request it answers, so
 *             that a refused source, or a victim whose address it spoofs, never gets more bytes
 *             than were sent (no 100 Trying, no Timer G retransmissions, no 487 to a later CANCEL)
 *
 * A CANCEL whose INVITE was refused finds no INVITE transaction; it gets one 481 when the gate
 * allows it and the 481 is no larger than the CANCEL, else nothing (RFC 3261 section 9.2).
 */
import { buildResponse, stampTopVia } from './message-builder.js';
import { newTag } from './ids.js';
import { serializeSipMessage, type SipHeader, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import { responseTarget } from './transaction-table.js';
import type { Target } from './transaction-context.js';

/** What the gate is asked about. `inDialog`: the request carries a To tag (it is not a new request). */
export interface GatedRequest {
  readonly address: string;
  readonly port: number;
  readonly method: string;
  readonly inDialog: boolean;
}

export type RequestGateDecision =
  | { readonly action: 'allow' }
  | { readonly action: 'drop' }
  | { readonly action: 'reject'; readonly status: number; readonly headers?: Readonly<Record<string, string>> };

/** Called once per request from the network (retransmissions of a known transaction excepted); must not throw. */
export type RequestGate = (request: GatedRequest) => RequestGateDecision;

/** Asks the gate; a throwing gate counts as allow (the engine's own handling stays intact). */
export function askGate(gate: RequestGate | undefined, msg: SipMessage, source: MessageSource, inDialog: boolean): RequestGateDecision {
  if (!gate) return ALLOW;
  try {
    return gate({ address: source.remoteHost, port: source.remotePort, method: msg.method, inDialog });
  } catch {
    return ALLOW;
  }
}

/**
 * The response a refused request may get, serialized, or undefined when it would carry more bytes
 * than the request (`requestBytes`) did. Stamps the top Via with the source (RFC 3581).
 */
export function statelessAnswer(msg: SipMessage, source: MessageSource, requestBytes: number, status: number, headers: Readonly<Record<string, string>> = {}): { target: Target; text: string } | undefined {
  stampTopVia(msg, source);
  const extra: SipHeader[] = Object.entries(headers).map(([name, value]) => ({ name: name.toLowerCase(), value }));
  const text = serializeSipMessage(buildResponse(msg, status, newTag(), extra));
  if (Buffer.byteLength(text) > requestBytes) return undefined;
  return { target: responseTarget(msg, source), text };
}

const ALLOW: RequestGateDecision = { action: 'allow' };
