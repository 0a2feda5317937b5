/**
 * The carrier's source address behind a SIP load balancer (docs/scaling.md "Kamailio in front").
 *
 * Trunks are admitted by the address and port their INVITEs come from (src/sip/admission.ts). Behind
 * a balancer every INVITE comes from the balancer, so the balancer writes the address it received the
 * request from into one header (deploy/kamailio/kamailio.cfg):
 *
 *   X-Balancer-Source: 203.0.113.7:5060        (IPv6: [2001:db8::7]:5060)
 *
 * The header is believed ONLY when the packet itself comes from a configured balancer
 * (calls.trustedBalancers, 'host' or 'host:port' entries as for trusted sources). From anyone else it
 * is ignored and counted: otherwise any party could claim a carrier's address and place calls on its
 * trunk. A balancer's request without the header keeps the balancer's own address (it then matches no
 * trunk unless the balancer is listed as one); a malformed header from a balancer is ignored and
 * counted the same way. Pure: never throws, whatever the header holds.
 */
import { sourceMatches } from './admission.js';

/** The header the balancer adds (matched case-insensitively, as every SIP header name). */
export const BALANCER_SOURCE_HEADER = 'X-Balancer-Source';

/** Why a balancer source header was not believed. */
export type BalancerHeaderIgnored = 'untrusted-sender' | 'malformed';

export interface EffectiveSource {
  readonly address: string;
  readonly port: number;
  /** 'packet': the socket's source; 'balancer': the header of a trusted balancer. */
  readonly from: 'packet' | 'balancer';
  /** Set when a header was present but not believed. */
  readonly ignored?: BalancerHeaderIgnored;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-f:.]{2,45}$/i;

/** 'ip:port' or '[ipv6]:port' -> address and port (1-65535), or undefined. Host names are refused: the balancer writes what it saw on the wire. */
export function parseBalancerSource(value: string): { address: string; port: number } | undefined {
  const v = value.trim();
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) return IPV6.test(m[1]) && m[1].includes(':') ? { address: m[1].toLowerCase(), port } : undefined;
  return IPV4.test(m[2]!) ? { address: m[2]!, port } : undefined;
}

/**
 * The source admission should use. `header` is the X-Balancer-Source value (undefined when absent),
 * `trustedBalancers` the configured balancer entries (default none: the header is never believed).
 */
export function effectiveSource(
  packetAddress: string,
  packetPort: number,
  header: string | undefined,
  trustedBalancers: readonly string[] = [],
): EffectiveSource {
  const packet = { address: packetAddress, port: packetPort, from: 'packet' as const };
  if (header === undefined) return packet;
  if (!trustedBalancers.some((e) => sourceMatches(e, packetAddress, packetPort))) return { ...packet, ignored: 'untrusted-sender' };
  const parsed = parseBalancerSource(header);
  if (!parsed) return { ...packet, ignored: 'malformed' };
  return { ...parsed, from: 'balancer' };
}
