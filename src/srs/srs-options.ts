import type { SrsFaultOptions } from './srs-fault-options.js';

/**
 * Options of the reference recording server (src/srs/main.ts, createSrsApp). Every field states
 * its default; the composition root (or the command line) builds one object and passes it down.
 */
export interface SrsOptions {
  /**
   * The drachtio app-protocol endpoint the SRS connects to: the embedded engine or an external
   * drachtio-server. Default host '127.0.0.1', port 9022, secret 'cymru'.
   */
  drachtio: { host: string; port: number; secret: string };
  /** Address in our SDP answers and where the RTP sockets bind. Default '127.0.0.1'. */
  rtpAddress: string;
  /** RTP port range (even RTP ports, RTCP on port + 1). Default 40000-40999. */
  rtpPorts: { from: number; to: number };
  /** Root folder of the recordings (<dir>/<YYYY-MM-DD>/<recording-id>.*). Default './recordings'. */
  recordingsDir: string;
  /**
   * Free space (MiB) the recordings directory must have for a new recording; under it the INVITE
   * gets 503 (counted as low-free-space, warn log). 0 = no threshold. Default 200.
   */
  minFreeMb: number;
  /**
   * What SrsApp.checkStorage() does when the recordings directory cannot be written at start:
   * 'refuse' throws SRS_RECORDINGS_DIR_UNWRITABLE (the process does not start); 'degraded' logs it
   * at error and refuses every recording with 503 and the cause. Default 'refuse'.
   */
  startupCheck: 'refuse' | 'degraded';
  /** Refuse INVITEs without `Require: siprec` with 420. Default true. */
  requireSiprec: boolean;
  /** Codecs we accept, in preference order. Default ['PCMU', 'PCMA']. */
  acceptCodecs: Array<'PCMU' | 'PCMA'>;
  /** Accept RTP/SAVP offers with SDES AES_CM_128_HMAC_SHA1_80 and decrypt them. Default true. */
  srtp: boolean;
  /** Late-packet window of the WAV timeline, ms. Default 500. */
  jitterWindowMs: number;
  /**
   * Worker threads that receive the recordings' RTP and write their WAV files (srs-media-pool.ts),
   * each recording on the least loaded one; 0 = in the main thread, on the app's clock (tests with
   * a fake clock). Default 1.
   */
  mediaWorkers: number;
  /** Refuse metadata that fails the RFC 7865 structural validator with 400. Default true. */
  validateMetadata: boolean;
  /** Fault simulation for tests of the SRC's failure handling. Default { mode: 'none' }. */
  faults: SrsFaultOptions;
}

const DEFAULTS: SrsOptions = {
  drachtio: { host: '127.0.0.1', port: 9022, secret: 'cymru' },
  rtpAddress: '127.0.0.1',
  rtpPorts: { from: 40000, to: 40999 },
  recordingsDir: './recordings',
  minFreeMb: 200,
  startupCheck: 'refuse',
  requireSiprec: true,
  acceptCodecs: ['PCMU', 'PCMA'],
  srtp: true,
  jitterWindowMs: 500,
  mediaWorkers: 1,
  validateMetadata: true,
  faults: { mode: 'none' },
};

export const DEFAULT_SRS_OPTIONS: Readonly<SrsOptions> = Object.freeze(DEFAULTS);

/** Fills defaults for every field not given (nested objects are replaced, not merged). */
export function resolveSrsOptions(partial: Partial<SrsOptions> = {}): SrsOptions {
  return { ...structuredClone(DEFAULTS), ...partial };
}
