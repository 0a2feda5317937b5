import type { LegId } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import type { Leg } from '../../sip/b2bua-types.js';
import { readAudio, type RecordIndication } from '../../sip/sdp-media.js';
import type { CallMedia } from '../call-ports.js';
import type { LegSdp } from '../leg-sdp.js';
import { remoteMediaOf } from '../leg-media.js';

/**
 * Task (R-31, RFC 7866 section 6.5): tell each record-aware leg (`Supported: record-aware`)
 * whether the call is recorded with `a=record:on|off|paused`, by re-INVITE when the value changes.
 * Legs that did not advertise record-aware never get the attribute. Failures are logged only.
 *
 * One re-INVITE per leg at a time (RFC 3261 section 14.1: no new re-INVITE while one is in
 * progress): a change that comes meanwhile is sent when the running one ends, and only the latest
 * value is sent (pause and resume in quick succession cost at most two re-INVITEs, never overlap).
 * A 491 (glare with the party's own re-INVITE) is retried after the section 14.1 wait: 2.1-4 s on
 * leg B, whose Call-ID is ours, 0-2 s on leg A.
 */
export function updateRecordIndication(value: RecordIndication, call: IndicationContext): void {
  for (const side of ['a', 'b'] as LegId[]) {
    const mine = call.sdp[side]!;
    const leg = call.legs[side];
    if (!leg || mine.indication === value) continue;
    // kept on every leg, so a record-aware party that later takes this leg's place (transfer,
    // INVITE with Replaces) is told the current value at once
    mine.indication = value;
    if (mine.recordAware) sendRecordIndication(side, leg, call);
  }
}

export interface IndicationContext {
  readonly legs: { a?: Leg; b?: Leg };
  readonly sdp: { a?: LegSdp; b?: LegSdp };
  readonly media: CallMedia;
  readonly log: Logger;
  /** Runs fn after ms unless the call has ended (the session's timers). */
  readonly after: (ms: number, fn: () => void) => void;
  /** The call's legs with an indication re-INVITE in progress or waiting to be retried. */
  readonly busy: Set<Leg>;
  /** Default Math.random. */
  readonly random?: () => number;
}

/**
 * Sends the leg its current indication by re-INVITE (one at a time per leg, see above); also for a
 * record-aware party that joined by transfer after an offer that could not carry a=record.
 */
export function sendRecordIndication(side: LegId, leg: Leg, call: IndicationContext): void {
  const mine = call.sdp[side]!;
  if (call.busy.has(leg) || call.legs[side] !== leg) return; // the running one sends the latest value when it ends
  const offer = mine.build();
  if (!offer) return;
  const sent = mine.indication;
  call.busy.add(leg);
  const next = (): void => {
    call.busy.delete(leg);
    if (mine.indication !== sent && mine.recordAware) sendRecordIndication(side, leg, call);
  };
  leg.reinvite(offer).then(
    (answer) => {
      const audio = readAudio(answer);
      if (audio) void call.media.setRemote(side, remoteMediaOf(audio, undefined, offer)).catch(() => undefined);
      next();
    },
    (err: unknown) => {
      if ((err as { status?: unknown })?.status !== 491) {
        call.log.debug({ err, side }, 'record indication re-INVITE failed');
        return next();
      }
      const r = (call.random ?? Math.random)();
      const waitMs = side === 'b' ? 2100 + Math.floor(r * 1900) : Math.floor(r * 2000);
      call.log.debug({ side, waitMs }, 'record indication re-INVITE met glare (491): retrying');
      call.after(waitMs, () => {
        call.busy.delete(leg);
        sendRecordIndication(side, leg, call);
      });
    },
  );
}
