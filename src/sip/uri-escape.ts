/**
 * RFC 3261 section 25.1 `escaped` (`%` HEXDIG HEXDIG) in URI user parts and header values taken
 * from the network. decodeURIComponent throws on a broken escape; network input must never make a
 * request fail, so this returns undefined instead and each caller decides (keep the raw text, drop
 * the value, refuse the credentials).
 */
export function unescapeUri(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
