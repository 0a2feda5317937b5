/**
 * One request the app proxies (srf `proxyRequest`), as drachtio-server does it: a stateful proxy
 * (RFC 3261 section 16) with one client transaction per destination ("branch").
 *
 *   branch: waiting --launch--> trying --1xx--> proceeding --final / timeout / failure--> done
 *
 * - Forking (section 16.6): `serial` (default) starts the next destination when one fails;
 *   `simultaneous` starts all at once.
 * - Provisional responses other than 100 and every 2xx go upstream at once (section 16.7 step 5,
 *   10); a 2xx ends the search and CANCELs the other pending branches (section 16.7 step 10).
 * - Non-2xx finals are ACKed hop by hop and kept; a 6xx or a digest challenge ends the search; when no branch is left,
 *   the best one goes upstream (proxy-messages.ts finalRank), 408 when there is none, 500 for 503.
 * - 3xx with followRedirects: its Contacts become further destinations, tried next.
 * - provisionalTimeout: a destination that sends nothing (not even 100) is given up; finalTimeout:
 *   one with no final response is CANCELed and counts as 408; either way the next one is tried.
 * - A CANCEL from the caller: 200, 487 upstream, every pending branch CANCELed.
 * - The app hears of every final response (`OK|network|...|||continue` + SIP), then `OK|done`.
 */
import type { AppConnection } from './app-server.js';
import type { ClientTransaction, ProxyBranchEvents } from './client-transaction.js';
import type { EngineContext } from './engine-context.js';
import { newBranch, newTag } from './ids.js';
import { buildResponse } from './message-builder.js';
import type { ProxyOptions } from './proxy-options.js';
import { bestFinal, buildProxiedRequest, digestRealmNonce, redirectTargets, topVia, viaSentBy, withoutTopVia } from './proxy-messages.js';
import { isOwnRoute, isOwnUri, recordRouteFor, resolveUri } from './proxy-targets.js';
import { buildAckForNon2xx, buildCancel } from './request-builders.js';
import type { ServerTransaction } from './server-transaction.js';
import { hostport } from './sip-address.js';
import { getHeaderList, serializeSipMessage, type SipHeader, type SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import type { TimerHandle, Timers } from '../common/clock.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { TransactionTable } from './transaction-table.js';

export type BranchState = 'waiting' | 'trying' | 'proceeding' | 'done';

/** The legal moves of a proxy branch (common/state-machine.ts; drawn above and in docs/state-machines.md). */
export const PROXY_BRANCH_TRANSITIONS: TransitionTable<BranchState> = {
  waiting: ['trying', 'done'],
  trying: ['proceeding', 'done'],
  proceeding: ['done'],
  done: [],
};

/** What the session tells its owner (proxies.ts). */
export interface ProxySessionEvents {
  closed(s: ProxySession): void;
  /** A destination challenged (401/407 with realm and nonce): its credentials should go back to it. */
  challenged(realm: string, nonce: string, destination: string): void;
}

class Branch {
  readonly #sm: StateMachine<BranchState>;
  ct: ClientTransaction | undefined;
  /** Final status (0: none that counts, e.g. given up before any response). */
  status = 0;
  /** The final response as it goes upstream (our Via removed), when it is a candidate. */
  upstream: SipMessage | undefined;
  /** provisionalTimeout: a timer of `trying` (any response, or the end, stops it). */
  stopProvisionalTimer: (() => void) | undefined;
  /** finalTimeout: runs through trying and proceeding; the end (done) stops it. */
  finalTimer: TimerHandle | undefined;

  constructor(
    readonly uri: string,
    timers: Timers,
  ) {
    this.#sm = new StateMachine({
      name: 'proxy branch',
      initial: 'waiting',
      table: PROXY_BRANCH_TRANSITIONS,
      timers,
      dispose: () => {
        timers.clearTimeout(this.finalTimer);
        this.finalTimer = undefined;
        this.stopProvisionalTimer = undefined;
      },
    });
  }

  get state(): BranchState {
    return this.#sm.state;
  }

  transition(next: BranchState): void {
    this.#sm.transition(next);
  }

  /** Runs `fn` after `ms` while the branch stays in its current state. */
  after(ms: number, fn: () => void): () => void {
    return this.#sm.after(ms, fn);
  }
}

