import type { Clock, Timers } from '../common/clock.js';
import { StateMachine } from '../common/state-machine.js';
import { PAUSE_BEEP, RESUME_BEEP } from '../media/audio/tones.js';
import type { ForkTarget, LegId, MediaSessionEvents } from '../media/media-session-types.js';
import type { Logger } from '../observability/logger.js';
import type { CallMetrics } from '../observability/metrics-types.js';
import type { RecordingEventKind, RecordingEventSink } from '../observability/recording-event-types.js';
import type { PartyRecordingDecision } from '../policy/call-decision-types.js';
import type { RecordIndication } from '../sip/sdp-media.js';
import { RECORDING_TRANSITIONS, type RecordingState } from './call-state.js';
import type {
  AnnouncementNote,
  MediaProblemNote,
  PromptSource,
  RecordingParticipant,
  RecordingPort,
  RecordingPortFactory,
  RecordingStartRequest,
  RecordingStreamTarget,
} from './call-ports.js';
import type { RecordingAction } from './recording-controls.js';
import { linkIds, type RecordingLink } from './recording-link.js';
import type { RecordingMedia } from './recording-media.js';
import { announce } from './tasks/announce.js';

/**
 * The recording of one call: its state machine (call-state.ts), the RecordingPort towards the
 * provider, the fork in the media plane, and the tones and prompts around them.
 *
 * - `start('auto')` when the recorded party answers (always modes); onDemand waits for a control.
 * - start() returns at once; the fork starts when the recording server answers (`established`).
 * - R-40 recording required: startRequired() is the one start the call waits for (before the PSTN
 *   party is connected); its failure is reported to the caller instead of applying the policy.
 * - the start/stop announcement plays to all parties when the decision says so.
 * - pause stops the fork first (nothing reaches the provider), then signals the recording
 *   server; the pause/resume notification (beep or announcement) plays to all parties.
 * - the reminder tone runs while recording, never while paused or stopped.
 * - on failure the provider's policy applies: proceed silently, proceed with the
 *   'recording-stopped' announcement, or that announcement and then the end of the call.
 * - every announcement played or skipped is reported to the recording port (and kept for a
 *   recording that starts later, e.g. the pre-answer compliance announcement).
 */
export interface RecordingControllerDeps {
  /** This recording's view of the call's media (recording-media.ts): its own fork, the shared prompts and reminder tone. */
  readonly media: RecordingMedia;
  readonly prompts: PromptSource;
  readonly factory: RecordingPortFactory;
  readonly party: PartyRecordingDecision;
  /** The leg the recorded user is on. */
  readonly userLeg: LegId;
  readonly request: Omit<RecordingStartRequest, 'local'>;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  /** The record indication changed (R-31: a=record towards record-aware legs). */
  readonly onIndication: (value: RecordIndication) => void;
  /** R-40 endCallWithAnnouncement: the call must end. */
  readonly onEndCall: (reason: string) => void;
  readonly metrics: CallMetrics;
  readonly events: RecordingEventSink;
}

export type ControlResult = { readonly ok: true; readonly state: RecordingState } | { readonly ok: false; readonly state: RecordingState; readonly reason: string };

export class RecordingController {
  readonly #d: RecordingControllerDeps;
  readonly #sm: StateMachine<RecordingState>;
  readonly #notes: AnnouncementNote[] = [];
  #port: RecordingPort | undefined;
  /** Every recording session this controller started, oldest first (the call's recording links). */
  readonly #sessions: RecordingPort[] = [];
  /** R-19 plays of the reminder tone in the current recording session (one metadata entry per recording). */
  #tone: { first: number; count: number } | undefined;
  readonly #onTone = (e: MediaSessionEvents['toneStarted'][0]): void => this.#tonePlayed(e);
  #closed = false;

