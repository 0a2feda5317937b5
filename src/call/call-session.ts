import { randomUUID } from 'node:crypto';
import type { Clock, Timers } from '../common/clock.js';
import { isAppError } from '../common/errors.js';
import { StateMachine } from '../common/state-machine.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import type { DtmfNotice, LegId } from '../media/media-session-types.js';
import type { Logger } from '../observability/logger.js';
import type { CallMetrics } from '../observability/metrics-types.js';
import type { RecordingEventSink } from '../observability/recording-event-types.js';
import type { CallDecision, PartyRecordingDecision } from '../policy/call-decision-types.js';
import { firstUri, type Admission } from '../sip/admission.js';
import type { DialogIdentifiers, InboundInvite, InDialogRequest, Leg, PendingDial, SignalingPort } from '../sip/b2bua-types.js';
import { audioRefusal, readAudio, type AudioDescription, type RecordIndication, type SdpRefusal } from '../sip/sdp-media.js';
import { refusalHeaders, warnAgentOf } from '../sip/sip-warning.js';
import { CALL_TRANSITIONS, type CallState } from './call-state.js';
import type { ResolvedCallOptions } from './call-options.js';
import type { CallMedia, MediaFactory, PromptSource, RecordingPortFactory } from './call-ports.js';
import { LegSdp } from './leg-sdp.js';
import { callLatching } from './leg-latching.js';
import { payloadTypesOf, remoteMediaOf } from './leg-media.js';
import { legOf, partyRecordingLinks, RecordedParties, recordingSummary, type PartyRecordingLink, type RecordedParty, type RecordingSummary } from './recorded-parties.js';
import type { ControlResult } from './recording-controller.js';
import { parseInfoControl, type RecordingAction } from './recording-controls.js';
import { MediaWatch } from './tasks/media-watch.js';
import { postAnswerCompliance } from './tasks/post-answer-compliance.js';
import { preAnswerCompliance } from './tasks/pre-answer-compliance.js';
import { earlyMediaFromOffer, recordingGate } from './tasks/recording-gate.js';
import { sendRecordIndication, updateRecordIndication, type IndicationContext } from './tasks/record-indication.js';
import { relayReoffer } from './tasks/relay-reoffer.js';
import { referTarget, replaceByInvite, transferByRefer, type ReplaceContext } from './tasks/transfer.js';
import { recordingAfterTransfer, type TransferRecordingContext } from './tasks/transfer-recording.js';
import { partyAddresses, participantsOf } from './tasks/participants.js';

/**
 * One call through the B2BUA (state machine in call-state.ts): leg A (caller, UAS), leg B (callee,
 * UAC), the anchored media session, and the recordings, one per recorded user (recorded-parties.ts,
 * The flow is a list of small tasks (tasks/): announce, dial, connect, relay re-offers,
 * controls, transfers, hang up. A call tears down with one close().
 *
 * R-11 ordering: with the inbound compliance announcement, the caller gets 183 with our SDP and
 * hears the prompt; leg B is INVITEd (alerted) only after the prompt has played out, so the callee
 * can never answer into it. A CANCEL during the prompt ends everything (media closed, no leg B).
 *
 * State data lives in per-state objects (Anchor from the media session on, Connected once both legs
 * answered) that the flow passes along, not in optional fields. Why one file of ~600 lines: the
 * dial / connect / R-40 gate flow and the connected-state handlers (re-offers, INFO, DTMF, REFER,
 * Replaces) all move the one call machine and share those objects; each step's work is already a
 * task in tasks/.
 */
export interface CallSessionDeps {
  readonly invite: InboundInvite;
  readonly admission: Extract<Admission, { admitted: true }>;
  readonly decision: CallDecision;
  readonly legBUri: string;
  readonly signaling: SignalingPort;
  readonly mediaFactory: MediaFactory;
  readonly prompts: PromptSource;
  readonly recording: RecordingPortFactory;
  readonly options: ResolvedCallOptions;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly metrics: CallMetrics;
  readonly events: RecordingEventSink;
  /** The organisation's current settings, to evaluate a party who joins by transfer (tasks/transfer-recording.ts). */
  readonly settings: TransferRecordingContext['settings'];
}

