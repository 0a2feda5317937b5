/**
 * Subscription dialogs (RFC 6665 section 4, RFC 3515 section 2.4.4): a 2xx to SUBSCRIBE, or to a
 * REFER sent outside a dialog, creates a dialog in either role, with the same drachtio dialog id
 * (`<Call-ID>;from-tag=<From tag of the request>`) as an INVITE dialog, so NOTIFY and re-SUBSCRIBE
 * go inside it. A REFER inside an INVITE dialog shares that dialog (its implicit subscription).
 *
 * The dialog ends when
 * - a NOTIFY with `Subscription-State: terminated` is answered (sent by the app: on its final
 *   response) or arrives (from the network: at once), as drachtio-server does; never an INVITE dialog;
 * - the subscription expires: Expires of the last 2xx to (re-)SUBSCRIBE (else of the request),
 *   plus 64*T1 for the final NOTIFY; `Expires: 0` (unsubscribe) leaves only those 64*T1; without
 *   Expires (a REFER) one hour. drachtio-server keeps such dialogs until the final NOTIFY; the
 *   engine drops them so an app that never sends it (or never took the dialog) leaks nothing.
 */
import type { ClientTransaction } from './client-transaction.js';
import { Dialog } from './dialog.js';
import type { EngineContext } from './engine-context.js';
import { newCseq, newTag } from './ids.js';
import type { ServerTransaction } from './server-transaction.js';
import { firstListItem, getHeader, getHeaderList, getTag, parseCSeq, parseNameAddr, withTag, type SipMessage } from './sip-message.js';
import type { Flow } from './nat-flow.js';
import type { MessageSource } from './sip-transport.js';

/** Methods whose 2xx creates a dialog outside an INVITE (RFC 6665 section 4.1.2.1, RFC 3515 section 2.4.4). */
export function createsSubscription(method: string): boolean {
  return method === 'SUBSCRIBE' || method === 'REFER';
}

/** A NOTIFY that ends its subscription (RFC 6665 section 4.1.3: `Subscription-State: terminated`). */
export function isTerminatingNotify(msg: SipMessage): boolean {
  return msg.method === 'NOTIFY' && /^\s*terminated\b/i.test(getHeader(msg, 'subscription-state') ?? '');
}

/** Default duration when neither the 2xx nor the request says (RFC 6665 leaves it to the event package; REFER has none). */
export const DEFAULT_SUBSCRIPTION_SECONDS = 3600;

/** Seconds the subscription lasts: Expires of the response, else of the request, else one hour. */
export function subscriptionSeconds(req: SipMessage, resp: SipMessage): number {
  const v = getHeader(resp, 'expires') ?? getHeader(req, 'expires');
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : DEFAULT_SUBSCRIPTION_SECONDS;
}

/** What subscriptions need of the dialog table (dialog-table.ts), which owns them. */
export interface SubscriptionDialogStore {
  get(id: string): Dialog | undefined;
  add(d: Dialog): void;
  remove(d: Dialog): void;
  initUasFlow(d: Dialog, request: SipMessage, source: Flow): void;
  initUacFlow(d: Dialog, response: SipMessage, source: MessageSource): void;
}

export class SubscriptionDialogs {
  constructor(
    private readonly ctx: EngineContext,
    private readonly dialogs: SubscriptionDialogStore,
  ) {}

  /** The app answered 2xx to a SUBSCRIBE or REFER (`t.dialogId` set): create or refresh the UAS dialog. */
  uasAnswered(t: ServerTransaction, appId: number, resp: SipMessage): void {
    const req = t.request;
    const id = t.dialogId ?? '';
    let d = this.dialogs.get(id);
    if (d) {
      if (d.usage === 'subscription' && req.method === 'SUBSCRIBE') this.#arm(d, subscriptionSeconds(req, resp));
      return;
    }
    if (getTag(getHeader(req, 'to')) !== undefined) return; // inside a dialog the engine does not know
    d = new Dialog(id, 'uas', getHeader(req, 'call-id') ?? '', t.toTag ?? newTag());
    d.usage = 'subscription';
    d.remoteTag = getTag(getHeader(req, 'from')) ?? '';
    d.remoteParty = getHeader(req, 'from') ?? '';
    d.localParty = withTag(getHeader(req, 'to') ?? '', d.localTag);
    d.remoteCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0;
    d.localCseq = newCseq();
    d.remoteTarget = parseNameAddr(firstListItem(getHeader(req, 'contact') ?? ''))?.uri ?? req.uri;
    d.routeSet = getHeaderList(req, 'record-route');
    d.protocol = t.target.protocol;
    d.localContact = getHeader(resp, 'contact') ?? '';
    d.appId = appId;
    d.initialTxnId = t.id;
    d.confirm();
    this.dialogs.initUasFlow(d, req, t.target);
    this.dialogs.add(d);
    this.#arm(d, subscriptionSeconds(req, resp));
  }

