import { describe, expect, it } from 'vitest';
import { ProtectionProfileAes128CmHmacSha1_80, SrtpSession } from 'werift';
import { SrtpProtector } from '../../../../src/media/processors/fork-srtp.js';
import { writeRtpHeader } from '../../../../src/media/rtp/rtp-header.js';

describe('SRTP hook for the recording streams (R-42)', () => {
  it('protects a forked packet so that a receiver with the same keys recovers it (RFC 3711)', () => {
    const masterKey = Buffer.alloc(16, 7);
    const masterSalt = Buffer.alloc(14, 9);
    const p = new SrtpProtector({ masterKey, masterSalt });
    const pkt = Buffer.alloc(172, 0x55);
    writeRtpHeader(pkt, { payloadType: 0, seq: 1, timestamp: 160, ssrc: 1234 });
    const wire = p.protect(pkt, pkt.length);
    expect(wire).toBeDefined();
    expect(wire!.length).toBe(172 + 10);
    expect(wire!.subarray(12, 172).equals(pkt.subarray(12))).toBe(false);
    const rx = new SrtpSession({
      profile: ProtectionProfileAes128CmHmacSha1_80,
      keys: { localMasterKey: masterKey, localMasterSalt: masterSalt, remoteMasterKey: masterKey, remoteMasterSalt: masterSalt },
    });
    expect(Buffer.from(rx.decrypt(wire!)).equals(pkt)).toBe(true);
  });

  it('refuses keys of the wrong length', () => {
    expect(() => new SrtpProtector({ masterKey: Buffer.alloc(8), masterSalt: Buffer.alloc(14) })).toThrow(RangeError);
  });
});