export interface CallSummary {
  readonly id: string;
  readonly callId: string;
  readonly state: CallState;
  readonly direction: CallDecision['direction'];
  readonly orgId: string;
  readonly from: string;
  readonly to: string;
  readonly startedAt: string;
  readonly answeredAt: string | null;
  /** The call's first recording (recorded-parties.ts recordingSummary). */
  readonly recording: RecordingSummary;
  /** What links the call to each of its recording sessions, with whom each records and in which mode (recording-link.ts; docs/admin-api.md). */
  readonly recordings: readonly PartyRecordingLink[];
  readonly complianceAnnouncementPlayed: boolean;
  readonly announcements: readonly { kind: string; result: string; target: string }[];
  /** Silent legs reported by the media plane (docs/nat.md). */
  readonly mediaProblems: readonly { kind: 'silent-stream'; leg: LegId; reason: string }[];
}

export type CallSessionEvents = { state: [from: CallState, to: CallState]; ended: [reason: string] };

/**
 * What the call holds once its media is anchored, from the media session's creation to the end:
 * the session, the SDP we keep per leg, the recordings (one per recorded user) and the silent-leg watch.
 */
interface Anchor {
  readonly media: CallMedia;
  readonly sdp: { readonly a: LegSdp; readonly b: LegSdp };
  readonly recordings: RecordedParties;
  readonly watch: MediaWatch;
}

/**
 * The data of `connected` (kept afterwards for close() and the summary): both legs, which a
 * transfer replaces in place (tasks/transfer.ts), and when leg A was answered.
 */
interface Connected {
  readonly anchor: Anchor;
  readonly legs: { a: Leg; b: Leg };
  readonly answeredAt: number;
}

export class CallSession extends TypedEmitter<CallSessionEvents> {
  readonly id = randomUUID();
  readonly #d: CallSessionDeps;
  readonly #sm: StateMachine<CallState>;
  readonly #log: Logger;
  readonly #startedAt: number;
  /** From the media session's creation on (announcing, securing-recording, dialling, connected, ending). */
  #anchor: Anchor | undefined;
  /** Leg B's INVITE while it is pending (dialling). */
  #dial: PendingDial | undefined;
  /** Leg B once it answered and before leg A is answered (dialling, inbound securing-recording): close() ends it. */
  #answeredB: Leg | undefined;
  /** Set on the move to `connected`. */
  #connected: Connected | undefined;
  /** The decision's first recorded party (the one of a PSTN call; R-40 recording required). */
  readonly #party: PartyRecordingDecision | undefined;
  readonly #pstnLeg: LegId | undefined;
  #compliancePlayed = false;
  /** Legs with an a=record re-INVITE in progress (tasks/record-indication.ts). */
  readonly #indicationBusy = new Set<Leg>();
  #reofferBusy = false;
  /** A transfer's recordings are being re-evaluated: the legs learn the outcome's a=record only. */
  #transferring = false;
  #closing: Promise<void> | undefined;

  constructor(deps: CallSessionDeps) {
    super();
    this.#d = deps;
    this.#log = deps.log;
    this.#startedAt = deps.clock.now();
    this.#sm = new StateMachine({ name: 'call', initial: 'admitted', table: CALL_TRANSITIONS, log: deps.log, timers: deps.timers, onChange: (from, to) => this.emit('state', from, to) });
    this.onListenerError = (err) => deps.log.error({ err }, 'call listener failed');
    this.#party = deps.decision.parties.find((p) => p.record);
    const dir = deps.decision.direction;
    this.#pstnLeg = dir === 'inbound-pstn' ? 'a' : dir === 'outbound-pstn' ? 'b' : undefined;
  }