  /** A 2xx to a SUBSCRIBE or REFER the app sent (`ct.dialogId` set): create or refresh the UAC dialog. */
  uacAnswered(ct: ClientTransaction, resp: SipMessage, source: MessageSource): void {
    const req = ct.request;
    const id = ct.dialogId ?? '';
    let d = this.dialogs.get(id);
    if (d) {
      if (d.usage === 'subscription' && req.method === 'SUBSCRIBE') this.#arm(d, subscriptionSeconds(req, resp));
      return;
    }
    const toTag = getTag(getHeader(resp, 'to'));
    if (toTag === undefined) return;
    d = new Dialog(id, 'uac', getHeader(req, 'call-id') ?? '', getTag(getHeader(req, 'from')) ?? '');
    d.usage = 'subscription';
    d.remoteTag = toTag;
    d.localParty = getHeader(req, 'from') ?? '';
    d.remoteParty = getHeader(resp, 'to') ?? '';
    d.localCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 1;
    d.protocol = ct.target.protocol;
    d.localContact = getHeader(req, 'contact') ?? this.ctx.contactFor(d.protocol);
    d.appId = ct.appId;
    d.remoteTarget = parseNameAddr(firstListItem(getHeader(resp, 'contact') ?? ''))?.uri ?? req.uri;
    d.routeSet = getHeaderList(resp, 'record-route').reverse();
    d.confirm();
    this.dialogs.initUacFlow(d, resp, source);
    this.dialogs.add(d);
    this.#arm(d, subscriptionSeconds(req, resp));
  }

  /**
   * A NOTIFY for a SUBSCRIBE / REFER the app sent arrived before its 2xx (RFC 6665 section
   * 4.1.2.4, allowed): the NOTIFY creates the subscriber's dialog; the 2xx later refreshes it.
   */
  uacFromNotify(ct: ClientTransaction, notify: SipMessage, source: MessageSource): Dialog {
    const req = ct.request;
    const d = new Dialog(ct.dialogId ?? '', 'uac', getHeader(req, 'call-id') ?? '', getTag(getHeader(req, 'from')) ?? '');
    d.usage = 'subscription';
    d.remoteTag = getTag(getHeader(notify, 'from')) ?? '';
    d.localParty = getHeader(req, 'from') ?? '';
    d.remoteParty = getHeader(notify, 'from') ?? '';
    d.localCseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 1;
    d.protocol = ct.target.protocol;
    d.localContact = getHeader(req, 'contact') ?? this.ctx.contactFor(d.protocol);
    d.appId = ct.appId;
    d.remoteTarget = parseNameAddr(firstListItem(getHeader(notify, 'contact') ?? ''))?.uri ?? req.uri;
    // a dialog created by a request we receive takes its Record-Route in order (RFC 3261 section 12.1.1)
    d.routeSet = getHeaderList(notify, 'record-route');
    d.confirm();
    this.dialogs.initUasFlow(d, notify, { protocol: source.protocol, host: source.remoteHost, port: source.remotePort });
    this.dialogs.add(d);
    this.#arm(d, DEFAULT_SUBSCRIPTION_SECONDS);
    return d;
  }

  /** The subscription ended (terminating NOTIFY, or a 481 to a refresh): the dialog goes. */
  end(dialogId: string | undefined, why: string): void {
    const d = dialogId === undefined ? undefined : this.dialogs.get(dialogId);
    if (!d || d.usage !== 'subscription') return;
    this.ctx.log.debug({ dialogId: d.id, why }, 'engine: subscription dialog ended');
    this.dialogs.remove(d);
  }

  #arm(d: Dialog, seconds: number): void {
    const timers = this.ctx.timers;
    timers.clearTimeout(d.expiryTimer);
    const grace = 64 * this.ctx.options.t1;
    d.expiryTimer = timers.setTimeout(() => {
      d.expiryTimer = undefined;
      if (d.state === 'terminated') return;
      this.ctx.log.debug({ dialogId: d.id, seconds }, 'engine: subscription expired without a refresh or final NOTIFY; dialog dropped');
      this.dialogs.remove(d);
    }, seconds * 1000 + grace);
  }
}
