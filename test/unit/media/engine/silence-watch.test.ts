/**
 * The silence watch of a media session (silence-watch.ts) on a fake clock: a leg that delivers no
 * accepted RTP while the other one does is reported once, with the reason its packets were dropped.
 */
import { describe, expect, it } from 'vitest';
import { Leg } from '../../../../src/media/engine/engine-leg.js';
import type { EngineEvent } from '../../../../src/media/engine/engine-protocol.js';
import { SilenceWatch, silenceReason } from '../../../../src/media/engine/silence-watch.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeRtpEndpoint } from '../../../fakes/fake-rtp-endpoints.js';

function setUp() {
  const clock = new FakeClock();
  const a = new Leg('a', new FakeRtpEndpoint('127.0.0.1', 40000), 'auto', undefined, undefined);
  const b = new Leg('b', new FakeRtpEndpoint('127.0.0.1', 40002), 'auto', undefined, undefined);
  a.latch.setExpected('192.0.2.10', 5000);
  b.latch.setExpected('192.0.2.20', 6000);
  const events: EngineEvent[] = [];
  const watch = new SilenceWatch({ clock, timers: clock, legs: [a, b], emit: (e) => events.push(e) });
  /** `ms` pass in 100 ms steps; leg b delivers a packet each step (a only when `aTalks`). */
  const run = (ms: number, aTalks = false): void => {
    for (let t = 0; t < ms; t += 100) {
      b.stats.received++;
      if (aTalks) a.stats.received++;
      clock.advance(100);
    }
  };
  return { clock, a, b, events, watch, run };
}

describe('silence watch', () => {
  it('MUST report a leg that delivers nothing for the threshold while the other talks, once per call', () => {
    const { events, watch, run } = setUp();
    watch.watch(3000);
    run(2900);
    expect(events).toEqual([]);
    run(1000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'silent',
      leg: 'a',
      reason: 'none-received',
      silentForMs: 3000,
      dropped: { hijack: 0, payloadType: 0, foreignSsrc: 0, malformed: 0, unlatched: 0 },
      remote: { address: '192.0.2.10', port: 5000 },
      sdp: { address: '192.0.2.10', port: 5000 },
      refused: undefined,
    });
    run(10_000);
    expect(events).toHaveLength(1);
  });

  it('MUST name the drops since the watch last saw the leg heard as the reason, with the refused source for a hijack', () => {
    const { a, events, watch, run } = setUp();
    a.stats.unknownPayloadTypeDropped = 7; // before the watch: not counted
    watch.watch(2000);
    run(1000, true); // a talks (the watch's check at 1 s sees it), then only sends from elsewhere
    a.stats.hijackDropped += 4;
    a.stats.malformed += 1;
    a.refusedAddress = '198.51.100.30';
    a.refusedPort = 7078;
    run(2500);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      leg: 'a',
      reason: 'hijack',
      dropped: { hijack: 4, payloadType: 0, malformed: 1 },
      refused: { address: '198.51.100.30', port: 7078 },
    });
    expect(a.silentReason).toBe('hijack');
  });

  it('MUST NOT report when both legs are silent (hold, a dead call) nor while both talk', () => {
    const { clock, events, watch, run } = setUp();
    watch.watch(1000);
    clock.advance(5000);
    run(5000, true);
    expect(events).toEqual([]);
  });

  it('stops with 0 (and on close); refuses a negative threshold', () => {
    const { clock, events, watch, run } = setUp();
    watch.watch(1000);
    watch.watch(0);
    run(3000);
    expect(events).toEqual([]);
    expect(clock.pending).toBe(0);
    watch.watch(1000);
    watch.close();
    expect(clock.pending).toBe(0);
    expect(() => watch.watch(-1)).toThrow(expect.objectContaining({ code: 'MEDIA_INVALID_ARGUMENT' }));
  });

  it('takes the first reason in the order hijack, payload-type, foreign-ssrc, malformed, unlatched', () => {
    const none = { hijack: 0, payloadType: 0, foreignSsrc: 0, malformed: 0, unlatched: 0 };
    expect(silenceReason(none)).toBe('none-received');
    expect(silenceReason({ ...none, unlatched: 1 })).toBe('unlatched');
    expect(silenceReason({ ...none, unlatched: 1, malformed: 1 })).toBe('malformed');
    expect(silenceReason({ ...none, malformed: 1, foreignSsrc: 1 })).toBe('foreign-ssrc');
    expect(silenceReason({ ...none, foreignSsrc: 1, payloadType: 1 })).toBe('payload-type');
    expect(silenceReason({ ...none, payloadType: 1, hijack: 1 })).toBe('hijack');
  });
});
