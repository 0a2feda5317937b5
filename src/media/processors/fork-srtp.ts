import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpPacket, SrtpSession } from 'werift';
import type { ForkSrtpOptions } from '../media-session-types.js';

/**
 * Turns an RTP packet into what goes on the wire towards the recording server. The hook R-42 (SRTP
 * towards the recording server) plugs into; plain RTP uses no protector.
 */
export interface RtpProtector {
  /** Returns the protected packet (a new buffer), or undefined when it cannot be protected (counted). */
  protect(packet: Buffer, length: number): Buffer | undefined;
}

/**
 * SRTP (RFC 3711) sender side for one forked stream, on werift's SrtpSession (profiles
 * AES_CM_128_HMAC_SHA1_80, RFC 3711 section 4; AEAD_AES_128_GCM, RFC 7714). Only the local (sending)
 * keys are used; the remote keys are set to the same material because werift needs both.
 */
export class SrtpProtector implements RtpProtector {
  readonly #session: SrtpSession;
  failures = 0;

  constructor(options: ForkSrtpOptions) {
    const key = Buffer.from(options.masterKey);
    const salt = Buffer.from(options.masterSalt);
    const profile = options.profile === 'AEAD_AES_128_GCM' ? ProtectionProfileAeadAes128Gcm : ProtectionProfileAes128CmHmacSha1_80;
    const saltLength = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
    if (key.length !== 16 || salt.length !== saltLength) {
      throw new RangeError(`SRTP ${options.profile ?? 'AES_CM_128_HMAC_SHA1_80'} needs a 16-byte key and a ${saltLength}-byte salt`);
    }
    this.#session = new SrtpSession({
      profile,
      keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
    });
  }

  protect(packet: Buffer, length: number): Buffer | undefined {
    try {
      const rtp = RtpPacket.deSerialize(length === packet.length ? packet : packet.subarray(0, length));
      return this.#session.encrypt(rtp.payload, rtp.header);
    } catch {
      this.failures++;
      return undefined;
    }
  }
}
