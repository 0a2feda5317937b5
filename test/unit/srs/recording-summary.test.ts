import { describe, expect, it } from 'vitest';
import { buildRecordingSummary } from '../../../src/srs/recording-summary.js';
import type { StreamStats } from '../../../src/srs/rtp-receiver.js';
import { IDS, T0, at, finalModel, silentStreamModel } from '../siprec/metadata-fixture.js';

const stream = (label: string, packets: number): StreamStats => ({
  label,
  port: 1,
  packets,
  bytes: packets * 172,
  samples: packets * 160,
  rtcpPackets: 2,
  dtmfPackets: 0,
  dropped: { malformed: 0, unknownPayloadType: 0, inactive: 3, srtpAuth: 0 },
  reanchors: 0,
  ssrc: 1,
  codec: 'PCMU',
  remote: undefined,
});

describe('buildRecordingSummary', () => {
  it('reports participants, streams with their senders, announcements and pauses from the metadata (R-31, R-32)', () => {
    const s = buildRecordingSummary({
      recordingId: 'r1',
      callId: 'c1',
      startedAtMs: T0,
      stoppedAtMs: at(60_000),
      endReason: 'bye-from-src',
      metadata: finalModel(),
      metadataDocuments: 4,
      streams: [stream('1', 100), stream('2', 90)],
      sdpPauses: [{ startMs: 1000, endMs: 2000 }],
      wav: { file: 'r1.wav', frames: 480_000, sampleRate: 8000, startedAtMs: T0 - 1250 },
    });
    expect(s.durationMs).toBe(60_000);
    expect(s.participants.map((p) => p.aor)).toEqual(['sip:+4930123456@trunk.carrier.example', 'sip:alice@pbx.acme.example', 'sip:bob@pbx.acme.example']);
    expect(s.streams[1]).toMatchObject({ label: '2', streamId: IDS.stream2, senders: [IDS.user, IDS.transferTarget], packets: 90, droppedInactive: 3 });
    expect(s.announcements.map((a) => a.kind)).toEqual(['compliance', 'start', 'pause', 'resume', 'reminder-tone']);
    expect(s.announcements[0]!.start).toBe('2025-03-04T10:15:02.300Z');
    expect(s.pauses).toEqual([{ start: '2025-03-04T10:16:02.120Z', end: '2025-03-04T10:16:32.120Z' }]);
    // the WAV starts 1.25 s before the recording: audio the SRC kept from before it
    expect(s.startedAt).toBe(new Date(T0).toISOString());
    expect(s.wav).toEqual({ file: 'r1.wav', frames: 480_000, sampleRate: 8000, durationMs: 60_000, channels: 2, startedAt: new Date(T0 - 1250).toISOString() });
    expect(s.call?.direction).toBe('inbound');
  });

  it('MUST mark an empty stream, with the reason the SRC gave in its metadata (a lost channel is never silent)', () => {
    const s = buildRecordingSummary({
      recordingId: 'r2',
      callId: 'c2',
      startedAtMs: T0,
      stoppedAtMs: at(30_000),
      endReason: 'bye-from-src',
      metadata: silentStreamModel(),
      metadataDocuments: 2,
      streams: [stream('1', 1400), stream('2', 0)],
      sdpPauses: [],
      wav: { file: 'r2.wav', frames: 240_000, sampleRate: 8000 },
      lostAudio: { lateMs: 0, refusedWrites: 0 },
    });
    // nothing lost: no lostAudio
    expect(s.lostAudio).toBeUndefined();
    expect(s.wav?.startedAt).toBe(s.startedAt);
    expect(s.streams.map((x) => [x.label, x.empty, x.silentReason])).toEqual([
      ['1', false, undefined],
      ['2', true, 'hijack'],
    ]);
    expect(s.mediaProblems).toEqual([
      { kind: 'silent-stream', label: '2', reason: 'hijack', since: '2025-03-04T10:15:08.120Z', detected: '2025-03-04T10:15:13.120Z', dropped: 250, sdp: '192.0.2.2:4000', source: '192.0.2.2:4000' },
    ]);
  });

  it('works without any metadata', () => {
    const s = buildRecordingSummary({ recordingId: 'r', callId: 'c', startedAtMs: 0, stoppedAtMs: undefined, endReason: undefined, metadata: undefined, metadataDocuments: 0, streams: [], sdpPauses: [], wav: undefined });
    expect(s.participants).toEqual([]);
    expect(s.durationMs).toBe(0);
  });
});