export class ProxySession implements ProxyBranchEvents {
  readonly #branches: Branch[] = [];
  #searching = true;
  #doneSent = false;
  #closed = false;
  /** Launches run one after the other (DNS is asynchronous). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: EngineContext,
    private readonly txns: TransactionTable,
    private readonly app: AppConnection | undefined,
    private readonly msgId: string,
    private readonly server: ServerTransaction,
    private readonly o: ProxyOptions,
    private readonly appHeaders: SipHeader[],
    private readonly events: ProxySessionEvents,
  ) {
    for (const d of o.destinations) this.#branches.push(new Branch(d, ctx.timers));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get #isInvite(): boolean {
    return this.server.request.method === 'INVITE';
  }

  /** Start the first destination (serial) or all (simultaneous); resolves with how many went out. */
  start(): Promise<number> {
    return this.#enqueue(() => this.#startRequests());
  }

  #enqueue(fn: () => Promise<number>): Promise<number> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => 0);
    return next;
  }

  async #startRequests(): Promise<number> {
    let started = 0;
    for (const b of [...this.#branches]) {
      if (!this.#searching || this.#closed) break;
      if (b.state !== 'waiting') continue;
      if (await this.#launch(b)) {
        started++;
        if (!this.o.simultaneous) break;
      }
    }
    return started;
  }

  async #launch(b: Branch): Promise<boolean> {
    const has = (p: string): boolean => this.ctx.transport.hasProtocol(p);
    const target = await resolveUri(b.uri, has);
    if (!target || this.#closed || !this.#searching) {
      b.transition('done');
      if (!target) this.ctx.log.warn({ destination: b.uri }, 'engine proxy: destination is not a usable SIP URI or does not resolve; skipped');
      return false;
    }
    const req = this.server.request;
    const point = this.ctx.point(target.protocol);
    const hp = hostport(point);
    const branch = newBranch();
    const points = this.ctx.transport.points;
    const firstRoute = getHeaderList(req, 'route')[0];
    const msg = buildProxiedRequest(req, {
      via: `SIP/2.0/${target.protocol.toUpperCase()} ${hp};rport;branch=${branch}`,
      requestUri: isOwnUri(points, req.uri) ? b.uri : req.uri,
      recordRoute: this.o.recordRoute ? recordRouteFor(point) : undefined,
      dropFirstRoute: firstRoute !== undefined && isOwnRoute(points, firstRoute),
      appHeaders: this.appHeaders,
    });
    const text = serializeSipMessage(msg);
    const ct = this.txns.createClient(`${branch}|${hp}|${req.method}`, msg, text, target);
    ct.proxy = this;
    b.ct = ct;
    b.transition('trying');
    if (this.o.provisionalTimeoutMs !== undefined) b.stopProvisionalTimer = b.after(this.o.provisionalTimeoutMs, () => this.#giveUp(b, 0));
    if (this.o.finalTimeoutMs !== undefined) b.finalTimer = this.ctx.timers.setTimeout(() => this.#giveUp(b, 408), this.o.finalTimeoutMs);
    ct.start();
    if (this.#isInvite) this.ctx.cdr.emit('attempt', 'application', () => text);
    return true;
  }

  #branchOf(ct: ClientTransaction): Branch | undefined {
    return this.#branches.find((b) => b.ct === ct);
  }

  onResponse(ct: ClientTransaction, msg: SipMessage, buf: Buffer, source: MessageSource): void {
    const b = this.#branchOf(ct);
    if (!b) return;
    const status = msg.status;
    if (b.state === 'done') {
      // a late response on a branch given up: ACK a non-2xx, still forward a 2xx (section 16.7 step 10)
      if (status >= 300 && ct.isInvite) this.#ack(ct, msg);
      else if (status >= 200 && status < 300) this.#upstream(msg);
      return;
    }
    // leaving trying stops the provisional timeout
    if (status < 200) {
      if (b.state === 'trying') b.transition('proceeding');
      if (status > 100) this.#upstream(msg);
      return;
    }
    b.transition('done');
    b.status = status;
    if (status < 300) {
      this.#upstream(msg);
      this.#report(msg, buf, source);
      if (this.#isInvite) {
        this.ctx.cdr.emit('start', 'network', () => buf.toString('utf8'), 'proxy-uac');
        this.ctx.cdr.emit('start', 'application', () => serializeSipMessage(withoutTopVia(msg)), 'proxy-uas');
      }
      this.#searching = false;
      this.#cancelPending();
      this.#done();
      this.#maybeClose();
      return;
    }
    if (ct.isInvite) this.#ack(ct, msg);
    b.upstream = withoutTopVia(msg);
    this.#report(msg, buf, source);
    if (status < 400 && this.o.followRedirects && this.#searching) {
      const at = this.#branches.indexOf(b);
      const known = new Set(this.#branches.map((x) => x.uri));
      const added = redirectTargets(msg).filter((u) => !known.has(u)).map((u) => new Branch(u, this.ctx.timers));
      this.#branches.splice(at + 1, 0, ...added);
    }
    // a 6xx ends the search (RFC 3261 section 16.7 step 5); so does a digest challenge, as drachtio-server
    // does: the caller's retry with credentials goes back to the challenging destination (proxies.ts)
    const challenge = status === 401 || status === 407 ? digestRealmNonce(msg, ['www-authenticate', 'proxy-authenticate']) : undefined;
    if (challenge) this.events.challenged(challenge.realm, challenge.nonce, b.uri);
    if ((status >= 600 || challenge) && this.#searching) {
      this.#cancelPending();
      this.#forwardBest();
      return;
    }
    this.#next();
  }

  onLocalFailure(ct: ClientTransaction, status: 408 | 503): void {
    const b = this.#branchOf(ct);
    if (!b || b.state === 'done') return;
    // RFC 3261 section 16.9: a transport error counts as 503; Timer B/F as 408
    this.#finish(b, status);
    this.#next();
  }

  /** Provisional timeout (`status` 0: no response counts) or final timeout (408). */
  #giveUp(b: Branch, status: number): void {
    if (b.state === 'done' || this.#closed) return;
    if (status === 0 && b.state !== 'trying') return;
    this.ctx.log.debug({ destination: b.uri, status }, 'engine proxy: destination timed out');
    this.#cancelBranch(b);
    this.#finish(b, status);
    this.#next();
  }

  /** A branch ends without a response of its own: `status` 0 is no candidate, else a local response. */
  #finish(b: Branch, status: number): void {
    b.transition('done'); // stops the branch's timers
    b.status = status;
    if (status > 0) b.upstream = buildResponse(this.server.request, status, newTag());
  }

  /** After a branch failed: the next destination (serial), the best response once none is left. */
  #next(): void {
    if (!this.#searching) {
      if (this.#exhausted()) this.#done();
      this.#maybeClose();
      return;
    }
    void this.#enqueue(async () => {
      const n = await this.#startRequests();
      if (this.#searching && this.#exhausted()) this.#forwardBest();
      return n;
    });
  }

  /** No branch is waiting for a response, and none is left to start while searching. */
  #exhausted(): boolean {
    return this.#branches.every((b) => b.state === 'done' || (b.state === 'waiting' && !this.#searching));
  }

  /** The caller CANCELed (RFC 3261 section 16.10): 487 upstream, CANCEL every pending branch. */
  onCancel(): void {
    if (this.#closed) return;
    if (this.server.open) {
      const resp = buildResponse(this.server.request, 487, newTag());
      this.server.respond(487, serializeSipMessage(resp));
      if (this.#isInvite) this.ctx.cdr.emit('stop', 'application', () => serializeSipMessage(resp), 'call-canceled');
    }
    this.#searching = false;
    this.#cancelPending();
    if (this.#exhausted()) this.#done();
    this.#maybeClose();
  }

  #cancelPending(): void {
    for (const b of this.#branches) {
      if (b.state === 'waiting') b.transition('done');
      else if (b.state === 'trying' || b.state === 'proceeding') this.#cancelBranch(b);
    }
  }

  /** CANCEL one branch (RFC 3261 section 9.1; held until a provisional response when none came yet). */
  #cancelBranch(b: Branch): void {
    const ct = b.ct;
    if (!ct || !ct.isInvite || ct.canceled || ct.state === 'completed' || ct.state === 'terminated') return;
    const cancel = buildCancel(ct.request, []);
    const sentBy = viaSentBy(topVia(ct.request)) ?? '';
    const branch = /;branch=([^;]+)/.exec(topVia(ct.request))?.[1] ?? '';
    const cc = this.txns.createClient(`${branch}|${sentBy}|CANCEL`, cancel, serializeSipMessage(cancel), ct.target);
    ct.canceled = true;
    if (ct.state === 'calling') ct.pendingCancel = cc;
    else cc.start();
  }

  #ack(ct: ClientTransaction, resp: SipMessage): void {
    ct.ackText = serializeSipMessage(buildAckForNon2xx(ct.request, resp));
    this.ctx.send(ct.target, ct.ackText);
  }

  /** A response upstream through the server transaction (our Via removed). */
  #upstream(msg: SipMessage): void {
    const out = withoutTopVia(msg);
    const text = serializeSipMessage(out);
    const status = msg.status;
    const t = this.server;
    if (status >= 200 && status < 300 && this.#isInvite) {
      if (t.open || t.state === 'accepted') t.forward2xx(status, text);
      else this.ctx.send(t.target, text);
      return;
    }
    if (t.open) t.respond(status, text);
  }

  /** The best final response upstream (RFC 3261 section 16.7 step 6), then `done` to the app. */
  #forwardBest(): void {
    this.#searching = false;
    const candidates = this.#branches.filter((b) => b.state === 'done' && b.status >= 300 && b.upstream);
    const i = bestFinal(candidates.map((b) => b.status));
    let resp = i >= 0 ? (candidates[i]?.upstream as SipMessage) : buildResponse(this.server.request, 408, newTag());
    // section 16.7 step 6: a 503 from downstream becomes 500 (the proxy itself is not unavailable)
    if (resp.status === 503) resp = { ...resp, status: 500, reason: 'Server Internal Error' };
    if (this.server.open) {
      const text = serializeSipMessage(resp);
      this.server.respond(resp.status, text);
      if (this.#isInvite) this.ctx.cdr.emit('stop', 'application', () => text, resp.status === 487 ? 'call-canceled' : 'call-rejected');
    }
    this.#done();
    this.#maybeClose();
  }

  /** `OK|network|<bytes>|<proto>|<addr>|<port>|<time>|||continue` + the final response as received. */
  #report(msg: SipMessage, buf: Buffer, source: MessageSource): void {
    // after `done` srf no longer listens (late 487s of CANCELed branches)
    if (!this.o.fullResponse || !this.app || msg.status < 200 || this.#doneSent) return;
    const meta = `OK|network|${buf.length}|${source.protocol}|${source.remoteHost}|${source.remotePort}|${this.ctx.now()}|||continue`;
    this.app.respond(this.msgId, meta, buf.toString('utf8'));
  }

  #done(): void {
    if (this.#doneSent) return;
    this.#doneSent = true;
    if (this.o.fullResponse && this.app) this.app.respond(this.msgId, 'OK|done');
  }

  #maybeClose(): void {
    if (this.#doneSent && this.#branches.every((b) => b.state === 'done' || b.state === 'waiting')) this.close();
  }

  /** Idempotent: stop the branch timers. Transactions still running finish on their own. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const b of this.#branches) {
      b.stopProvisionalTimer?.();
      this.ctx.timers.clearTimeout(b.finalTimer);
    }
    this.events.closed(this);
  }
}
