import type { Logger } from '../../observability/logger.js';
import { glareBackoffMs } from './failover-rules.js';
import type { RecordingRequestKind } from './recording-session-types.js';
import type { SessionWaits } from './session-waits.js';
import type { SrsBody, SrsDialog, SrsHeaders, SrsModifyResult } from './srs-connector-types.js';

/** The direction of the recording streams in an offer: sending, or paused. */
export type OfferDirection = 'sendonly' | 'inactive';

/** A re-INVITE outcome: the response, or `aborted` when the session ended before it could finish. */
export type OfferOutcome = SrsModifyResult | 'aborted';

export const isSuccess = (status: number): boolean => status >= 200 && status <= 299;

/** What the offers need of their recording session. */
export interface RecordingOffersContext {
  /** The recording dialog; undefined once it is gone. */
  dialog(): SrsDialog | undefined;
  /** Is the session in a state that has a dialog? */
  inDialog(): boolean;
  /** The metadata version now (every change bumps it). */
  metadataVersion(): number;
  /** The multipart body (SDP + complete metadata) with `direction`; throws on a model the serializer refuses. */
  buildBody(direction: OfferDirection): SrsBody;
  /** Headers of a re-INVITE (Contact and the dialect's). */
  headers(): SrsHeaders;
  /** The SRS's SDP answer of a successful offer (new RTP targets, maybe). */
  onAnswer(sdp: string | undefined): void;
  readonly log: Logger;
  readonly waits: SessionWaits;
  readonly random: () => number;
  /** No answer within this counts as 408. */
  readonly modifyTimeoutMs: number;
  /** 491s retried after the back-off, at most this many times. */
  readonly maxGlareRetries: number;
}

/**
 * The recording session's re-INVITEs (RFC 7866 section 9: complete metadata snapshots and media
 * direction changes in the recording dialog): one INVITE transaction at a time (queued), a 491
 * retried after the RFC 3261 section 14.1 back-off, and what the recording server last confirmed
 * (direction, metadata version).
 */
export class RecordingOffers {
  readonly #c: RecordingOffersContext;
  #queue: Promise<unknown> = Promise.resolve();
  #inFlight = false;
  #confirmedDirection: OfferDirection = 'sendonly';
  #sentMetadataVersion = 0;

  constructor(context: RecordingOffersContext) {
    this.#c = context;
  }

  /** Is one of our re-INVITEs waiting for its answer (a re-INVITE from the SRS now is glare)? */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** The direction the recording server last accepted. */
  get confirmedDirection(): OfferDirection {
    return this.#confirmedDirection;
  }

  /** Has the recording server seen the metadata as it is now? */
  get metadataSent(): boolean {
    return this.#sentMetadataVersion === this.#c.metadataVersion();
  }

  /** The INVITE was answered: it carried `metadataVersion` and a sendonly offer. */
  established(metadataVersion: number): void {
    this.#sentMetadataVersion = metadataVersion;
    this.#confirmedDirection = 'sendonly';
  }

  /** Runs `fn` after every earlier re-INVITE has finished. */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends one re-INVITE with the current metadata and `direction`, retrying after 491 with the
   * RFC 3261 section 14.1 back-off (2.1-4 s: the SRC owns the Call-ID). No answer within
   * `modifyTimeoutMs` counts as 408. Call it inside enqueue().
   */
  async send(kind: RecordingRequestKind, direction: () => OfferDirection): Promise<OfferOutcome> {
    const c = this.#c;
    for (let glare = 0; ; glare++) {
      const dialog = c.dialog();
      if (!dialog || !c.inDialog()) return 'aborted';
      const metadataVersion = c.metadataVersion();
      const dir = direction();
      let body: SrsBody;
      try {
        body = c.buildBody(dir);
      } catch (err) {
        // A model the serializer refuses is a programmer error; report it as a refusal, never throw.
        c.log.error({ err, kind }, 'could not build the re-INVITE body');
        return { status: 0, reason: `could not build the offer: ${(err as Error).message}`, answerSdp: undefined };
      }
      this.#inFlight = true;
      const timeout: SrsModifyResult = { status: 408, reason: 'no response to re-INVITE', answerSdp: undefined };
      const res = await c.waits.bounded(dialog.modify(body, c.headers()), c.modifyTimeoutMs, timeout);
      this.#inFlight = false;
      if (!c.inDialog() || c.dialog() !== dialog) return 'aborted';
      c.log.info({ kind, status: res.status, direction: dir, glare }, 're-INVITE to recording server answered');
      if (res.status === 491 && glare < c.maxGlareRetries) {
        const ms = glareBackoffMs(c.random, true);
        c.log.info({ kind, backoffMs: ms }, 'glare (491): retrying after back-off');
        await c.waits.wait(ms);
        continue;
      }
      if (isSuccess(res.status)) {
        this.#confirmedDirection = dir;
        this.#sentMetadataVersion = Math.max(this.#sentMetadataVersion, metadataVersion);
        c.onAnswer(res.answerSdp);
      }
      return res;
    }
  }
}
