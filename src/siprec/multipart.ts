import { AppError } from '../common/errors.js';

/**
 * multipart/mixed bodies (RFC 2046 section 5.1) as SIPREC uses them (RFC 7866 section 9):
 * part 1 `application/sdp`, part 2 the metadata with `Content-Disposition: recording-session`
 * (the broadworks dialect swaps them: metadata first, R-41). Readers find the parts by type.
 *
 *   --<boundary>CRLF
 *   Content-Type: application/sdp CRLF
 *   CRLF
 *   <sdp, ending in CRLF> CRLF
 *   --<boundary>CRLF
 *   Content-Type: application/rs-metadata+xml CRLF
 *   Content-Disposition: recording-session CRLF
 *   CRLF
 *   <xml> CRLF
 *   --<boundary>-- CRLF
 *
 * The CRLF before each delimiter belongs to the delimiter, not to the part. The builder writes CRLF
 * everywhere in headers and delimiters; the parser also accepts bare LF (sloppy peers) and ignores
 * preamble/epilogue. A missing closing delimiter is refused (SIPREC_MULTIPART_MALFORMED).
 */

/** RFC 9806: the registered metadata media type (default). */
export const RS_METADATA_CONTENT_TYPE = 'application/rs-metadata+xml';
/** Pre-RFC 9806 media type some recording servers still expect (per-profile switch). */
export const RS_METADATA_LEGACY_CONTENT_TYPE = 'application/rs-metadata';
/** RFC 7866 section 9.3: snapshot request body. */
export const RS_METADATA_REQUEST_CONTENT_TYPE = 'application/rs-metadata-request';
export const SDP_CONTENT_TYPE = 'application/sdp';
export const RECORDING_SESSION_DISPOSITION = 'recording-session';

export interface MimePartInput {
  contentType: string;
  /** Extra headers after Content-Type, in order (e.g. Content-Disposition). */
  headers?: ReadonlyArray<readonly [string, string]>;
  body: string;
}

export interface MimePart {
  /** Headers as received, names as written. */
  headers: Array<[string, string]>;
  /** Lower-case `type/subtype` without parameters (default text/plain). */
  mediaType: string;
  /** Lower-case disposition type without parameters, if any. */
  disposition: string | undefined;
  body: string;
}

export interface BuiltBody {
  /** Value for the SIP Content-Type header. */
  contentType: string;
  body: string;
}

const BCHARS_RE = /^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/;

/**
 * Picks a boundary from a caller-supplied seed (e.g. the recording id): `uniqueBoundary-<seed>`
 * with characters outside RFC 2046 bchars dropped, lengthened until it occurs in no part.
 */
export function chooseBoundary(seed: string, parts: ReadonlyArray<{ body: string }>): string {
  let b = `uniqueBoundary-${seed.replace(/[^0-9A-Za-z'()+_,./:=?-]/g, '')}`.slice(0, 60);
  while (parts.some((p) => p.body.includes(`--${b}`))) b = `${b}x`.slice(-70);
  return b;
}

