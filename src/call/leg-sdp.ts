import type { LocalRtpAddress } from '../media/media-session-types.js';
import { buildLegSdp, type LegSdpOptions, type RecordIndication } from '../sip/sdp-media.js';

/**
 * Our side of one leg's SDP: a stable o= session id, a version bumped on every new description
 * (RFC 3264 section 8), the source it was built from (the other leg's SDP) and the a=record value
 * for a record-aware leg (RFC 7866 section 6.5).
 */
export class LegSdp {
  readonly #local: LocalRtpAddress;
  readonly #sessionId: number;
  #version = 0;
  #source: string | undefined;
  #opts: Omit<LegSdpOptions, 'address' | 'port' | 'sessionId' | 'sessionVersion'> = {};
  /** The last description we sent on this leg. */
  last: string | undefined;
  recordAware = false;
  indication: RecordIndication | undefined;

  constructor(local: LocalRtpAddress, sessionId: number) {
    this.#local = local;
    this.#sessionId = sessionId;
  }

  /**
   * A new description from `source` (default: the last source), or undefined when it has no audio.
   * `recordAware` (default this leg's) decides a=record for this description only: a transfer
   * builds for a party that is not yet (or not the same as) the leg's current one.
   */
  build(
    source?: string,
    opts?: Omit<LegSdpOptions, 'address' | 'port' | 'sessionId' | 'sessionVersion' | 'recordIndication'>,
    recordAware = this.recordAware,
  ): string | undefined {
    const src = source ?? this.#source;
    if (src === undefined) return undefined;
    if (opts) this.#opts = opts;
    const sdp = buildLegSdp(src, {
      ...this.#opts,
      address: this.#local.address,
      port: this.#local.rtpPort,
      sessionId: this.#sessionId,
      sessionVersion: this.#version,
      ...(recordAware && this.indication ? { recordIndication: this.indication } : {}),
    });
    if (sdp === undefined) return undefined;
    this.#source = src;
    this.#version++;
    this.last = sdp;
    return sdp;
  }
}
