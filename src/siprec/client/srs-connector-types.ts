import type { TypedEmitter } from '../../common/typed-emitter.js';

/**
 * The narrow signalling interface the recording-session client (RFC 7866, SRC side) needs towards a
 * recording server (SRS). The drachtio-srf implementation lives in src/sip/srs-connector.ts (the
 * only plane allowed to import drachtio-srf); tests use test/fakes/fake-srs-connector.ts.
 *
 * The connector is dumb on purpose: it sends what it is given and reports what came back. Every
 * decision (timeouts, failover, glare back-off, what to answer) is the RecordingSession's.
 */

/** A SIP body with its Content-Type header value. */
export interface SrsBody {
  contentType: string;
  body: string;
}

/** Headers to add to a request or response (name as it should appear on the wire). */
export type SrsHeaders = Readonly<Record<string, string>>;

/** The recording INVITE to send (out of dialog). */
export interface SrsInviteRequest {
  /** Request-URI of the recording server, e.g. `sip:srs@10.0.0.5:5060;transport=tls`. */
  target: string;
  /** Require, Contact (+sip.src), Accept and any extra headers; Content-Type comes from `body`. */
  headers: SrsHeaders;
  body: SrsBody;
}

export interface SrsInviteOptions {
  /**
   * The bound the session applies to this attempt. The session enforces it with its own timers and
   * calls `cancel()` when it expires; a connector may use it only for diagnostics.
   */
  timeoutMs: number;
  /** Called for every provisional (1xx) response; purely informative. */
  onProvisional?: (status: number, reason: string) => void;
}

/** Why an INVITE attempt failed. */
export type SrsInviteFailure =
  /** A final non-2xx response arrived. */
  | { kind: 'status'; status: number; reason: string }
  /** The request could not be sent or the transport failed (no route, connection refused, TLS). */
  | { kind: 'transport'; detail: string }
  /** The session cancelled the attempt (CANCEL sent, or the request was never sent). */
  | { kind: 'cancelled' };

/** Rejection value of `PendingSrsInvite.result`. */
export class SrsInviteError extends Error {
  readonly failure: SrsInviteFailure;
  constructor(failure: SrsInviteFailure) {
    super(
      failure.kind === 'status'
        ? `recording server answered ${failure.status} ${failure.reason}`
        : failure.kind === 'transport'
          ? `transport error: ${failure.detail}`
          : 'recording INVITE cancelled',
    );
    this.name = 'SrsInviteError';
    this.failure = failure;
  }
}

/**
 * One INVITE in flight. Contract for connectors:
 * - `result` settles exactly once: the dialog on 2xx, an SrsInviteError otherwise;
 * - `cancel()` is idempotent: it sends CANCEL once the request is out (RFC 3261 section 9.1) and
 *   makes `result` reject with `{ kind: 'cancelled' }`. If a 2xx still wins the race, the
 *   connector ACKs and BYEs that dialog itself; the session never sees it.
 */
export interface PendingSrsInvite {
  readonly result: Promise<SrsDialog>;
  cancel(): void;
}

/** Outcome of an in-dialog request the session sent (re-INVITE). */
export interface SrsModifyResult {
  status: number;
  reason: string;
  /** The SDP answer of a 2xx (the SDP part when the answer is multipart); undefined otherwise. */
  answerSdp: string | undefined;
}

/** A request the SRS sent inside the recording dialog; the session must answer it exactly once. */
export interface SrsInDialogRequest {
  method: 'INVITE' | 'UPDATE';
  /** Content-Type header value, if the request has a body. */
  contentType: string | undefined;
  body: string;
  respond(status: number, body?: SrsBody, headers?: SrsHeaders): void;
}

export type SrsDialogEvents = {
  /** The SRS sent a re-INVITE or UPDATE (its own offer, a snapshot request, or both). */
  request: [request: SrsInDialogRequest];
  /** The SRS ended the dialog (BYE), or the dialog was lost below us. */
  bye: [reason: string];
};

/** What the recording server's 200 said about itself (shown in the call's recording link). */
export interface SrsAnswerFacts {
  /** Status of the final response (2xx). */
  readonly status: number;
  /** The Contact URI of the 200: where the recording server's dialog lives. */
  readonly contact?: string;
  /** Where the 200 came from, `address:port`, when the connector knows it. */
  readonly source?: string;
  /** The recording server's own id of the recording (RECORDING_ID_HEADER), when it sent one. */
  readonly srsRecordingId?: string;
}

/** The established recording dialog. */
export interface SrsDialog extends TypedEmitter<SrsDialogEvents> {
  /** The SIPREC dialog's Call-ID (the `siprecCallId` of the logs). */
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** The SDP answer of the 200 (SDP part if the answer was multipart). */
  readonly answerSdp: string;
  /** Status, Contact and recording id of the 200; default `{ status: 200 }`. */
  readonly answer?: SrsAnswerFacts;
  /**
   * Sends a re-INVITE with `body` and resolves with the final response (non-2xx included; the
   * connector ACKs). Rejects only when the request could not be sent (e.g. dialog already gone).
   */
  modify(body: SrsBody, headers: SrsHeaders): Promise<SrsModifyResult>;
  /** Sends BYE; resolves when answered or when the dialog was already gone. Idempotent. */
  bye(headers?: SrsHeaders): Promise<void>;
}

/** Creates recording INVITEs. One connector serves every recording session. */
export interface SrsConnector {
  invite(request: SrsInviteRequest, options: SrsInviteOptions): PendingSrsInvite;
}
