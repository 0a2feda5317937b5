/**
 * A copy of a string that holds nothing else alive. V8 represents a substring of 13 characters or
 * more (`slice`, `split`, a regex match) as a view into its parent, and the parent then lives as
 * long as the substring does: a Call-ID or a tag cut from a 4 kB SIP message frame keeps the whole
 * frame. Values kept for the life of a call are copied once with this, so the message that carried
 * them can be collected with the transaction (docs/benchmarks.md, "Goals not met").
 * JSON's round trip is the one standard operation that always builds a fresh flat string.
 */
export function ownString(value: string): string {
  return JSON.parse(JSON.stringify(value)) as string;
}

/** ownString for an optional value. */
export function ownOptional<T extends string | undefined>(value: T): T {
  return (typeof value === 'string' ? ownString(value) : value) as T;
}
