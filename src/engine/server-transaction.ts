/**
 * Server transactions, RFC 3261 section 17.2 with the RFC 6026 "Accepted" state.
 *
 * INVITE:
 *   trying --1xx--> proceeding --2xx--> accepted --ACK (via dialog) or Timer L--> terminated
 *      |                 |----300-699--> completed --ACK--> confirmed --Timer I--> terminated
 *      |                                     |--Timer H (no ACK)--> terminated
 *   (Timer G retransmits the final non-2xx on UDP; the 2xx is retransmitted in accepted on UDP
 *    with the same T1-doubling schedule capped at T2, RFC 3261 section 13.3.1.4.)
 * non-INVITE:
 *   trying --1xx--> proceeding --final--> completed --Timer J--> terminated
 * A retransmitted request in proceeding/completed/accepted re-sends the last response.
 * A request the app never answers is dropped after the pending timeout (64 s, like drachtio).
 *
 * Reliable provisional responses (RFC 3262 section 3): retransmitted from T1, doubling, until a
 * PRACK arrives or 64*T1 passes.
 */
import type { TimerHandle } from '../common/clock.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { SipMessage } from './sip-message.js';
import type { Target, TransactionContext } from './transaction-context.js';

export type ServerTxnState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** The legal moves (common/state-machine.ts; drawn above and in docs/state-machines.md). */
export const SERVER_TXN_TRANSITIONS: TransitionTable<ServerTxnState> = {
  trying: ['proceeding', 'completed', 'accepted', 'terminated'],
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

export interface ServerTxnHooks {
  onTerminated(txn: ServerTransaction): void;
  /** A 2xx to INVITE was never ACKed (64*T1): the engine sends BYE and an unsolicited BYE to the app. */
  onAckTimeout(txn: ServerTransaction): void;
  /** The app did not send a final response in time (pending timeout). */
  onPendingTimeout(txn: ServerTransaction): void;
}

export class ServerTransaction {
  readonly #sm: StateMachine<ServerTxnState>;
  lastResponse: string | undefined;
  lastStatus = 0;
  /** Set once the app can no longer answer (CANCELed, timed out). */
  detached = false;
  /** Tag used in To for responses of this transaction. */
  toTag: string | undefined;
  dialogId: string | undefined;
  appId: number | undefined;
  /** RSeq of the reliable 1xx awaiting PRACK. */
  pendingRseq: number | undefined;
  nextRseq = 1;
  /** Set when the app proxies this request (proxy-session.ts): a CANCEL goes there. */
  proxy: { onCancel(): void } | undefined;
  #retransTimer: TimerHandle | undefined;
  #timeoutTimer: TimerHandle | undefined;
  #relTimer: TimerHandle | undefined;
  #relTimeout: TimerHandle | undefined;
  #interval = 0;

  constructor(
    readonly ctx: TransactionContext,
    readonly id: string,
    readonly key: string,
    readonly request: SipMessage,
    readonly target: Target,
    readonly hooks: ServerTxnHooks,
    pendingTimeoutMs: number,
  ) {
    this.#sm = new StateMachine({ name: 'server transaction', initial: 'trying', table: SERVER_TXN_TRANSITIONS, timers: ctx.timers, dispose: () => this.#dispose() });
    this.#timeoutTimer = ctx.timers.setTimeout(() => {
      this.#timeoutTimer = undefined;
      if (this.state === 'trying' || this.state === 'proceeding') {
        this.detached = true;
        this.hooks.onPendingTimeout(this);
        this.terminate();
      }
    }, pendingTimeoutMs);
  }

  get state(): ServerTxnState {
    return this.#sm.state;
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  get reliable(): boolean {
    return this.target.protocol !== 'udp';
  }

  /** True while a final response may still be sent. */
  get open(): boolean {
    return this.state === 'trying' || this.state === 'proceeding';
  }

  /** Send a response (text already serialized). */
  respond(status: number, text: string): void {
    if (this.state === 'terminated') return;
    this.lastResponse = text;
    this.lastStatus = status;
    this.ctx.send(this.target, text);
    if (status < 200) {
      if (this.state === 'trying') this.#sm.transition('proceeding');
      return;
    }
    this.#clearAll();
    const t = this.ctx.timers;
    const { t1, t2, t4 } = this.ctx;
    if (!this.isInvite) {
      this.#sm.transition('completed');
      this.#timeoutTimer = t.setTimeout(() => this.terminate(), this.reliable ? 0 : 64 * t1);
      return;
    }
    if (status < 300) {
      this.#sm.transition('accepted');
      if (!this.reliable) this.#scheduleRetransmit(t1, t2);
      this.#timeoutTimer = t.setTimeout(() => {
        this.#timeoutTimer = undefined;
        if (this.state === 'accepted') {
          this.hooks.onAckTimeout(this);
          this.terminate();
        }
      }, 64 * t1);
      return;
    }
    this.#sm.transition('completed');
    if (!this.reliable) this.#scheduleRetransmit(t1, t2);
    this.#timeoutTimer = t.setTimeout(() => this.terminate(), 64 * t1);
    void t4;
  }

  #scheduleRetransmit(first: number, cap: number): void {
    this.#interval = first;
    const fire = (): void => {
      this.#retransTimer = undefined;
      if ((this.state !== 'completed' && this.state !== 'accepted') || this.lastResponse === undefined) return;
      this.ctx.send(this.target, this.lastResponse);
      this.ctx.countRetransmission();
      this.#interval = Math.min(this.#interval * 2, cap);
      this.#retransTimer = this.ctx.timers.setTimeout(fire, this.#interval);
    };
    this.#retransTimer = this.ctx.timers.setTimeout(fire, first);
  }

  /**
   * The request is proxied: no pending timeout (the proxy's own timers end it). Only while the
   * request is unanswered, when the only armed timeout is the pending one.
   */
  keepPending(): void {
    if (!this.open) return;
    this.ctx.timers.clearTimeout(this.#timeoutTimer);
    this.#timeoutTimer = undefined;
  }

  /**
   * A proxy forwards a 2xx to INVITE (RFC 3261 section 16.7 step 10; RFC 6026 section 8.3): sent,
   * never retransmitted by us (the UAS does that), and the transaction stays Accepted for 64*T1 to
   * absorb retransmitted INVITEs. Later 2xx go out as they are.
   */
  forward2xx(status: number, text: string): void {
    if (this.state === 'terminated') return;
    if (this.state === 'accepted') {
      this.ctx.send(this.target, text);
      return;
    }
    if (!this.open) return;
    this.#clearAll();
    this.lastResponse = text;
    this.lastStatus = status;
    this.#sm.transition('accepted');
    this.ctx.send(this.target, text);
    this.#timeoutTimer = this.ctx.timers.setTimeout(() => this.terminate(), 64 * this.ctx.t1);
  }

  /** The same request arrived again: re-send the last response if there is one. */
  retransmitReceived(): void {
    if (this.lastResponse !== undefined && this.state !== 'terminated' && this.state !== 'confirmed') {
      this.ctx.send(this.target, this.lastResponse);
      this.ctx.countRetransmission();
    }
  }

  /** ACK matching this transaction (non-2xx final): stop Timer G/H, Timer I then terminate. */
  ackReceived(): void {
    if (this.state !== 'completed') return;
    this.#clearAll();
    this.#sm.transition('confirmed');
    this.#timeoutTimer = this.ctx.timers.setTimeout(() => this.terminate(), this.reliable ? 0 : this.ctx.t4);
  }

  /** ACK for the 2xx (matched through the dialog). Returns false if it was a duplicate/late ACK. */
  ack2xx(): boolean {
    if (this.state !== 'accepted') return false;
    this.terminate();
    return true;
  }

  /** Send a reliable provisional response and retransmit it until prackReceived(). */
  sendReliable(rseq: number, text: string): void {
    this.#clearReliable();
    this.pendingRseq = rseq;
    this.respond(183, text); // any 1xx: only moves trying -> proceeding
    if (!this.reliable) {
      let interval = this.ctx.t1;
      const fire = (): void => {
        this.#relTimer = undefined;
        if (this.pendingRseq !== rseq || !this.open) return;
        this.ctx.send(this.target, text);
        this.ctx.countRetransmission();
        interval *= 2;
        this.#relTimer = this.ctx.timers.setTimeout(fire, interval);
      };
      this.#relTimer = this.ctx.timers.setTimeout(fire, interval);
    }
    this.#relTimeout = this.ctx.timers.setTimeout(() => {
      this.#relTimeout = undefined;
      if (this.pendingRseq === rseq) this.#clearReliable();
    }, 64 * this.ctx.t1);
  }

  /** PRACK for `rseq` arrived; returns true when it matched the outstanding reliable 1xx. */
  prackReceived(rseq: number): boolean {
    if (this.pendingRseq === undefined || this.pendingRseq !== rseq) return false;
    this.#clearReliable();
    return true;
  }

  #clearReliable(): void {
    this.pendingRseq = undefined;
    this.ctx.timers.clearTimeout(this.#relTimer);
    this.ctx.timers.clearTimeout(this.#relTimeout);
    this.#relTimer = undefined;
    this.#relTimeout = undefined;
  }

  #clearAll(): void {
    this.ctx.timers.clearTimeout(this.#retransTimer);
    this.ctx.timers.clearTimeout(this.#timeoutTimer);
    this.#retransTimer = undefined;
    this.#timeoutTimer = undefined;
    this.#clearReliable();
  }

  /** Idempotent: stop every timer and tell the engine to forget this transaction. */
  terminate(): void {
    if (!this.#sm.is('terminated')) this.#sm.transition('terminated');
  }

  /** The final state (the machine's dispose hook). */
  #dispose(): void {
    this.#clearAll();
    this.hooks.onTerminated(this);
  }
}
