import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import { AppError, isAppError } from '../common/errors.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { G711Codec } from '../media/audio/g711.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { metadataFromElement } from '../siprec/metadata-parser.js';
import { validateMetadataElement } from '../siprec/metadata-validator.js';
import { parseXml, type XmlElement } from '../siprec/xml-parser.js';
import type { RecordingMetadataModel } from '../siprec/metadata-types.js';
import type { RecordingSdp } from '../siprec/recording-sdp.js';
import { buildSrsAnswer } from '../siprec/srs-answer.js';
import type { PortAllocator } from '../media/transport/port-allocator.js';
import type { RecordingFiles, RecordingStore } from './recording-store.js';
import { buildRecordingSummary, emptyStreams, type RecordingEndReason, type RecordingSummary } from './recording-summary.js';
import { RESERVE_SUFFIX, diskFailureOf, toDiskFailure, type DiskFailure, type SpaceReservation } from './disk-guard.js';
import { SDES_SUITE, formatSdesKeyParams, parseSdesKeyParams, type SdesKey } from './srtp-receive.js';
import { InThreadRecordingMedia } from './recording-media.js';
import type { RecordingMediaBackend, RecordingMediaHandle, RecordingMediaStream } from './recording-media-types.js';
import type { RecordingSdpStream, SdesCrypto } from '../siprec/recording-sdp.js';

/**
 * One recording at the reference SRS, independent of SIP: it answers the SRC's offers, drives the
 * recording's media side (RTP receiver and WAV writer, recording-media.ts: in an srs media worker
 * or in this thread, `media`), stores every metadata document, and writes the summary on close.
 *
 *   receiving <-> paused        (every offered stream a=inactive = paused; R-18)
 *   receiving | paused -> closed (BYE either way, fault, shutdown; files finalised once)
 *
 * Label '1' goes to WAV channel 1 (left), label '2' to channel 2; without labels the m-line order
 * decides. Streams beyond the first two audio streams are refused (port 0).
 */
export type SrsRecordingState = 'receiving' | 'paused' | 'closed';

/** The legal moves of a reference-server recording (common/state-machine.ts; drawn in docs/state-machines.md). */
export const SRS_RECORDING_TRANSITIONS: TransitionTable<SrsRecordingState> = {
  receiving: ['paused', 'closed'],
  paused: ['receiving', 'closed'],
  closed: [],
};

export interface SrsRecordingInit {
  recordingId: string;
  callId: string;
  offer: RecordingSdp;
  /** Metadata document of the INVITE, if any (already extracted from the multipart body). */
  metadataXml: string | undefined;
  store: RecordingStore;
  ports: PortAllocator;
  rtpAddress: string;
  acceptCodecs: readonly string[];
  jitterWindowMs: number;
  validate: boolean;
  /** Accept RTP/SAVP offers with SDES AES_CM_128_HMAC_SHA1_80. Default true. */
  srtp?: boolean;
  /** Key material source for our SDES keys; default crypto.randomBytes. */
  randomBytes?: (size: number) => Buffer;
  clock: Clock;
  logger?: Logger;
  /**
   * Where the media side runs: the SRS's media workers (SrsMediaPool) or this thread. Default in
   * this thread on `clock` (InThreadRecordingMedia).
   */
  media?: RecordingMediaBackend;
  /** Sets disk space aside for the summary in a file at `path` (RecordingDiskGuard.reserve); released before it is written. Default none. */
  reserveSpace?: (path: string) => Promise<SpaceReservation>;
  /**
   * Called once, as it happens, when a write of the established recording fails (ENOSPC, EIO...)
   * or its media worker dies (reason 'media-worker-failed'): the recording is failed and its owner
   * ends the session (BYE). Default none.
   */
  onDiskFailure?: (failure: DiskFailure) => void;
}

