import { AppError } from '../../common/errors.js';
import { StateMachine } from '../../common/state-machine.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { endPause, finaliseRecordingMetadata, replaceParticipant, startPause, undoEndPause, undoStartPause, type ParticipantInit } from '../metadata-model.js';
import type { RecordingMetadataModel } from '../metadata-types.js';
import { parseSnapshotRequest } from '../metadata-request.js';
import { parseSiprecBody } from '../multipart.js';
import type { MetadataId } from '../siprec-ids.js';
import { describeOutcome, shouldFailover, targetRequestUri, targetTransport, type AttemptOutcome } from './failover-rules.js';
import { sameTargets, targetsFromAnswer } from './recording-answer.js';
import { isSuccess, RecordingOffers, type OfferDirection, type OfferOutcome } from './recording-offers.js';
import { buildRecordingBody, buildRecordingSdp, initialInviteHeaders, reinviteHeaders, sdpBody } from './recording-request.js';
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_CONTACT_USER,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_GLARE_RETRIES,
  DEFAULT_MODIFY_TIMEOUT_MS,
  DEFAULT_START_DEADLINE_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  type RecordingSessionOptions,
  type SrsTransport,
} from './recording-session-options.js';
import { DIALOG_STATES, FINAL_STATES, RECORDING_SESSION_TRANSITIONS, type RecordingSessionState } from './recording-session-state.js';
import type {
  AttemptRecord,
  RecordingEstablished,
  RecordingFailure,
  RecordingFailureReason,
  RecordingRequestKind,
  RecordingRequestResult,
  RecordingRtpTargets,
  RecordingSessionEvents,
  RecordingStartOutcome,
} from './recording-session-types.js';
import { SessionWaits } from './session-waits.js';
import { SrsInviteError, type PendingSrsInvite, type SrsBody, type SrsDialog, type SrsInDialogRequest, type SrsInviteFailure } from './srs-connector-types.js';

type Direction = OfferDirection;
/** RFC 3261 section 14.1: 408 or 481 to a re-INVITE means the dialog is gone. */
const isDialogLost = (status: number): boolean => status === 408 || status === 481;

/**
 * The recording-session client: the SRC side of RFC 7866 for one recorded call, with an explicit
 * state machine (recording-session-state.ts; drawn in docs/siprec-client.md).
 *
 * - start(): INVITE with `Require: siprec`, `+sip.src` and the multipart body (SDP offer with two
 *   sendonly labelled m-lines + complete metadata). Ordered failover over the targets on timeout
 *   (default 4 s per attempt), 408, 5xx and transport errors, at most `maxAttempts` (default 3),
 *   within the start deadline (default 10 s). Never blocks the call: it returns at once with
 *   a promise of the outcome that never rejects; `established` gives the media plane the SRS's RTP
 *   addresses for labels 1 and 2; `failed` carries the R-40 policy to apply.
 * - pause()/resume(): re-INVITE with `a=inactive`/`a=sendonly` and updated metadata;
 *   a refusal rolls the state and the metadata back. The media plane stops forwarding before
 *   calling pause().
 * - updateMetadata()/transferParticipant(): complete snapshots in re-INVITEs.
 * - One INVITE transaction at a time; a 491 is retried after the RFC 3261 section 14.1 back-off
 *   (2.1-4 s: the SRC owns the Call-ID), at most `maxGlareRetries` (default 3) times. A re-INVITE
 *   from the SRS while ours is in flight is answered 491.
 * - The SRS's own re-INVITE/UPDATE is answered (SDP answer; snapshot request answered 200 and
 *   followed by a complete snapshot, RFC 7866 section 9.3); its BYE fails the session.
 * - stop(): while inviting, CANCELs the pending INVITE; once established, sends a final complete
 *   snapshot (stop-time, disassociate-times) in a re-INVITE and then BYE, bounded by
 *   `stopTimeoutMs` (default 5 s). close() is the abrupt, idempotent variant (BYE, no snapshot).
 *
 * The re-INVITE queue with its glare retries is recording-offers.ts, the reading of the SRS's SDP
 * recording-answer.ts, the bounded waits session-waits.ts; this class keeps the state machine,
 * the INVITE with its failover, the pause/resume/metadata requests and the stop.
 *
 * Size: ~660 lines, one file because those four move one state machine over one dialog; the
 * doc comments of the public methods (what each request carries, R-ids) are a third of it.
 */
