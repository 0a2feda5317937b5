/**
 * SDES-SRTP on the receiving side of the reference SRS: RFC 4568 `a=crypto` key parameters
 * and RFC 3711 decryption of the SRC's packets. Only AES_CM_128_HMAC_SHA1_80 (RFC 4568 section
 * 6.2.1) is offered back. The SRTP cipher itself comes from werift, loaded only when an RTP/SAVP
 * offer arrives.
 *
 *   inline:<base64 of 16-byte master key || 14-byte master salt>[|lifetime][|MKI:length]
 */
export const SDES_SUITE = 'AES_CM_128_HMAC_SHA1_80';

export interface SdesKey {
  masterKey: Buffer;
  masterSalt: Buffer;
}

/** Parses `inline:` key parameters of AES_CM_128_HMAC_SHA1_80; undefined when unusable (MKI unsupported). */
export function parseSdesKeyParams(keyParams: string): SdesKey | undefined {
  const m = /^inline:([A-Za-z0-9+/=]+)(\|[^|]+)?(\|[^|]+)?$/.exec(keyParams.trim());
  if (!m) return undefined;
  if ((m[2] ?? '').includes(':') || (m[3] ?? '').includes(':')) return undefined; // MKI
  const raw = Buffer.from(m[1]!, 'base64');
  if (raw.length !== 30) return undefined;
  return { masterKey: raw.subarray(0, 16), masterSalt: raw.subarray(16, 30) };
}

export function formatSdesKeyParams(key: SdesKey): string {
  return `inline:${Buffer.concat([key.masterKey, key.masterSalt]).toString('base64')}`;
}

/** Decrypts SRTP packets of one stream; returns undefined for packets that fail authentication. */
export interface RtpDecryptor {
  decrypt(packet: Buffer): Buffer | undefined;
}

export async function createSrtpDecryptor(remote: SdesKey, local: SdesKey): Promise<RtpDecryptor> {
  const { SrtpSession, ProtectionProfileAes128CmHmacSha1_80 } = await import('werift');
  const session = new SrtpSession({
    keys: { localMasterKey: local.masterKey, localMasterSalt: local.masterSalt, remoteMasterKey: remote.masterKey, remoteMasterSalt: remote.masterSalt },
    profile: ProtectionProfileAes128CmHmacSha1_80,
  });
  return {
    decrypt(packet: Buffer): Buffer | undefined {
      try {
        return session.decrypt(packet);
      } catch {
        return undefined;
      }
    },
  };
}