/** The failure of a recording whose media worker died (counted under 'media-worker-failed'). */
function workerFailure(err: unknown): DiskFailure {
  return { code: 'SRS_MEDIA_WORKER_FAILED', reason: 'media-worker-failed', message: String((err as Error | undefined)?.message ?? err) };
}

/** A start-up error as the SIP answer sees it: a disk fault (errno) becomes SRS_DISK_ERROR (503). */
function startError(err: unknown): unknown {
  if (isAppError(err)) return err;
  const disk = diskFailureOf(err);
  return disk ? new AppError('SRS_DISK_ERROR', `${disk.code}: ${disk.message}`, { cause: err }) : err;
}

/**
 * Parses a metadata document once, validates it (when asked) and builds its model; throws
 * SIPREC_METADATA_INVALID (with validation, malformed XML too, as an issue at '/') or
 * SIPREC_XML_MALFORMED (without).
 */
export function checkMetadata(xml: string, validate: boolean): RecordingMetadataModel {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (validate && isAppError(err, 'SIPREC_XML_MALFORMED')) throw new AppError('SIPREC_METADATA_INVALID', `/: ${err.message}`, { cause: err });
    throw err;
  }
  if (validate) {
    const issues = validateMetadataElement(root, { dialect: 'broadworks' });
    if (issues.length > 0) throw new AppError('SIPREC_METADATA_INVALID', issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; '));
  }
  // a copy: the model's values would otherwise be substrings of the INVITE's body, kept for the recording's life
  return structuredClone(metadataFromElement(root));
}

/** What a recording keeps of its start: not the offer nor the metadata document, whose strings would keep the INVITE's body. */
type KeptInit = Omit<SrsRecordingInit, 'offer' | 'metadataXml'>;

/** Applies a partial document (RFC 7865 section 6.1 datamode partial) onto the last complete one. */
export function mergePartial(base: RecordingMetadataModel, partial: RecordingMetadataModel): RecordingMetadataModel {
  const m = structuredClone(base);
  for (const s of partial.sessions) {
    const t = m.sessions.find((x) => x.id === s.id);
    if (t && s.stopTime !== undefined) t.stopTime = s.stopTime;
  }
  for (const a of partial.sessionRecordingAssocs) {
    const t = m.sessionRecordingAssocs.find((x) => x.sessionId === a.sessionId);
    if (t && a.disassociateTime !== undefined) t.disassociateTime = a.disassociateTime;
  }
  for (const a of partial.participantSessionAssocs) {
    const t = m.participantSessionAssocs.find((x) => x.participantId === a.participantId && x.sessionId === a.sessionId);
    if (t && a.disassociateTime !== undefined) t.disassociateTime = a.disassociateTime;
    else if (!t) m.participantSessionAssocs.push(a);
  }
  for (const p of partial.participants) if (!m.participants.some((x) => x.id === p.id)) m.participants.push(p);
  return m;
}

const MAX_BIND_ATTEMPTS = 5;

/**
 * Answers an RTP/SAVP stream (RFC 4568 section 7.1.2): picks the SRC's first AES_CM_128_HMAC_SHA1_80
 * line with a usable key, answers with the same tag and a fresh key of ours, and remembers both.
 */
function sdesAnswerer(keys: Map<number, { remote: SdesKey; local: SdesKey }>, random: (n: number) => Buffer) {
  return (stream: RecordingSdpStream): SdesCrypto | undefined => {
    for (const c of stream.crypto) {
      if (c.suite !== SDES_SUITE) continue;
      const remote = parseSdesKeyParams(c.keyParams);
      if (!remote) continue;
      const raw = random(30);
      const local = { masterKey: raw.subarray(0, 16), masterSalt: raw.subarray(16, 30) };
      keys.set(stream.index, { remote, local });
      return { tag: c.tag, suite: SDES_SUITE, keyParams: formatSdesKeyParams(local) };
    }
    return undefined;
  };
}

