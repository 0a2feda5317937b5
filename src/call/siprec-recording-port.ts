import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, Timers } from '../common/clock.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import type { ForkSrtpOptions } from '../media/media-session-types.js';
import { callLogger, silentLogger, type Logger } from '../observability/logger.js';
import { RecordingSession } from '../siprec/client/recording-session.js';
import type { RecordingRtpTarget } from '../siprec/client/recording-session-types.js';
import type { SrsConnector } from '../siprec/client/srs-connector-types.js';
import { createRecordingMetadata, recordAnnouncement, recordMediaProblem, recordReminderTone, type ParticipantInit } from '../siprec/metadata-model.js';
import type { AnnouncementRecord, RecordingMetadataModel } from '../siprec/metadata-types.js';
import type { SdesCrypto } from '../siprec/recording-sdp.js';
import { metadataIdFromUuid, type MetadataId } from '../siprec/siprec-ids.js';
import type {
  AnnouncementNote,
  MediaProblemNote,
  RecordingParticipant,
  RecordingPort,
  RecordingPortEvents,
  RecordingPortFactory,
  RecordingStartRequest,
  RecordingStreamTarget,
} from './call-ports.js';
import type { RecordingFileLocator, RecordingLink } from './recording-link.js';

/**
 * The RecordingPort over the SIPREC client (src/siprec/client/RecordingSession, RFC 7866): builds
 * the RFC 7865 metadata model from what the call layer knows (participants with the platform
 * information, R-31/R-33; the call facts; the BroadWorks block for that dialect, R-41), maps the
 * recording server's answer to fork targets, and forwards pause/resume/stop, announcements and
 * transfers. SRTP: one random AES_CM_128_HMAC_SHA1_80 key per stream, offered with SDES and
 * used by the fork.
 */
export interface SiprecRecordingPortOptions {
  /** DrachtioSrsConnector (src/sip/srs-connector.ts) in the product, a fake in tests. */
  readonly connector: SrsConnector;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Default silent. */
  readonly logger?: Logger;
  /** Id source (UUIDs); default crypto.randomUUID. */
  readonly newId?: () => string;
  /** Timeouts of the session (attemptTimeoutMs, startDeadlineMs, ...); default the client's. */
  readonly session?: { attemptTimeoutMs?: number; startDeadlineMs?: number; modifyTimeoutMs?: number; stopTimeoutMs?: number };
  /** The files of a recording of the in-process reference recording server, by its recording id (link()); default none. */
  readonly locateFiles?: RecordingFileLocator;
}

/** One port per recording session; its log lines carry the call's `callId` (callLogger). */
export function siprecRecordingFactory(options: SiprecRecordingPortOptions): RecordingPortFactory {
  return (context) => new SiprecRecordingPort({ ...options, logger: callLogger(options.logger ?? silentLogger, context.callId) });
}

const RECORDING_TYPE: Record<string, string> = { always: 'always', alwaysWithPauseResume: 'always-pause-resume', onDemand: 'on-demand', never: 'never' };

function srtpKey(): { fork: ForkSrtpOptions; sdes: SdesCrypto } {
  const material = randomBytes(30);
  return {
    fork: { profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: material.subarray(0, 16), masterSalt: material.subarray(16) },
    sdes: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: `inline:${material.toString('base64')}` },
  };
}

function numberOf(aor: string): string {
  return /^(?:tel:|sips?:)?([^@;]+)/.exec(aor)?.[1] ?? aor;
}

/** The metadata record of a note: defined fields only. */
function announcementRecord(n: AnnouncementNote): Omit<AnnouncementRecord, 'id'> {
  const record: Omit<AnnouncementRecord, 'id'> = { kind: n.kind, target: n.target, result: n.result };
  const optional = ['phase', 'media', 'language', 'start', 'end', 'last', 'count', 'intervalSeconds', 'reason'] as const;
  for (const k of optional) if (n[k] !== undefined && n[k] !== '') Object.assign(record, { [k]: n[k] });
  return record;
}

