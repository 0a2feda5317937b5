import { systemClock, systemTimers, type Clock, type Timers } from '../common/clock.js';
import { AppError } from '../common/errors.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { callLogger, type Logger } from '../observability/logger.js';
import { noopCallMetrics, type CallMetrics, type CallStats } from '../observability/metrics-types.js';
import { noopRecordingEvents, type RecordingEventSink } from '../observability/recording-event-types.js';
import { decideCall } from '../policy/call-decision.js';
import { createPolicyDirectory, type PolicyDirectory } from '../policy/policy-directory.js';
import type { PolicySnapshot } from '../policy/policy-types.js';
import type { AccessControl, CallSlotDecision } from '../sip/access-control.js';
import { admitInvite, knownSourceRole } from '../sip/admission.js';
import { identityAllowed, isStaleFailure, type DigestAuthenticator } from '../sip/digest-auth.js';
import { DigestLockout } from '../sip/digest-lockout.js';
import type { InboundInvite, SignalingPort } from '../sip/b2bua-types.js';
import { routeLegB } from '../sip/b2bua-routing.js';
import { resolveCallOptions, type CallLayerOptions, type ResolvedCallOptions } from './call-options.js';
import type { MediaFactory, PolicySource, PromptSource, RecordingPortFactory } from './call-ports.js';
import { CallSession, type CallSummary } from './call-session.js';
import { parseReplaces } from './tasks/transfer.js';
import type { ControlResult } from './recording-controller.js';
import type { RecordingAction } from './recording-controls.js';

/**
 * The call layer's entry: every new INVITE is admitted (src/sip/admission.ts), decided
 * (src/policy/call-decision.ts), routed (src/sip/b2bua-routing.ts) and run as a CallSession. Keeps
 * the live calls for the admin API (GET /v1/calls, POST /v1/calls/{id}/recording).
 *
 *   INVITE -> admission (403 unknown source / caller, 404 unknown number)
 *          -> decision  -> route (503 when there is none) -> CallSession.run()
 */
export interface CallManagerDeps {
  readonly signaling: SignalingPort;
  readonly policy: PolicySource;
  readonly media: MediaFactory;
  readonly prompts: PromptSource;
  readonly recording: RecordingPortFactory;
  readonly options?: CallLayerOptions;
  /** Default the system clock and timers. */
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly logger: Logger;
  /** Counters (src/observability/metrics.ts `metrics.calls`); default none. */
  readonly metrics?: CallMetrics;
  /** The recording event log (src/observability/recording-events.ts); default none. */
  readonly events?: RecordingEventSink;
  /**
   * The concurrent-call limit (src/sip/access-control.ts acquireCall); default none. The source
   * ACL and rate limit run earlier, on every request, in the SIP server's request gate
   * (src/sip/access-gate.ts), not here.
   */
  readonly access?: AccessControl;
  /**
   * Digest authentication of user agents that are neither trunks nor trusted sources
   * (src/sip/digest-auth.ts; config calls.digestRealm); default none = off.
   */
  readonly digest?: DigestAuthenticator;
  /**
   * Limits password guessing (src/sip/digest-lockout.ts; config calls.digestMaxFailures,
   * calls.digestLockoutSeconds). Default with digest on: 5 failures per user, 20 per source, 60 s.
   */
  readonly digestLockout?: DigestLockout;
}

export class CallManager {
  readonly #d: CallManagerDeps;
  readonly #options: ResolvedCallOptions;
  readonly #calls = new Map<string, CallSession>();
  /** One directory per snapshot list: rebuilt only when the settings change (the source hands out a new list). */
  readonly #directories = new WeakMap<readonly PolicySnapshot[], PolicyDirectory>();
  readonly #log: Logger;
  readonly #metrics: CallMetrics;
  readonly #lockout: DigestLockout | undefined;
  /**
   * 'changed' with a call's id when a call starts, changes state, has a recording event (started,
   * paused, resumed, stopped, failed; then the id the event carries) or ends: the admin API's live
   * feed (GET /v1/calls/events), which sends the whole list again, whichever call it was.
   */
  readonly changes = new TypedEmitter<{ changed: [callId: string] }>();
  #closed = false;
  #drain: { promise: Promise<number>; check: () => void; endsAt: number } | undefined;