export class SrsRecording {
  readonly recordingId: string;
  readonly callId: string;
  readonly startedAtMs: number;
  readonly #sm: StateMachine<SrsRecordingState>;
  readonly #init: KeptInit;
  readonly #files: RecordingFiles;
  readonly #media: RecordingMediaHandle;
  readonly #ports: number[];
  /** Offer m-line index -> label (for recorded streams) and our port per m-line (0 = refused). */
  readonly #answerPorts: number[];
  readonly #labels: Array<string | undefined>;
  readonly #log: Logger;
  #sdpVersion = 1;
  /** Our SDES answer per m-line (RTP/SAVP streams only). */
  #crypto: Array<SdesCrypto | undefined> = [];
  #answerSdp = '';
  #metadata: RecordingMetadataModel | undefined;
  readonly #sdpPauses: Array<{ startMs: number; endMs: number | undefined }> = [];
  #closing: Promise<RecordingSummary> | undefined;
  #reservation: SpaceReservation | undefined;
  #diskFailure: DiskFailure | undefined;

  private constructor(init: SrsRecordingInit, files: RecordingFiles, media: RecordingMediaHandle, ports: number[], answerPorts: number[], labels: Array<string | undefined>, startedAtMs: number) {
    const { offer: _offer, metadataXml: _metadata, ...kept } = init;
    this.#init = kept;
    this.recordingId = init.recordingId;
    this.callId = init.callId;
    this.#files = files;
    this.#media = media;
    this.#ports = ports;
    this.#answerPorts = answerPorts;
    this.#labels = labels;
    this.startedAtMs = startedAtMs;
    this.#log = (init.logger ?? silentLogger).child({ srsRecordingId: init.recordingId, siprecCallId: init.callId });
    this.#sm = new StateMachine({ name: 'srs recording', initial: 'receiving', table: SRS_RECORDING_TRANSITIONS, log: this.#log });
  }

