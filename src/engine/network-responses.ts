/**
 * Responses from the network to the engine's client transactions (RFC 3261 sections 13.2.2 and
 * 17.1), and the transactions' local failures (Timer B/F 408, transport 503). For INVITEs this is
 * the UAC dialog bookkeeping: early/confirmed dialogs, reliable 1xx (RFC 3262), the ACK for a
 * non-2xx, forked 2xx (E25), 2xx retransmissions after the transaction ended (D16), re-INVITE
 * outcomes and session timers (RFC 4028). Responses to requests the engine sent itself need no app.
 */
import type { ClientTransaction } from './client-transaction.js';
import type { DialogTable } from './dialog-table.js';
import { Dialog, makeDialogId } from './dialog.js';
import type { EngineContext } from './engine-context.js';
import { buildResponse } from './message-builder.js';
import { buildAckForNon2xx } from './request-builders.js';
import { firstListItem, getHeader, getHeaderList, getTag, parseCSeq, parseNameAddr, serializeSipMessage, type SipMessage } from './sip-message.js';
import type { Proxies } from './proxies.js';
import type { MessageSource } from './sip-transport.js';
import { createsSubscription } from './subscription-dialogs.js';
import { transactionKey, type TransactionTable } from './transaction-table.js';

export class NetworkResponses {
  constructor(
    private readonly ctx: EngineContext,
    private readonly txns: TransactionTable,
    private readonly dialogs: DialogTable,
    private readonly proxies: Proxies,
  ) {}

