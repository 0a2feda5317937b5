import type { LocalRtpAddress } from '../media/media-session-types.js';
import { buildLegSdp, type LegSdpOptions, type RecordIndication } from '../sip/sdp-media.js';

type BuildOptions = Omit<LegSdpOptions, 'address' | 'port' | 'sessionId' | 'sessionVersion' | 'recordIndication' | 'answerTo'>;

/**
 * Our side of one leg's SDP: a stable o= session id, a version bumped on every new description
 * (RFC 3264 section 8), the source it was built from (the other leg's SDP) and the a=record value
 * for a record-aware leg (RFC 7866 section 6.5). What goes into a description: src/sip/sdp-media.ts.
 */
export class LegSdp {
  readonly #local: LocalRtpAddress;
  readonly #sessionId: number;
  #version = 0;
  #source: string | undefined;
  #opts: BuildOptions = {};
  /** The last description we sent on this leg. */
  last: string | undefined;
  recordAware = false;
  indication: RecordIndication | undefined;

  constructor(local: LocalRtpAddress, sessionId: number) {
    this.#local = local;
    this.#sessionId = sessionId;
  }

  /**
   * A new offer from `source` (default: the last source), or undefined when it has no audio.
   * `recordAware` (default this leg's) decides a=record for this description only: a transfer
   * builds for a party that is not yet (or not the same as) the leg's current one.
   */
  build(source?: string, opts?: BuildOptions, recordAware = this.recordAware): string | undefined {
    return this.#make(source, opts, recordAware, undefined);
  }

  /**
   * Our answer to `offer` (this leg's offer) from `source` (the other leg's SDP, or the offer itself
   * for early media we generate): the offer's m-lines, profile and payload-type numbers, a=rtcp-mux
   * when offered (sdp-media.ts `answerTo`). Undefined when there is no codec in common.
   */
  answer(offer: string, source: string, opts?: BuildOptions, recordAware = this.recordAware): string | undefined {
    return this.#make(source, opts, recordAware, offer);
  }

  #make(source: string | undefined, opts: BuildOptions | undefined, recordAware: boolean, answerTo: string | undefined): string | undefined {
    const src = source ?? this.#source;
    if (src === undefined) return undefined;
    const sdp = buildLegSdp(src, {
      ...(opts ?? this.#opts),
      address: this.#local.address,
      port: this.#local.rtpPort,
      sessionId: this.#sessionId,
      sessionVersion: this.#version,
      ...(recordAware && this.indication ? { recordIndication: this.indication } : {}),
      ...(answerTo !== undefined ? { answerTo } : {}),
    });
    if (sdp === undefined) return undefined;
    if (opts) this.#opts = opts;
    this.#source = src;
    this.#version++;
    this.last = sdp;
    return sdp;
  }
}
