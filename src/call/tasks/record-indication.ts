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
 */
export function updateRecordIndication(
  value: RecordIndication,
  legs: { a?: Leg; b?: Leg },
  sdp: { a?: LegSdp; b?: LegSdp },
  media: CallMedia,
  log: Logger,
): void {
  for (const side of ['a', 'b'] as LegId[]) {
    const mine = sdp[side]!;
    const leg = legs[side];
    if (!leg || mine.indication === value) continue;
    // kept on every leg, so a record-aware party that later takes this leg's place (transfer,
    // INVITE with Replaces) is told the current value at once
    mine.indication = value;
    if (mine.recordAware) send(side, leg, mine, media, log);
  }
}

/** Legs with a record-indication re-INVITE in progress, and the value it carries. */
const inProgress = new WeakMap<Leg, RecordIndication | undefined>();

function send(side: LegId, leg: Leg, mine: LegSdp, media: CallMedia, log: Logger): void {
  if (inProgress.has(leg)) return; // the running re-INVITE sends the latest value when it ends
  const offer = mine.build();
  if (!offer) return;
  const sent = mine.indication;
  inProgress.set(leg, sent);
  leg
    .reinvite(offer)
    .then(
      (answer) => {
        const audio = readAudio(answer);
        if (audio) void media.setRemote(side, remoteMediaOf(audio)).catch(() => undefined);
      },
      (err: unknown) => log.debug({ err, side }, 'record indication re-INVITE failed'),
    )
    .finally(() => {
      inProgress.delete(leg);
      if (mine.indication !== sent && mine.recordAware) send(side, leg, mine, media, log);
    });
}
