/**
 * Dialog state, RFC 3261 section 12. The dialog id the app sees is drachtio's:
 *   `<Call-ID>;from-tag=<From tag of the dialog-creating request>`
 * for both roles (srf computes the same string in findDialogByCallIDAndFromTag).
 *
 *   early --2xx--> confirmed --BYE / ACK timeout / session expiry--> terminated
 *     |--non-2xx final--> terminated
 *
 * A subscription dialog (subscription-dialogs.ts) is created confirmed by the 2xx to SUBSCRIBE or
 * REFER and ends with a NOTIFY `Subscription-State: terminated` or when the subscription expires.
 */
import type { TimerHandle } from '../common/clock.js';
import { ownString } from '../common/own-string.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { Flow, NatFlowMode } from './nat-flow.js';
import type { ServerTransaction } from './server-transaction.js';
import type { SipProtocol } from './sip-transport.js';

export type DialogRole = 'uas' | 'uac';
export type DialogState = 'early' | 'confirmed' | 'terminated';

/** The legal moves (common/state-machine.ts; drawn above and in docs/state-machines.md). */
export const DIALOG_TRANSITIONS: TransitionTable<DialogState> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};
/** What created the dialog: an INVITE, or a SUBSCRIBE / out-of-dialog REFER (RFC 6665, RFC 3515). */
export type DialogUsage = 'invite' | 'subscription';

export function makeDialogId(callId: string, fromTag: string): string {
  return `${callId};from-tag=${fromTag}`;
}

export class Dialog {
  readonly #sm = new StateMachine<DialogState>({ name: 'dialog', initial: 'early', table: DIALOG_TRANSITIONS });
  usage: DialogUsage = 'invite';
  /** Subscription dialogs: ends the dialog when the subscription was not refreshed in time. */
  expiryTimer: TimerHandle | undefined;
  // The values cut from a message are kept as copies (common/own-string.ts): a dialog lives for the
  // call, and a substring would keep the whole message it came from.
  #remoteTag = '';
  #localParty = '';
  #remoteParty = '';
  #remoteTarget = '';
  #routeSet: readonly string[] = [];
  #localContact = '';
  localCseq = 0;
  remoteCseq = -1;
  protocol: SipProtocol = 'udp';
  appId: number | undefined;
  /** UAC: CSeq of the last INVITE we sent and whether its final response was 2xx. */
  inviteCseq = 0;
  inviteSucceeded = false;
  /** UAC: the last ACK we sent for a 2xx (re-sent on 2xx retransmissions) and its CSeq. */
  ackText: string | undefined;
  ackCseq = 0;
  /** UAC: RSeq/CSeq of the last reliable provisional (for RAck). */
  lastRseq = 0;
  lastRseqCseq = 0;
  /** UAS: transaction id of the dialog-creating INVITE (the first ACK is delivered with it). */
  initialTxnId = '';
  /** UAS: the INVITE server transaction awaiting PRACK (reliable 1xx) or ACK (2xx), if any. */
  serverInvite: ServerTransaction | undefined;
  /** Client transaction id of an outstanding INVITE we sent in this dialog (re-INVITE), if any. */
  pendingReinviteTxnId: string | undefined;
  /** Session timer (RFC 4028). */
  sessionExpires = 0;
  refresher: 'uac' | 'uas' | undefined;
  sessionTimer: TimerHandle | undefined;
  /** Whether we are the refresher. */
  weRefresh = false;
  /** Where the peer's messages come from (UAS: its INVITE; UAC: the 2xx), nat-flow.ts; undefined until known. */
  flow: Flow | undefined;
  /** The NAT mode the engine's natFlow option chose for the peer when the dialog was created. */
  natMode: NatFlowMode = 'contact';
  /** In-dialog requests go to `flow` instead of the remote target or first route (nat-flow.ts). */
  useFlow = false;
  /** The first request sent to the flow instead of the Contact was logged (once per dialog). */
  flowLogged = false;

  readonly id: string;
  readonly callId: string;
  readonly localTag: string;

  constructor(
    id: string,
    readonly role: DialogRole,
    callId: string,
    localTag: string,
  ) {
    this.id = ownString(id);
    this.callId = ownString(callId);
    this.localTag = ownString(localTag);
  }

  /** Remote tag ('' while a UAC dialog has no To-tag yet). */
  get remoteTag(): string {
    return this.#remoteTag;
  }
  set remoteTag(v: string) {
    this.#remoteTag = ownString(v);
  }

  /** Our From (uac) / To (uas) header value including our tag. */
  get localParty(): string {
    return this.#localParty;
  }
  set localParty(v: string) {
    this.#localParty = ownString(v);
  }

  /** The peer's From (uas) / To (uac) header value including its tag. */
  get remoteParty(): string {
    return this.#remoteParty;
  }
  set remoteParty(v: string) {
    this.#remoteParty = ownString(v);
  }

  get remoteTarget(): string {
    return this.#remoteTarget;
  }
  set remoteTarget(v: string) {
    this.#remoteTarget = ownString(v);
  }

  /** Route set, in the order the Route header lists it. */
  get routeSet(): readonly string[] {
    return this.#routeSet;
  }
  set routeSet(v: readonly string[]) {
    this.#routeSet = v.map(ownString);
  }

  get localContact(): string {
    return this.#localContact;
  }
  set localContact(v: string) {
    this.#localContact = ownString(v);
  }

  get state(): DialogState {
    return this.#sm.state;
  }

  /** A 2xx established the dialog (early -> confirmed; the callers handle a repeated 2xx before this). */
  confirm(): void {
    this.#sm.transition('confirmed');
  }

  /** The dialog is over (idempotent; dialog-table.ts remove() stops its timers). */
  terminate(): void {
    if (!this.#sm.is('terminated')) this.#sm.transition('terminated');
  }
}