  constructor(deps: RecordingControllerDeps) {
    this.#d = deps;
    this.#sm = new StateMachine({ name: 'recording', initial: 'idle', table: RECORDING_TRANSITIONS, log: deps.log, timers: deps.timers });
    deps.media.on('toneStarted', this.#onTone);
  }

  get state(): RecordingState {
    return this.#sm.state;
  }

  /** The a=record value the legs should see (RFC 7866 section 6.5). */
  get indication(): RecordIndication {
    if (this.#sm.is('recording', 'starting')) return 'on';
    return this.#sm.is('paused') ? 'paused' : 'off';
  }

  /** Announcements so far. */
  get announcements(): readonly AnnouncementNote[] {
    return this.#notes;
  }

  /** What links the call to each recording session it started, oldest first (GET /v1/calls `recordings`). */
  get recordings(): RecordingLink[] {
    return this.#sessions.flatMap((p) => p.link?.() ?? []);
  }

  /** An event of the latest recording session, with its ids and link (docs/observability.md). */
  #event(event: RecordingEventKind, reason?: string): void {
    const link = this.#sessions.at(-1)?.link?.();
    const detail = { orgId: this.#d.request.orgId, mode: this.#d.party.mode };
    this.#d.events.record({ event, callId: this.#d.request.callId, ...linkIds(link), ...(reason ? { reason } : {}), detail, ...(link ? { recording: { ...link } } : {}) });
  }

  /** Notes of announcements played by the controller itself (the session notes its own). */
  #own(n: AnnouncementNote): void {
    if (n.result === 'played') this.#d.metrics.announcementPlayed(n.kind);
    this.note(n);
  }

  note(n: AnnouncementNote): void {
    this.#notes.push(n);
    this.#port?.announcement(n);
  }

  /** A silent stream (the media plane's silent-leg watch): into the recording's metadata. */
  mediaProblem(n: MediaProblemNote): void {
    this.#port?.mediaProblem(n);
  }

  participantChanged(side: 'other' | 'user', joining: RecordingParticipant): void {
    this.#port?.participantChanged(side, joining);
  }

  /** apply a user / admin control; checks the party's allowed controls. */
  async control(action: RecordingAction): Promise<ControlResult> {
    if (this.#closed) return { ok: false, state: this.state, reason: 'call ended' };
    if (!this.#d.party.controls[action]) return { ok: false, state: this.state, reason: `${action} is not allowed in mode ${this.#d.party.mode}` };
    switch (action) {
      case 'start':
        return this.#sm.is('idle', 'stopped', 'failed') ? (await this.start(), { ok: true, state: this.state }) : this.#refuse('already recording');
      case 'stop':
        return this.#sm.is('starting', 'recording', 'paused') ? (await this.stop(true), { ok: true, state: this.state }) : this.#refuse('not recording');
      case 'pause':
        return this.#sm.is('starting', 'recording') ? (await this.pause(), { ok: true, state: this.state }) : this.#refuse(this.#sm.is('paused') ? 'already paused' : 'not recording');
      case 'resume':
        return this.#sm.is('paused') ? (await this.resume(), { ok: true, state: this.state }) : this.#refuse('not paused');
    }
  }

  #refuse(reason: string): ControlResult {
    return { ok: false, state: this.state, reason };
  }

  /** start the recording (returns once the SIPREC INVITE is on its way, R-34). */
  async start(): Promise<void> {
    if (await this.#open()) await this.#started();
  }

  /**
   * R-40 `endCallWithAnnouncement` ("recording required"): start the recording session before the
   * PSTN party is connected. Resolves 'established' on the recording server's 200, 'failed' on its
   * failure (the policy is NOT applied here: the caller of this method refuses the call) or when
   * the controller is closed meanwhile. With `holdFork` the fork waits for answered() (the parties
   * are not talking yet, R-14). Bound the wait yourself (tasks/recording-gate.ts) and close() on expiry.
   */
  startRequired(holdFork: boolean): Promise<'established' | 'failed'> {
    return new Promise((resolve) => {
      this.#gate = { holdFork, resolve };
      void this.#open().then((ok) => {
        if (!ok) this.#settle('failed');
      });
    });
  }

  /** After startRequired() succeeded and the call was answered: release a held fork, then. */
  async answered(): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    if (held && !this.#closed && this.#sm.is('recording')) {
      // the fork was prepared before the answer: what it kept is early media, not recorded
      await this.#d.media.startFork({ targets: held, sendBuffered: false }).catch((err: unknown) => this.#d.log.error({ err }, 'fork could not start'));
    }
    if (this.#sm.is('recording')) await this.#started();
  }

  /** startRequired() gave up ('timeout': no 200 in time; 'failed': already reported): count it, then close(). */
  async abandon(why: 'failed' | 'timeout'): Promise<void> {
    if (why === 'timeout' && !this.#closed && this.#sm.is('starting')) {
      this.#d.metrics.recordingFailed('srs-timeout');
      this.#event('failed', 'srs-timeout');
      this.#failed('no answer from the recording server in time');
    }
    await this.close();
  }

  #gate: { holdFork: boolean; resolve: (r: 'established' | 'failed') => void } | undefined;
  #held: [ForkTarget, ForkTarget] | undefined;

  #settle(r: 'established' | 'failed'): void {
    const g = this.#gate;
    this.#gate = undefined;
    g?.resolve(r);
  }

