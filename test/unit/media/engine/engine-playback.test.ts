/**
 * Prompts, tones and the reminder of a media session (engine-playback.ts) on a fake clock: prompt
 * frames every 20 ms with their events, a tone mixed into what a leg hears or sent on its own,
 * the reminder at its delay and interval.
 */
import { CoalescedTimers } from '../../../../src/common/coalesced-timers.js';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../../../src/media/audio/g711.js';
import { Leg } from '../../../../src/media/engine/engine-leg.js';
import { EnginePlayback, IDLE_FILL_MS } from '../../../../src/media/engine/engine-playback.js';
import type { EngineEvent } from '../../../../src/media/engine/engine-protocol.js';
import { ScratchRing } from '../../../../src/media/processors/scratch-ring.js';
import { rtpPayloadType, rtpSeq } from '../../../../src/media/rtp/rtp-header.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeRtpEndpoint } from '../../../fakes/fake-rtp-endpoints.js';

const TONE = { frequencyHz: 1400, durationMs: 200, levelDbfs: -18 };
const SILENCE_PCMU = 0xff;

function setUp() {
  const clock = new FakeClock();
  const epA = new FakeRtpEndpoint('127.0.0.1', 40000);
  const epB = new FakeRtpEndpoint('127.0.0.1', 40002);
  const a = new Leg('a', epA, 'auto', undefined, undefined);
  const b = new Leg('b', epB, 'auto', undefined, undefined);
  a.latch.setExpected('192.0.2.10', 5000);
  b.latch.setExpected('192.0.2.20', 6000);
  const events: EngineEvent[] = [];
  const library = new Map([['welcome', [Buffer.alloc(160, 0x11), Buffer.alloc(160, 0x22), Buffer.alloc(100, 0x33)]]]);
  const playback = new EnginePlayback({
    clock,
    timers: clock,
    frameTimers: new CoalescedTimers(clock, clock),
    scratch: new ScratchRing(),
    legs: [a, b],
    emit: (e) => events.push(e),
    promptFrames: (key) => library.get(key),
  });
  const sentTo = (ep: FakeRtpEndpoint): Buffer[] => ep.sent.filter((d) => d.kind === 'rtp').map((d) => d.data);
  return { clock, a, b, epA, epB, events, playback, sentTo };
}

