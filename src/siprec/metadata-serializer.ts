import { formatXsDateTime } from './siprec-ids.js';
import { writeXmlDocument, type XmlNode } from './xml-writer.js';
import { serializeBroadWorksMetadata } from './metadata-broadworks.js';
import {
  B2BUA_EXTENSION_NS,
  RECORDING_NS,
  type AnnouncementRecord,
  type MetadataDialect,
  type MetadataParticipant,
  type MetadataSession,
  type RecordingMetadataModel,
} from './metadata-types.js';

/**
 * RFC 7865 section 6 serialisation of a RecordingMetadataModel.
 *
 * The children of `<recording>` follow the schema's xs:sequence:
 *   datamode, group*, session*, participant*, stream*, sessionrecordingassoc*,
 *   participantsessionassoc*, participantstreamassoc*, then extensions (##other).
 * Inside an element our extensions come last (xs:any namespace="##other").
 * Dialect 'broadworks' is a different document altogether, the draft-era
 * `<recording_metadata>` BroadWorks platforms send (src/siprec/metadata-broadworks.ts).
 *
 * Output is deterministic (attribute order fixed, 2-space indent, LF), pinned by golden files.
 */
export interface SerializeOptions {
  /** Default 'rfc7865'. */
  dialect?: MetadataDialect;
}

const t = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatXsDateTime(ms));

function timeNodes(assoc: { associateTime?: number; disassociateTime?: number }): XmlNode[] {
  const out: XmlNode[] = [];
  if (assoc.associateTime !== undefined) out.push({ name: 'associate-time', text: t(assoc.associateTime)! });
  if (assoc.disassociateTime !== undefined) out.push({ name: 'disassociate-time', text: t(assoc.disassociateTime)! });
  return out;
}

/**
 * One `<b2b:announcement>`: kind, who heard it, prompt, phase, language, start/end, result and
 * the reason of a skip. A 'reminder-tone' entry is one per recording session and adds `last`
 * (latest play), `count` and `intervalSeconds`. Attributes of our namespace's element keep the
 * document valid against the RFC 7865 schema (its extension points are xs:any ##other, lax).
 */
function announcementNode(a: AnnouncementRecord): XmlNode {
  return {
    name: 'b2b:announcement',
    attrs: [
      ['id', a.id],
      ['kind', a.kind],
      ['target', a.target],
      ['participant', a.participant],
      ['media', a.media],
      ['phase', a.phase],
      ['language', a.language],
      ['start', t(a.start)],
      ['end', t(a.end)],
      ['last', t(a.last)],
      ['count', a.count === undefined ? undefined : String(a.count)],
      ['intervalSeconds', a.intervalSeconds === undefined ? undefined : String(a.intervalSeconds)],
      ['result', a.result],
      ['reason', a.reason],
    ],
  };
}

/** `<session>` with our extensions last; the broadworks dialect reuses its `b2b:` children. */
export function sessionNode(s: MetadataSession): XmlNode {
  const children: XmlNode[] = [
    ...s.sipSessionIds.map((v) => ({ name: 'sipSessionID', text: v })),
    ...s.groupRefs.map((v) => ({ name: 'group-ref', text: v })),
  ];
  if (s.startTime !== undefined) children.push({ name: 'start-time', text: t(s.startTime)! });
  if (s.stopTime !== undefined) children.push({ name: 'stop-time', text: t(s.stopTime)! });
  if (s.call) {
    children.push({
      name: 'b2b:call',
      attrs: [
        ['direction', s.call.direction],
        ['trunkCallId', s.call.trunkCallId],
        ['tenant', s.call.tenant],
        ['location', s.call.location],
        ['recordingMode', s.call.recordingMode],
      ],
    });
  }
  if (s.announcements && s.announcements.length > 0) {
    children.push({ name: 'b2b:announcements', children: s.announcements.map(announcementNode) });
  }
  if (s.pauses && s.pauses.length > 0) {
    children.push({
      name: 'b2b:pauses',
      children: s.pauses.map((p) => ({ name: 'b2b:pause', attrs: [['start', t(p.start)], ['end', t(p.end)]] as const })),
    });
  }
  if (s.mediaProblems && s.mediaProblems.length > 0) {
    children.push({
      name: 'b2b:media-problems',
      children: s.mediaProblems.map((p) => ({
        name: `b2b:${p.kind}`,
        attrs: [
          ['label', p.label],
          ['reason', p.reason],
          ['since', t(p.since)],
          ['detected', t(p.detected)],
          ['dropped', p.dropped === undefined ? undefined : String(p.dropped)],
          ['sdp', p.sdp],
          ['source', p.source],
        ] as const,
      })),
    });
  }
  return { name: 'session', attrs: [['session_id', s.id]], children };
}

