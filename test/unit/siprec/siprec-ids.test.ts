import { describe, expect, it } from 'vitest';
import { formatXsDateTime, isMetadataId, isXsDateTime, metadataIdFromBytes, metadataIdFromUuid, parseXsDateTime } from '../../../src/siprec/index.js';

describe('metadata ids and times (RFC 7865 section 6)', () => {
  it('encodes 16 bytes as 24 base64 characters ending in ==', () => {
    const id = metadataIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i * 16 + 3));
    expect(id).toHaveLength(24);
    expect(id.endsWith('==')).toBe(true);
    expect(isMetadataId(id)).toBe(true);
    expect(() => metadataIdFromBytes(new Uint8Array(15))).toThrow(RangeError);
  });

  it('converts a hyphenated UUID to its base64 form and refuses the hyphenated form as an id', () => {
    const uuid = 'd9adce86-1914-4a3a-bf61-7556c0b51a57';
    const id = metadataIdFromUuid(uuid);
    expect(Buffer.from(id, 'base64').toString('hex')).toBe(uuid.replaceAll('-', ''));
    expect(isMetadataId(uuid)).toBe(false);
    expect(isMetadataId('AAAA')).toBe(false);
  });

  it('formats times as UTC with milliseconds and Z, and parses them back', () => {
    const t = Date.UTC(2025, 2, 4, 10, 15, 2, 120);
    expect(formatXsDateTime(t)).toBe('2025-03-04T10:15:02.120Z');
    expect(parseXsDateTime('2025-03-04T10:15:02.120Z')).toBe(t);
    expect(parseXsDateTime('2025-03-04T11:15:02.120+01:00')).toBe(t);
  });

  it('refuses +0000 offsets, missing timezones and impossible values', () => {
    expect(isXsDateTime('2025-03-04T10:15:02.120+0000')).toBe(false);
    expect(isXsDateTime('2025-03-04T10:15:02')).toBe(false);
    expect(isXsDateTime('2025-13-04T10:15:02Z')).toBe(false);
    expect(isXsDateTime('2025-03-04T10:15:02Z')).toBe(true);
  });
});
