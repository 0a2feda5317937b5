import type { MetadataId } from './siprec-ids.js';

/**
 * The recording metadata model (RFC 7865 section 6): the state the call layer keeps, mutates
 * (src/siprec/metadata-model.ts) and serialises as complete snapshots
 * (src/siprec/metadata-serializer.ts). The shape follows the XML one to one, so that
 * parse(serialize(model)) gives the model back. Times are epoch milliseconds.
 */

/** RFC 7865 namespace of the `<recording>` document. */
export const RECORDING_NS = 'urn:ietf:params:xml:ns:recording:1';
/** Our extension namespace (prefix `b2b`): call facts, announcements, pauses, platform information. */
export const B2BUA_EXTENSION_NS = 'urn:example:b2bua:siprec:1';
/** Namespace of the BroadWorks-style block. */
export const BROADWORKS_NS = 'http://schema.broadsoft.com/broadworksCallRecording';

/** `strict` RFC 7865 only (default) or with the BroadWorks-style `<extensiondata>` block. */
export type MetadataDialect = 'rfc7865' | 'broadworks';
export type DataMode = 'complete' | 'partial';

export interface MetadataGroup {
  id: MetadataId;
  associateTime?: number;
  disassociateTime?: number;
}

export type CallDirection = 'inbound' | 'outbound' | 'internal';

/** Facts about the recorded call (extension `<b2b:call>` inside `<session>`). */
export interface CallFacts {
  direction: CallDirection;
  /** Call-ID of the trunk/caller leg. */
  trunkCallId?: string;
  tenant?: string;
  location?: string;
  /** R-17 mode: never | always | alwaysWithPauseResume | onDemand (kebab or camel, as given). */
  recordingMode?: string;
}

export type AnnouncementKind = 'compliance' | 'start' | 'stop' | 'pause' | 'resume' | 'reminder-tone';
export const ANNOUNCEMENT_KINDS: readonly AnnouncementKind[] = ['compliance', 'start', 'stop', 'pause', 'resume', 'reminder-tone'];
export type AnnouncementResult = 'played' | 'skipped';

/** One announcement, tone or beep the product played or skipped. */
export interface AnnouncementRecord {
  /** Sequence number within the call, as a string ('1', '2', ...). */
  id: string;
  kind: AnnouncementKind;
  /** Who heard it: 'pstn' | 'user' | 'all' (free text for forward compatibility). */
  target: string;
  /** participant_id of the party that heard it, when a single one. */
  participant?: MetadataId;
  /** Prompt name or file. */
  media?: string;
  /** 'pre-answer' | 'post-answer' | 'mid-call'. */
  phase?: string;
  language?: string;
  /** When it began to play (for 'reminder-tone': the first play). */
  start?: number;
  /** When it ended (for 'reminder-tone': the end of the latest play). Absent while still to play (a stop heard after the recording closed). */
  end?: number;
  /** 'reminder-tone' only: start of the latest play; `start` is the first. */
  last?: number;
  /** 'reminder-tone' only: plays so far in this recording session (one entry per recording, not one per play). */
  count?: number;
  /** 'reminder-tone' only: the configured repeat interval, seconds (10..). */
  intervalSeconds?: number;
  result: AnnouncementResult;
  /** Why it was skipped (e.g. 'precedence-compliance', 'already-played'). */
  reason?: string;
}

/** A pause of the recording; `end` absent while still paused. */
export interface PauseRecord {
  start: number;
  end?: number;
}

/**
 * A media problem the SRC saw on the recorded call (extension `<b2b:media-problems>` inside `<session>`):
 * `silent-stream`: the stream with `label` carried no accepted audio from `since` while the other party
 * talked (detected at `detected`), because of `reason` (hijack: RTP from a source other than the latched
 * one; payload-type; foreign-ssrc; malformed; unlatched; none-received). A provider can see that a
 * channel is empty and why.
 * `lost-start`: the stream's audio from `since` (the answer) to `detected` is missing from the start
 * of the recording, because the recording server answered later than the SRC keeps audio (`reason`
 * recording-server-late) or the SRC keeps none (no-fork-buffer).
 */
export interface MediaProblemRecord {
  kind: 'silent-stream' | 'lost-start';
  /** Stream label ('1' other party, '2' user). */
  label: string;
  reason: string;
  since: number;
  detected: number;
  /** Packets dropped from that party meanwhile. */
  dropped?: number;
  /** What the party's SDP named, and where its media came from / went ('address:port'). */
  sdp?: string;
  source?: string;
}

export interface MetadataSession {
  id: MetadataId;
  /** RFC 7989 Session-ID or the call's Call-ID. */
  sipSessionIds: string[];
  groupRefs: MetadataId[];
  startTime?: number;
  stopTime?: number;
  call?: CallFacts;
  announcements?: AnnouncementRecord[];
  pauses?: PauseRecord[];
  mediaProblems?: MediaProblemRecord[];
}

export interface NameId {
  /** sip:/sips:/tel: URI. */
  aor: string;
  names: Array<{ text: string; lang?: string }>;
}

/** R-33 platform information (extension `<b2b:platform>` inside `<participant>`). */
export interface PlatformInformation {
  serviceProvider: string;
  externalGroup: string;
  externalIdentifier: string;
  /** Default 'BroadWorks'. */
  externalType: string;
}

export interface MetadataParticipant {
  id: MetadataId;
  nameIds: NameId[];
  platform?: PlatformInformation;
}

export interface MetadataStream {
  id: MetadataId;
  sessionId: MetadataId;
  /** Matches `a=label:` of the SDP m-line ('1' = PSTN/other party, '2' = user). */
  label: string;
}

export interface SessionRecordingAssoc {
  sessionId: MetadataId;
  associateTime?: number;
  disassociateTime?: number;
}

export interface ParticipantSessionAssoc {
  participantId: MetadataId;
  sessionId: MetadataId;
  associateTime?: number;
  disassociateTime?: number;
}

export interface ParticipantStreamAssoc {
  participantId: MetadataId;
  send: MetadataId[];
  recv: MetadataId[];
  associateTime?: number;
  disassociateTime?: number;
}

/** The BroadWorks-style block, emitted only in the 'broadworks' dialect. */
export interface BroadWorksRecordingInfo {
  /** Attribute `version`; default '3.0'. */
  version: string;
  extTrackingId: string;
  serviceProviderId: string;
  groupId: string;
  userId: string;
  callId: string;
  callType: 'origCall' | 'termCall';
  callingPartyNumber: string;
  calledPartyNumber: string;
  dialedDigits?: string;
  /** e.g. 'on', 'on-demand', 'always-pause-resume'. */
  recordingType: string;
}

export interface RecordingMetadataModel {
  datamode: DataMode;
  groups: MetadataGroup[];
  sessions: MetadataSession[];
  participants: MetadataParticipant[];
  streams: MetadataStream[];
  sessionRecordingAssocs: SessionRecordingAssoc[];
  participantSessionAssocs: ParticipantSessionAssoc[];
  participantStreamAssocs: ParticipantStreamAssoc[];
  broadWorks?: BroadWorksRecordingInfo;
}
