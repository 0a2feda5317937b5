import type { SrsInviteFailure } from './srs-connector-types.js';
import type { SrsTarget, SrsTransport } from './recording-session-options.js';

/**
 * Pure failover and glare rules of the recording-session client (R-40, RFC 3261 section 14.1).
 */

/** How one INVITE attempt ended, for the `failed` report and logs. */
export type AttemptOutcome = SrsInviteFailure | { kind: 'timeout' } | { kind: 'answer-unusable'; detail: string };

/**
 * True when the next recording server should be tried after `outcome`:
 * - no final response within the attempt bound (a silent or dead server), or a transport error;
 * - 408 Request Timeout and every 5xx (the server, or the path to it, is unwell; 503 included);
 * - the statuses in `extraFailoverStatuses`.
 * Not on other 4xx: 420 (no siprec), 488 (our SDP), 400/403/404 (our request or configuration)
 * describe what we send, and the provider's other servers run the same software and would refuse
 * it the same way, so trying them only delays the failure report. Not on 3xx (redirects are not
 * followed) nor 6xx (RFC 3261 section 21.6: a global refusal), nor on an unusable 200 answer.
 */
export function shouldFailover(outcome: AttemptOutcome, extraFailoverStatuses: readonly number[] = []): boolean {
  switch (outcome.kind) {
    case 'timeout':
    case 'transport':
      return true;
    case 'status':
      return outcome.status === 408 || (outcome.status >= 500 && outcome.status <= 599) || extraFailoverStatuses.includes(outcome.status);
    case 'cancelled':
    case 'answer-unusable':
      return false;
  }
}

/**
 * RFC 3261 section 14.1: after a 491 the UAC waits a random time before retrying. The SRC created
 * the recording dialog, so it owns the Call-ID: 2.1 to 4 s in units of 10 ms. (A UA that does not
 * own the Call-ID waits 0 to 2 s; `ownsCallId` = false gives that range.)
 */
export function glareBackoffMs(random: () => number, ownsCallId = true): number {
  const [lo, hi] = ownsCallId ? [2100, 4000] : [0, 2000];
  const steps = (hi - lo) / 10;
  const r = Math.min(Math.max(random(), 0), 0.999999);
  return lo + Math.floor(r * (steps + 1)) * 10;
}

/** The transport of a target: explicit, else from the URI (`sips:` or `;transport=`), else udp. */
export function targetTransport(target: SrsTarget): SrsTransport {
  if (target.transport) return target.transport;
  if (/^sips:/i.test(target.uri)) return 'tls';
  const m = /;transport=(udp|tcp|tls)\b/i.exec(target.uri);
  return (m?.[1]?.toLowerCase() as SrsTransport | undefined) ?? 'udp';
}

/**
 * The Request-URI to send to: the target URI with `;transport=` added when the target names a
 * transport the URI does not carry (TLS signalling for providers that require it, R-42).
 */
export function targetRequestUri(target: SrsTarget): string {
  const transport = targetTransport(target);
  if (/;transport=/i.test(target.uri) || /^sips:/i.test(target.uri) || (transport === 'udp' && !target.transport)) return target.uri;
  // Insert the parameter before any URI headers (`?...`).
  const q = target.uri.indexOf('?');
  return q < 0 ? `${target.uri};transport=${transport}` : `${target.uri.slice(0, q)};transport=${transport}${target.uri.slice(q)}`;
}

/** One line for logs and the failure detail. */
export function describeOutcome(o: AttemptOutcome): string {
  switch (o.kind) {
    case 'status':
      return `${o.status} ${o.reason}`;
    case 'transport':
      return `transport error: ${o.detail}`;
    case 'timeout':
      return 'no final response (timeout)';
    case 'cancelled':
      return 'cancelled';
    case 'answer-unusable':
      return `unusable answer: ${o.detail}`;
  }
}
