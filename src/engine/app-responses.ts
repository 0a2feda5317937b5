/**
 * Responses the app sends to network requests (`sip|<txnId>|SIP/2.0 ...`, docs/engine.md protocol
 * section 3, docs/engine.md item F28): built from the engine's copy of the request, with To-tag, Contact,
 * RSeq for reliable provisionals (RFC 3262) and Session-Expires (RFC 4028) filled in, sent through
 * the server transaction and echoed back. An INVITE answer also creates, confirms or ends the UAS
 * dialog (E20).
 */
import type { AppConnection } from './app-server.js';
import type { DialogTable } from './dialog-table.js';
import { Dialog } from './dialog.js';
import type { EngineContext } from './engine-context.js';
import { newCseq, newTag } from './ids.js';
import { buildAppResponse, hasOptionTag } from './request-builders.js';
import type { ServerTransaction } from './server-transaction.js';
import { supportsTimer } from './session-timer.js';
import { hostport, isSips } from './sip-address.js';
import { firstListItem, getHeader, getHeaderList, getTag, parseCSeq, parseNameAddr, serializeSipMessage, withTag, type SipMessage } from './sip-message.js';
import { createsSubscription } from './subscription-dialogs.js';
import type { TransactionTable } from './transaction-table.js';

export class AppResponses {
  constructor(private readonly ctx: EngineContext, private readonly txns: TransactionTable, private readonly dialogs: DialogTable) {}

  /** The app answers the request of server transaction `txnId`. */
  respond(app: AppConnection, msgId: string, txnId: string, appMsg: SipMessage): void {
    const t = this.txns.serverById(txnId);
    if (!t || t.detached || !t.open) {
      app.respond(msgId, 'NOK|Response not sent due to unknown transaction');
      return;
    }
    const req = t.request;
    const status = appMsg.status;
    const isInvite = req.method === 'INVITE';
    const reliable = isInvite && status > 100 && status < 200 && hasOptionTag(appMsg, ['require'], '100rel');
    if (reliable && !hasOptionTag(req, ['supported', 'require'], '100rel')) {
      app.respond(msgId, 'NOK|Remote endpoint does not support 100rel');
      return;
    }
    if (status > 100 && t.toTag === undefined) t.toTag = getTag(getHeader(appMsg, 'to')) ?? newTag();
    const protocol = t.target.protocol;
    const success = status >= 200 && status < 300;
    // RFC 3261 section 12.1.1: every response that creates a dialog carries a Contact: a 1xx other
    // than 100 to INVITE (it has a To tag: an early dialog) and a 2xx; UPDATE's 2xx refreshes the target
    const needsContact =
      reliable ||
      (isInvite && status > 100 && status < 300) ||
      (success && (req.method === 'UPDATE' || req.method === 'SUBSCRIBE' || (req.method === 'REFER' && getTag(getHeader(req, 'to')) === undefined)));
    const built = buildAppResponse(req, appMsg, {
      toTag: t.toTag,
      contact: needsContact ? this.ctx.contactFor(protocol, isSips(req.uri)) : undefined,
      hostport: hostport(this.ctx.point(protocol)),
      rseq: reliable ? t.nextRseq : undefined,
      sessionExpires:
        (isInvite || req.method === 'UPDATE') && success && getHeader(appMsg, 'session-expires') === undefined
          ? this.ctx.sessionTimers.answerHeader(req)
          : undefined,
      requireTimer: supportsTimer(req),
    });
    if (!built.ok) {
      app.respond(msgId, `NOK|${built.error}`);
      return;
    }
    const rseq = reliable ? t.nextRseq++ : 0;
    const resp = built.msg;
    const text = serializeSipMessage(resp);

    let dialogId: string | undefined;
    if (isInvite) {
      dialogId = t.dialogId ?? '';
      if (status > 100) this.#uasInviteDialog(t, app, status, resp);
    } else if (createsSubscription(req.method)) {
      dialogId = t.dialogId ?? '';
      if (success) this.dialogs.subscriptions.uasAnswered(t, app.id, resp);
      else if (status === 481) this.dialogs.subscriptions.end(t.dialogId, 'refresh answered 481');
    }
    if (req.method === 'UPDATE' && status >= 200 && status < 300 && t.dialogId) {
      const d = this.dialogs.get(t.dialogId);
      if (d && d.state === 'confirmed') this.dialogs.armUasSessionTimer(d, req, resp);
    }
    if (reliable) t.sendReliable(rseq, text);
    else t.respond(status, text);
    this.ctx.echo(app, msgId, t.target, t.id, text, dialogId ?? '');
  }

  /** UAS dialog bookkeeping when the app answers an INVITE (E20). */
  #uasInviteDialog(t: ServerTransaction, app: AppConnection, status: number, resp: SipMessage): void {
    const id = t.dialogId ?? '';
    let d = this.dialogs.get(id);
    if (d && d.state === 'confirmed' && t.id !== d.initialTxnId) {
      // re-INVITE answered (either role); the 2xx then waits for its ACK through d.serverInvite
      if (status >= 200 && status < 300) {
        d.serverInvite = t;
        this.dialogs.armUasSessionTimer(d, t.request, resp);
      }
      return;
    }
    if (status >= 300) {
      if (d && d.state === 'early') this.dialogs.remove(d);
      this.ctx.cdr.emit('stop', 'application', () => serializeSipMessage(resp), 'call-rejected');
      return;
    }
    const req = t.request;
    if (!d) {
      d = new Dialog(id, 'uas', getHeader(req, 'call-id') ?? '', t.toTag ?? newTag());
      d.remoteTag = getTag(getHeader(req, 'from')) ?? '';
      d.remoteParty = getHeader(req, 'from') ?? '';
      d.localParty = withTag(getHeader(req, 'to') ?? '', d.localTag);
      d.remoteCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0;
      d.localCseq = newCseq();
      const c = parseNameAddr(firstListItem(getHeader(req, 'contact') ?? ''));
      d.remoteTarget = c?.uri ?? req.uri;
      d.routeSet = getHeaderList(req, 'record-route');
      d.protocol = t.target.protocol;
      this.dialogs.initUasFlow(d, req, t.target);
      d.appId = app.id;
      d.initialTxnId = t.id;
      this.dialogs.add(d);
    }
    d.localContact = getHeader(resp, 'contact') ?? d.localContact;
    d.serverInvite = t;
    if (status >= 200) {
      d.confirm();
      this.ctx.cdr.emit('start', 'application', () => serializeSipMessage(resp), 'uas');
      this.dialogs.armUasSessionTimer(d, req, resp);
    }
  }
}
