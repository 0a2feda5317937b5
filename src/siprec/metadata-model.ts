import type { MetadataId } from './siprec-ids.js';
import type {
  AnnouncementRecord,
  BroadWorksRecordingInfo,
  CallFacts,
  MediaProblemRecord,
  MetadataParticipant,
  PlatformInformation,
  RecordingMetadataModel,
} from './metadata-types.js';

/**
 * Building and mutating the RecordingMetadataModel the call layer keeps for one recording session.
 * Every id and time is passed in (no uuid(), no Date). Each function mutates the model in place;
 * each offer serialises the whole model as it is then (RFC 7866 section 6: complete snapshots on
 * every update), synchronously, so no copy is taken.
 *
 * Stream convention: label '1' = what the PSTN/other party says, label '2' = what the user
 * says. The other party sends stream 1 and receives stream 2; the user the opposite.
 */
export interface ParticipantInit {
  id: MetadataId;
  /** sip:+E164@host, sip:user@host or tel:+E164. */
  aor: string;
  /** Display name; default: none. */
  name?: string;
  /** xml:lang of the name; default 'en'. */
  nameLang?: string;
  platform?: PlatformInformation;
}

export interface CreateMetadataInit {
  groupId: MetadataId;
  sessionId: MetadataId;
  /** Stream ids for label 1 (other party) and label 2 (user). */
  streamIds: { label1: MetadataId; label2: MetadataId };
  /** RFC 7989 Session-ID or the call's Call-ID. */
  sipSessionId: string;
  /** Recording start (epoch ms): group, session and recording association time. */
  startTime: number;
  other: ParticipantInit;
  user: ParticipantInit;
  /** When each participant joined (default startTime). */
  otherAssociateTime?: number;
  userAssociateTime?: number;
  call?: CallFacts;
  broadWorks?: BroadWorksRecordingInfo;
}

function participant(init: ParticipantInit): MetadataParticipant {
  const p: MetadataParticipant = {
    id: init.id,
    nameIds: [{ aor: init.aor, names: init.name === undefined ? [] : [{ text: init.name, lang: init.nameLang ?? 'en' }] }],
  };
  if (init.platform) p.platform = { ...init.platform };
  return p;
}

export function createRecordingMetadata(init: CreateMetadataInit): RecordingMetadataModel {
  const { groupId, sessionId, startTime } = init;
  const s1 = init.streamIds.label1;
  const s2 = init.streamIds.label2;
  const otherAt = init.otherAssociateTime ?? startTime;
  const userAt = init.userAssociateTime ?? startTime;
  const model: RecordingMetadataModel = {
    datamode: 'complete',
    groups: [{ id: groupId, associateTime: startTime }],
    sessions: [{ id: sessionId, sipSessionIds: [init.sipSessionId], groupRefs: [groupId], startTime }],
    participants: [participant(init.other), participant(init.user)],
    streams: [
      { id: s1, sessionId, label: '1' },
      { id: s2, sessionId, label: '2' },
    ],
    sessionRecordingAssocs: [{ sessionId, associateTime: startTime }],
    participantSessionAssocs: [
      { participantId: init.other.id, sessionId, associateTime: otherAt },
      { participantId: init.user.id, sessionId, associateTime: userAt },
    ],
    participantStreamAssocs: [
      { participantId: init.other.id, send: [s1], recv: [s2], associateTime: otherAt },
      { participantId: init.user.id, send: [s2], recv: [s1], associateTime: userAt },
    ],
  };
  if (init.call) model.sessions[0]!.call = { ...init.call };
  if (init.broadWorks) model.broadWorks = { ...init.broadWorks };
  return model;
}

function session(model: RecordingMetadataModel) {
  const s = model.sessions[0];
  if (!s) throw new Error('metadata model has no session');
  return s;
}

/**
 * Appends an announcement record with the next sequence id and returns it; the caller may
 * later set `end`/`result` on the returned object (it lives in the model).
 */
export function recordAnnouncement(model: RecordingMetadataModel, record: Omit<AnnouncementRecord, 'id'>): AnnouncementRecord {
  const s = session(model);
  const list = (s.announcements ??= []);
  const entry: AnnouncementRecord = { id: String(list.length + 1), ...record };
  list.push(entry);
  return entry;
}

/**
 * R-19 reminder tone: ONE entry per recording session, however often the tone plays (a 10 s interval
 * would otherwise flood the recording server). The first call appends a 'reminder-tone' entry
 * (`start` = first play) and returns 'added'; later calls update that entry's `count`, `last`,
 * `end` and `intervalSeconds` in place and return 'updated' (the caller decides whether that is worth
 * an update of its own; the final snapshot carries the latest figures either way).
 */
