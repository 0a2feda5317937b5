import type { Clock, Timers } from '../common/clock.js';
import type { ForkBufferNotice, LegId } from '../media/media-session-types.js';
import type { Logger } from '../observability/logger.js';
import type { CallMetrics } from '../observability/metrics-types.js';
import type { RecordingEventSink } from '../observability/recording-event-types.js';
import type { CallDirection, CallParty, PartyRecordingDecision } from '../policy/call-decision-types.js';
import type { RecordIndication } from '../sip/sdp-media.js';
import type { AnnouncementNote, CallMedia, MediaProblemNote, PromptSource, RecordingParticipant, RecordingPortFactory } from './call-ports.js';
import type { RecordingLink } from './recording-link.js';
import { RecordingController } from './recording-controller.js';
import { FeatureCodeMatcher, type RecordingAction } from './recording-controls.js';
import { SharedRecordingMedia } from './recording-media.js';

/**
 * The recordings of one call: one per recorded user. In the cloud-PBX model a recording
 * belongs to its user: an internal call between two recorded users carries two independent
 * SIPREC sessions, each with that user's provider, dialect, failure policy, mode and
 * controls and start/stop announcement. In each, label 2 is that user's own stream
 * and label 1 the other party's: the caller's recording has leg A as label 2, the callee's
 * leg B.
 *
 * - Each recording forks under its own fork id (recording-media.ts); the reminder tone is
 *   one tone for the call, running while at least one recording is recording.
 * - A control acts on one recording: digits from a leg control the recording of the user on that
 *   leg; the admin API names the recording (`select`) when the call has more than one.
 * - a=record towards the legs is the call's: `on` while any recording is on, else
 *   `paused` while any is paused, else `off`.
 * - Announcements the call plays (compliance, R-40 refusal) are noted in every recording, also in
 *   one that starts later (they ride on its first metadata document).
 * - A recorded user who leaves the call (transfer) ends their recording (`leave`, R-16 stop
 *   announcement per their settings); a user who joins gets their own (`add`).
 */
export interface RecordedPartiesDeps {
  readonly media: CallMedia;
  readonly prompts: PromptSource;
  readonly factory: RecordingPortFactory;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly metrics: CallMetrics;
  readonly events: RecordingEventSink;
  /** The call's facts each recording request carries. */
  readonly call: { readonly callId: string; readonly orgId: string };
  /** Who is on each leg at the start, as the policy knows them, and their addresses (the metadata's other party). */
  readonly parties: Record<LegId, CallParty>;
  readonly addresses: Record<LegId, string>;
  /** R-17 feature codes (CallLayerOptions.featureCodes, interDigitTimeoutMs). */
  readonly featureCodes: Readonly<Record<string, RecordingAction>>;
  readonly interDigitTimeoutMs: number;
  /** The call's a=record value changed. */
  readonly onIndication: (value: RecordIndication) => void;
  /** R-40 endCallWithAnnouncement of one recording: the call must end. */
  readonly onEndCall: () => void;
}

/** A start of the call shorter than one packet (20 ms) is not reported as lost. */
const LOST_START_MIN_MS = 20;

/** One recorded user of the call and their recording. */
export interface RecordedParty {
  readonly decision: PartyRecordingDecision;
  /** The leg the user is on: their stream is label 2 of this recording. */
  readonly leg: LegId;
  /** The recording's fork in the media session. */
  readonly forkId: string;
  readonly controller: RecordingController;
  /** The user left the call (transfer): this recording has ended for good. */
  readonly left: boolean;
}

type Entry = { -readonly [K in keyof RecordedParty]: RecordedParty[K] };

/** One recording in the call's summary (GET /v1/calls). */
export interface RecordingSummary {
  readonly state: string;
  readonly party: { readonly kind: string; readonly id: string } | null;
  readonly mode: string | null;
}

/** A recording session of the call (GET /v1/calls `recordings`): its link, and whom it records in which mode. */
export type PartyRecordingLink = RecordingLink & Pick<RecordingSummary, 'party' | 'mode'>;

/** Every recording session of a recorded party, each with the party and its recording mode. */
export function partyRecordingLinks(r: RecordedParty): PartyRecordingLink[] {
  const party = { kind: r.decision.party.kind, id: r.decision.party.id };
  return r.controller.recordings.map((link) => ({ ...link, party, mode: r.decision.mode }));
}