  /** starting: fork ports, SIPREC INVITE on its way. False when nothing was started. */
  async #open(): Promise<boolean> {
    const d = this.#d;
    this.#sm.transition('starting');
    d.onIndication('on');
    let local: [{ address: string; rtpPort: number }, { address: string; rtpPort: number }];
    try {
      local = await d.media.prepareFork();
    } catch (err) {
      d.log.error({ err }, 'fork ports unavailable: not recording');
      this.#failed('fork ports unavailable');
      return false;
    }
    if (this.#closed) return false;
    // fork stream 0 carries what leg A says, stream 1 what leg B says; label 2 is the user
    const userIdx = d.userLeg === 'a' ? 0 : 1;
    const port = d.factory({ callId: d.request.callId });
    this.#port = port;
    this.#tone = undefined;
    this.#sessions.push(port);
    port.on('established', (t) => void this.#established(port, t));
    port.on('failed', (f) => void this.#onFailure(port, f.policy, f.detail));
    for (const n of this.#notes) port.announcement(n); // before start: they ride on the first INVITE
    port.start({
      ...d.request,
      local: { address: local[0].address, label1Port: local[1 - userIdx]!.rtpPort, label2Port: local[userIdx]!.rtpPort },
    });
    return true;
  }

  /** R-16 start announcement, R-19 reminder tone. */
  async #started(): Promise<void> {
    await this.#startAnnouncement();
    if (this.#sm.is('starting', 'recording')) await this.#reminder(true);
  }

  async #established(port: RecordingPort, t: { label1: RecordingStreamTarget; label2: RecordingStreamTarget }): Promise<void> {
    if (port !== this.#port || this.#closed || !this.#sm.is('starting', 'paused')) return;
    const toFork = (s: RecordingStreamTarget): ForkTarget => ({
      address: s.accepted ? s.address : '0.0.0.0',
      port: s.accepted ? s.port : 9,
      ...(s.payloadType !== undefined ? { payloadTypes: [{ pt: s.payloadType, name: s.payloadType === 8 ? 'PCMA' : 'PCMU' }] } : {}),
      ...(s.srtp ? { srtp: s.srtp } : {}),
    });
    const targets: [ForkTarget, ForkTarget] = this.#d.userLeg === 'a' ? [toFork(t.label2), toFork(t.label1)] : [toFork(t.label1), toFork(t.label2)];
    if (this.#gate?.holdFork && !this.#sm.is('paused')) {
      this.#held = targets; // released by answered()
      this.#sm.transition('recording');
      this.#d.metrics.recordingStarted();
      this.#event('started');
      this.#d.log.info(linkIds(port.link?.()), 'recording established before the answer (R-40 recording required): fork held');
      return this.#settle('established');
    }
    try {
      await this.#d.media.startFork({ targets });
      // the state is read after the fork started: a pause, resume or stop may have come meanwhile
      if (port !== this.#port || this.#closed) return this.#settle('established');
      const paused = this.#sm.is('paused');
      if (paused) {
        await this.#d.media.pauseFork();
        await port.pause();
      } else if (this.#sm.is('starting')) this.#sm.transition('recording');
      this.#d.metrics.recordingStarted();
      this.#event('started');
      if (paused) this.#event('paused', 'before-established');
      this.#d.log.info({ paused, ...linkIds(port.link?.()) }, 'recording established: forking');
    } catch (err) {
      this.#d.log.error({ err }, 'fork could not start');
    }
    this.#settle('established');
  }

  async #onFailure(port: RecordingPort, policy: RecordingControllerDeps['request']['provider']['failurePolicy'], detail: string): Promise<void> {
    if (port !== this.#port || this.#closed) return;
    this.#d.log.warn({ policy, detail }, 'recording failed (R-40)');
    const reason = this.#sm.is('starting') ? 'srs-unavailable' : 'srs-lost';
    this.#d.metrics.recordingFailed(reason);
    this.#event('failed', reason);
    this.#failed(detail);
    await this.#d.media.stopFork().catch(() => undefined);
    if (this.#gate) return this.#settle('failed'); // recording required before connecting: the session refuses the call
    if (policy === 'proceedWithoutAnnouncement') return;
    const n = await announce(this.#d.media, this.#d.prompts, this.#d.clock, this.#d.log, {
      kind: 'stop',
      prompt: 'recording-stopped',
      language: this.#d.party.language,
      target: 'both',
      audience: 'all',
      phase: 'mid-call',
    });
    this.#own(n);
    if (policy === 'endCallWithAnnouncement') this.#d.onEndCall('recording required but failed (R-40)');
  }

  #failed(detail: string): void {
    if (this.#sm.can('failed')) this.#sm.transition('failed');
    void this.#reminder(false);
    this.#d.onIndication('off');
    this.#d.log.debug({ detail }, 'recording failed');
  }

  async pause(): Promise<void> {
    const wasStarting = this.#sm.is('starting');
    this.#sm.transition('paused');
    this.#d.onIndication('paused');
    await this.#reminder(false);
    if (wasStarting) {
      // the media plane keeps what is said for the recording server until it answers (docs/media.md
      // "Fork start buffer"): the pause ends that, so nothing said from now on is sent
      await this.#d.media.pauseFork().catch((err: unknown) => this.#d.log.warn({ err }, 'pauseFork failed'));
    } else {
      this.#d.metrics.recordingPaused();
      this.#event('paused', 'user-request');
      await this.#d.media.pauseFork().catch((err: unknown) => this.#d.log.warn({ err }, 'pauseFork failed'));
      await this.#port?.pause();
    }
    await this.#notification('pause');
  }

  async resume(): Promise<void> {
    this.#sm.transition('recording');
    this.#d.onIndication('on');
    await this.#notification('resume');
    if (this.#closed || !this.#sm.is('recording')) return;
    await this.#d.media.resumeFork().catch((err: unknown) => this.#d.log.warn({ err }, 'resumeFork failed'));
    await this.#port?.resume();
    this.#d.metrics.recordingResumed();
    this.#event('resumed', 'user-request');
    await this.#reminder(true);
  }

  /**
   * Stop the recording; `announced` plays the R-16 stop announcement (a user's stop, not the call's
   * end). `reason` (metrics, event log): 'user-request' (default) or 'party-left' (the user
   * transferred the call away, recorded-parties.ts).
   */
  async stop(announced: boolean, reason: 'user-request' | 'party-left' = 'user-request'): Promise<void> {
    if (!this.#sm.can('stopped')) return;
    this.#sm.transition('stopped');
    this.#d.metrics.recordingStopped(reason);
    this.#event('stopped', reason);
    const port = this.#port;
    this.#port = undefined;
    if (!this.#closed) {
      this.#d.onIndication('off');
      await this.#reminder(false);
      await this.#d.media.stopFork().catch(() => undefined);
    }
    // the stop the parties are about to hear (or its skip) is in this recording's final
    // document; the prompt itself plays after the fork stopped, alongside the final snapshot.
    const playing = announced && !this.#closed ? this.#stopAnnouncement(port) : undefined;
    await port?.stop();
    if (playing) this.#own(await playing);
  }

  /**
   * R-16 stop announcement of a user's stop: tells `port` (the recording being stopped) what the
   * parties will hear, with its start time, before its final snapshot; returns the playing prompt's
   * note (kept for the call and counted), or undefined when skipped.
   */
  #stopAnnouncement(port: RecordingPort | undefined): Promise<AnnouncementNote> | undefined {
    const ann = this.#d.party.startStopAnnouncement;
    const base = { kind: 'stop', target: 'all', phase: 'mid-call' } as const;
    if (!ann.play) {
      const skipped: AnnouncementNote = { ...base, result: 'skipped', reason: ann.reason };
      this.#notes.push(skipped);
      port?.announcement(skipped);
      return undefined;
    }
    const able = (['a', 'b'] as const).some((l) => this.#d.media.canInject(l));
    const planned: AnnouncementNote = able
      ? { ...base, result: 'played', media: 'recording-stopped', language: ann.language, start: this.#d.clock.now() }
      : { ...base, result: 'skipped', media: 'recording-stopped', language: ann.language, reason: 'codec' };
    port?.announcement(planned);
    const prompt = { kind: 'stop', prompt: 'recording-stopped', language: ann.language, target: 'both', audience: 'all', phase: 'mid-call' } as const;
    return announce(this.#d.media, this.#d.prompts, this.#d.clock, this.#d.log, prompt);
  }

  /** The call ended: stop cleanly (R-32 final metadata, BYE) and never act again. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#d.media.off('toneStarted', this.#onTone);
    this.#settle('failed');
    const port = this.#port;
    this.#port = undefined;
    if (this.#sm.can('stopped') && !this.#sm.is('idle', 'failed')) {
      this.#sm.transition('stopped');
      this.#d.metrics.recordingStopped('call-ended');
      this.#event('stopped', 'call-ended');
    }
    if (port) await port.stop().catch(() => undefined);
  }

  /** R-16 start announcement, or its skip with the decision's reason. */
  async #startAnnouncement(): Promise<void> {
    const ann = this.#d.party.startStopAnnouncement;
    if (!ann.play) {
      this.note({ kind: 'start', target: 'all', result: 'skipped', phase: 'mid-call', reason: ann.reason });
      return;
    }
    const req = { kind: 'start', prompt: 'recording-started', language: ann.language, target: 'both', audience: 'all', phase: 'mid-call' } as const;
    this.#own(await announce(this.#d.media, this.#d.prompts, this.#d.clock, this.#d.log, req));
  }

  async #notification(kind: 'pause' | 'resume'): Promise<void> {
    const how = this.#d.party.pauseResumeNotification;
    if (this.#closed) return;
    if (how === 'none') {
      this.note({ kind, target: 'all', result: 'skipped', phase: 'mid-call', reason: 'settingOff' });
      return;
    }
    if (how === 'beep') {
      const start = this.#d.clock.now();
      const legs = await this.#d.media.beep(kind === 'pause' ? PAUSE_BEEP : RESUME_BEEP, 'both').catch(() => [] as LegId[]);
      this.#own({ kind, target: 'all', phase: 'mid-call', media: 'beep', start, ...(legs.length > 0 ? { result: 'played' } : { result: 'skipped', reason: 'codec' }) });
      return;
    }
    this.#own(
      await announce(this.#d.media, this.#d.prompts, this.#d.clock, this.#d.log, {
        kind,
        prompt: kind === 'pause' ? 'recording-paused' : 'recording-resumed',
        language: this.#d.party.language,
        target: 'both',
        audience: 'all',
        phase: 'mid-call',
      }),
    );
  }

  /**
   * a play of the reminder tone (the media plane's 'toneStarted'). One metadata entry per
   * recording session, refreshed on every play: first play, latest play, count, interval.
   */
  #tonePlayed(e: MediaSessionEvents['toneStarted'][0]): void {
    const port = this.#port;
    const interval = this.#d.party.repeatToneIntervalSeconds;
    // the tone is shared by the call's recordings: a paused or stopped one does not count it
    if (e.kind !== 'reminder' || !port || this.#closed || interval === null || !this.#sm.is('starting', 'recording')) return;
    const tone = (this.#tone ??= { first: e.at, count: 0 });
    tone.count++;
    this.#d.metrics.announcementPlayed('reminder-tone');
    port.announcement({
      kind: 'reminder-tone',
      target: 'all',
      result: 'played',
      phase: 'mid-call',
      media: 'tone',
      start: tone.first,
      end: e.at + e.durationMs,
      last: e.at,
      count: tone.count,
      intervalSeconds: interval,
    });
  }

  /** the reminder tone runs only while recording. */
  async #reminder(on: boolean): Promise<void> {
    const interval = this.#d.party.repeatToneIntervalSeconds;
    if (interval === null || this.#closed) return;
    try {
      if (on) await this.#d.media.startReminderTone(interval * 1000);
      else await this.#d.media.stopReminderTone();
    } catch (err) {
      if (!on) return this.#d.log.debug({ err }, 'reminder tone stop failed');
      this.#d.log.warn({ err }, 'reminder tone could not start: noted as skipped (R-19, R-31)');
      this.#port?.announcement({ kind: 'reminder-tone', target: 'all', result: 'skipped', phase: 'mid-call', reason: 'failed', intervalSeconds: interval });
    }
  }
}
