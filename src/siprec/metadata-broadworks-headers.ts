/**
 * The SIP side of the draft-era SIPREC shape BroadWorks platforms send (R-41; docs/siprec.md
 * "Dialects"): the recording INVITE marks its Contact with a bare `;src` header parameter (the
 * draft form of RFC 7866's `+sip.src` feature tag, section 6.1.1) and often carries no
 * `Require: siprec`. A recording server that accepts BroadWorks recordings recognises the INVITE
 * by that Contact.
 */

/** Header parameters of the first Contact value (after the `>` of a name-addr), lower-case names. */
function contactParams(contact: string): string[] {
  const first = contact.split(',')[0] ?? '';
  const close = first.indexOf('>');
  const params = close >= 0 ? first.slice(close + 1) : first.slice(first.indexOf(';') >= 0 ? first.indexOf(';') : first.length);
  return params
    .split(';')
    .map((p) => (p.split('=')[0] ?? '').trim().toLowerCase())
    .filter((p) => p !== '');
}

/** True when the Contact carries the draft-era `;src` parameter (not `+sip.src`). */
export function isDraftEraSrcContact(contact: string | undefined): boolean {
  return contact !== undefined && contactParams(contact).includes('src');
}

/** True when the Contact carries RFC 7866's `+sip.src` feature tag. */
export function isRfcSrcContact(contact: string | undefined): boolean {
  return contact !== undefined && contactParams(contact).includes('+sip.src');
}
