import { describe, expect, it } from 'vitest';
import { unescapeUri } from '../../../src/sip/uri-escape.js';

describe('unescapeUri (RFC 3261 section 25.1 escaped)', () => {
  it('decodes %HEXDIG HEXDIG escapes and leaves plain text as it is', () => {
    expect(unescapeUri('%2B15550002001')).toBe('+15550002001');
    expect(unescapeUri('abc%3Bto-tag%3D1')).toBe('abc;to-tag=1');
    expect(unescapeUri('alice')).toBe('alice');
  });

  it('MUST NOT throw on a broken escape from the network: undefined instead', () => {
    for (const bad of ['%', '%4', '%zz', 'a%E0%A4%A', '%C0%80x%']) expect(unescapeUri(bad)).toBeUndefined();
  });
});
