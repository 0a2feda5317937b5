/**
 * Client transactions, RFC 3261 section 17.1.
 *
 * INVITE:  calling --1xx--> proceeding --2xx--> terminated (2xx handled by the dialog layer)
 *            |  Timer A retransmits (UDP, T1 doubling)      |--300-699--> completed --Timer D--> terminated
 *            |--Timer B (64*T1)--> timeout (locally generated 408)   (ACK generated, re-sent on retransmits)
 * non-INVITE: trying --1xx--> proceeding --final--> completed --Timer K--> terminated
 *            Timer E retransmits (UDP, T1 doubling capped at T2; T2 in proceeding), Timer F (64*T1) -> 408.
 * A transport error ends the transaction with a locally generated 503.
 */
import type { TimerHandle } from '../common/clock.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { SipMessage } from './sip-message.js';
import type { MessageSource } from './sip-transport.js';
import type { Target, TransactionContext } from './transaction-context.js';

/** A transaction the engine sends as a proxy (proxy-session.ts): its responses and failures go there, not to an app. */
export interface ProxyBranchEvents {
  onResponse(ct: ClientTransaction, msg: SipMessage, buf: Buffer, source: MessageSource): void;
  onLocalFailure(ct: ClientTransaction, status: 408 | 503): void;
}

export type ClientTxnState = 'calling' | 'proceeding' | 'completed' | 'terminated';

/** The legal moves (common/state-machine.ts; drawn above and in docs/state-machines.md). */
export const CLIENT_TXN_TRANSITIONS: TransitionTable<ClientTxnState> = {
  calling: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export interface ClientTxnHooks {
  onTerminated(txn: ClientTransaction): void;
  /** Timer B/F fired or the transport failed: deliver a local 408/503 to the app. */
  onLocalFailure(txn: ClientTransaction, status: 408 | 503): void;
}

export class ClientTransaction {
  readonly #sm: StateMachine<ClientTxnState>;
  /** ACK for a non-2xx final response (INVITE), re-sent when the final is retransmitted. */
  ackText: string | undefined;
  appId: number | undefined;
  dialogId: string | undefined;
  /** Set when the app CANCELed this INVITE. */
  canceled = false;
  /**
   * A CANCEL held back because no provisional response has arrived yet (RFC 3261 section 9.1):
   * started on the first 1xx, dropped on a final response or a timeout.
   */
  pendingCancel: ClientTransaction | undefined;
  /** A NOTIFY with `Subscription-State: terminated` in a subscription dialog: its final response ends the dialog. */
  endsSubscription = false;
  /** Set when this is a proxy branch (RFC 3261 section 16.6). */
  proxy: ProxyBranchEvents | undefined;
  finalStatus = 0;
  #retransTimer: TimerHandle | undefined;
  #timeoutTimer: TimerHandle | undefined;
  #interval: number;

  constructor(
    readonly ctx: TransactionContext,
    readonly id: string,
    readonly key: string,
    readonly request: SipMessage,
    readonly text: string,
    readonly target: Target,
    readonly hooks: ClientTxnHooks,
  ) {
    this.#interval = ctx.t1;
    this.#sm = new StateMachine({ name: 'client transaction', initial: 'calling', table: CLIENT_TXN_TRANSITIONS, timers: ctx.timers, dispose: () => this.#dispose() });
  }

  get state(): ClientTxnState {
    return this.#sm.state;
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  get reliable(): boolean {
    return this.target.protocol !== 'udp';
  }

  /** Send the request and arm Timers A/B or E/F. */
  start(): void {
    const { timers, t1 } = this.ctx;
    this.ctx.send(this.target, this.text, () => this.#fail(503));
    if (!this.reliable) this.#retransTimer = timers.setTimeout(() => this.#retransmit(), t1);
    this.#timeoutTimer = timers.setTimeout(() => this.#fail(408), 64 * t1);
  }

  #retransmit(): void {
    this.#retransTimer = undefined;
    if (this.state === 'completed' || this.state === 'terminated') return;
    if (this.isInvite && this.state !== 'calling') return;
    this.ctx.send(this.target, this.text);
    this.ctx.countRetransmission();
    this.#interval = this.isInvite ? this.#interval * 2 : this.state === 'proceeding' ? this.ctx.t2 : Math.min(this.#interval * 2, this.ctx.t2);
    this.#retransTimer = this.ctx.timers.setTimeout(() => this.#retransmit(), this.#interval);
  }

  #fail(status: 408 | 503): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.hooks.onLocalFailure(this, status);
    this.terminate();
  }

  /**
   * A response matched this transaction. Returns 'deliver' when the TU (the app) should see it,
   * 'absorb' for a retransmission the transaction handled itself.
   */
  receive(status: number): 'deliver' | 'absorb' {
    const timers = this.ctx.timers;
    if (this.state === 'terminated') return 'absorb';
    if (this.state === 'completed') {
      if (status >= 200 && this.ackText !== undefined) {
        this.ctx.send(this.target, this.ackText);
        this.ctx.countRetransmission();
      }
      return 'absorb';
    }
    if (status < 200) {
      if (this.state === 'calling') {
        this.#sm.transition('proceeding');
        if (this.isInvite) {
          // RFC 3261 17.1.1.2: Timer B no longer applies once a provisional arrives; keep a
          // 360*T1 (3 minutes by default) guard (like a proxy's Timer C) so a silent peer cannot leak the transaction.
          timers.clearTimeout(this.#retransTimer);
          timers.clearTimeout(this.#timeoutTimer);
          this.#retransTimer = undefined;
          this.#timeoutTimer = timers.setTimeout(() => this.#fail(408), 360 * this.ctx.t1);
        }
      }
      return 'deliver';
    }
    this.finalStatus = status;
    timers.clearTimeout(this.#retransTimer);
    timers.clearTimeout(this.#timeoutTimer);
    this.#retransTimer = undefined;
    this.#timeoutTimer = undefined;
    if (this.isInvite && status < 300) {
      this.terminate();
      return 'deliver';
    }
    this.#sm.transition('completed');
    const wait = this.reliable ? 0 : this.isInvite ? 64 * this.ctx.t1 : this.ctx.t4;
    this.#timeoutTimer = timers.setTimeout(() => this.terminate(), wait);
    return 'deliver';
  }

  /** Idempotent. */
  terminate(): void {
    if (!this.#sm.is('terminated')) this.#sm.transition('terminated');
  }

  /** The final state: stop every timer and tell the engine to forget this transaction. */
  #dispose(): void {
    this.ctx.timers.clearTimeout(this.#retransTimer);
    this.ctx.timers.clearTimeout(this.#timeoutTimer);
    this.#retransTimer = undefined;
    this.#timeoutTimer = undefined;
    this.hooks.onTerminated(this);
  }
}
