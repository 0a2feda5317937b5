import { describe, expect, it } from 'vitest';
import { formatSdesKeyParams, parseSdesKeyParams } from '../../../src/srs/srtp-receive.js';

describe('SDES key parameters (RFC 4568 section 6.1)', () => {
  it('splits the inline key into a 16-byte master key and a 14-byte salt, and formats it back', () => {
    const raw = Buffer.from(Array.from({ length: 30 }, (_, i) => i));
    const key = parseSdesKeyParams(`inline:${raw.toString('base64')}|2^31`)!;
    expect([...key.masterKey]).toEqual([...raw.subarray(0, 16)]);
    expect([...key.masterSalt]).toEqual([...raw.subarray(16)]);
    expect(formatSdesKeyParams(key)).toBe(`inline:${raw.toString('base64')}`);
  });

  it('refuses wrong lengths, MKI and other methods', () => {
    expect(parseSdesKeyParams(`inline:${Buffer.alloc(20).toString('base64')}`)).toBeUndefined();
    expect(parseSdesKeyParams(`inline:${Buffer.alloc(30).toString('base64')}|2^31|1:4`)).toBeUndefined();
    expect(parseSdesKeyParams('uri:https://example.invalid/key')).toBeUndefined();
  });
});
