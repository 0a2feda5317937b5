import { createHash } from 'node:crypto';
import { formatXsDateTime, type MetadataId } from './siprec-ids.js';
import { writeXmlDocument, type XmlNode } from './xml-writer.js';
import { participantNode, sessionNode } from './metadata-nodes.js';
import {
  B2BUA_EXTENSION_NS,
  BROADWORKS_NS,
  type BroadWorksRecordingInfo,
  type MetadataParticipant,
  type MetadataSession,
  type RecordingMetadataModel,
} from './metadata-types.js';

/**
 * The 'broadworks' dialect: the recording metadata in the shape BroadWorks platforms send,
 * which predates RFC 7865 (the draft-ietf-siprec-metadata era; docs/siprec.md "Dialects"):
 *
 *   <recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
 *     <dataMode>complete</dataMode>
 *     <recording id="R"><requestor>SRC</requestor><type>selective</type></recording>
 *     <group id="G" recording="R">associate-time?, disassociate-time?</group>
 *     <session id="S" group="G">start-time?, stop-time?, associate-time?, disassociate-time?</session>
 *     <participant id="P" session="S">(aor, name*)*, send?, recv?, associate-time?, disassociate-time?</participant>
 *     <stream id="T" session="S"><label>1</label><mode>separate</mode></stream>
 *     <extensiondata id="X" parent="S"><broadWorksRecordingMetadata xmlns="..." version="3.0">...</extensiondata>
 *     <extensiondata id="Y" parent="S|P">our b2b: elements</extensiondata>
 *   </recording_metadata>
 *
 * Every element references its parent by id attribute (no *assoc elements); `send`/`recv` hold one
 * `<id>` per stream. Elements that have no draft-era counterpart travel as `<extensiondata>` in our
 * namespace (prefix b2b), parented to the session or participant they describe: the SIP session ids,
 * call facts, announcements (with whatever optional fields the model carries), pauses and media
 * problems of a session, and a participant's platform information. They are the same `b2b:` nodes
 * the rfc7865 dialect writes inside `<session>`/`<participant>`.
 *
 * Model mapping: a session's recording association times are the session's associate/disassociate
 * times; a participant's session association and its stream association share the participant's
 * times (the model always keeps them equal); a session names its first group. The `recording` and
 * `extensiondata` ids are derived from the ids of what they describe (SHA-256, first 16 bytes,
 * base64), so the output stays deterministic and parse -> serialize gives the same bytes.
 */

/** Namespace of the draft-era document (root `recording_metadata`). */
export const SIPREC_DRAFT_NS = 'urn:ietf:params:xml:ns:siprec';
/** Root element name of the draft-era document. */
export const SIPREC_DRAFT_ROOT = 'recording_metadata';
/** `<recording><type>`: BroadWorks records the calls its policy selects. */
export const DRAFT_RECORDING_TYPE = 'selective';
/** `<stream><mode>`: one stream per party, never mixed. */
export const DRAFT_STREAM_MODE = 'separate';

/** A deterministic 16-byte id (base64) for an element that has none in the model. */
export function derivedMetadataId(seed: string): MetadataId {
  return createHash('sha256').update(seed).digest().subarray(0, 16).toString('base64');
}

/** The `<recording id>` of a document: derived from its first session (or group). */
export function draftRecordingId(model: RecordingMetadataModel): MetadataId {
  return derivedMetadataId(`recording:${model.sessions[0]?.id ?? model.groups[0]?.id ?? ''}`);
}

/** The `<extensiondata id>` of block `kind` ('broadworks' | 'b2b') attached to `parent`. */
export function extensionDataId(kind: string, parent: string): MetadataId {
  return derivedMetadataId(`extensiondata:${kind}:${parent}`);
}

const t = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : formatXsDateTime(ms));

function timeNodes(times: { associateTime?: number; disassociateTime?: number } | undefined): XmlNode[] {
  const out: XmlNode[] = [];
  if (times?.associateTime !== undefined) out.push({ name: 'associate-time', text: t(times.associateTime)! });
  if (times?.disassociateTime !== undefined) out.push({ name: 'disassociate-time', text: t(times.disassociateTime)! });
  return out;
}

const isB2b = (n: XmlNode | undefined | false): n is XmlNode => !!n && n.name.startsWith('b2b:');

/** Our extension nodes of a session: its SIP session ids, then what the rfc7865 dialect puts in `<session>`. */
function sessionExtensions(s: MetadataSession): XmlNode[] {
  return [...s.sipSessionIds.map((v) => ({ name: 'b2b:sipSessionID', text: v })), ...(sessionNode(s).children ?? []).filter(isB2b)];
}

function participantExtensions(p: MetadataParticipant): XmlNode[] {
  return (participantNode(p).children ?? []).filter(isB2b);
}

