import { AppError } from '../common/errors.js';
import { writeXmlDocument } from './xml-writer.js';
import { childNamed, parseXml } from './xml-parser.js';
import { RECORDING_NS } from './metadata-types.js';

/**
 * RFC 7866 section 9.3: an SRS asks the SRC for a full metadata snapshot with a body of type
 * application/rs-metadata-request:
 *
 *   <requestsnapshot xmlns="urn:ietf:params:xml:ns:recording:1">
 *     <requestreason xml:lang="en">SRS internal error</requestreason>
 *   </requestsnapshot>
 *
 * The SRC answers 200 and then sends a complete snapshot (re-INVITE or UPDATE).
 */
export interface SnapshotRequest {
  reason: string | undefined;
  lang: string | undefined;
}

export function buildSnapshotRequest(reason?: string, lang = 'en'): string {
  return writeXmlDocument({
    name: 'requestsnapshot',
    attrs: [['xmlns', RECORDING_NS]],
    children: [reason === undefined ? undefined : { name: 'requestreason', attrs: [['xml:lang', lang]], text: reason }],
  });
}

/** Throws SIPREC_XML_MALFORMED / SIPREC_METADATA_INVALID when the body is not a snapshot request. */
export function parseSnapshotRequest(xml: string): SnapshotRequest {
  const root = parseXml(xml);
  if (root.name !== 'requestsnapshot' || root.ns !== RECORDING_NS) {
    throw new AppError('SIPREC_METADATA_INVALID', `expected {${RECORDING_NS}}requestsnapshot, got {${root.ns}}${root.name}`);
  }
  const r = childNamed(root, 'requestreason', RECORDING_NS);
  return { reason: r?.text.trim(), lang: r?.attrs.get('xml:lang') };
}