  /** A parsed response from the network; `buf` is what the app gets. */
  onResponse(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const key = transactionKey(msg, msg.method);
    const ct = this.txns.client(key);
    const status = msg.status;
    if (!ct) {
      if (this.proxies.forwardResponse(msg)) return;
      if (msg.method === 'INVITE' && status >= 200 && status < 300) this.#stray2xx(msg);
      else this.ctx.counters.retransmissionsAbsorbed++;
      return;
    }
    if (msg.method === 'CANCEL') {
      ct.receive(status);
      return;
    }
    if (ct.receive(status) === 'absorb') {
      this.ctx.counters.retransmissionsAbsorbed++;
      return;
    }
    const held = ct.pendingCancel;
    if (held) {
      ct.pendingCancel = undefined;
      if (status < 200) held.start();
      else held.terminate(); // the INVITE ended first: the CANCEL is never sent
    }
    if (ct.proxy) {
      ct.proxy.onResponse(ct, msg, buf, source);
      return;
    }
    let dialogId = '';
    if (ct.isInvite) {
      if (status === 100) return;
      dialogId = ct.dialogId ?? '';
      if (!this.#uacInviteResponse(ct, msg, source)) return;
    } else if (ct.dialogId !== undefined && createsSubscription(ct.request.method)) {
      if (status >= 200 && status < 300) this.dialogs.subscriptions.uacAnswered(ct, msg, source);
      else if (status === 481) this.dialogs.subscriptions.end(ct.dialogId, 'refresh answered 481');
      if (this.dialogs.get(ct.dialogId) !== undefined) dialogId = ct.dialogId;
    }
    if (ct.endsSubscription && status >= 200) this.dialogs.subscriptions.end(ct.dialogId, 'final NOTIFY answered');
    if (ct.appId === undefined) {
      this.#engineRequestResponse(ct, msg);
      return;
    }
    const app = this.ctx.appById(ct.appId);
    if (!app) return;
    this.ctx.forwardToApp(app, buf, source, ct.id, dialogId);
  }

  /** Timer B/F fired or the transport failed: the app gets a locally generated 408/503. */
  onLocalFailure(ct: ClientTransaction, status: 408 | 503): void {
    ct.pendingCancel?.terminate();
    ct.pendingCancel = undefined;
    if (ct.proxy) {
      ct.proxy.onLocalFailure(ct, status);
      return;
    }
    if (ct.endsSubscription) this.dialogs.subscriptions.end(ct.dialogId, 'final NOTIFY failed');
    const dialogId = ct.isInvite ? ct.dialogId ?? '' : '';
    if (ct.isInvite) {
      const d = this.dialogs.get(dialogId);
      if (d && d.state === 'early') this.dialogs.remove(d);
      if (d && d.pendingReinviteTxnId === ct.id) d.pendingReinviteTxnId = undefined;
    }
    const app = this.ctx.appById(ct.appId);
    if (!app || ct.request.method === 'CANCEL') return;
    const resp = buildResponse(ct.request, status);
    const text = serializeSipMessage(resp);
    this.ctx.toApp(app, `network|{bytes}|${ct.target.protocol}|||${this.ctx.now()}|${ct.id}|${dialogId}|`, text, Buffer.byteLength(text));
  }

  /** Dialog bookkeeping for responses to INVITEs we sent. Returns false to swallow the response. */
  #uacInviteResponse(ct: ClientTransaction, msg: SipMessage, source: MessageSource): boolean {
    const status = msg.status;
    const dialogId = ct.dialogId ?? '';
    const toTag = getTag(getHeader(msg, 'to'));
    let d = this.dialogs.get(dialogId);
    const reinvite = d !== undefined && d.state === 'confirmed' && d.pendingReinviteTxnId === ct.id;
    if (reinvite && d) {
      if (status >= 200) {
        d.pendingReinviteTxnId = undefined;
        d.inviteSucceeded = status < 300;
        if (status < 300) {
          const c = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
          if (c) d.remoteTarget = c.uri;
          this.dialogs.armUacSessionTimer(d, msg);
        } else this.#ackNon2xx(ct, msg);
      }
      return true;
    }
    if (status >= 300) {
      this.#ackNon2xx(ct, msg);
      if (d && d.state === 'early') this.dialogs.remove(d);
      if (!d || d.state !== 'confirmed') this.ctx.cdr.emit('stop', 'network', () => serializeSipMessage(msg), ct.canceled ? 'call-canceled' : 'call-rejected');
      return true;
    }
    if (!toTag) return true;
    if (!d) {
      d = this.#newUacDialog(ct, msg, toTag);
    } else if (d.state === 'confirmed') {
      if (d.remoteTag !== toTag && status < 300) {
        // E25: a second 2xx (forked) for an INVITE that already has a dialog: ACK and BYE it.
        this.#ackAndByeFork(ct, msg, source);
        return false;
      }
      return false; // retransmitted 2xx: handled at dialog level
    }
    if (status < 200) {
      const rseq = getHeader(msg, 'rseq');
      if (rseq !== undefined && /^\d+$/.test(rseq.trim())) {
        const n = Number(rseq.trim());
        if (d.remoteTag === toTag && n <= d.lastRseq) return false; // retransmitted reliable 1xx
        d.lastRseq = n;
        d.lastRseqCseq = parseCSeq(getHeader(msg, 'cseq') ?? '')?.seq ?? 0;
      }
      d.remoteTag = toTag;
      d.remoteParty = getHeader(msg, 'to') ?? d.remoteParty;
      this.#uacRefresh(d, msg, source);
      return true;
    }
    d.remoteTag = toTag;
    d.remoteParty = getHeader(msg, 'to') ?? d.remoteParty;
    d.confirm();
    d.inviteSucceeded = true;
    this.ctx.cdr.emit('start', 'network', () => serializeSipMessage(msg), 'uac');
    this.#uacRefresh(d, msg, source);
    this.dialogs.armUacSessionTimer(d, msg);
    return true;
  }

