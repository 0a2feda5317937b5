import { serializeMetadata } from '../metadata-serializer.js';
import type { MetadataDialect, RecordingMetadataModel } from '../metadata-types.js';
import { buildSiprecBody, chooseBoundary, RS_METADATA_CONTENT_TYPE, RS_METADATA_LEGACY_CONTENT_TYPE, RS_METADATA_REQUEST_CONTENT_TYPE, SDP_CONTENT_TYPE } from '../multipart.js';
import { buildSrcOffer, type SrcOfferStream } from '../src-offer.js';
import type { RecordingLocalMedia, SrsTransport } from './recording-session-options.js';
import type { SrsBody, SrsHeaders } from './srs-connector-types.js';

/**
 * Pure builders of what the SRC sends (RFC 7866 sections 6.1, 8.1.1, 9): the SDP offer with one
 * labelled m-line per direction, the multipart/mixed body with the complete metadata snapshot, and
 * the headers of the initial INVITE and of re-INVITEs. Everything is passed in; nothing reads the
 * clock or draws randomness.
 */

/** Labels of the two streams (R-30): 1 = PSTN/other party, 2 = user. */
export const RECORDING_LABELS = ['1', '2'] as const;

export interface RecordingOfferInput {
  media: RecordingLocalMedia;
  srtp: boolean;
  sdpSessionId: string;
  /** o= version: bumped for every offer (RFC 3264 section 8). */
  sdpVersion: number;
  /** 'inactive' while paused (R-18, R-32). */
  direction: 'sendonly' | 'inactive';
}

export function buildRecordingSdp(input: RecordingOfferInput): string {
  const { media } = input;
  const streams: SrcOfferStream[] = [
    { label: '1', port: media.ports.label1, ...(input.srtp && media.crypto ? { crypto: media.crypto.label1 } : {}) },
    { label: '2', port: media.ports.label2, ...(input.srtp && media.crypto ? { crypto: media.crypto.label2 } : {}) },
  ];
  return buildSrcOffer({
    sessionId: input.sdpSessionId,
    version: input.sdpVersion,
    address: media.address,
    streams,
    ...(media.codecs ? { codecs: media.codecs } : {}),
    direction: input.direction,
  });
}

export interface RecordingBodyInput extends RecordingOfferInput {
  metadata: RecordingMetadataModel;
  dialect: MetadataDialect;
  legacyMetadataContentType: boolean;
  /** Seed of the multipart boundary (e.g. the recording id). */
  boundarySeed: string;
}

/** The multipart/mixed body: SDP offer + complete metadata snapshot (RFC 7866 section 9.1). */
export function buildRecordingBody(input: RecordingBodyInput): SrsBody {
  const sdp = buildRecordingSdp(input);
  // serialised at once, so the live model is read as it is now (no copy needed)
  const xml = serializeMetadata(input.metadata, { dialect: input.dialect });
  const boundary = chooseBoundary(input.boundarySeed, [{ body: sdp }, { body: xml }]);
  const built = buildSiprecBody({
    sdp,
    metadata: xml,
    boundary,
    metadataContentType: input.legacyMetadataContentType ? RS_METADATA_LEGACY_CONTENT_TYPE : RS_METADATA_CONTENT_TYPE,
    metadataFirst: input.dialect === 'broadworks',
  });
  return { contentType: built.contentType, body: built.body };
}

/**
 * Option tags we advertise (RFC 3261 section 20.37), both backed by what the SIP layer does:
 * `timer` (RFC 4028): when the recording server's 2xx carries Session-Expires, the SIP engine
 * refreshes the recording dialog with UPDATE; `100rel` (RFC 3262): a reliable 1xx from the
 * recording server is PRACKed (drachtio-srf createUAC, the engine adds the RAck).
 */
export const SRC_SUPPORTED = 'timer, 100rel';

/**
 * What we accept in responses and in the recording server's requests (RFC 3261 section 20.1):
 * the SDP answer, metadata and snapshot requests (RFC 7866 sections 9.2, 9.3) alone or in
 * multipart/mixed bodies (RFC 5621 section 4).
 */
export const SRC_ACCEPT = `${SDP_CONTENT_TYPE}, ${RS_METADATA_CONTENT_TYPE}, ${RS_METADATA_REQUEST_CONTENT_TYPE}, multipart/mixed`;

/**
 * Our Contact with the SRC feature tag; `localhost` is filled in by the SIP server. RFC 7866
 * section 6.1.1: `+sip.src`; dialect 'broadworks' (R-41): the draft-era `;src` BroadWorks sends.
 */
export function srcContact(user: string, transport: SrsTransport, dialect: MetadataDialect = 'rfc7865'): string {
  return `<sip:${user}@localhost${transport === 'udp' ? '' : `;transport=${transport}`}>;${dialect === 'broadworks' ? 'src' : '+sip.src'}`;
}

/**
 * Headers of the initial recording INVITE (RFC 7866 section 6.1.1; docs/siprec.md "Headers"):
 * From `<sip:user@localhost>` (the SIP server puts its address in), Contact with the feature tag,
 * Supported, Accept, and `Require: siprec` in the rfc7865 dialect only: BroadWorks sends none,
 * and a recording server built for it may refuse an option tag it does not know (420).
 * `extra` headers go first and are kept unless they name one of these.
 */
export function initialInviteHeaders(contactUser: string, transport: SrsTransport, extra: SrsHeaders = {}, dialect: MetadataDialect = 'rfc7865'): SrsHeaders {
  return {
    ...extra,
    From: `<sip:${contactUser}@localhost>`,
    ...(dialect === 'broadworks' ? {} : { Require: 'siprec' }),
    Supported: SRC_SUPPORTED,
    Contact: srcContact(contactUser, transport, dialect),
    Accept: SRC_ACCEPT,
  };
}

/** Headers of our re-INVITEs (the feature tag stays on the Contact). */
export function reinviteHeaders(contactUser: string, transport: SrsTransport, dialect: MetadataDialect = 'rfc7865'): SrsHeaders {
  return { Contact: srcContact(contactUser, transport, dialect) };
}

/** An application/sdp body. */
export function sdpBody(sdp: string): SrsBody {
  return { contentType: SDP_CONTENT_TYPE, body: sdp };
}
