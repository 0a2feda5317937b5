/**
 * Normalisation of the numbers and identities the directory matches on (call classification, R-10).
 * Pure; never throws.
 */

/**
 * A telephone number or extension reduced to digits, keeping a leading '+':
 * '+1 (555) 123-0001' -> '+15551230001', 'tel:+15551230001' -> '+15551230001', '2001' -> '2001'.
 * Returns '' when nothing dialable remains.
 */
export function normaliseNumber(raw: string): string {
  let s = raw.trim();
  if (/^tel:/i.test(s)) s = s.slice(4);
  s = s.split(';')[0] ?? '';
  const plus = s.startsWith('+');
  const digits = s.replace(/[^0-9]/g, '');
  if (digits === '') return '';
  return plus ? `+${digits}` : digits;
}

/**
 * A SIP identity reduced to lower-case 'user@host' (scheme, angle brackets, display name, port,
 * URI parameters and headers dropped): '"Al" <sip:Alice@Example.com:5060;transport=tcp>' ->
 * 'alice@example.com'. Returns '' when there is no user@host part.
 */
export function normaliseSipIdentity(raw: string): string {
  let s = raw.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) {
    const gt = s.indexOf('>', lt);
    s = s.slice(lt + 1, gt >= 0 ? gt : undefined);
  }
  s = s.replace(/^sips?:/i, '');
  s = s.split(/[;?]/)[0] ?? '';
  const at = s.lastIndexOf('@');
  if (at <= 0) return '';
  const user = s.slice(0, at);
  const host = (s.slice(at + 1).split(':')[0] ?? '').replace(/^\[|\]$/g, '');
  if (host === '') return '';
  return `${user}@${host}`.toLowerCase();
}

/** The user part of a SIP URI ('sip:+15551230001@carrier;user=phone' -> '+15551230001'), or ''. */
export function sipUserPart(raw: string): string {
  const id = normaliseSipIdentity(raw);
  const at = id.lastIndexOf('@');
  return at > 0 ? id.slice(0, at) : '';
}

/** An address as a source IP / host: brackets and port dropped, lower-cased. */
export function normaliseHost(raw: string): string {
  let s = raw.trim().toLowerCase();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end > 0 ? s.slice(1, end) : s;
  }
  // IPv4 or host with ':port' (exactly one colon); bare IPv6 has several colons and no port.
  if (s.split(':').length === 2) s = s.split(':')[0] ?? '';
  return s;
}