  constructor(deps: CallManagerDeps) {
    this.#d = deps;
    this.#lockout = deps.digest ? (deps.digestLockout ?? new DigestLockout({}, deps.clock ?? systemClock)) : undefined;
    this.#metrics = deps.metrics ?? noopCallMetrics;
    this.#options = resolveCallOptions(deps.options);
    this.#log = deps.logger.child({ component: 'calls' });
  }

  /** Start taking INVITEs. */
  attach(): this {
    this.#d.signaling.onInvite((invite) => void this.#onInvite(invite));
    this.#d.signaling.onReconnect(() => void this.auditDialogs());
    return this;
  }

  /**
   * After the link to the SIP server came back: asks every connected call whether its dialogs still
   * exist (in-dialog OPTIONS, CallSession.probeLegs). A party that hung up while the link was down
   * had its BYE answered by the SIP server without the app; its call is ended now, the other party
   * gets a BYE and the recording stops with its final metadata. A few calls at a time, so a
   * reconnect with many calls in progress sends no burst. Resolves with the number of calls ended.
   */
  async auditDialogs(): Promise<number> {
    const calls = [...this.#calls.values()];
    this.#log.info({ calls: calls.length }, 'link to the SIP server is back: checking the dialogs of the calls in progress');
    let next = 0;
    let ended = 0;
    const worker = async (): Promise<void> => {
      while (next < calls.length) if (await calls[next++]!.probeLegs()) ended++;
    };
    await Promise.all(Array.from({ length: Math.min(AUDIT_CONCURRENCY, calls.length) }, worker));
    if (ended > 0) this.#log.warn({ ended }, 'calls whose party hung up while the link was down were ended');
    return ended;
  }

  #directoryOf(snapshots: readonly PolicySnapshot[]): PolicyDirectory {
    let directory = this.#directories.get(snapshots);
    if (!directory) {
      directory = createPolicyDirectory(snapshots);
      this.#directories.set(snapshots, directory);
    }
    return directory;
  }

