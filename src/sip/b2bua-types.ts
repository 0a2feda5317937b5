/**
 * The narrow signalling interfaces the call layer (src/call/) works against (STYLE habit 3). The
 * drachtio-srf implementation is src/sip/leg.ts; unit tests use test/fakes/fake-legs.ts.
 *
 * A call has two legs: A (the caller, an inbound INVITE we answer as UAS) and B (the callee, an
 * INVITE we send as UAC). The B2BUA never passes SDP through: every body is rewritten by
 * src/sip/sdp-media.ts so media flows through the media plane.
 */
import type { TypedEmitter } from '../common/typed-emitter.js';

/** Headers as name -> value. */
export type SipHeaders = Record<string, string>;

/** An in-dialog request the call layer answers exactly once (further respond() calls are ignored). */
export interface InDialogRequest {
  readonly method: 'INVITE' | 'UPDATE' | 'INFO' | 'REFER';
  readonly contentType: string | undefined;
  readonly body: string;
  /** Header value (case-insensitive), undefined when absent. */
  header(name: string): string | undefined;
  respond(status: number, options?: { body?: string; contentType?: string; headers?: SipHeaders }): void;
}

export interface LegEvents extends Record<string, unknown[]> {
  /** The remote party sent BYE (already answered 200). */
  bye: [reason: string];
  /** A re-INVITE or UPDATE (hold/unhold, new media); `body` is its SDP offer, maybe empty. */
  reoffer: [req: InDialogRequest];
  /** SIP INFO (RFC 6086): dtmf-relay or a recording-control body. */
  info: [req: InDialogRequest];
  /** REFER (RFC 3515): the call layer answers 202 and performs the transfer itself. */
  refer: [req: InDialogRequest];
}

/** A dialog's identifiers as this side sees it (RFC 3261 section 12). */
export interface DialogIdentifiers {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/** An established dialog (one leg of the call). */
export interface Leg extends TypedEmitter<LegEvents> {
  readonly side: 'a' | 'b';
  readonly callId: string;
  /** Our tag and the remote party's tag on this dialog. */
  readonly localTag: string;
  readonly remoteTag: string;
  /** The remote party's SDP as last negotiated. */
  readonly remoteSdp: string;
  /** RFC 7866 section 6.5: the leg advertised `Supported: record-aware` (gets a=record:...). */
  readonly recordAware: boolean;
  /** Sends a re-INVITE with our offer; resolves with the answer SDP (rejects on a non-2xx). */
  reinvite(sdp: string): Promise<string>;
  /** Sends an in-dialog request (e.g. NOTIFY for REFER progress); resolves with the final status. */
  request(method: 'INFO' | 'NOTIFY', options: { body?: string; contentType?: string; headers?: SipHeaders }): Promise<number>;
  /** BYE; idempotent, never rejects. */
  hangup(reason?: string): Promise<void>;
  /**
   * Is the dialog still there? An in-dialog OPTIONS (RFC 3261 section 11; the dialog keep-alive
   * SBCs run). 'gone' on 481 or 408 (RFC 5057 section 5.1: the dialog is over) or when the SIP
   * server no longer knows the dialog (it answered the remote party's BYE while the app's link to
   * it was down); the leg then emits 'bye' as if the remote party had hung up. 'alive' on any other
   * answer (200, 405, 501...: the remote party is there). 'unknown' when the request could not be
   * sent at all (e.g. the link is down again). Never rejects.
   */
  probe(): Promise<'alive' | 'gone' | 'unknown'>;
}

/** An INVITE that opened a new call (leg A, before we answer). */
export interface InboundInvite {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly requestUri: string;
  /** IP the INVITE came from, and its port. */
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly sdp: string;
  /** RFC 7866 section 6.5: `Supported: record-aware`. */
  readonly recordAware: boolean;
  /** Header value (case-insensitive), undefined when absent; read it before the final response (the INVITE is let go then). */
  header(name: string): string | undefined;
  /** 180/183, with SDP for early media. Ignored once a final response went out. */
  progress(status: 180 | 183, sdp?: string): void;
  /** Final non-2xx. Ignored once a final response went out. */
  reject(status: number, reason?: string, headers?: SipHeaders): void;
  /** 200 with our SDP; resolves with the dialog. */
  answer(sdp: string, headers?: SipHeaders): Promise<Leg>;
  /** The caller CANCELled (the SIP server already answered 200 and 487). */
  onCancel(fn: () => void): void;
}

export type DialOutcome =
  | { readonly ok: true; readonly leg: Leg }
  | { readonly ok: false; readonly status: number; readonly reason: string; readonly cancelled: boolean };

/** An INVITE we sent (leg B) that may still be cancelled. */
export interface PendingDial {
  /** Never rejects. */
  readonly result: Promise<DialOutcome>;
  /** CANCEL (the engine holds it until the first provisional, RFC 3261 section 9.1). Idempotent. */
  cancel(): void;
}

export interface DialOptions {
  readonly sdp: string;
  readonly from?: string;
  readonly headers?: SipHeaders;
  /** A 1xx from the callee (with its SDP for early media, when any). */
  readonly onProvisional?: (status: number, sdp: string | undefined) => void;
}

/** What the call layer needs from the signalling plane. */
export interface SignalingPort {
  /** Every new INVITE (out of dialog) goes to the handler. */
  onInvite(handler: (invite: InboundInvite) => void): void;
  dial(uri: string, options: DialOptions): PendingDial;
  /** The link to the SIP server came back after it was lost (not called for the first connect). */
  onReconnect(handler: () => void): void;
}
