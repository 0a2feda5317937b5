import { formatXsDateTime } from '../siprec/siprec-ids.js';
import type { CallFacts, RecordingMetadataModel } from '../siprec/metadata-types.js';
import type { StreamStats } from './rtp-receiver.js';

/**
 * The small JSON summary the reference SRS writes next to each recording: who was recorded, the
 * streams and what arrived on them (an empty stream is marked, with the SRC's reason when its
 * metadata gave one), the announcements, pauses and media problems the SRC reported,
 * the pauses seen in SDP (a=inactive), and how the recording ended. Pure: built from the last
 * metadata model, the receiver statistics and the session's own facts.
 */
/**
 * 'disk-error': a write failed (ENOSPC, EIO...) and the SRS ended the recording; the summary's `failure` says which.
 * 'recovered-after-crash': the recording server died with the recording open and the start-up
 * repair (recording-repair.ts) wrote the summary: the streams' statistics are lost, the stop time
 * is the WAV's last write, and `recovery` says what the repair did to the file.
 */
export type RecordingEndReason = 'bye-from-src' | 'bye-from-srs' | 'fault-bye' | 'error' | 'shutdown' | 'disk-error' | 'recovered-after-crash';

/** What the start-up repair found and did (end reason 'recovered-after-crash' only). */
export interface RecordingRecovery {
  /** When the repair ran. */
  repairedAt: string;
  /** Data size the WAV header stated before the repair, bytes. */
  headerDataBytes: number;
  /** Bytes of audio found and kept (whole frames). */
  dataBytes: number;
  /** Bytes cut off the end: a partial frame. */
  droppedBytes: number;
}

export interface RecordingSummary {
  recordingId: string;
  callId: string;
  sipSessionIds: string[];
  startedAt: string;
  stoppedAt: string | undefined;
  durationMs: number;
  endReason: RecordingEndReason | undefined;
  call: CallFacts | undefined;
  participants: Array<{ id: string; aor: string | undefined; name: string | undefined; associatedAt?: string; disassociatedAt?: string; platform?: unknown }>;
  streams: Array<{
    label: string;
    streamId: string | undefined;
    senders: string[];
    codec: string | undefined;
    /** The stream came as SRTP (RTP/SAVP with SDES keys, R-42); false = plain RTP. */
    srtp: boolean;
    packets: number;
    rtcpPackets: number;
    droppedInactive: number;
    droppedMalformed: number;
    /** No audio packet arrived on the stream: the channel is silent. */
    empty: boolean;
    /** Why the SRC says the stream was silent (its `b2b:silent-stream` reason), when it said so. */
    silentReason?: string;
  }>;
  /** Media problems the SRC reported in the metadata (silent streams and why). */
  mediaProblems: Array<{ kind: string; label: string; reason: string; since: string; detected: string; dropped?: number; sdp?: string; source?: string }>;
  announcements: Array<{ id: string; kind: string; target: string; result: string; reason?: string; language?: string; start?: string; end?: string }>;
  pauses: Array<{ start: string; end: string | undefined }>;
  sdpPauses: Array<{ startMs: number; endMs: number | undefined }>;
  metadataDocuments: number;
  /**
   * `startedAt`: the wall time of the WAV's first sample. The recording's `startedAt`, or earlier when
   * the SRC sent audio from before the session (a start buffer), placed by its RTP timestamps.
   */
  wav: { file: string; frames: number; durationMs: number; channels: 2; sampleRate: number; startedAt: string } | undefined;
  /** Set when a disk fault failed the recording: errno code (ENOSPC, EIO...), reason and message. */
  failure?: { code: string; reason: string; message: string };
  /**
   * Audio received but not in the WAV, when there was any: `lateMs` arrived after its place in the
   * file had been written (dropped), `refusedWrites` packets the timeline could not take.
   */
  lostAudio?: LostAudio;
  recovery?: RecordingRecovery;
}

export interface LostAudio {
  lateMs: number;
  refusedWrites: number;
}

