import { AppError } from '../common/errors.js';
import { childNamed, childrenNamed, parseXml, type XmlElement } from './xml-parser.js';
import { broadWorksMetadataFromElement, isDraftEraRoot } from './metadata-broadworks-parser.js';
import { assocTimes, parseBroadWorks, parseParticipant, parseSession, texts } from './metadata-element-parser.js';
import { RECORDING_NS, type RecordingMetadataModel } from './metadata-types.js';

const R = RECORDING_NS;

/**
 * Reads an RFC 7865 `<recording>` document back into a RecordingMetadataModel (complete or
 * partial). The parser is lenient about what it does not know (unknown extensions are skipped);
 * structural checks belong to validateMetadata() (src/siprec/metadata-validator.ts), which the SRS
 * runs first. Not well-formed XML throws SIPREC_XML_MALFORMED; a wrong root throws
 * SIPREC_METADATA_INVALID.
 */
export function parseMetadata(xml: string): RecordingMetadataModel {
  return metadataFromElement(parseXml(xml));
}

/** Builds the model from an already parsed `<recording>` (or draft-era `<recording_metadata>`, R-41) element. */
export function metadataFromElement(root: XmlElement): RecordingMetadataModel {
  if (isDraftEraRoot(root)) return broadWorksMetadataFromElement(root);
  if (root.name !== 'recording' || root.ns !== R) {
    throw new AppError('SIPREC_METADATA_INVALID', `root element is {${root.ns}}${root.name}, expected {${R}}recording`);
  }
  const mode = childNamed(root, 'datamode', R)?.text.trim();
  const model: RecordingMetadataModel = {
    datamode: mode === 'partial' ? 'partial' : 'complete',
    groups: childrenNamed(root, 'group', R).map((g) => ({ id: g.attrs.get('group_id') ?? '', ...assocTimes(g) })),
    sessions: childrenNamed(root, 'session', R).map(parseSession),
    participants: childrenNamed(root, 'participant', R).map(parseParticipant),
    streams: childrenNamed(root, 'stream', R).map((s) => ({
      id: s.attrs.get('stream_id') ?? '',
      sessionId: s.attrs.get('session_id') ?? '',
      label: childNamed(s, 'label', R)?.text.trim() ?? '',
    })),
    sessionRecordingAssocs: childrenNamed(root, 'sessionrecordingassoc', R).map((a) => ({
      sessionId: a.attrs.get('session_id') ?? '',
      ...assocTimes(a),
    })),
    participantSessionAssocs: childrenNamed(root, 'participantsessionassoc', R).map((a) => ({
      participantId: a.attrs.get('participant_id') ?? '',
      sessionId: a.attrs.get('session_id') ?? '',
      ...assocTimes(a),
    })),
    participantStreamAssocs: childrenNamed(root, 'participantstreamassoc', R).map((a) => ({
      participantId: a.attrs.get('participant_id') ?? '',
      send: texts(a, 'send'),
      recv: texts(a, 'recv'),
      ...assocTimes(a),
    })),
  };
  const bw = parseBroadWorks(root);
  if (bw) model.broadWorks = bw;
  return model;
}
