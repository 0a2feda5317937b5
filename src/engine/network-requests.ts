/**
 * Requests from the network (RFC 3261 sections 8.2 and 17.2): ACK and retransmission matching,
 * CANCEL (section 9.2, D19), 481 for BYE/UPDATE/PRACK outside a dialog, and new out-of-dialog
 * requests (INVITE, OPTIONS, ...) routed to an app that routed the method (503 if none; outbound
 * mode dials the request handler). Requests with a To-tag go to in-dialog-requests.ts.
 * Every request that matches no transaction first passes the embedder's request gate
 * (request-gate.ts): refused ones get silence or one stateless answer no larger than themselves.
 */
import type { DialogTable } from './dialog-table.js';
import { makeDialogId } from './dialog.js';
import type { EngineContext } from './engine-context.js';
import { newTag } from './ids.js';
import type { InDialogRequests } from './in-dialog-requests.js';
import { buildResponse, stampTopVia } from './message-builder.js';
import type { OutboundApps } from './outbound-apps.js';
import type { Proxies } from './proxies.js';
import { askGate, statelessAnswer } from './request-gate.js';
import { getHeader, getTag, serializeSipMessage, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import { createsSubscription } from './subscription-dialogs.js';
import { transactionKey, type TransactionTable } from './transaction-table.js';

export class NetworkRequests {
  constructor(
    private readonly ctx: EngineContext,
    private readonly txns: TransactionTable,
    private readonly dialogs: DialogTable,
    private readonly inDialog: InDialogRequests,
    private readonly outbound: OutboundApps,
    private readonly proxies: Proxies,
  ) {}

  /** A parsed request from the network; `buf` is what the app gets. */
  onRequest(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const method = msg.method;
    if (method === 'ACK') {
      const inv = this.txns.server(transactionKey(msg, 'INVITE'));
      if (inv && (inv.state === 'completed' || inv.state === 'confirmed')) {
        inv.ackReceived();
        return;
      }
      if (this.proxies.routeRequest(msg, source, '')) return;
      this.inDialog.onAck2xx(msg, buf, source);
      return;
    }
    const key = transactionKey(msg, method);
    const existing = this.txns.server(key);
    if (existing) {
      existing.retransmitReceived();
      this.ctx.counters.retransmissionsAbsorbed++;
      return;
    }
    const cancelled = method === 'CANCEL' ? this.txns.server(transactionKey(msg, 'INVITE')) : undefined;
    if (!cancelled && !this.#passesGate(msg, buf, source)) return;
    stampTopVia(msg, source);
    if (method === 'CANCEL') {
      this.#onCancel(msg, buf, source, key);
      return;
    }
    if (getTag(getHeader(msg, 'to')) !== undefined) {
      if (this.proxies.routeRequest(msg, source, key)) return;
      this.inDialog.onRequest(msg, buf, source, key);
      return;
    }
    if (method === 'BYE' || method === 'UPDATE' || method === 'PRACK') {
      this.txns.reject(msg, source, key, 481);
      return;
    }
    this.#onNewRequest(msg, buf, source, key);
  }

  /**
   * The request gate (request-gate.ts). A refused request gets nothing, or one stateless answer
   * no larger than itself; a refused CANCEL always gets nothing (its INVITE was never taken).
   */
  #passesGate(msg: SipMessage, buf: Buffer, source: MessageSource): boolean {
    const inDialog = msg.method !== 'CANCEL' && getTag(getHeader(msg, 'to')) !== undefined;
    const verdict = askGate(this.ctx.options.requestGate, msg, source, inDialog);
    if (verdict.action === 'allow') return true;
    if (verdict.action === 'reject' && msg.method !== 'CANCEL') {
      const answer = statelessAnswer(msg, source, buf.length, verdict.status, verdict.headers);
      if (answer) this.ctx.send(answer.target, answer.text);
    }
    return false;
  }

  #onNewRequest(msg: SipMessage, buf: Buffer, source: MessageSource, key: string): void {
    const { apps, cdr } = this.ctx;
    const handler = this.ctx.options.requestHandler;
    const app = apps.pick(msg.method.toLowerCase());
    if (msg.method === 'INVITE') cdr.emit('attempt', 'network', () => buf.toString('utf8'));
    if (!app && handler) {
      this.outbound.dialOut(msg, buf, source, key, handler);
      return;
    }
    if (!app) {
      const t = this.txns.reject(msg, source, key, 503);
      if (msg.method === 'INVITE') cdr.emit('stop', 'application', () => t.lastResponse ?? '', 'call-rejected');
      return;
    }
    const t = this.txns.createServer(msg, source, key);
    t.appId = app.id;
    // RFC 6665 / RFC 3515: the 2xx to SUBSCRIBE or REFER creates a dialog; its id is known now (subscription-dialogs.ts)
    if (createsSubscription(msg.method)) t.dialogId = makeDialogId(getHeader(msg, 'call-id') ?? '', getTag(getHeader(msg, 'from')) ?? '');
    if (msg.method === 'INVITE') {
      t.respond(100, serializeSipMessage(buildResponse(msg, 100)));
      const fromTag = getTag(getHeader(msg, 'from')) ?? '';
      t.dialogId = makeDialogId(getHeader(msg, 'call-id') ?? '', fromTag);
      const se = this.ctx.sessionTimers.checkRequest(msg);
      if (se.reject) {
        this.txns.detach(t);
        t.respond(422, serializeSipMessage(buildResponse(msg, 422, newTag(), [{ name: 'min-se', value: String(se.minSe) }])));
        return;
      }
    }
    this.ctx.forwardToApp(app, buf, source, t.id, '', true);
  }

  #onCancel(msg: SipMessage, buf: Buffer, source: MessageSource, key: string): void {
    const inv = this.txns.server(transactionKey(msg, 'INVITE'));
    if (!inv) {
      // RFC 3261 section 9.2: 481; never more bytes than the CANCEL (a spoofed source is the victim)
      const answer = statelessAnswer(msg, source, buf.length, 481);
      if (answer) this.txns.reject(msg, source, key, 481);
      return;
    }
    if (inv.proxy) {
      // a proxied INVITE (RFC 3261 section 16.10): 200 here, the proxy sends 487 and CANCELs its branches
      this.txns.reject(msg, source, key, 200);
      inv.proxy.onCancel();
      return;
    }
    const d = inv.dialogId ? this.dialogs.get(inv.dialogId) : undefined;
    if (inv.open) {
      this.txns.reject(msg, source, key, 200);
      const tag = inv.toTag ?? newTag();
      inv.toTag = tag;
      inv.respond(487, serializeSipMessage(buildResponse(inv.request, 487, tag)));
      this.ctx.cdr.emit('stop', 'application', () => inv.lastResponse ?? '', 'call-canceled');
      this.txns.detach(inv);
      if (d && d.state === 'early') this.dialogs.remove(d);
      const app = this.ctx.appById(inv.appId);
      if (app) this.ctx.forwardToApp(app, buf, source, inv.id, inv.dialogId ?? '');
      return;
    }
    if (inv.state === 'accepted' && d) {
      // D19: a CANCEL after the 200 OK: 481, then tear the dialog down.
      this.txns.reject(msg, source, key, 481);
      this.dialogs.teardown(d, 'SIP ;cause=200 ;text="CANCEL after 200 OK"');
      return;
    }
    this.txns.reject(msg, source, key, 200);
  }
}