export function buildMultipartMixed(parts: readonly MimePartInput[], boundary: string): BuiltBody {
  if (!BCHARS_RE.test(boundary)) throw new RangeError(`invalid multipart boundary '${boundary}'`);
  let body = '';
  for (const p of parts) {
    if (p.body.includes(`--${boundary}`)) throw new RangeError('boundary occurs inside a part');
    body += `--${boundary}\r\nContent-Type: ${p.contentType}\r\n`;
    for (const [k, v] of p.headers ?? []) body += `${k}: ${v}\r\n`;
    body += `\r\n${p.body}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return { contentType: `multipart/mixed;boundary=${boundary}`, body };
}

export interface SiprecBodyInput {
  sdp: string;
  metadata: string;
  boundary: string;
  /** Default RS_METADATA_CONTENT_TYPE; RS_METADATA_LEGACY_CONTENT_TYPE for legacy servers. */
  metadataContentType?: string;
  /**
   * Default false: SDP first (RFC 7866 section 9 examples). True: the metadata part first, as
   * BroadWorks platforms send it (dialect 'broadworks', R-41); receivers find parts by type.
   */
  metadataFirst?: boolean;
}

/** The SRC's INVITE/re-INVITE body: SDP and metadata (Content-Disposition: recording-session). */
export function buildSiprecBody(input: SiprecBodyInput): BuiltBody {
  const sdp: MimePartInput = { contentType: SDP_CONTENT_TYPE, body: input.sdp };
  const metadata: MimePartInput = {
    contentType: input.metadataContentType ?? RS_METADATA_CONTENT_TYPE,
    headers: [['Content-Disposition', RECORDING_SESSION_DISPOSITION]],
    body: input.metadata,
  };
  return buildMultipartMixed(input.metadataFirst ? [metadata, sdp] : [sdp, metadata], input.boundary);
}

/** Splits a Content-Type value into lower-case media type and parameters (quoted values unquoted). */
export function parseContentType(value: string): { mediaType: string; params: Map<string, string> } {
  const [type = '', ...rest] = splitParams(value);
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params.set(p.slice(0, eq).trim().toLowerCase(), v);
  }
  return { mediaType: type.trim().toLowerCase(), params };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function fail(detail: string): never {
  throw new AppError('SIPREC_MULTIPART_MALFORMED', detail);
}

/** Parses a multipart/mixed body given the SIP Content-Type header value. */
export function parseMultipartMixed(contentType: string, body: string): MimePart[] {
  const ct = parseContentType(contentType);
  if (!ct.mediaType.startsWith('multipart/')) fail(`content type ${ct.mediaType} is not multipart`);
  const boundary = ct.params.get('boundary');
  if (!boundary) fail('no boundary parameter');
  const delim = `--${boundary}`;
  const parts: MimePart[] = [];
  // Positions of delimiter lines: at body start or right after a line break.
  let pos = body.startsWith(delim) ? 0 : findDelimiter(body, delim, 0);
  if (pos < 0) fail('no opening delimiter');
  for (;;) {
    const lineEnd = body.indexOf('\n', pos);
    const after = body.slice(pos + delim.length, lineEnd < 0 ? body.length : lineEnd).replace(/\r$/, '');
    if (after.startsWith('--')) return parts; // closing delimiter; epilogue ignored
    if (after.trim() !== '') fail('text after a boundary delimiter');
    if (lineEnd < 0) fail('no closing delimiter');
    const start = lineEnd + 1;
    const next = findDelimiter(body, delim, start);
    if (next < 0) fail('no closing delimiter');
    // The line break before the delimiter belongs to the delimiter.
    let end = next;
    if (body[end - 1] === '\n') end--;
    if (body[end - 1] === '\r') end--;
    parts.push(parsePart(body.slice(start, Math.max(start, end))));
    pos = next;
  }
}

function findDelimiter(body: string, delim: string, from: number): number {
  let i = from;
  for (;;) {
    const hit = body.indexOf(`\n${delim}`, i);
    if (hit < 0) return -1;
    const c = body[hit + 1 + delim.length];
    if (c === undefined || c === '-' || c === '\r' || c === '\n' || c === ' ' || c === '\t') return hit + 1;
    i = hit + 1;
  }
}

function parsePart(raw: string): MimePart {
  let headerText: string;
  let bodyText: string;
  if (raw.startsWith('\r\n') || raw.startsWith('\n')) {
    headerText = '';
    bodyText = raw.slice(raw.startsWith('\r\n') ? 2 : 1);
  } else {
    const m = /\r?\n\r?\n/.exec(raw);
    if (!m) fail('part has no blank line after its headers');
    headerText = raw.slice(0, m.index);
    bodyText = raw.slice(m.index + m[0].length);
  }
  const headers: Array<[string, string]> = [];
  for (const line of headerText.split(/\r?\n/)) {
    if (line === '') continue;
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]![1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) fail(`bad part header line '${line}'`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const get = (n: string): string | undefined => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  const ct = get('content-type');
  const disp = get('content-disposition');
  return {
    headers,
    mediaType: ct ? parseContentType(ct).mediaType : 'text/plain',
    disposition: disp ? (disp.split(';')[0] ?? '').trim().toLowerCase() : undefined,
    body: bodyText,
  };
}

export interface SiprecBody {
  sdp: string | undefined;
  /** The recording-session metadata part's text, if present. */
  metadata: string | undefined;
  /** Its media type (RS_METADATA_CONTENT_TYPE or the legacy one). */
  metadataMediaType: string | undefined;
  /** Snapshot request (application/rs-metadata-request), if present. */
  metadataRequest: string | undefined;
}

const isMetadataType = (t: string): boolean => t === RS_METADATA_CONTENT_TYPE || t === RS_METADATA_LEGACY_CONTENT_TYPE;

/**
 * Reads a SIPREC body of any shape an SRC or SRS sends: multipart/mixed (SDP + metadata), a lone
 * application/sdp, a lone metadata document, or a lone rs-metadata-request.
 */
export function parseSiprecBody(contentType: string | undefined, body: string): SiprecBody {
  const out: SiprecBody = { sdp: undefined, metadata: undefined, metadataMediaType: undefined, metadataRequest: undefined };
  if (!contentType || body.length === 0) return out;
  const { mediaType } = parseContentType(contentType);
  const parts: Array<{ mediaType: string; disposition: string | undefined; body: string }> = mediaType.startsWith('multipart/')
    ? parseMultipartMixed(contentType, body)
    : [{ mediaType, disposition: undefined, body }];
  for (const p of parts) {
    if (p.mediaType === SDP_CONTENT_TYPE && out.sdp === undefined) out.sdp = p.body;
    else if (isMetadataType(p.mediaType) && out.metadata === undefined) {
      if (p.disposition !== undefined && p.disposition !== RECORDING_SESSION_DISPOSITION) continue;
      out.metadata = p.body;
      out.metadataMediaType = p.mediaType;
    } else if (p.mediaType === RS_METADATA_REQUEST_CONTENT_TYPE) out.metadataRequest = p.body;
  }
  return out;
}