export class SiprecRecordingPort extends TypedEmitter<RecordingPortEvents> implements RecordingPort {
  readonly #o: SiprecRecordingPortOptions;
  readonly #log: Logger;
  #session: RecordingSession | undefined;
  #model: RecordingMetadataModel | undefined;
  #ids: { other: MetadataId; user: MetadataId } | undefined;
  /** RFC 7865 ids of the session's metadata, for link(). */
  #metadataIds: { groupId: MetadataId; sessionId: MetadataId } | undefined;
  /** Metadata changes made before the recording session exists (applied to its first document). */
  #pending: Array<(m: RecordingMetadataModel) => void> = [];

  constructor(options: SiprecRecordingPortOptions) {
    super();
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'recording-port' });
  }

  #id(): MetadataId {
    return metadataIdFromUuid((this.#o.newId ?? randomUUID)());
  }

  #participant(id: MetadataId, p: RecordingParticipant): ParticipantInit {
    return { id, aor: p.aor, ...(p.name ? { name: p.name } : {}), ...(p.platform ? { platform: { ...p.platform } } : {}) };
  }

  start(req: RecordingStartRequest): void {
    if (this.#session) return;
    const now = this.#o.clock.now();
    this.#ids = { other: this.#id(), user: this.#id() };
    const user = req.user.number ?? numberOf(req.user.aor);
    const other = req.other.number ?? numberOf(req.other.aor);
    const metadataIds = { groupId: this.#id(), sessionId: this.#id() };
    this.#metadataIds = metadataIds;
    const model = createRecordingMetadata({
      ...metadataIds,
      streamIds: { label1: this.#id(), label2: this.#id() },
      sipSessionId: req.callId,
      startTime: now,
      other: this.#participant(this.#ids.other, req.other),
      user: this.#participant(this.#ids.user, req.user),
      call: {
        direction: req.direction === 'inbound-pstn' ? 'inbound' : req.direction === 'outbound-pstn' ? 'outbound' : 'internal',
        trunkCallId: req.callId,
        tenant: req.orgId,
        location: req.locationId,
        recordingMode: req.mode,
      },
      ...(req.provider.dialect === 'broadworks' && req.user.platform
        ? {
            broadWorks: {
              version: '3.0',
              extTrackingId: req.callId,
              serviceProviderId: req.user.platform.serviceProvider,
              groupId: req.user.platform.externalGroup,
              userId: req.user.platform.externalIdentifier,
              callId: req.callId,
              callType: req.userSide === 'caller' ? ('origCall' as const) : ('termCall' as const),
              callingPartyNumber: req.userSide === 'caller' ? user : other,
              calledPartyNumber: req.userSide === 'caller' ? other : user,
              recordingType: RECORDING_TYPE[req.mode] ?? req.mode,
            },
          }
        : {}),
    });
    this.#model = model;
    for (const change of this.#pending) change(model);
    this.#pending = [];
    const keys = req.provider.srtp ? { label1: srtpKey(), label2: srtpKey() } : undefined;
    const session = new RecordingSession({
      connector: this.#o.connector,
      targets: req.provider.recordingServers.map((s) => ({ uri: s.uri, transport: s.transport })),
      metadata: model,
      dialect: req.provider.dialect,
      media: {
        address: req.local.address,
        ports: { label1: req.local.label1Port, label2: req.local.label2Port },
        ...(keys ? { crypto: { label1: keys.label1.sdes, label2: keys.label2.sdes } } : {}),
      },
      srtp: req.provider.srtp,
      failurePolicy: req.provider.failurePolicy,
      sessionId: randomUUID(),
      clock: this.#o.clock,
      timers: this.#o.timers,
      logger: this.#log,
      ...this.#o.session,
    });
    this.#session = session;
    const target = (t: RecordingRtpTarget, key: ForkSrtpOptions | undefined): RecordingStreamTarget => ({
      accepted: t.accepted,
      address: t.address,
      port: t.port,
      payloadType: t.payloadType,
      ...(key ? { srtp: key } : {}),
    });
    session.on('established', (info) =>
      this.emit('established', { label1: target(info.targets.label1, keys?.label1.fork), label2: target(info.targets.label2, keys?.label2.fork) }),
    );
    session.on('failed', (f) => this.emit('failed', { policy: f.policy, phase: f.phase, detail: `${f.reason}: ${f.detail}` }));
    void session.start();
  }

  /**
   * every announcement, tone or beep, played or skipped, goes into the metadata and is sent as
   * an update at once. The reminder tone is one entry per recording session: its first play is
   * sent as an update; later plays only refresh that entry's count/last in the model, which the next
   * update (pause, resume, transfer) and the final snapshot carry.
   */
  announcement(note: AnnouncementNote): void {
    const record = announcementRecord(note);
    if (note.kind !== 'reminder-tone' || note.result !== 'played') {
      this.#change((m) => recordAnnouncement(m, record), 'announcement');
      return;
    }
    const model = this.#model;
    if (this.#session && model?.sessions[0]?.announcements?.some((a) => a.kind === 'reminder-tone' && a.result === 'played')) {
      recordReminderTone(model, record);
      return;
    }
    this.#change((m) => recordReminderTone(m, record), 'reminder tone');
  }

  mediaProblem(problem: MediaProblemNote): void {
    this.#change((m) => recordMediaProblem(m, { ...problem }), 'media problem');
  }

  /** A metadata change: sent as an update now, or applied to the first document when the session does not exist yet. */
  #change(change: (m: RecordingMetadataModel) => void, what: string): void {
    const session = this.#session;
    if (!session || !this.#model) {
      this.#pending.push(change);
      return;
    }
    session.updateMetadata(change).catch((err: unknown) => this.#log.debug({ err }, `${what} metadata update failed`));
  }

  participantChanged(side: 'other' | 'user', joining: RecordingParticipant): void {
    const session = this.#session;
    if (!session || !this.#ids) return;
    const id = this.#id();
    const leaving = this.#ids[side];
    this.#ids = { ...this.#ids, [side]: id };
    session.transferParticipant(leaving, this.#participant(id, joining)).catch((err: unknown) => this.#log.debug({ err }, 'transfer metadata update failed'));
  }

  async pause(): Promise<void> {
    await this.#session?.pause().catch((err: unknown) => this.#log.info({ err: (err as Error).message }, 'pause not signalled to the recording server'));
  }

  async resume(): Promise<void> {
    await this.#session?.resume().catch((err: unknown) => this.#log.info({ err: (err as Error).message }, 'resume not signalled to the recording server'));
  }

  async stop(): Promise<void> {
    await this.#session?.stop().catch((err: unknown) => this.#log.debug({ err }, 'recording stop failed'));
  }

  async close(): Promise<void> {
    await this.#session?.close().catch(() => undefined);
  }

  /**
   * What links the call to this recording session (docs/admin-api.md "Recording links"): the
   * client's session id and state, the SIPREC Call-ID and the server's answer once it answered, the
   * server's recording id and, when the in-process reference recording server holds it, the files.
   * Undefined before start().
   */
  link(): RecordingLink | undefined {
    const session = this.#session;
    if (!session || !this.#metadataIds) return undefined;
    const e = session.established;
    const targets = session.rtpTargets ?? e?.targets;
    const srsRecordingId = e?.answer.srsRecordingId ?? null;
    return {
      siprecSessionId: session.sessionId,
      metadata: { ...this.#metadataIds },
      state: session.state,
      siprecCallId: e?.callId ?? null,
      srs:
        e && targets
          ? {
              status: e.answer.status,
              target: e.target,
              attempt: e.attempt,
              contact: e.answer.contact ?? null,
              source: e.answer.source ?? null,
              setupMs: Math.round(e.setupMs),
              streams: [targets.label1, targets.label2].map((t) => ({ label: t.label, accepted: t.accepted, address: t.address, port: t.port, payloadType: t.payloadType ?? null })),
            }
          : null,
      srsRecordingId,
      files: srsRecordingId === null ? null : (this.#o.locateFiles?.(srsRecordingId) ?? null),
    };
  }
}
