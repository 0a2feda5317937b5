/**
 * The element writers of an RFC 7865 document (session with its announcements, participant, the
 * association times) that both dialects use: metadata-serializer.ts for `<recording>` and
 * metadata-broadworks.ts for the draft-era `<recording_metadata>`. Pure and deterministic.
 */
import { formatXsDateTime } from './siprec-ids.js';
import type { XmlNode } from './xml-writer.js';
import type { AnnouncementRecord, MetadataParticipant, MetadataSession } from './metadata-types.js';

const t = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatXsDateTime(ms));

/** associate-time / disassociate-time children (RFC 7865 section 6.7). */
export function timeNodes(assoc: { associateTime?: number; disassociateTime?: number }): XmlNode[] {
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