function sessionDraftNode(s: MetadataSession, model: RecordingMetadataModel): XmlNode {
  const children: XmlNode[] = [];
  if (s.startTime !== undefined) children.push({ name: 'start-time', text: t(s.startTime)! });
  if (s.stopTime !== undefined) children.push({ name: 'stop-time', text: t(s.stopTime)! });
  children.push(...timeNodes(model.sessionRecordingAssocs.find((a) => a.sessionId === s.id)));
  return {
    name: 'session',
    attrs: [
      ['id', s.id],
      ['group', s.groupRefs[0]],
    ],
    children,
  };
}

function participantDraftNode(p: MetadataParticipant, model: RecordingMetadataModel): XmlNode {
  const psa = model.participantSessionAssocs.find((a) => a.participantId === p.id);
  const pst = model.participantStreamAssocs.find((a) => a.participantId === p.id);
  const children: XmlNode[] = [];
  for (const n of p.nameIds) {
    children.push({ name: 'aor', text: n.aor });
    for (const nm of n.names) children.push({ name: 'name', attrs: [['xml:lang', nm.lang]], text: nm.text });
  }
  const ids = (name: 'send' | 'recv', list: readonly string[]): XmlNode | undefined =>
    list.length === 0 ? undefined : { name, children: list.map((id) => ({ name: 'id', text: id })) };
  if (pst) children.push(...[ids('send', pst.send), ids('recv', pst.recv)].filter((n): n is XmlNode => !!n));
  children.push(...timeNodes(psa ?? pst));
  return {
    name: 'participant',
    attrs: [
      ['id', p.id],
      ['session', psa?.sessionId],
    ],
    children,
  };
}

/** The BroadWorks block as BroadWorks sends it (`extTrackingID` ... `recordingType`). */
export function broadWorksBlock(bw: BroadWorksRecordingInfo): XmlNode {
  const text = (name: string, v: string | undefined): XmlNode | undefined => (v === undefined ? undefined : { name, text: v });
  return {
    name: 'broadWorksRecordingMetadata',
    attrs: [
      ['xmlns', BROADWORKS_NS],
      ['version', bw.version],
    ],
    children: [
      text('extTrackingID', bw.extTrackingId),
      text('serviceProviderID', bw.serviceProviderId),
      text('groupID', bw.groupId),
      text('userID', bw.userId),
      text('callID', bw.callId),
      {
        name: 'callType',
        children: [
          {
            name: bw.callType,
            children: [
              text('callingPartyNumber', bw.callingPartyNumber),
              text('calledPartyNumber', bw.calledPartyNumber),
              text('dialedDigits', bw.dialedDigits),
            ],
          },
        ],
      },
      text('recordingType', bw.recordingType),
    ],
  };
}

function extensionData(kind: string, parent: string, children: XmlNode[]): XmlNode {
  return {
    name: 'extensiondata',
    attrs: [
      ['id', extensionDataId(kind, parent)],
      ['parent', parent],
    ],
    children,
  };
}

/** Serialises the model as a draft-era `<recording_metadata>` document (UTF-8 text, LF line ends). */
export function serializeBroadWorksMetadata(model: RecordingMetadataModel): string {
  const recordingId = draftRecordingId(model);
  const children: XmlNode[] = [
    { name: 'dataMode', text: model.datamode },
    {
      name: 'recording',
      attrs: [['id', recordingId]],
      children: [
        { name: 'requestor', text: 'SRC' },
        { name: 'type', text: DRAFT_RECORDING_TYPE },
      ],
    },
  ];
  for (const g of model.groups) {
    children.push({
      name: 'group',
      attrs: [
        ['id', g.id],
        ['recording', recordingId],
      ],
      children: timeNodes(g),
    });
  }
  for (const s of model.sessions) children.push(sessionDraftNode(s, model));
  for (const p of model.participants) children.push(participantDraftNode(p, model));
  for (const st of model.streams) {
    children.push({
      name: 'stream',
      attrs: [
        ['id', st.id],
        ['session', st.sessionId],
      ],
      children: [
        { name: 'label', text: st.label },
        { name: 'mode', text: DRAFT_STREAM_MODE },
      ],
    });
  }
  const first = model.sessions[0];
  if (model.broadWorks && first) children.push(extensionData('broadworks', first.id, [broadWorksBlock(model.broadWorks)]));
  let usesB2b = false;
  const b2b = (parent: string, nodes: XmlNode[]): void => {
    if (nodes.length === 0) return;
    usesB2b = true;
    children.push(extensionData('b2b', parent, nodes));
  };
  for (const s of model.sessions) b2b(s.id, sessionExtensions(s));
  for (const p of model.participants) b2b(p.id, participantExtensions(p));
  return writeXmlDocument({
    name: SIPREC_DRAFT_ROOT,
    attrs: [
      ['xmlns', SIPREC_DRAFT_NS],
      ['xmlns:b2b', usesB2b ? B2BUA_EXTENSION_NS : undefined],
    ],
    children,
  });
}