  get state(): CallState {
    return this.#sm.state;
  }

  /** The state of each recording of the call (one per recorded user), for the call layer's figures. */
  get recordingStates(): string[] {
    return (this.#anchor?.recordings.list ?? []).map((r) => r.controller.state);
  }

  get callId(): string {
    return this.#d.invite.callId;
  }

  /** Runs the call to its end; never rejects. */
  async run(): Promise<void> {
    const { invite, decision } = this.#d;
    invite.onCancel(() => void this.hangup('cancel'));
    try {
      const audioA = readAudio(invite.sdp);
      const refused = audioRefusal(invite.sdp) ?? (audioA ? undefined : { code: 304, detail: 'no audio in the offer' });
      if (refused || !audioA) return this.#refuse(488, refused?.detail ?? 'no audio in the offer', refused);
      const latching = callLatching(this.#d.options.latching, this.#d.admission, decision, this.#d.options.routing.userProxy !== undefined);
      const media = await this.#d.mediaFactory.createSession({ label: invite.callId, latching });
      media.on('dtmf', (e) => this.#onDtmf(e));
      const recordings = this.#newRecordings(media);
      const watch = new MediaWatch({ media, log: this.#log, userLeg: this.#party ? legOf(this.#party) : 'b', latching, mark: (p, leg) => recordings.mediaProblem(p, leg) });
      const sdp = { a: new LegSdp(media.local.a, sessionIdOf(this.#startedAt, 1)), b: new LegSdp(media.local.b, sessionIdOf(this.#startedAt, 2)) };
      const anchor: Anchor = { media, sdp, recordings, watch };
      this.#anchor = anchor;
      media.on('closed', () => void this.hangup('media-closed'));
      if (this.#ended()) return void (await this.close('cancel'));
      sdp.a.recordAware = invite.recordAware;
      sdp.a.indication = decision.parties.some((p) => p.record && p.start === 'onAnswer') ? 'on' : 'off';
      let keep: number[] | undefined;
      const c = decision.compliance;
      if (c.play && c.phase === 'pre-answer') {
        const r = await preAnswerCompliance({ invite, audioA, sdpA: sdp.a, media, prompts: this.#d.prompts, clock: this.#d.clock, log: this.#log, language: c.language }, () =>
          this.#sm.transition('announcing'),
        );
        this.#compliancePlayed = r.note.result === 'played';
        this.#note(r.note);
        keep = r.keep;
      }
      if (this.#ended()) return;
      // R-40 recording required, outbound: the PSTN callee is INVITEd only after the recording server's 200
      const required = this.#pstnLeg === 'b' ? this.#requiredParty() : undefined;
      if (required && !(await this.#secureRecording(anchor, required, true))) return;
      await this.#dialB(anchor, audioA, keep);
    } catch (err) {
      if (isAppError(err, 'MEDIA_PORTS_EXHAUSTED') || isAppError(err, 'MEDIA_BIND_FAILED')) {
        // out of RTP ports or sockets (e.g. file descriptors): a clean 503, the caller may retry (RFC 3261 21.5.4)
        this.#log.warn({ code: err.code, detail: err.message }, 'call refused: no media resources');
        this.#d.metrics.callRejected('media-resources');
        this.#d.invite.reject(503, undefined, { 'Retry-After': String(MEDIA_RETRY_AFTER_SEC) });
        return void this.close('refused-503');
      }
      this.#log.error({ err }, 'call failed');
      this.#refuse((err as { sipStatus?: number }).sipStatus ?? 500, 'internal error');
    }
  }

  /** INVITE leg B with our offer; connect both legs on its 200. */
  async #dialB(anchor: Anchor, audioA: AudioDescription, keep: number[] | undefined): Promise<void> {
    const { invite, decision } = this.#d;
    const { media, sdp } = anchor;
    if (this.#sm.can('dialling')) this.#sm.transition('dialling');
    const family = audioRefusal(invite.sdp, media.local.a.address);
    if (family) return this.#refuse(488, family.detail, family);
    const offer = sdp.b.build(invite.sdp, {
      ...(keep ? { payloadTypes: keep } : {}),
      onlyG711: decision.record,
      preferG711: decision.compliance.play,
    });
    if (!offer) return this.#refuse(488, 'no usable audio in the offer', { code: 305, detail: 'no codec left for the callee' });
    let earlyAnswered = sdp.a.last !== undefined;
    const dial = this.#d.signaling.dial(this.#d.legBUri, {
      sdp: offer,
      from: invite.from.replace(/;tag=[^;>\s]*/i, ''),
      onProvisional: (status, early) => {
        if (!this.#sm.is('dialling') || status <= 100) return;
        const earlyAudio = early !== undefined ? readAudio(early) : undefined;
        if (early !== undefined && earlyAudio && !earlyAnswered) {
          // early media from the callee (ringback, carrier announcements): this is A's answer now
          const answer = sdp.a.answer(invite.sdp, early);
          if (answer) {
            earlyAnswered = true;
            void media.setRemote('b', remoteMediaOf(earlyAudio, undefined, sdp.b.last)).catch(() => undefined);
            void media.setRemote('a', remoteMediaOf(audioA, keptPayloadTypes(answer), answer)).catch(() => undefined);
            invite.progress(183, answer);
            return;
          }
        }
        if (status === 180 || !earlyAnswered) invite.progress(180);
      },
    });
    this.#dial = dial;
    const stopRing = this.#sm.after(this.#d.options.ringTimeoutMs, () => dial.cancel());
    const outcome = await dial.result;
    stopRing();
    this.#dial = undefined;
    if (!outcome.ok) {
      if (!this.#ended()) this.#refuse(outcome.cancelled ? 408 : outcome.status >= 400 ? outcome.status : 500, outcome.reason);
      return;
    }
    const legB = outcome.leg;
    if (this.#ended()) return void (await legB.hangup('caller cancelled'));
    this.#answeredB = legB;
    sdp.b.recordAware = legB.recordAware;
    await this.#connect(anchor, audioA, legB);
  }

  async #connect(anchor: Anchor, audioA: AudioDescription, legB: Leg): Promise<void> {
    const { media, sdp } = anchor;
    const audioB = readAudio(legB.remoteSdp);
    if (!audioB) {
      await legB.hangup('no usable audio');
      const refused = audioRefusal(legB.remoteSdp) ?? { code: 304, detail: 'callee answered without usable audio' };
      return this.#refuse(488, `callee answer: ${refused.detail}`, refused);
    }
    await media.setRemote('b', remoteMediaOf(audioB, undefined, sdp.b.last));
    const earlySent = sdp.a.last !== undefined;
    const answerA = sdp.a.last ?? sdp.a.answer(this.#d.invite.sdp, legB.remoteSdp);
    if (!answerA) {
      await legB.hangup('no common codec');
      return this.#refuse(488, 'no codec in common between the offer and the callee answer', { code: 305, detail: 'no common codec' });
    }
    await media.setRemote('a', remoteMediaOf(audioA, keptPayloadTypes(answerA), answerA));
    // R-40 recording required, inbound: the PSTN caller is answered only after the recording server's 200
    const required = this.#pstnLeg === 'a' ? this.#requiredParty() : undefined;
    if (required && !(await this.#secureRecording(anchor, required, false, earlySent ? undefined : answerA))) return;
    let legA: Leg;
    try {
      legA = await this.#d.invite.answer(answerA);
    } catch (err) {
      this.#log.info({ err: (err as Error).message }, 'caller went away before the answer');
      await legB.hangup('caller gone');
      return void (await this.close('cancel'));
    }
    if (this.#ended()) {
      // the call ended while leg A was being answered: close() found no leg A to end, so end it here
      await legA.hangup();
      return;
    }
    const connected: Connected = { anchor, legs: { a: legA, b: legB }, answeredAt: this.#d.clock.now() };
    this.#connected = connected;
    this.#answeredB = undefined;
    this.#sm.transition('connected');
    this.#wire(connected, legA, 'a');
    this.#wire(connected, legB, 'b');
    this.#log.info({ direction: this.#d.decision.direction }, 'call connected');
    this.#watchSilence();
    await this.#afterAnswer(connected);
  }

  /** R-14 each recorded user's recording on answer, R-12 outbound compliance after the delay, R-31 indication to leg B. */
  async #afterAnswer(connected: Connected): Promise<void> {
    const { decision } = this.#d;
    const { recordings, media } = connected.anchor;
    const start = async (party: PartyRecordingDecision): Promise<void> => {
      const secured = recordings.onLeg(legOf(party)); // R-40 recording required: already established
      const rec = (secured ?? this.#addRecording(recordings, party)).controller;
      if (!secured && party.start === 'onAnswer') return rec.start();
      this.#indicate(recordings.indication);
      if (secured) await rec.answered();
    };
    await Promise.all(decision.parties.filter((p) => p.record).map(start));
    const c = decision.compliance;
    if (!c.play || c.phase !== 'post-answer' || !this.#pstnLeg) return;
    const claim = (): boolean => this.#sm.is('connected') && !this.#compliancePlayed && (this.#compliancePlayed = true);
    const after = (ms: number, fn: () => void): void => this.#after(ms, fn);
    await postAnswerCompliance({ ...this.#d, media, log: this.#log, target: this.#pstnLeg, ...c, after, claim, note: (n) => this.#note(n) });
  }

  /** R-40 `endCallWithAnnouncement` for a recording that starts on answer: the party whose PSTN peer waits for it. */
  #requiredParty(): PartyRecordingDecision | undefined {
    const p = this.#party;
    return p?.start === 'onAnswer' && p.provider?.failurePolicy === 'endCallWithAnnouncement' ? p : undefined;
  }

  /**
   * R-40 recording required (tasks/recording-gate.ts): true once the recording server answered 200;
   * otherwise the prompt has played as early media (inbound: `answerA` in a 183 unless one was sent)
   * and the call is ending. Outbound holds the fork until leg B answers.
   */
  async #secureRecording(anchor: Anchor, party: PartyRecordingDecision, outbound: boolean, answerA?: string): Promise<boolean> {
    const { invite } = this.#d;
    const { media, sdp } = anchor;
    this.#sm.transition('securing-recording');
    const out = await recordingGate({
      recording: this.#addRecording(anchor.recordings, party).controller,
      holdFork: outbound,
      timeoutMs: this.#d.options.recordingRequiredTimeoutMs,
      media,
      prompts: this.#d.prompts,
      clock: this.#d.clock,
      timers: this.#d.timers,
      log: this.#log,
      language: party.language,
      target: outbound ? 'a' : 'both',
      beforeAnnounce: outbound
        ? () => earlyMediaFromOffer(invite, sdp.a, media)
        : async () => {
            if (answerA !== undefined) invite.progress(183, answerA);
            return true;
          },
      ended: () => this.#ended(),
    });
    if (out.result === 'established') return true;
    if (out.result !== 'ended') {
      this.#note(out.note);
      void this.hangup('recording-required');
    }
    return false;
  }

  #newRecordings(media: CallMedia): RecordedParties {
    const { admission, invite, options } = this.#d;
    const input = admission.classified.input;
    return new RecordedParties({
      ...this.#d,
      ...options,
      media,
      factory: this.#d.recording,
      call: { callId: invite.callId, orgId: admission.classified.orgId },
      parties: { a: input.caller, b: input.answeredBy ?? input.callee },
      addresses: partyAddresses(invite, admission),
      onIndication: (v) => this.#indicate(v),
      onEndCall: () => void this.hangup('recording-required'),
    });
  }

  /** The recording of one recorded user of the decision (label 2 = the leg that user is on, R-30). */
  #addRecording(recordings: RecordedParties, party: PartyRecordingDecision): RecordedParty {
    const { admission, decision, invite } = this.#d;
    return recordings.add(party, participantsOf(decision, party, invite, admission), decision.direction);
  }

  readonly #notes: Parameters<RecordedParties['note']>[0][] = [];

  #note(n: Parameters<RecordedParties['note']>[0]): void {
    this.#notes.push(n);
    if (n.result === 'played') this.#d.metrics.announcementPlayed(n.kind);
    this.#anchor?.recordings.note(n);
  }

  /** a=record towards record-aware legs, by re-INVITE when the value changes (after a transfer: its outcome only). */
  #indicate(value: RecordIndication): void {
    const connected = this.#connected;
    if (connected && this.#sm.is('connected') && !this.#transferring) updateRecordIndication(value, this.#indicationContext(connected));
  }

  #indicationContext({ anchor, legs }: Connected): IndicationContext {
    return { legs, sdp: anchor.sdp, media: anchor.media, log: this.#log, after: (ms, fn) => this.#after(ms, fn), busy: this.#indicationBusy };
  }

  /** Events of the leg currently on `side` (a transfer swaps the leg, not the side). */
  #wire(connected: Connected, leg: Leg, side: LegId): void {
    const { legs, anchor } = connected;
    leg.on('bye', () => {
      if (legs[side] === leg) void this.hangup(side === 'a' ? 'bye-caller' : 'bye-callee');
    });
    leg.on('reoffer', (req) =>
      void this.#exclusive(req, async () => {
        await relayReoffer({ req, from: side, toLeg: legs[other(side)], sdp: anchor.sdp, media: anchor.media, log: this.#log, warnAgent: warnAgentOf(this.#d.invite.requestUri) });
        this.#watchSilence();
      }),
    );
    leg.on('info', (req) => void this.#onInfo(side, req));
    leg.on('refer', (req) => void this.#exclusive(req, () => this.#onRefer(connected, side, req)));
  }

  /** One offer/answer exchange at a time (RFC 3261 section 14.2: 491 to an overlapping one). */
  async #exclusive(req: InDialogRequest, task: () => Promise<unknown>): Promise<void> {
    if (this.#reofferBusy || !this.#sm.is('connected')) return req.respond(491, {});
    this.#reofferBusy = true;
    try {
      await task();
    } finally {
      this.#reofferBusy = false;
    }
  }

  #replaceContext({ anchor, legs }: Connected, side: LegId): ReplaceContext {
    return { side, legs, sdp: anchor.sdp, media: anchor.media, log: this.#log };
  }

  /** R-13 transfer by REFER: the B2BUA dials the target itself; recording continues, no announcement again. */
  async #onRefer(connected: Connected, side: LegId, req: InDialogRequest): Promise<void> {
    const { invite } = this.#d;
    const from = (side === 'b' ? invite.from : invite.to).replace(/;tag=[^;>\s]*/i, '');
    const leg = await transferByRefer(this.#replaceContext(connected, side), req, this.#d.signaling, from);
    if (!leg) return;
    void this.#joined(connected, side, leg, referTarget(req.header('Refer-To'))?.uri ?? 'sip:unknown@invalid', true);
  }

  /** R-13 INVITE with Replaces naming one of this call's legs (RFC 3891). */
  async replaceLeg(invite: InboundInvite, replacedCallId: string): Promise<void> {
    const connected = this.#connected;
    const side = (['a', 'b'] as const).find((s) => connected?.legs[s].callId === replacedCallId);
    if (!connected || !side || this.#reofferBusy || !this.#sm.is('connected')) return invite.reject(side ? 491 : 481);
    this.#reofferBusy = true;
    try {
      const leg = await replaceByInvite(this.#replaceContext(connected, side), invite);
      if (leg) void this.#joined(connected, side, leg, firstUri(invite.from) ?? invite.from, false);
    } finally {
      this.#reofferBusy = false;
    }
  }

  /**
   * R-13 a new party on `side`: the recordings follow (tasks/transfer-recording.ts; it runs beside
   * further offers, whose exchange is free again); never the compliance announcement again. R-31:
   * a REFER target (offered no a=record) that is record-aware is then told the outcome's value.
   */
  async #joined(connected: Connected, side: LegId, leg: Leg, aor: string, tellTarget: boolean): Promise<void> {
    const { recordings, sdp } = connected.anchor;
    this.#wire(connected, leg, side);
    this.#log.info({ side, aor, compliancePlayed: this.#compliancePlayed }, 'party joined by transfer (R-13: no announcement again)');
    this.#transferring = true;
    const { settings, admission } = this.#d;
    const live = (): boolean => this.#sm.is('connected');
    const context = { side, aor, orgId: admission.classified.orgId, settings, compliancePlayed: this.#compliancePlayed, recordings, log: this.#log, live };
    await recordingAfterTransfer(context).finally(() => (this.#transferring = false));
    this.#indicate(recordings.indication);
    if (tellTarget && leg.recordAware && sdp[side].indication !== undefined) sendRecordIndication(side, leg, this.#indicationContext(connected));
  }

  /**
   * Checks that both dialogs still exist (after the link to the SIP server came back): leg A, then
   * leg B. A gone leg emits 'bye', which ends the call like a hang-up of that party. Resolves true
   * when a leg was gone. Never rejects.
   */
  async probeLegs(): Promise<boolean> {
    for (const side of ['a', 'b'] as const) {
      const leg = this.#connected?.legs[side];
      if (!leg || !this.#sm.is('connected')) return false;
      if ((await leg.probe()) === 'gone') return true;
    }
    return false;
  }

  /** True when one of the call's legs is this dialog (Call-ID and both tags, RFC 3891 section 3). */
  hasLeg(id: DialogIdentifiers): boolean {
    const legs = this.#connected ? [this.#connected.legs.a, this.#connected.legs.b] : [this.#answeredB];
    return legs.some((l) => l !== undefined && l.callId === id.callId && l.localTag === id.localTag && l.remoteTag === id.remoteTag);
  }

  async #onInfo(side: LegId, req: InDialogRequest): Promise<void> {
    const ctl = parseInfoControl(req.contentType, req.body);
    if (ctl.kind === 'unknown') return req.respond(415, {});
    req.respond(200, {});
    const own = this.#anchor?.recordings.onLeg(side);
    if (ctl.kind === 'digit') await this.#digit(side, ctl.digit);
    else if (own) await this.#control(own, ctl.action);
  }

  /** The silent-leg watch while connected (tasks/media-watch.ts: off during hold). */
  #watchSilence(): void {
    const anchor = this.#anchor;
    if (anchor && this.#sm.is('connected')) anchor.watch.rearm(this.#d.options.silenceAlarmMs, anchor.sdp.a.last, anchor.sdp.b.last);
  }

  /** R-17 digits from a leg control the recording of the user on that leg only. */
  #onDtmf(e: DtmfNotice): void {
    if (e.end && this.#sm.is('connected')) void this.#digit(e.leg, e.digit);
  }

  async #digit(leg: LegId, digit: string): Promise<void> {
    const hit = this.#anchor?.recordings.digit(leg, digit, this.#d.clock.monotonic());
    if (hit) await this.#control(hit.entry, hit.action);
  }

  /**
   * R-17 admin control of one recording: `party` names it ('caller', 'callee' or the recorded
   * user's id; recorded-parties.ts select) and may be left out when the call has one recording.
   */
  async control(action: RecordingAction, party?: string): Promise<ControlResult> {
    const picked = this.#anchor?.recordings.select(party) ?? { reason: 'no recorded party on this call' };
    if (!('entry' in picked) || !this.#sm.is('connected')) {
      const state = 'entry' in picked ? picked.entry.controller.state : 'idle';
      return { ok: false, state, reason: 'entry' in picked ? 'call not connected' : picked.reason };
    }
    return this.#control(picked.entry, action);
  }

  async #control(own: RecordedParty, action: RecordingAction): Promise<ControlResult> {
    const r = await own.controller.control(action);
    this.#log.info({ action, party: own.decision.party.id, ...r }, 'recording control');
    return r;
  }

  summary(): CallSummary {
    const { invite, decision, admission } = this.#d;
    const recordings = this.#anchor?.recordings;
    const answeredAt = this.#connected?.answeredAt;
    return {
      id: this.id,
      callId: invite.callId,
      state: this.state,
      direction: decision.direction,
      orgId: admission.classified.orgId,
      from: invite.from,
      to: invite.to,
      startedAt: new Date(this.#startedAt).toISOString(),
      answeredAt: answeredAt === undefined ? null : new Date(answeredAt).toISOString(),
      recording: recordingSummary(recordings?.list[0], this.#party),
      recordings: (recordings?.list ?? []).flatMap(partyRecordingLinks),
      complianceAnnouncementPlayed: this.#compliancePlayed,
      announcements: this.#notes.map((n) => ({ kind: n.kind, result: n.result, target: n.target })),
      mediaProblems: [...(this.#anchor?.watch.problems ?? [])],
    };
  }

  /** A timer of the current state (the machine stops it when the call leaves that state). */
  #after(ms: number, fn: () => void): void {
    this.#sm.after(ms, fn);
  }

  #ended(): boolean {
    return this.#sm.is('ending', 'ended');
  }

  /**
   * Final non-2xx to the caller and the end of the call. An SDP refusal is a 488 with a Warning
   * header (RFC 3261 section 20.43: 301/302/304/305/307, warn-agent = the host the caller addressed).
   */
  #refuse(status: number, reason: string, sdp?: SdpRefusal): void {
    this.#log.info({ status, reason, ...(sdp ? { warnCode: sdp.code } : {}) }, 'call refused');
    this.#d.invite.reject(status, undefined, sdp ? refusalHeaders(sdp, warnAgentOf(this.#d.invite.requestUri)) : undefined);
    void this.close(`refused-${status}`);
  }

  /**
   * End the call from any state. `reason` is a short code (also the metrics label): bye-caller,
   * bye-callee, cancel, refused-<status>, admin-hangup, media-closed, recording-required, shutdown.
   */
  hangup(reason: string): Promise<void> {
    return this.close(reason);
  }

  /** Idempotent: CANCEL / BYE both legs, stop the recording (final metadata), close the media. */
  close(reason = 'closed'): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#sm.can('ending')) this.#sm.transition('ending');
    this.#closing = (async () => {
      this.#log.info({ reason }, 'call ending');
      this.#dial?.cancel();
      const legs = this.#connected?.legs;
      if (!legs) this.#d.invite.reject(480);
      await Promise.all([legs?.a.hangup(), (legs?.b ?? this.#answeredB)?.hangup(), this.#anchor?.recordings.close()]);
      await this.#anchor?.media.close().catch(() => undefined);
      this.#sm.transition('ended');
      this.#d.metrics.callEnded(this.#d.decision.direction, reason);
      this.emit('ended', reason);
    })();
    return this.#closing;
  }
}

/** The payload types our answer kept (the caller's numbers the media plane relays); undefined: all of them. */
function keptPayloadTypes(answer: string): number[] | undefined {
  const audio = readAudio(answer);
  return audio ? payloadTypesOf(audio) : undefined;
}

/** Retry-After of a call refused for lack of RTP ports or sockets, seconds. */
const MEDIA_RETRY_AFTER_SEC = 5;

function other(side: LegId): LegId {
  return side === 'a' ? 'b' : 'a';
}

/** An o= session id per leg, from the call's start time (distinct per leg, RFC 4566 section 5.2). */
function sessionIdOf(startedAt: number, leg: number): number {
  return Math.floor(startedAt / 1000) * 10 + leg;
}
