import type Srf from 'drachtio-srf';
import { ownString } from '../common/own-string.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { parseSiprecBody } from '../siprec/multipart.js';
import { RECORDING_ID_HEADER } from '../siprec/recording-id-header.js';
import {
  SrsInviteError,
  type PendingSrsInvite,
  type SrsBody,
  type SrsConnector,
  type SrsDialog,
  type SrsDialogEvents,
  type SrsHeaders,
  type SrsInDialogRequest,
  type SrsInviteFailure,
  type SrsInviteOptions,
  type SrsInviteRequest,
  type SrsModifyResult,
  type SrsAnswerFacts,
} from '../siprec/client/srs-connector-types.js';
import { rebindDialogSocket } from './dialog-socket.js';
import { onDialogEnded } from './dialog-ended.js';
import { settleDialog } from './settled-invite.js';

/**
 * The drachtio-srf implementation of SrsConnector (src/siprec/client/srs-connector-types.ts): the
 * recording INVITE goes out with srf.createUAC (cbRequest keeps the request for CANCEL), re-INVITEs
 * with dialog.request (the multipart body needs its own Content-Type, which dialog.modify does not
 * set), BYE with dialog.destroy; the SRS's re-INVITE/UPDATE/BYE arrive as the dialog's
 * 'modify'/'update'/'destroy' events.
 *
 * Works the same against drachtio-server and the embedded engine (src/engine). TLS is chosen by
 * the Request-URI (`;transport=tls` or `sips:`), which the SIP server honours.
 */
export interface DrachtioSrsConnectorOptions {
  /** Default silent. */
  logger?: Logger;
}

type UacRequest = Srf.SrfRequest;
type UacDialog = Srf.Dialog;
type AnyRes = { status: number; reason?: string; body?: string; get(name: string): string | undefined; source_address?: string; source_port?: number };

/** The SDP of a body whose Content-Type may be SDP or multipart; undefined when none. */
export function sdpOfBody(contentType: string | undefined, body: string | undefined): string | undefined {
  if (!body) return undefined;
  if (!contentType) return body.startsWith('v=0') ? body : undefined;
  try {
    return parseSiprecBody(contentType, body).sdp;
  } catch {
    return undefined;
  }
}

function failureOf(err: unknown): SrsInviteFailure {
  const e = err as { status?: unknown; reason?: unknown; message?: unknown } | undefined;
  if (e && typeof e.status === 'number') return { kind: 'status', status: e.status, reason: typeof e.reason === 'string' ? e.reason : '' };
  return { kind: 'transport', detail: typeof e?.message === 'string' ? e.message : String(err) };
}

export class DrachtioSrsConnector implements SrsConnector {
  readonly #srf: Srf;
  readonly #log: Logger;

  constructor(srf: Srf, options: DrachtioSrsConnectorOptions = {}) {
    this.#srf = srf;
    this.#log = (options.logger ?? silentLogger).child({ component: 'srs-connector' });
  }

  invite(request: SrsInviteRequest, options: SrsInviteOptions): PendingSrsInvite {
    let sent: UacRequest | undefined;
    let cancelled = false;
    let cancelSent = false;
    let settle: { resolve: (d: SrsDialog) => void; reject: (e: SrsInviteError) => void } | undefined;
    const result = new Promise<SrsDialog>((resolve, reject) => (settle = { resolve, reject }));
    result.catch(() => undefined);
    const log = this.#log.child({ target: request.target });

    const sendCancel = (): void => {
      if (!sent || cancelSent) return;
      cancelSent = true;
      try {
        sent.cancel((err: unknown) => {
          if (err) log.debug({ err }, 'CANCEL of the recording INVITE failed');
        });
      } catch (err) {
        log.debug({ err }, 'CANCEL of the recording INVITE could not be sent');
      }
    };

    const progress = {
      // srf calls cbRequest(err) on failure and cbRequest(null, req) on success (its typings say (req)).
      cbRequest: ((...args: unknown[]) => {
        const req = (args.length > 1 ? args[1] : args[0]) as UacRequest | Error | null | undefined;
        if (!req || req instanceof Error) return;
        sent = req;
        if (cancelled) sendCancel();
      }) as (req: UacRequest) => void,
      cbProvisional: (res: Srf.SrfResponse) => options.onProvisional?.(res.status, res.reason),
    };

    let uac: Promise<UacDialog>;
    try {
      uac = this.#srf.createUAC(
        request.target,
        { headers: { ...request.headers, 'Content-Type': request.body.contentType }, localSdp: request.body.body },
        progress,
      );
    } catch (err) {
      settle!.reject(new SrsInviteError(failureOf(err)));
      return { result, cancel: () => undefined };
    }
    uac.then(
      (dialog) => {
        if (cancelled) {
          // The 200 crossed our CANCEL: ACKed by srf already; end it (RFC 3261 section 9.1).
          log.info('recording INVITE answered after CANCEL: sending BYE');
          dialog.destroy(undefined, () => undefined);
          return;
        }
        settle!.resolve(new DrachtioSrsDialog(dialog, log));
      },
      (err: unknown) => {
        settle!.reject(new SrsInviteError(cancelled ? { kind: 'cancelled' } : failureOf(err)));
      },
    );

    return {
      result,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        sendCancel();
        settle!.reject(new SrsInviteError({ kind: 'cancelled' }));
      },
    };
  }
}