export function recordReminderTone(model: RecordingMetadataModel, record: Omit<AnnouncementRecord, 'id'>): 'added' | 'updated' {
  const entry = session(model).announcements?.find((a) => a.kind === 'reminder-tone' && a.result === 'played');
  if (!entry || record.result !== 'played') {
    recordAnnouncement(model, record);
    return 'added';
  }
  if (record.count !== undefined) entry.count = record.count;
  if (record.last !== undefined) entry.last = record.last;
  if (record.end !== undefined) entry.end = record.end;
  if (record.intervalSeconds !== undefined) entry.intervalSeconds = record.intervalSeconds;
  return 'updated';
}

/** Appends a media problem (a silent stream and why) to the session. */
export function recordMediaProblem(model: RecordingMetadataModel, record: MediaProblemRecord): void {
  (session(model).mediaProblems ??= []).push({ ...record });
}

/** Marks the start of a pause; a no-op when a pause is already open. */
export function startPause(model: RecordingMetadataModel, at: number): void {
  const pauses = (session(model).pauses ??= []);
  const last = pauses[pauses.length - 1];
  if (last && last.end === undefined) return;
  pauses.push({ start: at });
}

/** Closes the open pause; a no-op when not paused. */
export function endPause(model: RecordingMetadataModel, at: number): void {
  const last = session(model).pauses?.at(-1);
  if (last && last.end === undefined) last.end = at;
}

/** Rollback of startPause() (a refused pause): drops the pause record opened at `at`. */
export function undoStartPause(model: RecordingMetadataModel, at: number): void {
  const pauses = model.sessions[0]?.pauses;
  const last = pauses?.at(-1);
  if (pauses && last && last.start === at && last.end === undefined) pauses.pop();
}

/** Rollback of endPause() (a refused resume): re-opens the pause closed at `at`. */
export function undoEndPause(model: RecordingMetadataModel, at: number): void {
  const last = model.sessions[0]?.pauses?.at(-1);
  if (last && last.end === at) delete last.end;
}

export function isPaused(model: RecordingMetadataModel): boolean {
  const last = model.sessions[0]?.pauses?.at(-1);
  return last !== undefined && last.end === undefined;
}

/**
 * Transfer (RFC 7865 section 6.7/6.8 association times): the party `leavingId` is disassociated
 * at `at`; the joining party is associated at `at` and takes over the leaving party's streams (same
 * labels, same recording session). Returns false when `leavingId` is not an active participant.
 */
export function replaceParticipant(model: RecordingMetadataModel, leavingId: MetadataId, joining: ParticipantInit, at: number): boolean {
  const psa = model.participantSessionAssocs.find((a) => a.participantId === leavingId && a.disassociateTime === undefined);
  const pst = model.participantStreamAssocs.find((a) => a.participantId === leavingId && a.disassociateTime === undefined);
  if (!psa || !pst) return false;
  psa.disassociateTime = at;
  pst.disassociateTime = at;
  model.participants.push(participant(joining));
  model.participantSessionAssocs.push({ participantId: joining.id, sessionId: psa.sessionId, associateTime: at });
  model.participantStreamAssocs.push({ participantId: joining.id, send: [...pst.send], recv: [...pst.recv], associateTime: at });
  return true;
}

/**
 * The final complete snapshot: stop-time on the session, disassociate-time on the recording
 * association and every still-open participant association; an open pause is closed.
 */
export function finaliseRecordingMetadata(model: RecordingMetadataModel, at: number): void {
  const s = session(model);
  s.stopTime ??= at;
  endPause(model, at);
  for (const a of model.sessionRecordingAssocs) a.disassociateTime ??= at;
  for (const a of model.participantSessionAssocs) a.disassociateTime ??= at;
  for (const a of model.participantStreamAssocs) a.disassociateTime ??= at;
}

/** The participant currently sending the stream with `label`, if any. */
export function activeSenderOf(model: RecordingMetadataModel, label: string): MetadataParticipant | undefined {
  const stream = model.streams.find((s) => s.label === label);
  if (!stream) return undefined;
  const assoc = model.participantStreamAssocs.find((a) => a.disassociateTime === undefined && a.send.includes(stream.id));
  return assoc ? model.participants.find((p) => p.id === assoc.participantId) : undefined;
}
