/** Public surface of the pure SIPREC layer (RFC 7865 metadata, RFC 7866 bodies and SDP). */
export * from './siprec-ids.js';
export * from './metadata-types.js';
export * from './metadata-model.js';
export { serializeMetadata, type SerializeOptions } from './metadata-serializer.js';
export { parseMetadata, metadataFromElement } from './metadata-parser.js';
export { validateMetadata, validateMetadataElement, assertValidMetadata, type MetadataIssue, type ValidateOptions } from './metadata-validator.js';
export { buildSnapshotRequest, parseSnapshotRequest, type SnapshotRequest } from './metadata-request.js';
export * from './multipart.js';
export * from './recording-sdp.js';
export * from './src-offer.js';
export * from './srs-answer.js';
export { RECORDING_ID_HEADER } from './recording-id-header.js';
export { parseXml, type XmlElement } from './xml-parser.js';
