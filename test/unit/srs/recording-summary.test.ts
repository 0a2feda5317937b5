import { describe, expect, it } from 'vitest';
import { buildRecordingSummary } from '../../../src/srs/recording-summary.js';
import type { StreamStats } from '../../../src/srs/rtp-receiver.js';
import { IDS, T0, at, finalModel } from '../siprec/metadata-fixture.js';

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
      wav: { file: 'r1.wav', frames: 480_000, sampleRate: 8000 },
    });
    expect(s.durationMs).toBe(60_000);
    expect(s.participants.map((p) => p.aor)).toEqual(['sip:+4930123456@trunk.carrier.example', 'sip:alice@pbx.acme.example', 'sip:bob@pbx.acme.example']);
    expect(s.streams[1]).toMatchObject({ label: '2', streamId: IDS.stream2, senders: [IDS.user, IDS.transferTarget], packets: 90, droppedInactive: 3 });
    expect(s.announcements.map((a) => a.kind)).toEqual(['compliance', 'start', 'pause', 'resume', 'reminder-tone']);
    expect(s.announcements[0]!.start).toBe('2025-03-04T10:15:02.300Z');
    expect(s.pauses).toEqual([{ start: '2025-03-04T10:16:02.120Z', end: '2025-03-04T10:16:32.120Z' }]);
    expect(s.wav).toEqual({ file: 'r1.wav', frames: 480_000, sampleRate: 8000, durationMs: 60_000, channels: 2 });
    expect(s.call?.direction).toBe('inbound');
  });

  it('works without any metadata', () => {
    const s = buildRecordingSummary({ recordingId: 'r', callId: 'c', startedAtMs: 0, stoppedAtMs: undefined, endReason: undefined, metadata: undefined, metadataDocuments: 0, streams: [], sdpPauses: [], wav: undefined });
    expect(s.participants).toEqual([]);
    expect(s.durationMs).toBe(0);
  });
});
