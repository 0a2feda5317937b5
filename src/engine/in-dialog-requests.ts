/**
 * Requests from the network inside a dialog (RFC 3261 section 12.2.2): the ACK for a 2xx, BYE,
 * PRACK (RFC 3262), re-INVITE and UPDATE (RFC 3311) with glare (491) and overlap (500) rules,
 * CSeq order (500), session-timer checks (RFC 4028, 422), and 481 when no dialog matches.
 */
import type { DialogTable } from './dialog-table.js';
import { makeDialogId, type Dialog } from './dialog.js';
import type { EngineContext } from './engine-context.js';
import { newUuid } from './ids.js';
import { buildResponse } from './message-builder.js';
import { firstListItem, getHeader, getTag, parseCSeq, parseNameAddr, serializeSipMessage, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import { isTerminatingNotify } from './subscription-dialogs.js';
import type { TransactionTable } from './transaction-table.js';

export class InDialogRequests {
  constructor(private readonly ctx: EngineContext, private readonly txns: TransactionTable, private readonly dialogs: DialogTable) {}

  /** ACK for a 2xx the app sent (RFC 3261 section 13.3.1.4): ends its retransmission and goes to the dialog's app. */
  onAck2xx(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const d = this.dialogs.find(msg);
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
    const st = d?.serverInvite;
    if (!d || !st || !cseq || st.state !== 'accepted' || (parseCSeq(getHeader(st.request, 'cseq') ?? '')?.seq ?? -1) !== cseq.seq) {
      this.ctx.counters.retransmissionsAbsorbed++;
      return;
    }
    st.ack2xx();
    d.serverInvite = undefined;
    this.dialogs.refreshFlow(d, source);
    const app = this.ctx.appById(d.appId);
    if (!app) return;
    const txnId = st.id === d.initialTxnId ? st.id : newUuid();
    this.ctx.forwardToApp(app, buf, source, txnId, d.id);
  }

  /** A NOTIFY ahead of the 2xx to the app's SUBSCRIBE or REFER creates the subscriber's dialog (subscription-dialogs.ts). */
  #earlyNotifyDialog(msg: SipMessage, source: MessageSource): Dialog | undefined {
    if (msg.method !== 'NOTIFY') return undefined;
    const id = makeDialogId(getHeader(msg, 'call-id') ?? '', getTag(getHeader(msg, 'to')) ?? '');
    const ct = this.txns.pendingClientFor(id, 'SUBSCRIBE') ?? this.txns.pendingClientFor(id, 'REFER');
    return ct ? this.dialogs.subscriptions.uacFromNotify(ct, msg, source) : undefined;
  }

  /** A request with a To-tag (not ACK or CANCEL) that no transaction matched. */
  onRequest(msg: SipMessage, buf: Buffer, source: MessageSource, key: string): void {
    const method = msg.method;
    const d = this.dialogs.find(msg) ?? this.#earlyNotifyDialog(msg, source);
    if (!d) {
      this.txns.reject(msg, source, key, 481);
      return;
    }
    const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
    if (!cseq) return;
    if (d.remoteCseq >= 0 && cseq.seq < d.remoteCseq) {
      this.txns.reject(msg, source, key, 500);
      return;
    }
    d.remoteCseq = cseq.seq;
    this.dialogs.refreshFlow(d, source);
    // the dialog's own app; after a reconnect (srf keeps its dialogs) any app that routed the method or INVITEs
    const apps = this.ctx.apps;
    const app = this.ctx.appById(d.appId) ?? apps.pick(method.toLowerCase()) ?? apps.pick('invite');
    if (app) d.appId = app.id;
    if (method === 'PRACK') {
      const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(getHeader(msg, 'rack') ?? '');
      const st = d.serverInvite;
      if (!rack || !st || !st.prackReceived(Number(rack[1]))) {
        this.txns.reject(msg, source, key, 481);
        return;
      }
      // The engine answers the PRACK itself (srf only hands it to the waiting callback).
      const t = this.txns.reject(msg, source, key, 200);
      if (app) this.ctx.forwardToApp(app, buf, source, t.id, d.id);
      return;
    }
    if (method === 'BYE') {
      // a BYE also ends any 2xx retransmission still waiting for its ACK
      if (d.serverInvite?.state === 'accepted') d.serverInvite.terminate();
      this.dialogs.remove(d);
      this.ctx.cdr.emit('stop', 'network', () => buf.toString('utf8'), 'normal-release');
      if (!app) {
        this.txns.reject(msg, source, key, 200);
        return;
      }
    }
    if (!app) {
      this.txns.reject(msg, source, key, 503);
      return;
    }
    if (method === 'INVITE' && d.state === 'confirmed') {
      // RFC 3261 section 14.2: glare with our own re-INVITE -> 491; overlapping incoming re-INVITE -> 500
      if (d.pendingReinviteTxnId !== undefined) {
        this.txns.reject(msg, source, key, 491);
        return;
      }
      if (d.serverInvite !== undefined && (d.serverInvite.open || d.serverInvite.state === 'accepted')) {
        this.txns.reject(msg, source, key, 500, [{ name: 'retry-after', value: String(1 + Math.floor(Math.random() * 10)) }]);
        return;
      }
    }
    if (method === 'INVITE' || method === 'UPDATE') {
      const contact = parseNameAddr(firstListItem(getHeader(msg, 'contact') ?? ''));
      if (contact) d.remoteTarget = contact.uri;
      const se = this.ctx.sessionTimers.checkRequest(msg);
      if (se.reject) {
        this.txns.reject(msg, source, key, 422, [{ name: 'min-se', value: String(se.minSe) }]);
        return;
      }
    }
    const t = this.txns.createServer(msg, source, key);
    t.appId = app.id;
    t.dialogId = d.id;
    t.toTag = d.localTag;
    if (method === 'INVITE') {
      t.respond(100, serializeSipMessage(buildResponse(msg, 100)));
      d.serverInvite = t;
    }
    this.ctx.forwardToApp(app, buf, source, t.id, d.id);
    // RFC 6665 section 4.1.3 (as drachtio-server): a terminating NOTIFY ends a subscription dialog at once
    if (isTerminatingNotify(msg)) this.dialogs.subscriptions.end(d.id, 'final NOTIFY received');
  }
}
