import { TypedEmitter } from '../../src/common/typed-emitter.js';
import { parseSiprecBody } from '../../src/siprec/multipart.js';
import { parseRecordingSdp } from '../../src/siprec/recording-sdp.js';
import { buildSrsAnswer } from '../../src/siprec/srs-answer.js';
import {
  SrsInviteError,
  type PendingSrsInvite,
  type SrsBody,
  type SrsConnector,
  type SrsDialog,
  type SrsDialogEvents,
  type SrsHeaders,
  type SrsInviteOptions,
  type SrsInviteRequest,
  type SrsModifyResult,
  type SrsAnswerFacts,
} from '../../src/siprec/client/srs-connector-types.js';

/**
 * A scriptable recording server behind the SrsConnector interface. Every INVITE and re-INVITE the
 * session sends waits until the test answers it (answer/reject/failTransport, or respond on a
 * modify); nothing happens on its own, so a FakeClock decides every timeout.
 */

/** The SRS's SDP answer to an SRC offer body (recvonly per stream, ports from 40000 up, or as given). */
export function answerFor(body: SrsBody, options: { address?: string; ports?: number[]; acceptCrypto?: boolean } = {}): string {
  const sdp = parseSiprecBody(body.contentType, body.body).sdp;
  if (sdp === undefined) throw new Error('offer body has no SDP part');
  const offer = parseRecordingSdp(sdp);
  return buildSrsAnswer(offer, {
    sessionId: '9001',
    version: 1,
    address: options.address ?? '127.0.0.9',
    ports: options.ports ?? offer.streams.map((_, i) => 40000 + 2 * i),
    ...(options.acceptCrypto
      ? { answerCrypto: (s) => ({ tag: s.crypto[0]?.tag ?? 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw' }) }
      : {}),
  }).sdp;
}

export class FakePendingInvite implements PendingSrsInvite {
  readonly result: Promise<SrsDialog>;
  cancelCount = 0;
  settled = false;
  #resolve!: (d: SrsDialog) => void;
  #reject!: (e: SrsInviteError) => void;

  constructor(
    readonly request: SrsInviteRequest,
    readonly options: SrsInviteOptions,
  ) {
    this.result = new Promise<SrsDialog>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The session attaches handlers synchronously; this only silences rejections nobody awaits.
    this.result.catch(() => undefined);
  }

  get cancelled(): boolean {
    return this.cancelCount > 0;
  }

  /** 200 OK with `answerSdp` (default: recvonly on both streams). */
  answer(answerSdp?: string): FakeSrsDialog {
    const dialog = new FakeSrsDialog(answerSdp ?? answerFor(this.request.body));
    this.#settle(() => this.#resolve(dialog));
    return dialog;
  }

  reject(status: number, reason = 'Refused'): void {
    this.#settle(() => this.#reject(new SrsInviteError({ kind: 'status', status, reason })));
  }

  failTransport(detail = 'connection refused'): void {
    this.#settle(() => this.#reject(new SrsInviteError({ kind: 'transport', detail })));
  }

  cancel(): void {
    this.cancelCount++;
    this.#settle(() => this.#reject(new SrsInviteError({ kind: 'cancelled' })));
  }

  #settle(fn: () => void): void {
    if (this.settled) return;
    this.settled = true;
    fn();
  }
}

/** One re-INVITE the session sent; the test answers it. */
export interface FakeModify {
  body: SrsBody;
  headers: SrsHeaders;
  /** The SDP part of the body. */
  sdp: string;
  /** The metadata part of the body. */
  metadata: string;
  responded: boolean;
  /** Final response; a 2xx carries `answerSdp` (default: an answer to this offer). */
  respond(status: number, answerSdp?: string): void;
}

export class FakeSrsDialog extends TypedEmitter<SrsDialogEvents> implements SrsDialog {
  readonly callId = 'fake-srs-call@127.0.0.1';
  readonly localTag = 'src-tag';
  readonly remoteTag = 'srs-tag';
  /** What the 200 said about the server (SrsDialog.answer); a test sets it right after answer(). Default none. */
  answer?: SrsAnswerFacts;
  readonly modifies: FakeModify[] = [];
  byeCount = 0;
  byeHeaders: SrsHeaders | undefined;

  constructor(readonly answerSdp: string) {
    super();
  }

  modify(body: SrsBody, headers: SrsHeaders): Promise<SrsModifyResult> {
    return new Promise((resolve) => {
      const parsed = parseSiprecBody(body.contentType, body.body);
      const entry: FakeModify = {
        body,
        headers,
        sdp: parsed.sdp ?? '',
        metadata: parsed.metadata ?? '',
        responded: false,
        respond: (status, answerSdp) => {
          if (entry.responded) throw new Error('re-INVITE already answered');
          entry.responded = true;
          const ok = status >= 200 && status < 300;
          resolve({ status, reason: ok ? 'OK' : 'Refused', answerSdp: ok ? (answerSdp ?? answerFor(body)) : undefined });
        },
      };
      this.modifies.push(entry);
    });
  }

  bye(headers?: SrsHeaders): Promise<void> {
    this.byeCount++;
    this.byeHeaders = headers;
    return Promise.resolve();
  }

  /** The most recent re-INVITE not answered yet. */
  get pendingModify(): FakeModify | undefined {
    return this.modifies.filter((m) => !m.responded).at(-1);
  }

  /** The SRS sends an in-dialog request; resolves with the session's response. */
  sendRequest(method: 'INVITE' | 'UPDATE', body?: SrsBody): Promise<{ status: number; body: SrsBody | undefined }> {
    return new Promise((resolve) => {
      let answered = false;
      this.emit('request', {
        method,
        contentType: body?.contentType,
        body: body?.body ?? '',
        respond: (status, resBody) => {
          if (answered) throw new Error('request answered twice');
          answered = true;
          resolve({ status, body: resBody });
        },
      });
    });
  }

  /** The SRS hangs up. */
  sendBye(reason = 'normal release'): void {
    this.emit('bye', reason);
  }
}

export class FakeSrsConnector implements SrsConnector {
  readonly invites: FakePendingInvite[] = [];
  /** When set, invite() throws this (a connector that cannot even try). */
  throwOnInvite: Error | undefined;

  invite(request: SrsInviteRequest, options: SrsInviteOptions): PendingSrsInvite {
    if (this.throwOnInvite) throw this.throwOnInvite;
    const pending = new FakePendingInvite(request, options);
    this.invites.push(pending);
    return pending;
  }

  get last(): FakePendingInvite {
    const p = this.invites.at(-1);
    if (!p) throw new Error('no INVITE sent yet');
    return p;
  }
}