  /** Remote target, route set and flow (nat-flow.ts) from a dialog-creating 1xx or the 2xx. */
  #uacRefresh(d: Dialog, msg: SipMessage, source: MessageSource): void {
    const c = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
    if (c) d.remoteTarget = c.uri;
    const rr = getHeaderList(msg, 'record-route');
    if (rr.length) d.routeSet = rr.reverse();
    this.dialogs.initUacFlow(d, msg, source);
  }

  #newUacDialog(ct: ClientTransaction, msg: SipMessage, toTag: string): Dialog {
    const req = ct.request;
    const d = new Dialog(ct.dialogId ?? '', 'uac', getHeader(req, 'call-id') ?? '', getTag(getHeader(req, 'from')) ?? '');
    d.remoteTag = toTag;
    d.localParty = getHeader(req, 'from') ?? '';
    d.remoteParty = getHeader(msg, 'to') ?? '';
    d.localCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 1;
    d.inviteCseq = d.localCseq;
    d.protocol = ct.target.protocol;
    d.localContact = getHeader(req, 'contact') ?? this.ctx.contactFor(d.protocol);
    d.appId = ct.appId;
    d.remoteTarget = req.uri;
    this.dialogs.add(d);
    return d;
  }

  /** A 2xx retransmission after the INVITE transaction ended: re-send the ACK (docs/engine.md item D16). */
  #stray2xx(msg: SipMessage): void {
    const callId = getHeader(msg, 'call-id') ?? '';
    const d = this.dialogs.get(makeDialogId(callId, getTag(getHeader(msg, 'from')) ?? ''));
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '')?.seq;
    if (d && d.role === 'uac' && d.ackText && d.ackCseq === cseq) {
      this.ctx.send(this.dialogs.target(d), d.ackText);
      this.ctx.counters.retransmissionsSent++;
    } else this.ctx.counters.retransmissionsAbsorbed++;
  }

  #ackNon2xx(ct: ClientTransaction, resp: SipMessage): void {
    ct.ackText = serializeSipMessage(buildAckForNon2xx(ct.request, resp));
    this.ctx.send(ct.target, ct.ackText);
  }

  #ackAndByeFork(ct: ClientTransaction, resp: SipMessage, source: MessageSource): void {
    const toTag = getTag(getHeader(resp, 'to')) ?? '';
    const d = new Dialog(`${ct.dialogId ?? ''}#fork`, 'uac', getHeader(ct.request, 'call-id') ?? '', getTag(getHeader(ct.request, 'from')) ?? '');
    d.remoteTag = toTag;
    d.localParty = getHeader(ct.request, 'from') ?? '';
    d.remoteParty = getHeader(resp, 'to') ?? '';
    d.localCseq = parseCSeq(getHeader(ct.request, 'cseq') ?? '')?.seq ?? 1;
    d.inviteCseq = d.localCseq;
    d.protocol = ct.target.protocol;
    d.remoteTarget = ct.request.uri;
    this.#uacRefresh(d, resp, source);
    const ack = this.dialogs.buildRequest(d, 'ACK', d.remoteTarget, [], '', d.inviteCseq);
    this.ctx.send(this.dialogs.target(d), ack.text);
    this.dialogs.sendEngineRequest(d, 'BYE', [{ name: 'reason', value: 'SIP ;cause=480 ;text="forked 2xx"' }]);
  }

  /** Responses to requests the engine sent by itself (BYE, session refresh) need no app. */
  #engineRequestResponse(ct: ClientTransaction, msg: SipMessage): void {
    if (ct.request.method === 'UPDATE' && msg.status >= 200) {
      const d = this.dialogs.get(ct.dialogId ?? '');
      if (d && msg.status < 300) {
        if (getHeader(msg, 'session-expires') !== undefined) {
          this.dialogs.armUacSessionTimer(d, msg);
        } else {
          // RFC 4028 section 7.2: a 2xx without Session-Expires turns the session timer off
          this.dialogs.stopSessionTimer(d);
        }
      } else if (d && msg.status !== 408 && msg.status !== 481) {
        // the peer refused the refreshing UPDATE (e.g. 405/501): stop refreshing rather than tear down
        this.dialogs.stopSessionTimer(d);
      }
    }
  }
}
