/**
 * Identifier and time formats of RFC 7865 metadata.
 *
 * - Every `*_id` attribute (group_id, session_id, participant_id, stream_id) and every reference
 *   (`group-ref`, `send`, `recv`) is an `xs:base64Binary` of a 16-byte UUID (RFC 7865 section 6,
 *   "UUID ... encoded in base64"): 24 characters ending in `==`. Hyphenated UUID text is invalid.
 * - Times are `xs:dateTime`. We always produce UTC with a `Z` and milliseconds
 *   (`2025-03-04T10:15:02.120Z`); `+0000` (no colon) is not a valid xs:dateTime offset.
 *
 * Nothing here creates randomness or reads the clock: callers pass bytes and epoch milliseconds.
 */

const METADATA_ID_RE = /^[A-Za-z0-9+/]{22}==$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** xs:dateTime with a mandatory timezone (`Z` or `+hh:mm`/`-hh:mm`), optional fraction. */
const XS_DATETIME_RE = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Base64 text of a 16-byte id, as RFC 7865 wants it. */
export type MetadataId = string;

/** True when `value` is base64 of exactly 16 bytes (24 characters, `==` padding). */
export function isMetadataId(value: string): boolean {
  return METADATA_ID_RE.test(value) && Buffer.from(value, 'base64').length === 16;
}

/** Encodes 16 bytes (e.g. a random UUID's bytes, chosen by the caller) as a metadata id. */
export function metadataIdFromBytes(bytes: Uint8Array): MetadataId {
  if (bytes.length !== 16) throw new RangeError(`metadata id needs 16 bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Converts a hyphenated UUID string (e.g. from crypto.randomUUID()) into a metadata id. */
export function metadataIdFromUuid(uuid: string): MetadataId {
  if (!UUID_RE.test(uuid)) throw new RangeError(`not a UUID: ${uuid}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64');
}

/** Epoch milliseconds -> `YYYY-MM-DDThh:mm:ss.mmmZ`. */
export function formatXsDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** True when `value` is an xs:dateTime with an explicit timezone (Z or +hh:mm). */
export function isXsDateTime(value: string): boolean {
  const m = XS_DATETIME_RE.exec(value);
  if (!m) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 24 && minute <= 59 && second <= 60;
}

/** Parses an xs:dateTime with timezone to epoch ms; undefined when it is not one. */
export function parseXsDateTime(value: string): number | undefined {
  if (!isXsDateTime(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