/** `<participant>` with our platform extension last; the broadworks dialect reuses its `b2b:` children. */
export function participantNode(p: MetadataParticipant): XmlNode {
  const children: XmlNode[] = p.nameIds.map((n) => ({
    name: 'nameID',
    attrs: [['aor', n.aor]],
    children: n.names.map((nm) => ({ name: 'name', attrs: [['xml:lang', nm.lang]], text: nm.text })),
  }));
  if (p.platform) {
    children.push({
      name: 'b2b:platform',
      attrs: [
        ['serviceProvider', p.platform.serviceProvider],
        ['externalGroup', p.platform.externalGroup],
        ['externalIdentifier', p.platform.externalIdentifier],
        ['externalType', p.platform.externalType],
      ],
    });
  }
  return { name: 'participant', attrs: [['participant_id', p.id]], children };
}

function usesExtensionNs(m: RecordingMetadataModel): boolean {
  return (
    m.sessions.some((s) => s.call || (s.announcements?.length ?? 0) > 0 || (s.pauses?.length ?? 0) > 0) ||
    m.participants.some((p) => p.platform)
  );
}

/** Serialises the model as an RFC 7865 `<recording>` document (UTF-8 text, LF line ends). */
export function serializeMetadata(model: RecordingMetadataModel, options: SerializeOptions = {}): string {
  if (options.dialect === 'broadworks') return serializeBroadWorksMetadata(model);
  const children: XmlNode[] = [{ name: 'datamode', text: model.datamode }];
  for (const g of model.groups) children.push({ name: 'group', attrs: [['group_id', g.id]], children: timeNodes(g) });
  for (const s of model.sessions) children.push(sessionNode(s));
  for (const p of model.participants) children.push(participantNode(p));
  for (const st of model.streams) {
    children.push({
      name: 'stream',
      attrs: [
        ['stream_id', st.id],
        ['session_id', st.sessionId],
      ],
      children: [{ name: 'label', text: st.label }],
    });
  }
  for (const a of model.sessionRecordingAssocs) {
    children.push({ name: 'sessionrecordingassoc', attrs: [['session_id', a.sessionId]], children: timeNodes(a) });
  }
  for (const a of model.participantSessionAssocs) {
    children.push({
      name: 'participantsessionassoc',
      attrs: [
        ['participant_id', a.participantId],
        ['session_id', a.sessionId],
      ],
      children: timeNodes(a),
    });
  }
  for (const a of model.participantStreamAssocs) {
    children.push({
      name: 'participantstreamassoc',
      attrs: [['participant_id', a.participantId]],
      children: [
        ...a.send.map((id) => ({ name: 'send', text: id })),
        ...a.recv.map((id) => ({ name: 'recv', text: id })),
        ...timeNodes(a),
      ],
    });
  }
  return writeXmlDocument({
    name: 'recording',
    attrs: [
      ['xmlns', RECORDING_NS],
      ['xmlns:b2b', usesExtensionNs(model) ? B2BUA_EXTENSION_NS : undefined],
    ],
    children,
  });
}