  /**
   * Validates the metadata, allocates ports, binds sockets, opens the files and builds the answer.
   * Throws AppError SIPREC_METADATA_INVALID/SIPREC_XML_MALFORMED (400), SIPREC_SDP_UNACCEPTABLE (488),
   * SRS_NO_RTP_PORTS (503), SRS_DISK_ERROR (503), SRS_MEDIA_WORKER_FAILED (503).
   */
  static async start(init: SrsRecordingInit): Promise<SrsRecording> {
    const metadata = init.metadataXml === undefined ? undefined : checkMetadata(init.metadataXml, init.validate);
    // Which offered m-lines we record: the first two audio streams, channel by label 1/2 or order.
    const audio = init.offer.streams.filter((s) => s.media === 'audio' && s.port !== 0).slice(0, 2);
    if (audio.length === 0) throw new AppError('SIPREC_SDP_UNACCEPTABLE', 'no audio stream offered');
    const channelOf = (i: number): 0 | 1 => {
      const label = audio[i]!.label;
      if (label === '1') return 0;
      if (label === '2') return 1;
      return i === 0 ? 0 : 1;
    };
    if (audio.length === 2 && channelOf(0) === channelOf(1)) throw new AppError('SIPREC_SDP_INVALID', 'two streams map to the same channel');
    const backend = init.media ?? new InThreadRecordingMedia(init.clock);

    let lastErr: unknown;
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS; attempt++) {
      const ports: number[] = [];
      for (let i = 0; i < audio.length; i++) {
        const p = init.ports.allocate();
        if (p === undefined) {
          for (const q of ports) init.ports.release(q);
          throw new AppError('SRS_NO_RTP_PORTS');
        }
        ports.push(p);
      }
      const answerPorts = init.offer.streams.map((s) => {
        const k = audio.indexOf(s);
        return k < 0 ? 0 : ports[k]!;
      });
      // Build the answer first: it throws 488 before any socket is bound.
      const keys = new Map<number, { remote: SdesKey; local: SdesKey }>();
      const answerCrypto = (init.srtp ?? true) ? sdesAnswerer(keys, init.randomBytes ?? cryptoRandomBytes) : undefined;
      let answer;
      try {
        answer = buildSrsAnswer(init.offer, {
          sessionId: String(init.clock.now()),
          version: 1,
          address: init.rtpAddress,
          ports: answerPorts,
          acceptCodecs: init.acceptCodecs,
          ...(answerCrypto ? { answerCrypto } : {}),
        });
      } catch (err) {
        for (const q of ports) init.ports.release(q);
        throw err;
      }
      const startedAtMs = init.clock.now();
      // A disk fault while the files are set up releases the ports and refuses the INVITE (503).
      const early: { rec?: SrsRecording; writeError?: unknown; failure?: Error } = {};
      let files: RecordingFiles;
      let reservation: SpaceReservation | undefined;
      try {
        files = await init.store.create(init.recordingId, startedAtMs);
        reservation = await init.reserveSpace?.(join(files.dir, `${init.recordingId}${RESERVE_SUFFIX}`));
      } catch (err) {
        await reservation?.release();
        for (const q of ports) init.ports.release(q);
        throw startError(err);
      }
      const streams: RecordingMediaStream[] = audio.map((s, i) => {
        const k = keys.get(s.index);
        return {
          label: s.label ?? String(i + 1),
          channel: channelOf(i),
          port: ports[i]!,
          payloadTypes: s.formats.filter((f) => f.encoding === 'PCMU' || f.encoding === 'PCMA').map((f) => [f.payloadType, f.encoding as G711Codec]),
          ...(s.telephoneEventPayloadType === undefined ? {} : { telephoneEventPayloadType: s.telephoneEventPayloadType }),
          ...(answer.streams[s.index]?.accepted && k ? { srtp: k } : {}),
        };
      });
      // the media side: the WAV file, then the sockets (a port taken by someone else: try the next ones)
      const opened = await backend.open(
        {
          recordingId: init.recordingId,
          wavPath: files.wavPath,
          address: init.rtpAddress,
          streams,
          windowSamples: Math.round(init.jitterWindowMs * 8),
          reanchorMs: Math.max(200, init.jitterWindowMs),
        },
        {
          onWriteError: (err) => (early.rec ? early.rec.#failDisk(err) : (early.writeError ??= err)),
          onFailure: (err) => (early.rec ? early.rec.#failDisk(err, 'media-worker-failed') : (early.failure ??= err)),
          onFirstPacket: (label) => {
            if (early.rec) early.rec.#log.debug({ label }, 'first RTP packet of a stream');
          },
        },
      );
      if (!opened.ok) {
        await reservation?.release();
        for (const q of ports) init.ports.release(q);
        if (opened.stage === 'bind') {
          lastErr = opened.error;
          continue;
        }
        throw opened.stage === 'worker' ? opened.error : startError(opened.error);
      }
      const media = opened.handle;
      const labels = init.offer.streams.map((s) => {
        const k = audio.indexOf(s);
        return k < 0 ? undefined : streams[k]!.label;
      });
      const rec = new SrsRecording(init, files, media, ports, answerPorts, labels, startedAtMs);
      early.rec = rec;
      rec.#reservation = reservation;
      rec.#answerSdp = answer.sdp;
      rec.#crypto = answer.streams.map((st) => st.crypto);
      rec.#metadata = metadata;
      try {
        await files.markOpen({ callId: init.callId, sampleRate: media.sampleRate, channels: 2 });
        if (init.metadataXml !== undefined) await files.appendMetadata(init.metadataXml);
        if (early.writeError !== undefined) throw early.writeError;
        if (early.failure !== undefined) throw early.failure;
      } catch (err) {
        // the INVITE is refused: the files are finalised (summary with the failure) and the ports released
        const disk = isAppError(err, 'SRS_MEDIA_WORKER_FAILED') ? workerFailure(err) : diskFailureOf(err);
        rec.#diskFailure ??= disk;
        await rec.close(disk ? 'disk-error' : 'error');
        throw startError(err);
      }
      rec.#applyDirections(init.offer);
      rec.#log.info({ ports, labels: streams.map((c) => c.label) }, 'recording started');
      return rec;
    }
    throw new AppError('SRS_NO_RTP_PORTS', `could not bind RTP sockets: ${String(lastErr)}`);
  }

  get state(): SrsRecordingState {
    return this.#sm.state;
  }

  get answerSdp(): string {
    return this.#answerSdp;
  }

  get metadata(): RecordingMetadataModel | undefined {
    return this.#metadata;
  }

  get metadataDocuments(): number {
    return this.#files.metadataCount;
  }

  get files(): RecordingFiles {
    return this.#files;
  }

  /** The streams' receive statistics: the last known (media workers) or current (in this thread); the final ones once closed. */
  receiverStats() {
    return this.#media.stats();
  }

  #applyDirections(offer: RecordingSdp): void {
    let anyActive = false;
    offer.streams.forEach((s, i) => {
      const label = this.#labels[i];
      if (label === undefined) return;
      const active = s.direction !== 'inactive' && s.direction !== 'recvonly' && s.port !== 0;
      this.#media.setActive(label, active);
      anyActive ||= active;
    });
    const nowMs = this.#media.elapsedMs();
    if (!anyActive && this.#sm.state === 'receiving') {
      this.#sm.transition('paused', 'every stream inactive');
      this.#sdpPauses.push({ startMs: Math.round(nowMs), endMs: undefined });
    } else if (anyActive && this.#sm.state === 'paused') {
      this.#sm.transition('receiving', 'a stream active again');
      const last = this.#sdpPauses.at(-1);
      if (last && last.endMs === undefined) last.endMs = Math.round(nowMs);
    }
  }