/** Status, Contact, source and the recording server's recording id (RECORDING_ID_HEADER) of the 200. */
function answerFacts(res: AnyRes | undefined, contact: string | undefined): SrsAnswerFacts {
  const id = res?.get(RECORDING_ID_HEADER);
  const source = res?.source_address ? `${res.source_address}:${res.source_port ?? ''}` : undefined;
  // copies: kept for the recording's life, they must not keep the 200's frame (common/own-string.ts)
  return {
    status: res?.status ?? 200,
    ...(contact ? { contact: ownString(contact) } : {}),
    ...(source ? { source: ownString(source) } : {}),
    ...(typeof id === 'string' && id !== '' ? { srsRecordingId: ownString(id.trim()) } : {}),
  };
}

/** An established recording dialog over drachtio-srf. */
class DrachtioSrsDialog extends TypedEmitter<SrsDialogEvents> implements SrsDialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly answerSdp: string;
  readonly answer: SrsAnswerFacts;
  readonly #dialog: UacDialog;
  readonly #log: Logger;
  #gone = false;
  #bye: Promise<void> | undefined;

  constructor(dialog: UacDialog, log: Logger) {
    super();
    this.#dialog = dialog;
    const res = (dialog as unknown as { res?: AnyRes }).res;
    this.answerSdp = ownString(sdpOfBody(res?.get('Content-Type'), dialog.remote.sdp) ?? dialog.remote.sdp ?? '');
    this.answer = answerFacts(res, dialog.remote.uri);
    // srf keeps the INVITE's whole multipart body as the dialog's local SDP (and would answer a
    // refresh re-INVITE with it as application/sdp): the SDP part alone is what that is
    const sent = (dialog as unknown as { req?: AnyRes }).req;
    const localSdp = sdpOfBody(sent?.get('Content-Type'), dialog.local.sdp);
    if (localSdp !== undefined) dialog.local.sdp = localSdp;
    settleDialog(dialog); // copies the SDPs, tags and URIs it keeps
    this.callId = dialog.sip.callId;
    this.#log = log.child({ siprecCallId: this.callId });
    this.localTag = dialog.sip.localTag;
    this.remoteTag = dialog.sip.remoteTag;
    dialog.on('modify', (req, res) => this.#inbound('INVITE', req, res));
    dialog.on('update', (req, res) => this.#inbound('UPDATE', req, res));
    onDialogEnded(dialog, (req: unknown, reason?: unknown) => {
      this.#gone = true;
      // the BYE's Reason header (RFC 3326) says why, e.g. a recording server whose disk is full
      const header = typeof (req as { get?: unknown } | undefined)?.get === 'function' ? (req as { get(name: string): unknown }).get('Reason') : undefined;
      this.emit('bye', typeof header === 'string' && header !== '' ? `BYE (${header})` : typeof reason === 'string' ? reason : 'BYE');
    });
  }

  #inbound(method: 'INVITE' | 'UPDATE', req: Srf.SrfRequest, res: Srf.SrfResponse): void {
    const contentType = req.get('Content-Type') || undefined;
    let answered = false;
    const request: SrsInDialogRequest = {
      method,
      contentType,
      body: req.body ?? '',
      respond: (status: number, body?: SrsBody, headers?: SrsHeaders) => {
        if (answered) return;
        answered = true;
        const opts: { headers: Record<string, string>; body?: string } = { headers: { ...headers } };
        if (body) {
          opts.headers['Content-Type'] = body.contentType;
          opts.body = body.body;
        }
        res.send(status, opts);
      },
    };
    if (this.listenerCount('request') === 0) {
      request.respond(method === 'INVITE' ? 488 : 200);
      return;
    }
    this.emit('request', request);
    if (!answered) {
      this.#log.warn({ method }, 'in-dialog request from the recording server left unanswered: 500');
      request.respond(500);
    }
  }

  modify(body: SrsBody, headers: SrsHeaders): Promise<SrsModifyResult> {
    if (this.#gone) return Promise.reject(new Error('recording dialog is gone'));
    const opts = { method: 'INVITE', headers: { ...headers, 'Content-Type': body.contentType }, body: body.body };
    rebindDialogSocket(this.#dialog);
    return (this.#dialog.request(opts as unknown as Srf.SrfRequest) as unknown as Promise<AnyRes>).then((res) => {
      const ok = res.status >= 200 && res.status < 300;
      return {
        status: res.status,
        reason: res.reason ?? '',
        answerSdp: ok ? sdpOfBody(res.get('Content-Type') || undefined, res.body) : undefined,
      };
    });
  }

  bye(headers?: SrsHeaders): Promise<void> {
    if (this.#bye) return this.#bye;
    if (this.#gone) {
      this.#bye = Promise.resolve();
      return this.#bye;
    }
    this.#gone = true;
    const bye = new Promise<void>((resolve) => {
      try {
        rebindDialogSocket(this.#dialog);
        this.#dialog.destroy(headers ? { headers: { ...headers } } : undefined, (err: unknown) => {
          if (err) this.#log.debug({ err }, 'BYE to the recording server failed');
          resolve();
        });
      } catch (err) {
        this.#log.debug({ err }, 'BYE to the recording server could not be sent');
        resolve();
      }
    });
    this.#bye = bye;
    return bye;
  }
}
