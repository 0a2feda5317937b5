import type { AdmissionOptions } from '../sip/admission.js';
import type { RoutingOptions } from '../sip/b2bua-routing.js';
import { DEFAULT_LATCHING, type LatchingPolicy } from './leg-latching.js';
import { DEFAULT_FEATURE_CODES, DEFAULT_INTER_DIGIT_TIMEOUT_MS, type RecordingAction } from './recording-controls.js';

/** Default of CallLayerOptions.recordingRequiredTimeoutMs. */
export const DEFAULT_RECORDING_REQUIRED_TIMEOUT_MS = 5000;

/** Options of the call layer; every field states its default. */
export interface CallLayerOptions {
  /** Who may place calls (src/sip/admission.ts). Default: trunks only, no trusted sources, closed. */
  readonly admission?: AdmissionOptions;
  /** Where leg B goes (src/sip/b2bua-routing.ts). Default: SIP identities / trunk source addresses. */
  readonly routing?: RoutingOptions;
  /** R-17 DTMF feature codes. Default { '*1': 'start', '*2': 'stop', '*3': 'pause', '*4': 'resume' }. */
  readonly featureCodes?: Readonly<Record<string, RecordingAction>>;
  /** Most time between the digits of one feature code, ms. Default 3000. */
  readonly interDigitTimeoutMs?: number;
  /** How long leg B may ring before the call is given up (408 to the caller), ms. Default 120,000. */
  readonly ringTimeoutMs?: number;
  /**
   * R-40 `endCallWithAnnouncement` ("recording required"): how long the PSTN party is held (inbound:
   * leg A unanswered after the user answered; outbound: leg B not yet INVITEd) waiting for the
   * recording server's 200 before the call is refused with the announcement, ms. Default 5000
   * (one SIPREC attempt timeout, 4000, plus a fast failover answer).
   */
  readonly recordingRequiredTimeoutMs?: number;
  /** RTP latching mode per class of party (leg-latching.ts). Default 'auto' for every leg. */
  readonly latching?: LatchingPolicy;
  /**
   * After answer, a leg that delivers no accepted RTP for this long while the other leg does is
   * reported once (warn log, metric, the recording's metadata), ms; 0 = off. Default 5000.
   */
  readonly silenceAlarmMs?: number;
}

export interface ResolvedCallOptions {
  readonly admission: AdmissionOptions;
  readonly routing: RoutingOptions;
  readonly featureCodes: Readonly<Record<string, RecordingAction>>;
  readonly interDigitTimeoutMs: number;
  readonly ringTimeoutMs: number;
  readonly recordingRequiredTimeoutMs: number;
  readonly latching: LatchingPolicy;
  readonly silenceAlarmMs: number;
}

export function resolveCallOptions(o: CallLayerOptions = {}): ResolvedCallOptions {
  return {
    admission: o.admission ?? {},
    routing: o.routing ?? {},
    featureCodes: o.featureCodes ?? DEFAULT_FEATURE_CODES,
    interDigitTimeoutMs: o.interDigitTimeoutMs ?? DEFAULT_INTER_DIGIT_TIMEOUT_MS,
    ringTimeoutMs: o.ringTimeoutMs ?? 120_000,
    recordingRequiredTimeoutMs: o.recordingRequiredTimeoutMs ?? DEFAULT_RECORDING_REQUIRED_TIMEOUT_MS,
    latching: o.latching ?? DEFAULT_LATCHING,
    silenceAlarmMs: o.silenceAlarmMs ?? 5000,
  };
}