describe('engine playback', () => {
  it('MUST send a prompt frame every 20 ms, report its start and its end when the last frame is over', () => {
    const { clock, a, epA, events, playback, sentTo } = setUp();
    playback.play(7, [a], { key: 'welcome' }, 'welcome', 'en');
    expect(a.playback).toBeDefined();
    clock.advance(40);
    expect(sentTo(epA)).toHaveLength(3);
    expect(events.map((e) => e.type)).toEqual(['promptStarted']);
    clock.advance(20);
    expect(a.playback).toBeUndefined();
    expect(events[1]).toMatchObject({ type: 'promptEnded', playbackId: 7, leg: 'a', reason: 'completed', framesSent: 3, at: clock.now() });
    const pk = sentTo(epA);
    expect(pk.map((p) => p[12])).toEqual([0x11, 0x22, 0x33]);
    // a short last frame is padded with silence; seq runs on
    expect(pk[2]!.subarray(12 + 100)).toEqual(Buffer.alloc(60, SILENCE_PCMU));
    expect(pk.map((p) => rtpSeq(p) - rtpSeq(pk[0]!))).toEqual([0, 1, 2]);
    expect(a.stats.generated).toBe(3);
  });

  it('MUST end a playing prompt as replaced by a new one, as stopped by stop, as closed by close', () => {
    const { clock, a, b, events, playback } = setUp();
    playback.play(1, [a], { key: 'welcome' }, 'welcome', undefined);
    playback.play(2, [a, b], { pcm: new Int16Array(800) }, 'custom', undefined);
    playback.stop([b]);
    clock.advance(20);
    playback.close();
    const ends = events.filter((e) => e.type === 'promptEnded').map((e) => e.type === 'promptEnded' && [e.playbackId, e.leg, e.reason]);
    expect(ends).toEqual([[1, 'a', 'replaced'], [2, 'b', 'stopped'], [2, 'a', 'closed']]);
    expect(clock.pending).toBe(0);
  });

  it('MUST refuse a prompt before any leg starts when one leg cannot take it', () => {
    const { a, b, epA, playback, sentTo } = setUp();
    b.setPayloadTypes([{ pt: 9, name: 'G722' }]);
    expect(() => playback.play(1, [a, b], { key: 'welcome' }, 'welcome', undefined)).toThrow(expect.objectContaining({ code: 'MEDIA_CODEC_NOT_INJECTABLE' }));
    expect(() => playback.play(1, [a], { key: 'nope' }, 'nope', undefined)).toThrow(expect.objectContaining({ code: 'MEDIA_INVALID_ARGUMENT' }));
    expect(a.playback).toBeUndefined();
    expect(sentTo(epA)).toEqual([]);
  });

  it('MUST send a tone on its own, 20 ms a frame, to a leg nothing flows to, and skip a leg that cannot take it', () => {
    const { clock, a, b, epA, epB, events, playback, sentTo } = setUp();
    b.setPayloadTypes([{ pt: 9, name: 'G722' }]);
    const legs = playback.tone([a, b], playback.renderTone(TONE), 'beep');
    expect(legs).toEqual(['a']);
    expect(events).toEqual([{ type: 'toneStarted', kind: 'beep', legs: ['a'], at: clock.now(), durationMs: 200 }]);
    clock.advance(400);
    const pk = sentTo(epA);
    expect(pk).toHaveLength(10); // 200 ms of tone
    expect(pk.every((p) => rtpPayloadType(p) === 0 && p.subarray(12).some((x) => x !== SILENCE_PCMU))).toBe(true);
    expect(a.overlay).toBeUndefined();
    expect(sentTo(epB)).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('MUST mix the tone into relayed speech, send nothing of its own while speech flows, and the rest on its own once it stops', () => {
    const { clock, a, epA, playback, sentTo } = setUp();
    const speech = encodeG711('PCMU', new Int16Array(160).fill(1000));
    const relayed = (consecutive: boolean): void => {
      a.out.stampGenerated(Buffer.alloc(172), 0, 160, clock.monotonic(), consecutive, 160);
    };
    relayed(false); // speech was just relayed to a
    playback.tone([a], playback.renderTone(TONE), 'reminder');
    for (let i = 0; i < 5; i++) {
      const payload = Buffer.from(speech);
      playback.mix(a, 'PCMU', payload);
      expect(payload.equals(speech)).toBe(false);
      relayed(true);
      clock.advance(20);
    }
    expect(sentTo(epA)).toEqual([]);
    // the party falls silent: the remaining 100 ms of tone go on their own after IDLE_FILL_MS
    clock.advance(IDLE_FILL_MS - 40);
    expect(sentTo(epA)).toEqual([]);
    clock.advance(400);
    expect(sentTo(epA)).toHaveLength(5);
    expect(a.overlay).toBeUndefined();
  });

  it('MUST play the reminder to both legs after its delay, then at its interval, until stopped', () => {
    const { clock, events, playback } = setUp();
    expect(() => playback.startReminder(999, 0, TONE)).toThrow(expect.objectContaining({ code: 'MEDIA_INVALID_ARGUMENT' }));
    playback.startReminder(15_000, 2000, TONE);
    const reminders = (): number[] => events.filter((e) => e.type === 'toneStarted' && e.kind === 'reminder').map((e) => e.type === 'toneStarted' ? e.at - clock.now() : 0);
    clock.advance(1999);
    expect(reminders()).toEqual([]);
    clock.advance(1);
    expect(events[0]).toMatchObject({ type: 'toneStarted', kind: 'reminder', legs: ['a', 'b'] });
    clock.advance(30_000);
    expect(reminders()).toEqual([-30_000, -15_000, 0]);
    playback.stopReminder();
    clock.advance(60_000);
    expect(reminders()).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });
});
