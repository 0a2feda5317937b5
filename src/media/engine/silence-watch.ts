/**
 * The silence watch of an engine session (MediaSession.watchSilence): reports, once per leg and
 * call, a leg that delivered no accepted RTP for `ms` while the other leg did (a one-way call), with
 * the most likely reason taken from what was dropped from it meanwhile (`silenceReason`).
 *
 * It only reads the legs' counters, once a second at most (min(1000, ms)), never on the packet
 * path; the leg keeps `silentReason` (the totals count silent legs by reason).
 */
import type { Clock, TimerHandle, Timers } from '../../common/clock.js';
import { AppError } from '../../common/errors.js';
import type { SilenceReason } from '../media-session-types.js';
import type { Leg } from './engine-leg.js';
import type { EngineEvent } from './engine-protocol.js';

/** What the watch reads of a leg (and `silentReason`, which it sets). */
export type WatchedLeg = Pick<Leg, 'id' | 'stats' | 'latch' | 'silentReason' | 'refusedAddress' | 'refusedPort'>;

/** Packets dropped from a leg since it was last heard, by reason. */
export interface SilenceDrops {
  hijack: number;
  payloadType: number;
  foreignSsrc: number;
  malformed: number;
  unlatched: number;
}

/** What the watch needs from its session. */
export interface SilenceWatchContext {
  clock: Clock;
  timers: Timers;
  legs: readonly [WatchedLeg, WatchedLeg];
  /** A `silent` event of this session. */
  emit(event: EngineEvent): void;
}

/** Why a leg is silent, first match: hijack, payload-type, foreign-ssrc, malformed, unlatched, else none-received. */
export function silenceReason(dropped: SilenceDrops): SilenceReason {
  return dropped.hijack > 0 ? 'hijack'
    : dropped.payloadType > 0 ? 'payload-type'
    : dropped.foreignSsrc > 0 ? 'foreign-ssrc'
    : dropped.malformed > 0 ? 'malformed'
    : dropped.unlatched > 0 ? 'unlatched'
    : 'none-received';
}

/** Per leg: the accepted count last seen, since when it has not moved, its drop counters then. */
interface Mark {
  seen: number;
  since: number;
  drops: SilenceDrops;
}

export class SilenceWatch {
  readonly #ctx: SilenceWatchContext;
  readonly #marks: [Mark, Mark] = [newMark(), newMark()];
  #timer: TimerHandle | undefined;
  #ms = 0;

  constructor(ctx: SilenceWatchContext) {
    this.#ctx = ctx;
  }

  /** Watch with threshold `ms` from now (both legs count as heard now); 0 stops. */
  watch(ms: number): void {
    if (!(ms >= 0)) throw new AppError('MEDIA_INVALID_ARGUMENT', `silence watch ${ms} ms`);
    this.close();
    this.#ms = ms;
    if (ms === 0) return;
    const now = this.#ctx.clock.monotonic();
    for (let i = 0; i < 2; i++) this.#heard(i, now);
    this.#timer = this.#ctx.timers.setInterval(() => this.#check(), Math.min(1000, ms));
  }

  /** Stops the watch (idempotent). */
  close(): void {
    this.#ctx.timers.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #heard(i: number, now: number): void {
    const s = this.#ctx.legs[i]!.stats;
    const mark = this.#marks[i]!;
    mark.seen = s.received;
    mark.since = now;
    mark.drops = { hijack: s.hijackDropped, payloadType: s.unknownPayloadTypeDropped, foreignSsrc: s.foreignSsrcDropped, malformed: s.malformed, unlatched: s.unlatchedDropped };
  }

  #check(): void {
    const now = this.#ctx.clock.monotonic();
    const legs = this.#ctx.legs;
    for (let i = 0; i < 2; i++) if (legs[i]!.stats.received !== this.#marks[i]!.seen) this.#heard(i, now);
    for (let i = 0; i < 2; i++) {
      const leg = legs[i]!;
      const mark = this.#marks[i]!;
      const other = this.#marks[1 - i]!;
      if (leg.silentReason !== undefined || now - mark.since < this.#ms || now - other.since >= this.#ms) continue;
      const s = leg.stats;
      const w = mark.drops;
      const dropped: SilenceDrops = {
        hijack: s.hijackDropped - w.hijack,
        payloadType: s.unknownPayloadTypeDropped - w.payloadType,
        foreignSsrc: s.foreignSsrcDropped - w.foreignSsrc,
        malformed: s.malformed - w.malformed,
        unlatched: s.unlatchedDropped - w.unlatched,
      };
      const reason = silenceReason(dropped);
      leg.silentReason = reason;
      const latch = leg.latch;
      this.#ctx.emit({
        type: 'silent',
        leg: leg.id,
        reason,
        silentForMs: now - mark.since,
        dropped,
        remote: latch.address !== undefined ? { address: latch.address, port: latch.port } : undefined,
        sdp: latch.sdpAddress !== undefined ? { address: latch.sdpAddress, port: latch.sdpPort } : undefined,
        refused: dropped.hijack > 0 && leg.refusedAddress !== undefined ? { address: leg.refusedAddress, port: leg.refusedPort } : undefined,
        at: this.#ctx.clock.now(),
      });
    }
  }
}

function newMark(): Mark {
  return { seen: 0, since: 0, drops: { hijack: 0, payloadType: 0, foreignSsrc: 0, malformed: 0, unlatched: 0 } };
}
