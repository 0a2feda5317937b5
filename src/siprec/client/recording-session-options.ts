import type { Clock, Timers } from '../../common/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { MetadataDialect, RecordingMetadataModel } from '../metadata-types.js';
import type { G711Name } from '../src-offer.js';
import type { SdesCrypto } from '../recording-sdp.js';
import type { SrsConnector, SrsHeaders } from './srs-connector-types.js';

/**
 * What to do when no recording server can be reached or the recording fails mid-call. The
 * same strings as the policy plane's FailurePolicy; the session only reports it, the call layer
 * applies it (announcement, hang-up).
 */
export type RecordingFailurePolicy = 'proceedWithoutAnnouncement' | 'proceedWithAnnouncement' | 'endCallWithAnnouncement';

/** SIP transport towards one recording server. `tls` is required by most hosted providers. */
export type SrsTransport = 'udp' | 'tcp' | 'tls';

/** One recording server, tried in list order (R-40 failover). */
export interface SrsTarget {
  /** `sip:` or `sips:` URI. */
  uri: string;
  /** Default: the URI's own `transport` parameter, else udp (`sips:` implies tls). */
  transport?: SrsTransport;
}

/** The local side of the two forked streams (the media plane allocates the ports before start()). */
export interface RecordingLocalMedia {
  /** Our media address (c= and o=). */
  address: string;
  /** Local RTP port per label: label 1 = PSTN/other party, label 2 = user. */
  ports: { label1: number; label2: number };
  /**
   * SDES keys (RFC 4568) we send with, per label. Required when `srtp` is true; the
   * media plane chooses the key material.
   */
  crypto?: { label1: SdesCrypto; label2: SdesCrypto };
  /** Default ['PCMU', 'PCMA']. */
  codecs?: readonly G711Name[];
}

/** Default bound of one INVITE attempt (no final response within it: CANCEL, try the next server). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 4000;
/** Default bound of the whole start-up, all attempts together (R-40 "recording required" waits at most this). */
export const DEFAULT_START_DEADLINE_MS = 10000;
/** Default most attempts per session (each target is tried at most once). */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Default bound of one re-INVITE (pause, resume, update, snapshot); expiry counts as 408 (dialog lost). */
export const DEFAULT_MODIFY_TIMEOUT_MS = 8000;
/** Default retries of a re-INVITE that met glare (491) before giving up on it. */
export const DEFAULT_MAX_GLARE_RETRIES = 3;
/** Default bound of stop(): final snapshot then BYE; after it the BYE goes out regardless. */
export const DEFAULT_STOP_TIMEOUT_MS = 5000;
/** Default user part of our Contact. */
export const DEFAULT_CONTACT_USER = 'src';

export interface RecordingSessionOptions {
  connector: SrsConnector;
  /** Recording servers in failover order; at least one. */
  targets: readonly SrsTarget[];
  /** The live metadata model (RFC 7865). The session mutates it for pause/resume/transfer/stop. */
  metadata: RecordingMetadataModel;
  /** Default 'rfc7865'; 'broadworks' adds the BroadWorks-style block. */
  dialect?: MetadataDialect;
  /** Default false: send application/rs-metadata+xml (RFC 9806); true: legacy application/rs-metadata. */
  legacyMetadataContentType?: boolean;
  media: RecordingLocalMedia;
  /** SRTP towards the recording server: RTP/SAVP with a=crypto on every m-line. Default false. */
  srtp?: boolean;
  /** R-40 policy reported with `failed`. Default 'proceedWithoutAnnouncement'. */
  failurePolicy?: RecordingFailurePolicy;
  /**
   * The SIPREC client's id of this recording session: the `siprecSessionId` of its log lines and of
   * the call's recording link (admin API, event log); also seeds the multipart boundary. Default 'rec'.
   */
  sessionId?: string;
  /** o= session id (decimal digits). Default: the clock's wall time in ms at construction. */
  sdpSessionId?: string;
  /** Headers added to the initial INVITE (e.g. Session-ID, X-headers). Default none. */
  extraHeaders?: SrsHeaders;
  /** Default DEFAULT_CONTACT_USER. */
  contactUser?: string;
  attemptTimeoutMs?: number;
  startDeadlineMs?: number;
  maxAttempts?: number;
  modifyTimeoutMs?: number;
  maxGlareRetries?: number;
  stopTimeoutMs?: number;
  /**
   * Extra final statuses that move on to the next server, on top of 408 and 5xx. Default none;
   * a provider whose nodes answer 480/486 when full can list them here.
   */
  extraFailoverStatuses?: readonly number[];
  clock: Clock;
  timers: Timers;
  /** Uniform [0, 1) source for the glare back-off. Default Math.random. */
  random?: () => number;
  /** Default silent. */
  logger?: Logger;
}
