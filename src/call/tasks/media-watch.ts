import type { LatchNotice, LegId, SilentLegNotice } from '../../media/media-session-types.js';
import type { LatchMode } from '../../media/processors/source-latch.js';
import type { Logger } from '../../observability/logger.js';
import { readAudio } from '../../sip/sdp-media.js';
import type { CallMedia, MediaProblemNote } from '../call-ports.js';

/**
 * Task: what the call layer does with the media plane's view of where each party's audio comes
 * from (docs/nat.md). Each latch is one info line (what the SDP said, where media really comes
 * from); a leg that delivers no audio while the other talks is one warn line, is listed in the
 * call's summary and marked in its recording's metadata (`b2b:silent-stream`; the metric is the
 * media plane's). The silent-leg watch runs while both parties send (our SDP towards each leg is
 * sendrecv): hold stops it, unhold starts it again.
 */
export interface MediaWatchContext {
  readonly media: CallMedia;
  readonly log: Logger;
  /** The leg of the recorded user: its stream is label 2, the other party's label 1. */
  readonly userLeg: LegId;
  /** Each leg's latching mode (for the log line). */
  readonly latching: { readonly a: LatchMode; readonly b: LatchMode };
  /** Where a silent stream is marked: the call's recordings, if any (`leg` is the silent one; each recording labels it its own way). */
  readonly mark: (problem: MediaProblemNote, leg: LegId) => void;
}

export class MediaWatch {
  /** Silent legs reported so far (the call's summary). */
  readonly problems: Array<{ kind: 'silent-stream'; leg: LegId; reason: string }> = [];
  readonly #c: MediaWatchContext;

  constructor(context: MediaWatchContext) {
    this.#c = context;
    context.media.on('latched', (e) => this.#onLatched(e));
    context.media.on('silent', (e) => this.#onSilent(e));
  }

  /** (Re)arm the silent-leg watch from the SDP last sent to each leg; `ms` 0 = alarm off. */
  rearm(ms: number, lastA: string | undefined, lastB: string | undefined): void {
    if (ms <= 0) return;
    const both = [lastA, lastB].every((sdp) => sdp !== undefined && readAudio(sdp)?.direction === 'sendrecv');
    void this.#c.media.watchSilence(both ? ms : 0).catch(() => undefined);
  }

  #onLatched(e: LatchNotice): void {
    const sdp = e.sdpAddress === undefined ? undefined : `${e.sdpAddress}:${e.sdpPort}`;
    this.#c.log.info({ leg: e.leg, party: partyOf(e.leg), mode: this.#c.latching[e.leg], how: e.how, sdp, source: `${e.address}:${e.port}` }, 'media source latched');
  }

  #onSilent(e: SilentLegNotice): void {
    const dropped = e.dropped.hijack + e.dropped.payloadType + e.dropped.foreignSsrc + e.dropped.malformed + e.dropped.unlatched;
    const sdp = e.sdp ? `${e.sdp.address}:${e.sdp.port}` : undefined;
    // where the party's packets really came from: the refused source (hijack), else where its media goes
    const from = e.refused ?? e.remote;
    const source = from ? `${from.address}:${from.port}` : undefined;
    this.#c.log.warn(
      { leg: e.leg, party: partyOf(e.leg), reason: e.reason, silentForMs: e.silentForMs, dropped: e.dropped, sdp, source },
      'no audio from one party while the other talks: its recording channel is empty',
    );
    this.problems.push({ kind: 'silent-stream', leg: e.leg, reason: e.reason });
    const problem: MediaProblemNote = {
      kind: 'silent-stream',
      label: e.leg === this.#c.userLeg ? '2' : '1',
      reason: e.reason,
      since: e.at - e.silentForMs,
      detected: e.at,
      dropped,
      ...(sdp ? { sdp } : {}),
      ...(source ? { source } : {}),
    };
    this.#c.mark(problem, e.leg);
  }
}

function partyOf(leg: LegId): 'caller' | 'callee' {
  return leg === 'a' ? 'caller' : 'callee';
}
