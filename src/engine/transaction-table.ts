/**
 * The engine's live transactions (RFC 3261 section 17), indexed by their matching key and by the
 * id the app sees (txnId). A server transaction the app can no longer answer (engine-generated
 * response, CANCELed, app gone) is detached: it leaves the id index but stays matchable by key,
 * so it still absorbs retransmissions.
 */
import type { Logger } from '../observability/logger.js';
import { ClientTransaction, type ClientTxnHooks } from './client-transaction.js';
import { newTag, newUuid } from './ids.js';
import { buildResponse } from './message-builder.js';
import { ServerTransaction, type ServerTxnHooks } from './server-transaction.js';
import { firstListItem, getHeader, getTag, parseCSeq, parseVia, serializeSipMessage, type SipHeader, type SipMessage } from './sip-message.js';
import { connectionKey, type MessageSource } from './sip-transport.js';
import type { Target, TransactionContext } from './transaction-context.js';

/** What the table hands on to the engine; the other transaction hooks it handles itself. */
export interface TransactionEvents {
  /** A 2xx to INVITE was never ACKed (64*T1). */
  onAckTimeout(t: ServerTransaction): void;
  /** Timer B/F fired or the transport failed: a local 408/503. */
  onLocalFailure(t: ClientTransaction, status: 408 | 503): void;
}

/**
 * The matching key (RFC 3261 sections 17.1.3 and 17.2.3): branch + sent-by + method, or the
 * RFC 2543 fallback (Call-ID, CSeq, From tag, branch) when the branch lacks the z9hG4bK cookie.
 */
export function transactionKey(msg: SipMessage, method: string): string {
  const via = parseVia(firstListItem(getHeader(msg, 'via') ?? ''));
  const branch = via?.branch;
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
  const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
  return `${getHeader(msg, 'call-id')}|${cseq?.seq}|${getTag(getHeader(msg, 'from'))}|${branch ?? ''}|${method}`;
}

/** Where a request's responses go (see createServer). */
export function responseTarget(msg: SipMessage, source: MessageSource): Target {
  const target: Target = { protocol: source.protocol, host: source.remoteHost, port: source.remotePort };
  if (source.protocol === 'udp') return target;
  const viaPort = parseVia(firstListItem(getHeader(msg, 'via') ?? ''))?.port ?? (source.protocol === 'tls' ? 5061 : 5060);
  if (viaPort !== source.remotePort) target.reconnect = { host: source.remoteHost, port: viaPort };
  return target;
}

export class TransactionTable {
  readonly #serverByKey = new Map<string, ServerTransaction>();
  readonly #serverById = new Map<string, ServerTransaction>();
  readonly #clientByKey = new Map<string, ClientTransaction>();
  readonly #clientById = new Map<string, ClientTransaction>();
  readonly #serverHooks: ServerTxnHooks;
  readonly #clientHooks: ClientTxnHooks;

  constructor(private readonly ctx: TransactionContext, log: Logger, events: TransactionEvents) {
    this.#serverHooks = {
      onTerminated: (t) => {
        if (this.#serverByKey.get(t.key) === t) this.#serverByKey.delete(t.key);
        this.#serverById.delete(t.id);
      },
      onAckTimeout: (t) => events.onAckTimeout(t),
      onPendingTimeout: (t) => {
        this.#serverById.delete(t.id);
        log.debug({ txnId: t.id }, 'engine: app did not answer in time; request dropped');
      },
    };
    this.#clientHooks = {
      onTerminated: (t) => {
        if (this.#clientByKey.get(t.key) === t) this.#clientByKey.delete(t.key);
        this.#clientById.delete(t.id);
      },
      onLocalFailure: (t, status) => events.onLocalFailure(t, status),
    };
  }

  get serverCount(): number {
    return this.#serverByKey.size;
  }
  get clientCount(): number {
    return this.#clientByKey.size;
  }

  /** Add the connection key (sip-transport.ts connectionKey) of every open transaction's TCP/TLS peer to `keys`. */
  collectConnections(keys: Set<string>): void {
    for (const t of [...this.#serverByKey.values(), ...this.#clientByKey.values()]) {
      const p = t.target.protocol;
      if (p !== 'udp') keys.add(connectionKey(p, t.target.host, t.target.port));
    }
  }

  server(key: string): ServerTransaction | undefined {
    return this.#serverByKey.get(key);
  }
  /** A server transaction the app may still answer. */
  serverById(id: string): ServerTransaction | undefined {
    return this.#serverById.get(id);
  }
  client(key: string): ClientTransaction | undefined {
    return this.#clientByKey.get(key);
  }
  clientById(id: string): ClientTransaction | undefined {
    return this.#clientById.get(id);
  }

  /**
   * A server transaction for a new request; the app has 128*T1 (64 s by default) to answer it.
   * Its responses go to the source address and port (UDP: forced rport, RFC 3581 section 4, even
   * without `rport` in the Via, as drachtio-server) or on the connection the request came on
   * (TCP/TLS); once that connection is closed, to the source address at the Via's sent-by port
   * (RFC 3261 section 18.2.2).
   */
  createServer(msg: SipMessage, source: MessageSource, key: string): ServerTransaction {
    const t = new ServerTransaction(this.ctx, newUuid(), key, msg, responseTarget(msg, source), this.#serverHooks, 128 * this.ctx.t1);
    this.#serverByKey.set(key, t);
    this.#serverById.set(t.id, t);
    return t;
  }

  /** Answer a request with an engine-generated response through a server transaction (absorbs retransmissions). */
  reject(msg: SipMessage, source: MessageSource, key: string, status: number, extra: SipHeader[] = []): ServerTransaction {
    const t = this.createServer(msg, source, key);
    this.detach(t);
    t.respond(status, serializeSipMessage(buildResponse(msg, status, newTag(), extra)));
    return t;
  }

  /** The app can no longer answer this transaction. */
  detach(t: ServerTransaction): void {
    t.detached = true;
    this.#serverById.delete(t.id);
  }

  /** Pending requests owned by a disconnected app can no longer be answered: let their timers clean up. */
  detachApp(appId: number): void {
    for (const t of this.#serverById.values()) if (t.appId === appId && t.open) t.detached = true;
  }

  /** A client transaction, registered; the caller sets its fields, then calls start(). */
  createClient(key: string, msg: SipMessage, text: string, target: Target): ClientTransaction {
    const ct = new ClientTransaction(this.ctx, newUuid(), key, msg, text, target, this.#clientHooks);
    this.#clientByKey.set(ct.key, ct);
    this.#clientById.set(ct.id, ct);
    return ct;
  }

  /** An unanswered client transaction of `method` creating dialog `dialogId` (e.g. a SUBSCRIBE awaiting its 2xx). */
  pendingClientFor(dialogId: string, method: string): ClientTransaction | undefined {
    for (const ct of this.#clientById.values()) {
      if (ct.dialogId === dialogId && ct.request.method === method && (ct.state === 'calling' || ct.state === 'proceeding')) return ct;
    }
    return undefined;
  }

  /** Add the apps of every live transaction to `inUse`. */
  collectAppIds(inUse: Set<number | undefined>): void {
    for (const t of this.#serverByKey.values()) inUse.add(t.appId);
    for (const t of this.#clientByKey.values()) inUse.add(t.appId);
  }

  /** Terminate every transaction (each stops its timers). */
  close(): void {
    for (const t of [...this.#serverByKey.values()]) t.terminate();
    for (const t of [...this.#clientByKey.values()]) t.terminate();
  }
}