export class RecordingSession extends TypedEmitter<RecordingSessionEvents> {
  readonly #o: RecordingSessionOptions;
  readonly #log: Logger;
  readonly #model: RecordingMetadataModel;
  readonly #sdpSessionId: string;
  readonly #attemptTimeoutMs: number;
  readonly #startDeadlineMs: number;
  readonly #maxAttempts: number;
  readonly #stopTimeoutMs: number;

  readonly #sm: StateMachine<RecordingSessionState>;
  #closed = false;
  #dialog: SrsDialog | undefined;
  #transport: SrsTransport = 'udp';
  #pending: PendingSrsInvite | undefined;
  #attemptToken = 0;
  /** Stops the current attempt's timer (a timer of `inviting`). */
  #stopAttemptTimer: (() => void) | undefined;
  #attempts: AttemptRecord[] = [];
  #startedAt = 0;
  #sdpVersion = 0;
  #metadataVersion = 0;
  readonly #offers: RecordingOffers;
  #targets: RecordingRtpTargets | undefined;
  #established: RecordingEstablished | undefined;
  #startPromise: Promise<RecordingStartOutcome> | undefined;
  #resolveStart: ((o: RecordingStartOutcome) => void) | undefined;
  #failure: RecordingFailure | undefined;
  #stopPromise: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  /** Back-off sleeps and bounded waits; settled early when the session ends. */
  readonly #waits: SessionWaits;