  /**
   * A re-INVITE: new offer (same m-lines; a=inactive pauses, a=sendonly resumes) and optionally a
   * new metadata document. Returns our answer (same ports, o= version bumped).
   */
  async update(offer: RecordingSdp | undefined, metadataXml: string | undefined): Promise<string> {
    if (this.#sm.state === 'closed') throw new AppError('CLOSED', 'recording is closed');
    if (metadataXml !== undefined) await this.addMetadata(metadataXml);
    if (offer) {
      if (offer.streams.length < this.#answerPorts.length) throw new AppError('SIPREC_SDP_INVALID', 'a re-offer must keep every m-line');
      const ports = offer.streams.map((_, i) => this.#answerPorts[i] ?? 0);
      const answer = buildSrsAnswer(offer, {
        sessionId: this.#answerSdp.match(/^o=\S+ (\S+)/m)?.[1] ?? '0',
        version: ++this.#sdpVersion,
        address: this.#init.rtpAddress,
        ports,
        acceptCodecs: this.#init.acceptCodecs,
        // Keys stay as negotiated first (no re-keying in the reference SRS).
        answerCrypto: (s) => this.#crypto[s.index],
      });
      offer.streams.forEach((s, i) => {
        const label = this.#labels[i];
        if (label === undefined) return;
        const pts = new Map(s.formats.filter((f) => f.encoding === 'PCMU' || f.encoding === 'PCMA').map((f) => [f.payloadType, f.encoding as G711Codec]));
        this.#media.setPayloadTypes(label, pts, s.telephoneEventPayloadType);
      });
      this.#applyDirections(offer);
      this.#answerSdp = answer.sdp;
    }
    return this.#answerSdp;
  }

  /** Stores a metadata document (complete replaces, partial merges). Throws on invalid metadata. */
  async addMetadata(xml: string): Promise<void> {
    if (this.#sm.state === 'closed') throw new AppError('CLOSED', 'recording is closed');
    const model = checkMetadata(xml, this.#init.validate);
    this.#metadata = model.datamode === 'partial' && this.#metadata ? mergePartial(this.#metadata, model) : model;
    try {
      await this.#files.appendMetadata(xml);
    } catch (err) {
      if (diskFailureOf(err) === undefined) throw err;
      this.#failDisk(err);
      throw startError(err);
    }
  }

  /** The disk fault that failed this recording (a write of its audio, metadata or WAV header), if any. */
  get diskFailure(): DiskFailure | undefined {
    return this.#diskFailure;
  }

  /**
   * A write failed, or the media worker died (`worker`): the recording is failed (once), the error
   * logged with its errno or cause, the owner told.
   */
  #failDisk(err: unknown, worker?: 'media-worker-failed'): void {
    if (this.#diskFailure !== undefined || this.#sm.state === 'closed') return;
    const failure = worker ? workerFailure(err) : toDiskFailure(err);
    this.#diskFailure = failure;
    this.#log.error({ code: failure.code, reason: failure.reason, err }, worker ? 'recording failed: media worker failed' : 'recording failed: disk error');
    try {
      this.#init.onDiskFailure?.(failure);
    } catch (listenerErr) {
      this.#log.error({ err: listenerErr }, 'disk failure handler failed');
    }
  }

  /** Finalises the WAV file and writes the summary. Idempotent: later calls get the same summary. */
  close(reason: RecordingEndReason): Promise<RecordingSummary> {
    this.#closing ??= (async () => {
      const elapsed = this.#media.elapsedMs();
      const stoppedAtMs = this.#init.clock.now();
      const last = this.#sdpPauses.at(-1);
      if (last && last.endMs === undefined) last.endMs = Math.round(elapsed);
      this.#sm.transition('closed', reason);
      const media = await this.#media.close(elapsed);
      const streams = media.streams;
      for (const p of this.#ports) this.#init.ports.release(p);
      let wav: { file: string; frames: number; sampleRate: number; startedAtMs: number } | undefined;
      // a crashed media worker leaves the audio it wrote (header rewritten from the file size) and an error
      if (media.wav) wav = { file: media.wav.path.split(/[\\/]/).pop()!, frames: media.wav.frames, sampleRate: 8000, startedAtMs: this.startedAtMs - Math.round(media.originShiftMs) };
      if (media.error !== undefined && this.#diskFailure === undefined) {
        // a write error already failed the recording (logged then); a new one fails it now
        this.#diskFailure = isAppError(media.error, 'SRS_MEDIA_WORKER_FAILED') ? workerFailure(media.error) : toDiskFailure(media.error);
        this.#log.error({ err: media.error, code: this.#diskFailure.code }, 'finalising the WAV file failed');
      }
      // audio that reached the server but not the file: never silent (warn, and marked in the summary)
      const lostAudio = { lateMs: Math.round(media.timeline.lateSamples / 8), refusedWrites: media.timeline.refusedWrites };
      if (lostAudio.lateMs > 0 || lostAudio.refusedWrites > 0) {
        this.#log.warn(lostAudio, 'recording lost audio: packets arrived after their place in the WAV was written, or could not be placed');
      }
      // the reservation made room for the summary: give it back just before writing it
      await this.#reservation?.release();
      const summary = buildRecordingSummary({
        recordingId: this.recordingId,
        callId: this.callId,
        startedAtMs: this.startedAtMs,
        stoppedAtMs,
        endReason: reason,
        metadata: this.#metadata,
        metadataDocuments: this.#files.metadataCount,
        streams,
        sdpPauses: this.#sdpPauses,
        wav,
        failure: this.#diskFailure,
        lostAudio,
      });
      try {
        await this.#files.writeSummary(summary);
      } catch (err) {
        this.#log.error({ err, endReason: reason, failure: this.#diskFailure?.code }, 'writing the summary failed');
      }
      const empty = emptyStreams(summary);
      if (empty.length > 0) {
        this.#log.warn({ labels: empty.map((s) => s.label), reasons: empty.map((s) => s.silentReason ?? 'unknown') }, 'recording closed with an empty channel');
      }
      this.#log.info({ reason, frames: wav?.frames, timeline: media.timeline }, 'recording closed');
      return summary;
    })();
    return this.#closing;
  }
}

