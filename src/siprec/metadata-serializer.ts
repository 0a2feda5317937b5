import { writeXmlDocument, type XmlNode } from './xml-writer.js';
import { serializeBroadWorksMetadata } from './metadata-broadworks.js';
import { participantNode, sessionNode, timeNodes } from './metadata-nodes.js';
import { B2BUA_EXTENSION_NS, RECORDING_NS, type MetadataDialect, type RecordingMetadataModel } from './metadata-types.js';

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
