/**
 * The engine core: joins the SIP side (transport, transactions, dialogs) with the app side
 * (drachtio protocol). Network messages arrive in `onSipData`, app `sip` messages in `onAppSip`.
 *
 * Behaviour follows drachtio-server as described in docs/engine.md (protocol section 6, whose
 * items A1..F31 comments cite).
 *
 * This class parses, counts and dispatches; the work is done by one collaborator per concern:
 *   network-requests.ts    requests from the network: ACK/retransmission matching, CANCEL, new requests -> apps
 *   in-dialog-requests.ts  in-dialog requests: ACK for 2xx, BYE, PRACK, re-INVITE/UPDATE, 481/491/500/422
 *   network-responses.ts   responses to client transactions, stray 2xx, forks, local 408/503
 *   app-requests.ts        requests the app sends: new, in-dialog, CANCEL
 *   app-responses.ts       responses the app sends, UAS dialog bookkeeping
 *   outbound-apps.ts       outbound mode: dial the request handler, close idle connections
 *   proxies.ts             the app's `proxy` requests (proxy-session.ts) and record-routed dialogs
 * sharing engine-context.ts (wire, apps, cdr frames, timers), transaction-table.ts and dialog-table.ts.
 */
import { AppRequests } from './app-requests.js';
import { AppResponses } from './app-responses.js';
import type { AppConnection } from './app-server.js';
import { DialogTable } from './dialog-table.js';
import { EngineContext, type EngineCoreOptions, type EngineCounters } from './engine-context.js';
import { InDialogRequests } from './in-dialog-requests.js';
import { newTag } from './ids.js';
import { buildResponse, canAnswer, stampTopVia } from './message-builder.js';
import { NetworkRequests } from './network-requests.js';
import { NetworkResponses } from './network-responses.js';
import { OutboundApps } from './outbound-apps.js';
import { Proxies } from './proxies.js';
import { parseAppSip, parseSipMessage, serializeSipMessage, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import { TransactionTable } from './transaction-table.js';

export class EngineCore {
  readonly counters: EngineCounters = {
    messagesReceived: 0, messagesSent: 0, malformedDropped: 0, badRequestsAnswered: 0,
    retransmissionsSent: 0, retransmissionsAbsorbed: 0, natFlowRequests: 0,
  };
  readonly #ctx: EngineContext;
  readonly #txns: TransactionTable;
  readonly #dialogs: DialogTable;
  readonly #outbound: OutboundApps;
  readonly #requests: NetworkRequests;
  readonly #responses: NetworkResponses;
  readonly #appRequests: AppRequests;
  readonly #appResponses: AppResponses;
  readonly #proxies: Proxies;

  constructor(o: EngineCoreOptions) {
    const ctx = new EngineContext(o, this.counters);
    this.#ctx = ctx;
    this.#txns = new TransactionTable(ctx.txn, ctx.log, {
      onAckTimeout: (t) => this.#dialogs.onAckTimeout(t),
      onLocalFailure: (t, status) => this.#responses.onLocalFailure(t, status),
    });
    this.#dialogs = new DialogTable(ctx, this.#txns);
    this.#outbound = new OutboundApps(ctx, this.#txns, this.#dialogs);
    this.#proxies = new Proxies(ctx, this.#txns);
    this.#requests = new NetworkRequests(ctx, this.#txns, this.#dialogs, new InDialogRequests(ctx, this.#txns, this.#dialogs), this.#outbound, this.#proxies);
    this.#responses = new NetworkResponses(ctx, this.#txns, this.#dialogs, this.#proxies);
    this.#appRequests = new AppRequests(ctx, this.#txns, this.#dialogs);
    this.#appResponses = new AppResponses(ctx, this.#txns, this.#dialogs);
  }

  get activeServerTransactions(): number {
    return this.#txns.serverCount;
  }
  get activeClientTransactions(): number {
    return this.#txns.clientCount;
  }
  get activeDialogs(): number {
    return this.#dialogs.size;
  }

  /** The TCP/TLS connections that carry a dialog or a transaction (sip-transport.ts connectionKey): never closed as idle. */
  connectionsInUse(): Set<string> {
    const keys = new Set<string>();
    this.#dialogs.collectConnections(keys);
    this.#txns.collectConnections(keys);
    return keys;
  }

  // ------------------------------------------------------------------ network side

  /** An oversized message (513 over TCP when answerable), or a TCP stream with a bad Content-Length (400) or garbage. */
  onTooLarge(source: MessageSource, head: Buffer | undefined, reason: 'too-large' | 'bad-content-length' | 'garbage' = 'too-large'): void {
    this.counters.messagesReceived++;
    if (head && source.protocol !== 'udp') {
      const r = parseSipMessage(Buffer.concat([head, Buffer.from('\r\n\r\n')]), { stream: false });
      const msg = r.ok ? r.msg : r.msg;
      if (msg && canAnswer(msg)) {
        stampTopVia(msg, source);
        const status = reason === 'too-large' ? 513 : 400;
        this.#ctx.send({ protocol: source.protocol, host: source.remoteHost, port: source.remotePort }, serializeSipMessage(buildResponse(msg, status, newTag())));
        this.counters.badRequestsAnswered++;
        return;
      }
    }
    this.counters.malformedDropped++;
  }

  onSipData(buf: Buffer, source: MessageSource): void {
    if (this.#ctx.closed) return;
    this.counters.messagesReceived++;
    try {
      const r = parseSipMessage(buf, { stream: source.protocol !== 'udp' });
      if (!r.ok) {
        this.#malformed(r.error, r.msg, source);
        return;
      }
      // what the app gets: CRLF line ends and `SIP/2.0` even when the peer wrote otherwise
      const wire = r.wire ?? buf;
      const log = this.#ctx.log;
      if (log.isLevelEnabled('debug')) log.debug({ from: `${source.remoteHost}:${source.remotePort}`, sip: wire.toString('utf8') }, 'engine: recv');
      if (r.msg.isRequest) this.#requests.onRequest(r.msg, wire, source);
      else this.#responses.onResponse(r.msg, wire, source);
    } catch (err) {
      this.counters.malformedDropped++;
      this.#ctx.log.error({ err }, 'engine: error handling SIP message');
    }
  }

  #malformed(error: string, msg: SipMessage | undefined, source: MessageSource): void {
    if (msg && canAnswer(msg)) {
      stampTopVia(msg, source);
      this.#ctx.send(
        { protocol: source.protocol, host: source.remoteHost, port: source.remotePort },
        serializeSipMessage(buildResponse(msg, 400, newTag(), [], `Bad Request (${error})`)),
      );
      this.counters.badRequestsAnswered++;
    } else {
      this.counters.malformedDropped++;
    }
    this.#ctx.log.debug({ error, from: `${source.remoteHost}:${source.remotePort}` }, 'engine: malformed SIP message');
  }

  // ------------------------------------------------------------------ app side

  onAppDisconnect(app: AppConnection): void {
    this.#outbound.forget(app.id);
    this.#txns.detachApp(app.id);
  }

  onAppSip(app: AppConnection, msgId: string, tokens: string[], sip: string): void {
    try {
      if (tokens[1] === 'proxy') {
        this.#proxies.onAppProxy(app, msgId, tokens, sip);
        return;
      }
      const txnId = tokens[2] ?? '';
      const dialogId = tokens[3] ?? '';
      const parsed = parseAppSip(sip);
      if (!parsed.ok) {
        app.respond(msgId, `NOK|invalid SIP message: ${parsed.error}`);
        return;
      }
      const msg = parsed.msg;
      if (!msg.isRequest) {
        this.#appResponses.respond(app, msgId, txnId, msg);
        return;
      }
      if (msg.method === 'CANCEL' && txnId) {
        this.#appRequests.cancel(app, msgId, txnId, msg);
        return;
      }
      if (dialogId) {
        this.#appRequests.inDialog(app, msgId, dialogId, msg);
        return;
      }
      void this.#appRequests.newRequest(app, msgId, msg, tokens[4]).catch((err: unknown) => {
        app.respond(msgId, `NOK|${err instanceof Error ? err.message : String(err)}`);
      });
    } catch (err) {
      this.#ctx.log.error({ err }, 'engine: error handling app sip message');
      app.respond(msgId, 'NOK|Server error: internal error');
    }
  }

  /** Idempotent: stop every transaction and dialog timer. */
  close(): void {
    if (this.#ctx.closed) return;
    this.#ctx.close();
    this.#outbound.close();
    this.#proxies.close();
    this.#txns.close();
    this.#dialogs.close();
  }
}