/** A recording's summary; without one, the decision's recorded party (`party`) whose recording has not been set up yet. */
export function recordingSummary(r: RecordedParty | undefined, party?: PartyRecordingDecision): RecordingSummary {
  const p = r?.decision ?? party;
  return { state: r?.controller.state ?? 'idle', party: p ? { kind: p.party.kind, id: p.party.id } : null, mode: p?.mode ?? null };
}

/** The leg a party of the decision is on: the caller on leg A, the callee on leg B. */
export function legOf(decision: PartyRecordingDecision): LegId {
  return decision.party.side === 'caller' ? 'a' : 'b';
}

export class RecordedParties {
  readonly #d: RecordedPartiesDeps;
  readonly #shared: SharedRecordingMedia;
  readonly #entries: Entry[] = [];
  readonly #callNotes: AnnouncementNote[] = [];
  readonly #matchers: Record<LegId, FeatureCodeMatcher>;
  #closed = false;
  /** Who is on each leg now (a transfer changes them: tasks/transfer-recording.ts). */
  readonly parties: Record<LegId, CallParty>;
  readonly addresses: Record<LegId, string>;

  constructor(deps: RecordedPartiesDeps) {
    this.#d = deps;
    this.#shared = new SharedRecordingMedia(deps.media);
    this.parties = { ...deps.parties };
    this.addresses = { ...deps.addresses };
    this.#matchers = { a: this.#matcher(), b: this.#matcher() };
    deps.media.on('forkBuffer', (e) => this.#forkBufferEnded(e));
  }

  /**
   * A recording's fork sent what it kept from the answer (media.forkBufferMs): when the recording
   * server answered later than that, or nothing was kept, the start of the call is missing from
   * the recording; both its streams are marked (`b2b:lost-start`, the span and why). The media
   * plane counts the packets (rtp_fork_buffer_total) and logs the overflow once at warn.
   */
  #forkBufferEnded(e: ForkBufferNotice): void {
    if (e.outcome !== 'sent') return; // discarded: the recording never started, its failure is reported as such
    const lostMs = e.bufferMs === 0 ? e.waitedMs : e.overflowed > 0 ? e.waitedMs - e.bufferMs : 0;
    const entry = this.#entries.find((x) => x.forkId === e.forkId);
    if (!entry || lostMs < LOST_START_MIN_MS) return;
    const detected = this.#d.clock.now() - Math.min(e.waitedMs, e.bufferMs);
    const since = detected - lostMs;
    const reason = e.bufferMs === 0 ? 'no-fork-buffer' : 'recording-server-late';
    this.#d.log.info({ forkId: e.forkId, recordedParty: entry.decision.party.id, lostMs, waitedMs: e.waitedMs, bufferMs: e.bufferMs, reason }, 'the recording misses the start of the call: marked in its metadata');
    for (const label of ['1', '2'] as const) entry.controller.mediaProblem({ kind: 'lost-start', label, reason, since, detected });
  }

  #matcher(): FeatureCodeMatcher {
    return new FeatureCodeMatcher(this.#d.featureCodes, this.#d.interDigitTimeoutMs);
  }

  /**
   * a digit from `leg` (RFC 4733 or SIP INFO): when it completes a feature code, the action
   * and the recording it applies to, the one of the user on that leg. Digits from a leg whose
   * party does not record are ignored.
   */
  digit(leg: LegId, digit: string, atMs: number): { readonly entry: RecordedParty; readonly action: RecordingAction } | undefined {
    const entry = this.onLeg(leg);
    const action = entry ? this.#matchers[leg].push(digit, atMs) : undefined;
    return entry && action ? { entry, action } : undefined;
  }

  /** Every recording of the call, in the order they were set up (also those whose user left). */
  get list(): readonly RecordedParty[] {
    return this.#entries;
  }

  /** The recordings whose user is still in the call. */
  get active(): readonly RecordedParty[] {
    return this.#entries.filter((e) => !e.left);
  }

  /** The recording of the user on `leg`, if that user records. */
  onLeg(leg: LegId): RecordedParty | undefined {
    return this.#entries.find((e) => !e.left && e.leg === leg);
  }

  /** the call's recording indication from all its recordings. */
  get indication(): RecordIndication {
    const values = this.active.map((e) => e.controller.indication);
    return values.includes('on') ? 'on' : values.includes('paused') ? 'paused' : 'off';
  }