  async #onInvite(invite: InboundInvite): Promise<void> {
    const log = callLogger(this.#log, invite.callId);
    if (this.#closed || this.#drain) {
      this.#metrics.callRejected('shutting-down');
      return invite.reject(503, undefined, this.#drain ? retryAfter(this.retryAfterSec) : undefined);
    }
    const access = this.#d.access;
    let slot: CallSlotDecision | undefined;
    try {
      const snapshots = await this.#d.policy.snapshots();
      const authenticated = this.#authenticate(invite, snapshots, log);
      if (authenticated === undefined) return;
      const replaces = invite.header('Replaces');
      if (replaces) return await this.#onReplaces(invite, replaces, log);
      const admission = admitInvite(
        {
          sourceAddress: invite.sourceAddress,
          sourcePort: invite.sourcePort,
          from: invite.from,
          to: invite.to,
          requestUri: invite.requestUri,
          ...optional('pAssertedIdentity', invite.header('P-Asserted-Identity')),
          ...optional('diversion', invite.header('Diversion')),
          ...optional('historyInfo', invite.header('History-Info')),
          authenticated,
        },
        snapshots,
        this.#directoryOf(snapshots),
        this.#options.admission,
      );
      if (!admission.admitted) {
        log.info({ status: admission.status, reason: admission.reason, source: `${invite.sourceAddress}:${invite.sourcePort}` }, 'INVITE refused');
        this.#metrics.callRejected(admission.status === 404 ? 'not-found' : 'forbidden');
        return invite.reject(admission.status);
      }
      const decision = decideCall(admission.snapshot, admission.classified.input);
      const uri = routeLegB(admission, this.#options.routing);
      if (!uri) {
        log.warn({ input: admission.classified.input }, 'no route for leg B');
        this.#metrics.callRejected('no-route');
        return invite.reject(503);
      }
      slot = access?.acquireCall();
      if (slot?.action === 'reject') {
        log.warn({ reason: slot.reason }, 'call refused: concurrent-call limit');
        this.#metrics.callRejected(slot.reason);
        return invite.reject(slot.status, undefined, retryAfter(slot.retryAfterSec));
      }
      log.info({ direction: decision.direction, record: decision.record, compliance: decision.compliance.play, legB: uri }, 'call admitted');
      const session = new CallSession({
        invite,
        admission,
        decision,
        legBUri: uri,
        signaling: this.#d.signaling,
        mediaFactory: this.#d.media,
        prompts: this.#d.prompts,
        recording: this.#d.recording,
        options: this.#options,
        clock: this.#d.clock ?? systemClock,
        timers: this.#d.timers ?? systemTimers,
        log,
        metrics: this.#metrics,
        events: this.#eventsNotifying,
        settings: () => this.#settingsOf(admission.classified.orgId),
      });
      this.#metrics.callStarted(decision.direction);
      this.#calls.set(session.id, session);
      this.changes.emit('changed', session.id);
      session.on('state', () => this.changes.emit('changed', session.id));
      const release = slot?.action === 'allow' ? slot.release : undefined;
      session.once('ended', () => {
        this.#calls.delete(session.id);
        this.changes.emit('changed', session.id);
        release?.();
        this.#drain?.check();
      });
      await session.run();
    } catch (err) {
      log.error({ err }, 'INVITE handling failed');
      if (slot?.action === 'allow') slot.release();
      invite.reject((err as AppError).sipStatus ?? 500);
    }
  }

  /** An organisation's current settings and the directory (a party who joins a call by transfer is evaluated with them). */
  async #settingsOf(orgId: string): Promise<{ snapshot: PolicySnapshot; directory: PolicyDirectory } | undefined> {
    const snapshots = await this.#d.policy.snapshots();
    const snapshot = snapshots.find((s) => s.org.id === orgId);
    return snapshot ? { snapshot, directory: this.#directoryOf(snapshots) } : undefined;
  }

  /**
   * RFC 3891: an INVITE whose Replaces names a leg of a live call takes that leg's place;
   * 481 when no live call has that leg. The new party is trusted because it knows the dialog.
   */
  async #onReplaces(invite: InboundInvite, replaces: string, log: Logger): Promise<void> {
    const target = parseReplaces(replaces);
    const call = target && [...this.#calls.values()].find((c) => c.hasLeg(target));
    if (!target || !call) {
      log.info({ replaces: target?.callId ?? replaces }, 'INVITE with Replaces for no live dialog: 481');
      return invite.reject(481);
    }
    // RFC 3891 section 3: early-only asks to replace a dialog that is still early; ours are confirmed
    if (target.earlyOnly) return invite.reject(486);
    await call.replaceLeg(invite, target.callId);
  }

  /**
   * RFC 3261 section 22.3: a user agent that is neither a trunk nor a trusted source proves its
   * credentials (407 challenge) and may then call only as one of its identities. True when it did,
   * false when it did not have to (digest off, trunk, trusted source), undefined when the INVITE was
   * refused here. Applies to INVITEs with Replaces too: knowing a dialog's identifiers is no credential.
   */
  #authenticate(invite: InboundInvite, snapshots: readonly PolicySnapshot[], log: Logger): boolean | undefined {
    const digest = this.#d.digest;
    if (!digest || knownSourceRole(snapshots, invite.sourceAddress, invite.sourcePort, this.#options.admission)) return false;
    const source = `${invite.sourceAddress}:${invite.sourcePort}`;
    const lockout = this.#lockout;
    const locked = (): undefined => {
      this.#metrics.callRejected('auth-locked');
      invite.reject(403);
      return undefined;
    };
    if (lockout?.sourceLocked(invite.sourceAddress)) return locked();
    const verdict = digest.verify({ method: 'INVITE', requestUri: invite.requestUri, authorization: invite.header('Proxy-Authorization') });
    if (!verdict.ok && lockout && (verdict.reason === 'bad-response' || verdict.reason === 'unknown-user')) {
      const l = lockout.failed(invite.sourceAddress, verdict.username);
      if (l.newLockout) {
        // once per lockout window: the lockout itself is the event, not each refused guess
        const who = l.newLockout.key === 'user' ? { user: verdict.username } : { source: invite.sourceAddress };
        log.warn({ ...who, failures: l.newLockout.failures, lockSeconds: l.newLockout.lockMs / 1000 }, 'digest authentication: too many failures, locked out');
      }
      if (l.locked) return locked();
    }
    if (verdict.ok && lockout?.succeeded(verdict.username).locked) return locked();
    if (!verdict.ok) {
      this.#metrics.callRejected(verdict.reason === 'missing' || verdict.reason === 'stale' ? 'auth-required' : 'auth-failed');
      log.debug({ source, reason: verdict.reason }, 'INVITE challenged for digest credentials');
      // One row per header name (SipHeaders), and RFC 3261 section 7.3.1 forbids joining challenges: the preferred algorithm is offered.
      invite.reject(407, undefined, { 'Proxy-Authenticate': digest.challenges({ stale: isStaleFailure(verdict.reason) })[0]! });
      return undefined;
    }
    if (!identityAllowed(verdict.identities, invite.from)) {
      this.#metrics.callRejected('auth-identity-mismatch');
      log.info({ source, user: verdict.username }, "INVITE refused: From is not one of the authenticated user's identities");
      invite.reject(403);
      return undefined;
    }
    return true;
  }

  /** The recording event log, telling `changes` too. */
  readonly #eventsNotifying: RecordingEventSink = {
    record: (event) => {
      (this.#d.events ?? noopRecordingEvents).record(event);
      this.changes.emit('changed', event.callId);
    },
  };

  /** Live calls (admin GET /v1/calls). */
  list(): CallSummary[] {
    return [...this.#calls.values()].map((c) => c.summary());
  }

  get(id: string): CallSession | undefined {
    return this.#calls.get(id) ?? [...this.#calls.values()].find((c) => c.callId === id);
  }

  /**
   * R-17 admin control of one recording of a call (`party`: 'caller', 'callee' or the recorded
   * user's id; may be left out when the call has one recording); CALL_NOT_FOUND when there is no
   * such live call.
   */
  async control(id: string, action: RecordingAction, party?: string): Promise<ControlResult> {
    const call = this.get(id);
    if (!call) throw new AppError('CALL_NOT_FOUND', id);
    return call.control(action, party);
  }

  /** Figures for the metrics registry (Metrics.setCallStatsSource); cheap and synchronous. */
  stats(): CallStats {
    let recordingsActive = 0;
    let recordingsPaused = 0;
    let recordingsFailed = 0;
    for (const c of this.#calls.values()) {
      for (const s of c.recordingStates) {
        if (s === 'recording') recordingsActive++;
        else if (s === 'paused') recordingsPaused++;
        else if (s === 'failed') recordingsFailed++;
      }
    }
    return { activeCalls: this.#calls.size, recordingsActive, recordingsPaused, recordingsFailed };
  }

  get size(): number {
    return this.#calls.size;
  }

  /**
   * RFC 3261 section 21.5.4 Retry-After while draining: the drain time left, whole seconds,
   * at least 1 (0 when not draining).
   */
  get retryAfterSec(): number {
    if (!this.#drain) return 0;
    const left = this.#drain.endsAt - (this.#d.clock ?? systemClock).monotonic();
    return Math.max(1, Math.ceil(left / 1000));
  }

  /** Digest lockout figures (metrics); undefined with digest off. */
  lockoutCounters(): ReturnType<DigestLockout['counters']> | undefined {
    return this.#lockout?.counters();
  }

  /** True from drain() or close() on: new INVITEs get 503. */
  get draining(): boolean {
    return this.#closed || this.#drain !== undefined;
  }

  /**
   * Graceful drain (SIGTERM): from now on new INVITEs get 503 with Retry-After; the calls in
   * progress run on until they end by themselves or `maxMs` has passed, and only then are hung up
   * (their recordings stopped with final metadata). Resolves with the number of calls that had to
   * be cut. Idempotent: a second call returns the first drain's promise.
   */
  drain(maxMs: number): Promise<number> {
    if (this.#drain) return this.#drain.promise;
    const timers = this.#d.timers ?? systemTimers;
    let finish: (cut: number) => void = () => undefined;
    const promise = new Promise<number>((resolve) => (finish = resolve));
    let expired = false;
    const deadline = timers.setTimeout(() => {
      expired = true;
      const cut = this.#calls.size;
      this.#log.warn({ calls: cut, drainMs: maxMs }, 'drain time over: ending the remaining calls');
      void this.close().then(() => finish(cut));
    }, maxMs);
    const check = (): void => {
      if (expired || this.#calls.size > 0) return;
      timers.clearTimeout(deadline);
      finish(0);
    };
    this.#drain = { promise, check, endsAt: (this.#d.clock ?? systemClock).monotonic() + maxMs };
    this.#log.info({ calls: this.#calls.size, drainMs: maxMs }, 'draining: new calls get 503');
    check();
    return promise;
  }

  /** Hang up every call; new INVITEs get 503. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#calls.values()].map((c) => c.close('shutdown')));
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** Calls whose dialogs are checked at once after a reconnect (each check is one or two OPTIONS). */
const AUDIT_CONCURRENCY = 16;

function retryAfter(seconds: number | undefined): Record<string, string> | undefined {
  return seconds === undefined ? undefined : { 'Retry-After': String(seconds) };
}