  constructor(options: RecordingSessionOptions) {
    super();
    if (options.targets.length === 0) throw new AppError('SIPREC_CLIENT_OPTIONS_INVALID', 'at least one recording server is required');
    if (options.srtp && !options.media.crypto) throw new AppError('SIPREC_CLIENT_OPTIONS_INVALID', 'SRTP requires SDES keys for both streams (R-42)');
    this.#o = options;
    this.#model = options.metadata;
    this.#log = (options.logger ?? silentLogger).child({ component: 'siprec-client', siprecSessionId: options.sessionId ?? 'rec' });
    this.#sdpSessionId = options.sdpSessionId ?? String(Math.floor(options.clock.now()));
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.#startDeadlineMs = options.startDeadlineMs ?? DEFAULT_START_DEADLINE_MS;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.#waits = new SessionWaits(options.timers);
    this.#offers = new RecordingOffers({
      dialog: () => this.#dialog,
      inDialog: () => DIALOG_STATES.has(this.#sm.state),
      metadataVersion: () => this.#metadataVersion,
      buildBody: (direction) => this.#buildBody(direction),
      headers: () => reinviteHeaders(options.contactUser ?? DEFAULT_CONTACT_USER, this.#transport, options.dialect),
      onAnswer: (sdp) => this.#applyAnswer(sdp),
      log: this.#log,
      waits: this.#waits,
      random: options.random ?? Math.random,
      modifyTimeoutMs: options.modifyTimeoutMs ?? DEFAULT_MODIFY_TIMEOUT_MS,
      maxGlareRetries: options.maxGlareRetries ?? DEFAULT_MAX_GLARE_RETRIES,
    });
    this.onListenerError = (err, event) => this.#log.error({ err, event }, 'recording session listener threw');
    this.#sm = new StateMachine({
      name: 'recording session',
      initial: 'idle',
      table: RECORDING_SESSION_TRANSITIONS,
      log: this.#log,
      timers: options.timers,
      onChange: (from, to) => {
        if (from === 'inviting') {
          this.#stopAttemptTimer = undefined;
          this.#pending = undefined;
        }
        this.emit('state', from, to);
      },
      dispose: () => this.#dispose(),
    });
  }

  get state(): RecordingSessionState {
    return this.#sm.state;
  }

  /** The SIPREC client's id of this session (options.sessionId): the `siprecSessionId` of the logs. */
  get sessionId(): string {
    return this.#o.sessionId ?? 'rec';
  }

  /** How the session was established (the recording server's answer); undefined before the 200. */
  get established(): RecordingEstablished | undefined {
    return this.#established;
  }

  /** The SRS's RTP addresses once established. */
  get rtpTargets(): RecordingRtpTargets | undefined {
    return this.#targets;
  }

  /** Every INVITE attempt so far. */
  get attempts(): readonly AttemptRecord[] {
    return this.#attempts;
  }

  get failure(): RecordingFailure | undefined {
    return this.#failure;
  }

  // ------------------------------------------------------------------ state machine

  /** Moves the machine (the attempt and deadline timers are timers of `inviting`: leaving it stops them). */
  #transition(next: RecordingSessionState): void {
    this.#sm.transition(next);
  }

  /** Final state (the machine's dispose hook): wake waiters, detach from the dialog, settle start(). */
  #dispose(): void {
    this.#waits.settleAll();
    if (this.#dialog) this.#dialog.removeAllListeners();
    this.#settleStart({ established: false, failure: this.#failure, state: this.#sm.state });
  }

  #settleStart(outcome: RecordingStartOutcome): void {
    const resolve = this.#resolveStart;
    this.#resolveStart = undefined;
    resolve?.(outcome);
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new AppError('CLOSED', `recording session: ${what}`);
  }

  // ------------------------------------------------------------------ start and failover

  /**
   * Starts the recording INVITE and returns at once. The promise resolves when the session is
   * established, has failed, or was stopped first; it never rejects.
   */
  start(): Promise<RecordingStartOutcome> {
    this.#assertOpen('start');
    if (this.#startPromise) return this.#startPromise;
    if (this.#sm.state !== 'idle') return Promise.resolve({ established: false, failure: this.#failure, state: this.#sm.state });
    this.#startPromise = new Promise((resolve) => (this.#resolveStart = resolve));
    this.#startedAt = this.#o.clock.monotonic();
    this.#transition('inviting');
    this.#sm.after(this.#startDeadlineMs, () => this.#onStartDeadline());
    this.#attempt(0);
    return this.#startPromise;
  }

  #attemptLimit(): number {
    return Math.max(1, Math.min(this.#maxAttempts, this.#o.targets.length));
  }

  #attempt(index: number): void {
    const target = this.#o.targets[index]!;
    const uri = targetRequestUri(target);
    const transport = targetTransport(target);
    const token = ++this.#attemptToken;
    const sentAt = this.#o.clock.monotonic();
    const metadataVersion = this.#metadataVersion;
    const headers = initialInviteHeaders(this.#o.contactUser ?? DEFAULT_CONTACT_USER, transport, this.#o.extraHeaders, this.#o.dialect);
    this.#log.info({ attempt: index, target: uri }, 'recording INVITE');
    let pending: PendingSrsInvite;
    try {
      const body = this.#buildBody('sendonly');
      pending = this.#o.connector.invite(
        { target: uri, headers, body },
        {
          timeoutMs: this.#attemptTimeoutMs,
          onProvisional: (status, reason) => this.#log.debug({ attempt: index, status, reason }, 'recording INVITE provisional'),
        },
      );
    } catch (err) {
      this.#attemptFailed(index, uri, sentAt, { kind: 'transport', detail: (err as Error).message });
      return;
    }
    this.#pending = pending;
    this.#stopAttemptTimer = this.#sm.after(this.#attemptTimeoutMs, () => {
      if (token !== this.#attemptToken || this.#sm.state !== 'inviting') return;
      pending.cancel();
      this.#attemptFailed(index, uri, sentAt, { kind: 'timeout' });
    });
    pending.result.then(
      (dialog) => this.#onAnswered(token, index, uri, transport, sentAt, metadataVersion, dialog),
      (err: unknown) => {
        if (token !== this.#attemptToken || this.#sm.state !== 'inviting') return;
        const failure: SrsInviteFailure = err instanceof SrsInviteError ? err.failure : { kind: 'transport', detail: String((err as Error)?.message ?? err) };
        this.#attemptFailed(index, uri, sentAt, failure);
      },
    );
  }

  #record(index: number, uri: string, sentAt: number, outcome: AttemptRecord['outcome']): AttemptRecord {
    const record: AttemptRecord = { attempt: index, target: uri, outcome, elapsedMs: this.#o.clock.monotonic() - sentAt };
    this.#attempts.push(record);
    return record;
  }

  #attemptFailed(index: number, uri: string, sentAt: number, outcome: AttemptOutcome): void {
    this.#attemptToken++; // whatever the old attempt still reports is stale now
    this.#stopAttemptTimer?.();
    this.#stopAttemptTimer = undefined;
    this.#pending = undefined;
    const record = this.#record(index, uri, sentAt, outcome);
    this.#log.warn({ attempt: index, target: uri, outcome }, 'recording INVITE attempt failed');
    this.emit('attemptFailed', record);
    if (this.#sm.state !== 'inviting') return;
    if (shouldFailover(outcome, this.#o.extraFailoverStatuses) && index + 1 < this.#attemptLimit()) {
      this.#attempt(index + 1);
      return;
    }
    const reason: RecordingFailureReason = outcome.kind === 'answer-unusable' ? 'answer-unusable' : 'no-recording-server';
    this.#fail(reason, describeOutcome(outcome));
  }

  #onAnswered(token: number, index: number, uri: string, transport: SrsTransport, sentAt: number, metadataVersion: number, dialog: SrsDialog): void {
    if (token !== this.#attemptToken || this.#sm.state !== 'inviting') {
      // Stale: we moved on (timeout, stop) but the 200 still won; do not leave that dialog up.
      void dialog.bye().catch(() => undefined);
      return;
    }
    let targets: RecordingRtpTargets;
    try {
      targets = this.#targetsFromAnswer(dialog.answerSdp);
    } catch (err) {
      void dialog.bye().catch(() => undefined);
      this.#attemptFailed(index, uri, sentAt, { kind: 'answer-unusable', detail: (err as Error).message });
      return;
    }
    this.#dialog = dialog;
    this.#transport = transport;
    this.#targets = targets;
    this.#offers.established(metadataVersion);
    dialog.on('request', (req) => this.#onSrsRequest(req));
    dialog.on('bye', (reason) => this.#onSrsBye(reason));
    this.#record(index, uri, sentAt, { kind: 'established' });
    this.#transition('active');
    const info: RecordingEstablished = {
      target: uri,
      attempt: index,
      callId: dialog.callId,
      targets,
      setupMs: this.#o.clock.monotonic() - this.#startedAt,
      answer: dialog.answer ?? { status: 200 },
    };
    this.#established = info;
    this.#log.info({ siprecCallId: dialog.callId, srsRecordingId: info.answer.srsRecordingId, srsContact: info.answer.contact, target: uri }, 'recording session established');
    this.emit('established', info);
    this.#settleStart({ established: true, info });
    // Metadata changed while the INVITE was in flight: send it now.
    if (!this.#offers.metadataSent) void this.#enqueueUpdate('update');
  }

  /** Maps the SRS's SDP to the two RTP targets; throws when nothing usable was accepted. */
  #targetsFromAnswer(sdp: string): RecordingRtpTargets {
    return targetsFromAnswer(sdp, this.#o.srtp ?? false);
  }

  #onStartDeadline(): void {
    if (this.#sm.state !== 'inviting') return;
    this.#attemptToken++;
    this.#pending?.cancel();
    this.#fail('start-deadline', `no recording server answered within ${this.#startDeadlineMs} ms`);
  }

  #fail(reason: RecordingFailureReason, detail: string): void {
    if (FINAL_STATES.has(this.#sm.state) || this.#sm.state === 'stopping') return;
    const phase = this.#sm.state === 'inviting' ? 'start' : 'mid-call';
    const failure: RecordingFailure = {
      code: phase === 'start' ? 'SIPREC_CLIENT_SRS_UNAVAILABLE' : 'SIPREC_CLIENT_SRS_LOST',
      reason,
      phase,
      policy: this.#o.failurePolicy ?? 'proceedWithoutAnnouncement',
      attempts: [...this.#attempts],
      detail,
    };
    this.#failure = failure;
    this.#log.warn({ reason, phase, policy: failure.policy, detail }, 'recording session failed');
    this.#transition('failed');
    this.emit('failed', failure);
  }

  // ------------------------------------------------------------------ offers (re-INVITEs)

  #buildBody(direction: Direction): SrsBody {
    return buildRecordingBody({
      media: this.#o.media,
      srtp: this.#o.srtp ?? false,
      sdpSessionId: this.#sdpSessionId,
      sdpVersion: this.#sdpVersion++,
      direction,
      metadata: this.#model,
      dialect: this.#o.dialect ?? 'rfc7865',
      legacyMetadataContentType: this.#o.legacyMetadataContentType ?? false,
      boundarySeed: this.#o.sessionId ?? 'rec',
    });
  }

  /** The direction a generic update should carry in the current state. */
  #desiredDirection(): Direction {
    switch (this.#sm.state) {
      case 'pausing':
      case 'paused':
        return 'inactive';
      case 'resuming':
      case 'active':
        return 'sendonly';
      default:
        return this.#offers.confirmedDirection;
    }
  }

  #applyAnswer(sdp: string | undefined): void {
    if (!sdp) return;
    let targets: RecordingRtpTargets;
    try {
      targets = this.#targetsFromAnswer(sdp);
    } catch (err) {
      this.#log.warn({ err }, 'unusable SDP answer from the recording server; keeping the previous targets');
      return;
    }
    if (!sameTargets(this.#targets, targets)) {
      this.#targets = targets;
      this.emit('targetsChanged', targets);
    }
  }

  /** A 408/481 (or silence) on a re-INVITE: the dialog is gone; BYE for good measure, then fail. */
  #lost(kind: RecordingRequestKind, status: number): void {
    const dialog = this.#dialog;
    this.#dialog = undefined;
    if (status === 408 && dialog) void dialog.bye().catch(() => undefined);
    if (this.#sm.state === 'stopping') return;
    this.#fail('dialog-lost', `${kind} re-INVITE got ${status}`);
  }

  #enqueueUpdate(kind: 'update' | 'snapshot'): Promise<RecordingRequestResult> {
    return this.#offers.enqueue(async () => {
      if (kind === 'update' && this.#offers.metadataSent) {
        return { ok: true, status: 0, detail: 'already sent' };
      }
      const res = await this.#offers.send(kind, () => this.#desiredDirection());
      if (res === 'aborted') return { ok: false, status: 0, detail: `session ${this.#sm.state}` };
      if (isSuccess(res.status)) return { ok: true, status: res.status, detail: res.reason };
      if (isDialogLost(res.status)) this.#lost(kind, res.status);
      else this.emit('refused', kind, res.status);
      return { ok: false, status: res.status, detail: res.reason };
    });
  }

  // ------------------------------------------------------------------ pause / resume / metadata

  /**
   * Pauses the recording: re-INVITE with `a=inactive` and a pause record in the
   * metadata. Stop forwarding media before calling it. On refusal the state returns to active and
   * the pause record is removed (`refused` is emitted). Paused or pausing already: ok at once.
   */
  async pause(): Promise<RecordingRequestResult> {
    this.#assertOpen('pause');
    if (this.#sm.state === 'paused' || this.#sm.state === 'pausing') return { ok: true, status: 0, detail: 'already paused' };
    if (this.#sm.state !== 'active') throw new AppError('ILLEGAL_STATE_TRANSITION', `pause in state ${this.#sm.state}`);
    this.#transition('pausing');
    const at = this.#o.clock.now();
    startPause(this.#model, at);
    this.#metadataVersion++;
    const res = await this.#offers.enqueue(() => this.#offers.send('pause', () => 'inactive'));
    return this.#settleDirectionChange('pause', res, 'pausing', 'paused', 'active', () => undoStartPause(this.#model, at));
  }

  /** Resumes (re-INVITE with `a=sendonly`, pause closed in the metadata); rolled back on refusal. */
  async resume(): Promise<RecordingRequestResult> {
    this.#assertOpen('resume');
    if (this.#sm.state === 'active' || this.#sm.state === 'resuming') return { ok: true, status: 0, detail: 'already active' };
    if (this.#sm.state !== 'paused') throw new AppError('ILLEGAL_STATE_TRANSITION', `resume in state ${this.#sm.state}`);
    this.#transition('resuming');
    const at = this.#o.clock.now();
    endPause(this.#model, at);
    this.#metadataVersion++;
    const res = await this.#offers.enqueue(() => this.#offers.send('resume', () => 'sendonly'));
    return this.#settleDirectionChange('resume', res, 'resuming', 'active', 'paused', () => undoEndPause(this.#model, at));
  }

  #settleDirectionChange(
    kind: 'pause' | 'resume',
    res: OfferOutcome,
    during: RecordingSessionState,
    done: RecordingSessionState,
    rollbackTo: RecordingSessionState,
    undoMetadata: () => void,
  ): RecordingRequestResult {
    if (res === 'aborted' || this.#sm.state !== during) return { ok: false, status: res === 'aborted' ? 0 : res.status, detail: `session ${this.#sm.state}` };
    if (isSuccess(res.status)) {
      this.#transition(done);
      this.emit(kind === 'pause' ? 'paused' : 'resumed');
      return { ok: true, status: res.status, detail: res.reason };
    }
    if (isDialogLost(res.status)) {
      this.#lost(kind, res.status);
      return { ok: false, status: res.status, detail: res.reason };
    }
    undoMetadata();
    this.#log.warn({ kind, status: res.status }, 're-INVITE refused: rolled back');
    this.#transition(rollbackTo);
    this.emit('refused', kind, res.status);
    return { ok: false, status: res.status, detail: res.reason };
  }

  /**
   * Applies `change` to the metadata model and sends a complete snapshot (re-INVITE). Before the
   * session is established the change rides on the INVITE (or follows right after the 200); while
   * stopping it goes into the final snapshot.
   */
  async updateMetadata(change?: (model: RecordingMetadataModel) => void): Promise<RecordingRequestResult> {
    this.#assertOpen('updateMetadata');
    if (FINAL_STATES.has(this.#sm.state)) return { ok: false, status: 0, detail: `session ${this.#sm.state}` };
    change?.(this.#model);
    this.#metadataVersion++;
    if (this.#sm.state === 'idle' || this.#sm.state === 'inviting' || this.#sm.state === 'stopping') return { ok: true, status: 0, detail: 'deferred' };
    return this.#enqueueUpdate('update');
  }

  /**
   * Transfer (spec siprec.md): the same recording session continues; the party that left is
   * disassociated and the new one takes over its streams. No announcement is replayed.
   */
  async transferParticipant(leavingId: MetadataId, joining: ParticipantInit): Promise<RecordingRequestResult> {
    this.#assertOpen('transferParticipant');
    const at = this.#o.clock.now();
    let replaced = false;
    const res = await this.updateMetadata((m) => {
      replaced = replaceParticipant(m, leavingId, joining, at);
    });
    return replaced ? res : { ok: false, status: 0, detail: `participant ${leavingId} is not active` };
  }

  // ------------------------------------------------------------------ requests from the SRS

  #onSrsRequest(req: SrsInDialogRequest): void {
    if (!DIALOG_STATES.has(this.#sm.state)) {
      req.respond(481);
      return;
    }
    let parsed: ReturnType<typeof parseSiprecBody>;
    try {
      parsed = parseSiprecBody(req.contentType, req.body);
    } catch {
      req.respond(400);
      return;
    }
    if (this.#offers.inFlight && (req.method === 'INVITE' || parsed.sdp !== undefined)) {
      // Glare (RFC 3261 section 14.1, RFC 3311 section 5.2): our offer is pending; the SRS retries
      // after its own back-off.
      req.respond(491);
      return;
    }
    const direction = this.#desiredDirection();
    if (parsed.sdp !== undefined) {
      let targets: RecordingRtpTargets;
      try {
        targets = this.#targetsFromAnswer(parsed.sdp);
      } catch {
        req.respond(488);
        return;
      }
      req.respond(200, sdpBody(this.#currentSdp(direction)), reinviteHeaders(this.#o.contactUser ?? DEFAULT_CONTACT_USER, this.#transport, this.#o.dialect));
      if (!sameTargets(this.#targets, targets)) {
        this.#targets = targets;
        this.emit('targetsChanged', targets);
      }
    } else if (req.method === 'INVITE') {
      // Offerless re-INVITE: our offer goes in the 200 (the SRS answers in the ACK).
      req.respond(200, sdpBody(this.#currentSdp(direction)), reinviteHeaders(this.#o.contactUser ?? DEFAULT_CONTACT_USER, this.#transport, this.#o.dialect));
    } else {
      req.respond(200);
    }
    if (parsed.metadataRequest !== undefined) {
      let reason: string | undefined;
      try {
        reason = parseSnapshotRequest(parsed.metadataRequest).reason;
      } catch {
        reason = undefined;
      }
      this.#log.info({ reason }, 'recording server requested a metadata snapshot');
      this.emit('snapshotRequested', reason);
      if (this.#sm.state !== 'stopping') void this.#enqueueUpdate('snapshot');
    }
  }

  #currentSdp(direction: Direction): string {
    return buildRecordingSdp({
      media: this.#o.media,
      srtp: this.#o.srtp ?? false,
      sdpSessionId: this.#sdpSessionId,
      sdpVersion: this.#sdpVersion++,
      direction,
    });
  }

  #onSrsBye(reason: string): void {
    this.#log.warn({ reason, state: this.#sm.state }, 'recording server ended the recording session');
    this.#dialog = undefined;
    if (this.#sm.state === 'stopping') {
      this.#transition('stopped');
      this.emit('stopped', 'stop');
      return;
    }
    if (DIALOG_STATES.has(this.#sm.state)) this.#fail('srs-bye', `BYE from the recording server (${reason})`);
  }

  // ------------------------------------------------------------------ stop / close

  /**
   * Ends the recording cleanly. Inviting: CANCEL the pending INVITE. Established: wait for
   * the re-INVITE in flight, send the final complete snapshot (stop-time, disassociate-times), then
   * BYE; all within `stopTimeoutMs`. Idempotent; resolves once stopped.
   */
  stop(): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    switch (this.#sm.state) {
      case 'idle':
        this.#transition('stopped');
        this.emit('stopped', 'stop');
        this.#stopPromise = Promise.resolve();
        break;
      case 'inviting':
        this.#cancelPending();
        this.#transition('stopped');
        this.emit('stopped', 'cancelled');
        this.#stopPromise = Promise.resolve();
        break;
      case 'stopped':
      case 'failed':
        this.#stopPromise = Promise.resolve();
        break;
      default:
        this.#transition('stopping');
        this.#stopPromise = this.#gracefulStop();
    }
    return this.#stopPromise;
  }

  #cancelPending(): void {
    this.#attemptToken++;
    this.#log.info('stopping while the recording INVITE is pending: CANCEL');
    this.#pending?.cancel();
  }

  async #gracefulStop(): Promise<void> {
    finaliseRecordingMetadata(this.#model, this.#o.clock.now());
    this.#metadataVersion++;
    const final = this.#offers.enqueue(async () => {
      const res = await this.#offers.send('final-snapshot', () => this.#offers.confirmedDirection);
      if (res !== 'aborted' && isDialogLost(res.status)) this.#lost('final-snapshot', res.status);
    });
    await this.#waits.bounded(final, this.#stopTimeoutMs, undefined);
    if (this.#sm.state !== 'stopping') return;
    const dialog = this.#dialog;
    this.#dialog = undefined;
    if (dialog) {
      dialog.removeAllListeners();
      await this.#waits.bounded(dialog.bye(), this.#stopTimeoutMs, undefined);
    }
    if (this.#sm.state === 'stopping') {
      this.#transition('stopped');
      this.emit('stopped', 'stop');
    }
  }

  /**
   * Abrupt, idempotent end: CANCEL a pending INVITE or BYE the dialog (no final snapshot; use
   * stop() for that), then `stopped` with reason 'close'. Methods called afterwards reject.
   */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closed = true;
    let bye: Promise<void> = Promise.resolve();
    if (this.#sm.state === 'inviting') this.#cancelPending();
    if (DIALOG_STATES.has(this.#sm.state)) {
      const dialog = this.#dialog;
      this.#dialog = undefined;
      if (dialog) {
        dialog.removeAllListeners();
        bye = dialog.bye().catch(() => undefined);
      }
    }
    if (!FINAL_STATES.has(this.#sm.state)) {
      this.#transition('stopped');
      this.emit('stopped', 'close');
    }
    this.#closePromise = bye;
    return bye;
  }
}