  /** Sets up the recording of `decision`'s user (not started: the caller starts it, R-14). */
  add(decision: PartyRecordingDecision, people: { user: RecordingParticipant; other: RecordingParticipant }, direction: CallDirection): RecordedParty {
    const leg = legOf(decision);
    const forkId = this.#forkIdOf(decision);
    const log = this.#d.log.child({ recordedParty: decision.party.id, forkId });
    const controller = new RecordingController({
      media: this.#shared.viewFor(forkId),
      prompts: this.#d.prompts,
      factory: this.#d.factory,
      party: decision,
      userLeg: leg,
      request: {
        callId: this.#d.call.callId,
        direction,
        orgId: this.#d.call.orgId,
        locationId: decision.party.locationId,
        mode: decision.mode,
        userSide: decision.party.side,
        provider: decision.provider!,
        other: people.other,
        user: people.user,
      },
      clock: this.#d.clock,
      timers: this.#d.timers,
      log,
      onIndication: () => this.#d.onIndication(this.indication),
      onEndCall: () => this.#d.onEndCall(),
      metrics: this.#d.metrics,
      events: this.#d.events,
    });
    for (const n of this.#callNotes) controller.note(n);
    const entry: Entry = { decision, leg, forkId, controller, left: false };
    this.#entries.push(entry);
    if (this.#closed) void controller.close();
    return entry;
  }

  /** An announcement the call played or skipped: into every recording, present and future. */
  note(n: AnnouncementNote): void {
    this.#callNotes.push(n);
    for (const e of this.active) e.controller.note(n);
  }

  /** A silent leg (tasks/media-watch.ts): label 2 in the recording of the user on that leg, label 1 in the others. */
  mediaProblem(problem: MediaProblemNote, leg: LegId): void {
    for (const e of this.active) e.controller.mediaProblem({ ...problem, label: e.leg === leg ? '2' : '1' });
  }

  /** a new party took `leg` (transfer): the other party of the recordings on the other leg. */
  otherPartyChanged(leg: LegId, joining: RecordingParticipant): void {
    for (const e of this.active) if (e.leg !== leg) e.controller.participantChanged('other', joining);
  }

  /**
   * The user on `leg` left the call (transferred it away): their recording stops, with their
   * R-16 stop announcement when their settings play one, and is never used again.
   */
  async leave(leg: LegId): Promise<RecordedParty | undefined> {
    this.#matchers[leg] = this.#matcher(); // digits the old party keyed are not the new party's
    const e = this.#entries.find((x) => !x.left && x.leg === leg);
    if (!e) return undefined;
    e.left = true;
    const c = e.controller;
    this.#d.log.info({ leg, party: e.decision.party.id, state: c.state }, 'recorded user left the call: their recording stops');
    if (c.state === 'starting' || c.state === 'recording' || c.state === 'paused') await c.stop(true, 'party-left');
    await c.close();
    this.#d.onIndication(this.indication);
    return e;
  }

  /**
   * R-17 admin control: which recording `party` names: 'caller' (leg A), 'callee' (leg B) or the
   * recorded user's / virtual line's id; without it the call's only recording.
   */
  select(party?: string): { readonly entry: RecordedParty } | { readonly reason: string } {
    const active = this.active;
    if (party === undefined) {
      if (active.length === 1) return { entry: active[0]! };
      return { reason: active.length === 0 ? 'no recorded party on this call' : `${active.length} recorded parties on this call: name one with "party" (caller, callee or the user's id)` };
    }
    const entry = party === 'caller' ? this.onLeg('a') : party === 'callee' ? this.onLeg('b') : active.find((e) => e.decision.party.id === party);
    return entry ? { entry } : { reason: `no recorded party "${party}" on this call` };
  }

  /** The call ended: every recording stops with its final metadata. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#entries.map((e) => e.controller.close()));
  }

  /** `<kind>-<id>` of the user (fork id characters only), `.<n>` added when that id was used already in this call. */
  #forkIdOf(d: PartyRecordingDecision): string {
    const base = `${d.party.kind}-${d.party.id}`.replace(/[^A-Za-z0-9_.:@-]/g, '_').slice(0, 56);
    let id = base;
    for (let n = 2; this.#entries.some((e) => e.forkId === id); n++) id = `${base}.${n}`;
    return id;
  }
}