export interface SummaryInput {
  recordingId: string;
  callId: string;
  startedAtMs: number;
  stoppedAtMs: number | undefined;
  endReason: RecordingEndReason | undefined;
  metadata: RecordingMetadataModel | undefined;
  metadataDocuments: number;
  streams: readonly StreamStats[];
  sdpPauses: ReadonlyArray<{ startMs: number; endMs: number | undefined }>;
  /** `startedAtMs`: the wall time of the first sample, when it is not the recording's start. */
  wav: { file: string; frames: number; sampleRate: number; startedAtMs?: number } | undefined;
  /** The disk fault that failed the recording, if any. */
  failure?: { code: string; reason: string; message: string } | undefined;
  /** Audio received but not written (omitted from the summary when there is none). */
  lostAudio?: LostAudio | undefined;
  recovery?: RecordingRecovery;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatXsDateTime(ms));

/** The streams of a recording that received nothing, when it lasted at all (a recording refused at once has no empty channel). */
export function emptyStreams(summary: RecordingSummary): RecordingSummary['streams'] {
  return summary.durationMs > 0 ? summary.streams.filter((st) => st.empty) : [];
}

export function buildRecordingSummary(input: SummaryInput): RecordingSummary {
  const m = input.metadata;
  const session = m?.sessions[0];
  const psa = (id: string) => m?.participantSessionAssocs.find((a) => a.participantId === id);
  const problems = session?.mediaProblems ?? [];
  const silent = new Map(problems.filter((p) => p.kind === 'silent-stream').map((p) => [p.label, p.reason]));
  return {
    recordingId: input.recordingId,
    callId: input.callId,
    sipSessionIds: session?.sipSessionIds ?? [],
    startedAt: iso(input.startedAtMs)!,
    stoppedAt: iso(input.stoppedAtMs),
    durationMs: input.stoppedAtMs === undefined ? 0 : input.stoppedAtMs - input.startedAtMs,
    endReason: input.endReason,
    call: session?.call,
    participants: (m?.participants ?? []).map((p) => {
      const a = psa(p.id);
      return JSON.parse(
        JSON.stringify({
          id: p.id,
          aor: p.nameIds[0]?.aor,
          name: p.nameIds[0]?.names[0]?.text,
          associatedAt: iso(a?.associateTime),
          disassociatedAt: iso(a?.disassociateTime),
          platform: p.platform,
        }),
      ) as RecordingSummary['participants'][number];
    }),
    streams: input.streams.map((s) => {
      const st = m?.streams.find((x) => x.label === s.label);
      const senders = st ? (m?.participantStreamAssocs ?? []).filter((a) => a.send.includes(st.id)).map((a) => a.participantId) : [];
      return {
        label: s.label,
        streamId: st?.id,
        senders,
        codec: s.codec,
        srtp: s.srtp === true,
        packets: s.packets,
        rtcpPackets: s.rtcpPackets,
        droppedInactive: s.dropped.inactive,
        droppedMalformed: s.dropped.malformed,
        empty: s.packets === 0,
        ...(silent.has(s.label) ? { silentReason: silent.get(s.label) } : {}),
      };
    }),
    mediaProblems: problems.map(
      (p) =>
        JSON.parse(
          JSON.stringify({ kind: p.kind, label: p.label, reason: p.reason, since: iso(p.since), detected: iso(p.detected), dropped: p.dropped, sdp: p.sdp, source: p.source }),
        ) as RecordingSummary['mediaProblems'][number],
    ),
    announcements: (session?.announcements ?? []).map(
      (a) =>
        JSON.parse(
          JSON.stringify({ id: a.id, kind: a.kind, target: a.target, result: a.result, reason: a.reason, language: a.language, start: iso(a.start), end: iso(a.end) }),
        ) as RecordingSummary['announcements'][number],
    ),
    pauses: (session?.pauses ?? []).map((p) => ({ start: iso(p.start)!, end: iso(p.end) })),
    sdpPauses: input.sdpPauses.map((p) => ({ ...p })),
    metadataDocuments: input.metadataDocuments,
    wav: input.wav
      ? {
          file: input.wav.file,
          frames: input.wav.frames,
          durationMs: Math.round((input.wav.frames * 1000) / input.wav.sampleRate),
          channels: 2,
          sampleRate: input.wav.sampleRate,
          startedAt: iso(input.wav.startedAtMs ?? input.startedAtMs)!,
        }
      : undefined,
    ...(input.failure ? { failure: { ...input.failure } } : {}),
    ...(input.lostAudio && (input.lostAudio.lateMs > 0 || input.lostAudio.refusedWrites > 0) ? { lostAudio: { ...input.lostAudio } } : {}),
    ...(input.recovery ? { recovery: { ...input.recovery } } : {}),
  };
}
