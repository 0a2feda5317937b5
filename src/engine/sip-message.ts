/**
 * SIP message model, parser and serializer (RFC 3261 section 7).
 *
 *   start-line CRLF *( header CRLF ) CRLF [ body ]
 *
 * The parser is the engine's hot path and handles untrusted network input: it never throws,
 * it returns a result object. It is tolerant where RFC 3261 asks for tolerance (compact header
 * forms, header folding, case-insensitive names and SIP-Version, comma-joined multi-valued
 * headers, and LF-only line ends when the whole header section uses them) and strict where safety
 * needs it (start line, Content-Length digits and range, size limit, the five headers every
 * request needs), and wherever the app's parser (drachtio-srf, which splits on CRLF only) would
 * read the bytes differently from the engine:
 *
 * - the line ending of the start line sets the mode: in a CRLF message a bare CR or LF anywhere in
 *   the header section is an error (in an LF-only message, any CR is);
 * - the header section must end with an empty line, also on UDP (RFC 3261 section 7);
 * - the Request-URI is visible ASCII only: no CTLs, no SP, no raw 8-bit bytes (section 25.1, a
 *   SIP-URI / absoluteURI is escaped ASCII);
 * - a header name is a token; only SP/HTAB around the name and value are whitespace (HCOLON, LWS),
 *   so a UTF-8 BOM or NBSP before a name makes it a bad name.
 *
 * What reaches the app is CRLF-only with the SIP-Version spelled `SIP/2.0` (`wire` in the result).
 *
 * Size: ~560 lines, one file because the model, the parser and the serializer share the header
 * name tables and the one pass over the bytes; the rest of the engine imports only this file to
 * read or write SIP.
 */

/** One header field. `name` is the full lower-case form (compact forms are expanded). */
export interface SipHeader {
  name: string;
  value: string;
}

export interface SipMessage {
  readonly isRequest: boolean;
  /** Request method, or the CSeq method for responses (filled in by the parser). */
  method: string;
  /** Request-URI (requests only, else ''). */
  uri: string;
  /** Status code (responses only, else 0). */
  status: number;
  reason: string;
  headers: SipHeader[];
  /** Body decoded as UTF-8 ('' if none). */
  body: string;
}

export type ParseResult =
  /**
   * `wire` is the form to hand on when it differs from the input (LF-only line ends made CRLF,
   * the request's SIP-Version spelled `SIP/2.0`); absent when the input is already in that form.
   */
  | { ok: true; msg: SipMessage; wire?: Buffer }
  /** `msg` is present when the start line and headers could be read (a 400 may be possible). */
  | { ok: false; error: string; msg?: SipMessage };

/** RFC 3261 section 7.3.3 compact forms, plus the common extension ones. */
const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', r: 'refer-to',
  b: 'referred-by', u: 'allow-events', x: 'session-expires', a: 'accept-contact',
  j: 'reject-contact', d: 'request-disposition', y: 'identity', n: 'identity-info',
};

/** Canonical spellings the serializer uses (others are capitalized after each dash). */
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', rseq: 'RSeq', rack: 'RAck', 'www-authenticate': 'WWW-Authenticate',
  'min-se': 'Min-SE', 'mime-version': 'MIME-Version', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match',
  via: 'Via', from: 'From', to: 'To', contact: 'Contact', 'content-type': 'Content-Type',
  'content-length': 'Content-Length', 'max-forwards': 'Max-Forwards', route: 'Route',
  'record-route': 'Record-Route', 'user-agent': 'User-Agent', supported: 'Supported', require: 'Require',
  allow: 'Allow', 'session-expires': 'Session-Expires', reason: 'Reason',
};

const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const DIGITS_RE = /^\d+$/;

/** Lower-case full header name for a name as written on the wire. */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

/** The spelling used on the wire for a normalized name (drachtio's capitalize-after-dash rule). */
export function headerDisplayName(name: string): string {
  const c = CANONICAL[name];
  if (c !== undefined) return c;
  let out = '';
  let up = true;
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] as string;
    out += up ? ch.toUpperCase() : ch;
    up = ch === '-';
  }
  return out;
}

interface HeadBounds {
  /** Offset of the empty line that ends the header section, -1 if there is none. */
  end: number;
  /** Length of the separator (CRLFCRLF or LFLF) at `end`, 0 if none. */
  sepLen: number;
  /** The start line ends with a bare LF: the whole header section must use LF-only line ends. */
  lfOnly: boolean;
  /** Offset just past the start line's text (before its CRLF/LF); the buffer length if no line end. */
  startEnd: number;
}

/** Where the start line and the header section end; the start line's line ending sets the mode. */
function headBounds(buf: Buffer): HeadBounds {
  const nl = buf.indexOf(10);
  if (nl < 0) return { end: -1, sepLen: 0, lfOnly: false, startEnd: buf.length };
  if (nl > 0 && buf[nl - 1] !== 13) {
    const end = buf.indexOf('\n\n', nl);
    return { end, sepLen: end < 0 ? 0 : 2, lfOnly: true, startEnd: nl };
  }
  const end = buf.indexOf('\r\n\r\n', nl > 0 ? nl - 1 : 0);
  return { end, sepLen: end < 0 ? 0 : 4, lfOnly: false, startEnd: nl > 0 ? nl - 1 : 0 };
}

function isSpTab(c: number): boolean {
  return c === 32 || c === 9;
}

/** `s.slice(start, end)` without leading/trailing SP/HTAB (LWS; String.trim() would also eat BOM/NBSP). */
function sliceLws(s: string, start: number, end: number): string {
  while (start < end && isSpTab(s.charCodeAt(start))) start++;
  while (end > start && isSpTab(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/** Only visible ASCII (0x21-0x7E): what an escaped Request-URI may contain (RFC 3261 section 25.1). */
function isVisibleAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** `SIP/2.0` in any letter case, ASCII only (toUpperCase() would map e.g. dotless i to I). */
function isSipVersion(v: string): boolean {
  return v === 'SIP/2.0' || (v.length === 7 && /^sip\/2\.0$/i.test(v));
}

/**
 * Parse the header section (start line and header lines, no empty line). `lfOnly`: the lines end
 * with bare LF instead of CRLF; any CR (or, in CRLF mode, any LF left after the split) is an error.
 */
function parseHead(head: string, lfOnly: boolean): ParseResult {
  const lines = head.split(lfOnly ? '\n' : '\r\n');
  const start = lines[0] ?? '';
  let isRequest: boolean;
  let method = '';
  let uri = '';
  let status = 0;
  let reason = '';
  let startError: string | undefined;
  if (start.startsWith('SIP/')) {
    isRequest = false;
    const m = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/i.exec(start);
    if (!m) startError = 'bad status line';
    else {
      status = Number(m[1]);
      reason = m[2] ?? '';
    }
  } else {
    isRequest = true;
    const sp1 = start.indexOf(' ');
    const sp2 = sp1 < 0 ? -1 : start.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0) startError = 'bad request line';
    else {
      method = start.slice(0, sp1);
      uri = start.slice(sp1 + 1, sp2);
      const version = start.slice(sp2 + 1);
      if (!TOKEN_RE.test(method) || !isSipVersion(version)) startError = 'bad request line';
      else if (uri.length === 0 || !isVisibleAscii(uri)) startError = 'bad Request-URI';
    }
  }
  const headers: SipHeader[] = [];
  // Header-level errors do not stop parsing: the rest may still identify the request for a 400.
  let headerError: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.length === 0) continue;
    if (line.indexOf('\0') >= 0 || line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
      // NUL, or a CR/LF that is not this message's line ending, would split or cut the message
      // differently downstream (header injection; srf splits on CRLF only)
      headerError ??= 'illegal control character in header';
    }
    const first = line.charCodeAt(0);
    if (isSpTab(first)) {
      // folded continuation (RFC 3261 section 7.3.1)
      const prev = headers[headers.length - 1];
      if (!prev) {
        headerError ??= 'continuation line without header';
        continue;
      }
      prev.value += ' ' + sliceLws(line, 0, line.length);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      headerError ??= 'header line without colon';
      continue;
    }
    // header-name HCOLON: only SP/HTAB may sit between the name and the colon
    let nameEnd = colon;
    while (nameEnd > 0 && isSpTab(line.charCodeAt(nameEnd - 1))) nameEnd--;
    const rawName = line.slice(0, nameEnd);
    if (!TOKEN_RE.test(rawName)) {
      headerError ??= 'bad header name';
      continue;
    }
    headers.push({ name: normalizeHeaderName(rawName), value: sliceLws(line, colon + 1, line.length) });
  }
  const msg: SipMessage = { isRequest, method, uri, status, reason, headers, body: '' };
  if (startError !== undefined) return { ok: false, error: startError, msg };
  if (headerError !== undefined) return { ok: false, error: headerError, msg };
  return { ok: true, msg };
}

/**
 * The CRLF form of an accepted message with the request's SIP-Version spelled `SIP/2.0`, or
 * undefined when `buf` is already that (the common case: no copy). Only for messages whose header
 * section ends at `b.end`.
 */
function wireForm(buf: Buffer, b: HeadBounds, isRequest: boolean): Buffer | undefined {
  const v = b.startEnd - 7;
  // the version is ASCII (checked), so only the letters S, I, P can differ from `SIP/2.0`
  const fixVersion = isRequest && v > 0 && (buf[v] !== 0x53 || buf[v + 1] !== 0x49 || buf[v + 2] !== 0x50);
  if (!b.lfOnly && !fixVersion) return undefined;
  let out: Buffer;
  if (b.lfOnly) {
    let lines = 0;
    for (let i = buf.indexOf(10); i >= 0 && i < b.end; i = buf.indexOf(10, i + 1)) lines++;
    out = Buffer.allocUnsafe(buf.length + lines + 2);
    let o = 0;
    let from = 0;
    for (let i = buf.indexOf(10); i >= 0 && i < b.end; i = buf.indexOf(10, i + 1)) {
      o += buf.copy(out, o, from, i);
      out[o++] = 13;
      out[o++] = 10;
      from = i + 1;
    }
    o += buf.copy(out, o, from, b.end);
    o += out.write('\r\n\r\n', o, 'latin1');
    buf.copy(out, o, b.end + b.sepLen);
  } else {
    out = Buffer.from(buf);
  }
  if (fixVersion) out.write('SIP/2.0', v, 'latin1');
  return out;
}

export interface ParseOptions {
  /** On a stream (TCP) Content-Length is mandatory and exact; on UDP a missing one means "rest of datagram". */
  stream?: boolean;
}

/**
 * Parse one complete SIP message. Never throws. Besides the structure it checks what every
 * message needs: Call-ID, CSeq (number + method, matching the request method), From, To and Via.
 */
export function parseSipMessage(buf: Buffer, options: ParseOptions = {}): ParseResult {
  try {
    const bounds = headBounds(buf);
    const { end, sepLen } = bounds;
    const headEnd = end < 0 ? buf.length : end;
    const head = buf.toString('utf8', 0, headEnd);
    const r = parseHead(head, bounds.lfOnly);
    if (!r.ok) return r;
    const msg = r.msg;
    // RFC 3261 section 7: the header section ends with an empty line, on UDP too (srf needs it)
    if (end < 0) return { ok: false, error: 'header section not ended by an empty line', msg };
    const bodyStart = end + sepLen;
    const available = buf.length - bodyStart;
    const clValue = getHeader(msg, 'content-length');
    let bodyLen = available;
    if (clValue !== undefined) {
      if (!DIGITS_RE.test(clValue) || clValue.length > 9) return { ok: false, error: 'bad Content-Length', msg };
      const cl = Number(clValue);
      if (cl > available) return { ok: false, error: 'Content-Length larger than body', msg };
      bodyLen = cl;
    } else if (options.stream) {
      bodyLen = 0;
    }
    if (bodyLen > 0) msg.body = buf.toString('utf8', bodyStart, bodyStart + bodyLen);
    const err = validateCore(msg);
    if (err !== undefined) return { ok: false, error: err, msg };
    const wire = wireForm(buf, bounds, msg.isRequest);
    return wire === undefined ? { ok: true, msg } : { ok: true, msg, wire };
  } catch (err) {
    return { ok: false, error: `parser failure: ${String(err)}` };
  }
}

/** Parse a SIP message given as text (the app link carries text). */
export function parseSipText(text: string): ParseResult {
  return parseSipMessage(Buffer.from(text, 'utf8'));
}

/**
 * Parse the SIP part of an app frame: start line, headers and everything after the blank line as
 * body (srf's Content-Length counts characters, so it is ignored). No core-header checks: the
 * engine fills those in.
 */
export function parseAppSip(text: string): ParseResult {
  let end = text.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    end = text.length;
    sep = 0;
  }
  const nl = text.indexOf('\n');
  const r = parseHead(text.slice(0, end).replace(/\r\n$/, ''), nl > 0 && text.charCodeAt(nl - 1) !== 13);
  if (!r.ok) return r;
  r.msg.body = text.slice(end + sep);
  removeHeader(r.msg, 'content-length');
  return r;
}

/** The checks that make a message processable; returns an error text or undefined. */
export function validateCore(msg: SipMessage): string | undefined {
  const callId = getHeader(msg, 'call-id');
  if (!callId) return 'missing Call-ID';
  const cseq = getHeader(msg, 'cseq');
  const parsed = cseq === undefined ? undefined : parseCSeq(cseq);
  if (!parsed) return 'missing or bad CSeq';
  if (msg.isRequest) {
    if (parsed.method !== msg.method) return 'CSeq method does not match request method';
  } else {
    msg.method = parsed.method;
  }
  if (!getHeader(msg, 'from')) return 'missing From';
  if (!getHeader(msg, 'to')) return 'missing To';
  const via = getHeader(msg, 'via');
  if (!via || !parseVia(firstListItem(via))) return 'missing or bad Via';
  return undefined;
}

/** First value of a header, or undefined. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const h = msg.headers;
  for (let i = 0; i < h.length; i++) {
    const x = h[i] as SipHeader;
    if (x.name === name) return x.value;
  }
  return undefined;
}

/** Every value of a header, with comma-joined lists split into items. */
export function getHeaderList(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const h of msg.headers) if (h.name === name) for (const item of splitHeaderList(h.value)) out.push(item);
  return out;
}

export function hasHeader(msg: SipMessage, name: string): boolean {
  return getHeader(msg, name) !== undefined;
}

export function removeHeader(msg: SipMessage, name: string): void {
  msg.headers = msg.headers.filter((h) => h.name !== name);
}

export function setHeader(msg: SipMessage, name: string, value: string): void {
  const i = msg.headers.findIndex((h) => h.name === name);
  if (i >= 0) {
    msg.headers[i] = { name, value };
    msg.headers = msg.headers.filter((h, j) => j <= i || h.name !== name);
  } else msg.headers.push({ name, value });
}

/** Split a comma-separated header list, ignoring commas inside quotes and angle brackets. */
export function splitHeaderList(value: string): string[] {
  if (value.indexOf(',') < 0) return [value];
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92) i++; // backslash escape
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 60) depth++;
    else if (c === 62) depth = Math.max(0, depth - 1);
    else if (c === 44 && depth === 0) {
      const item = value.slice(start, i).trim();
      if (item) out.push(item);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

export function firstListItem(value: string): string {
  return splitHeaderList(value)[0] ?? '';
}

/** CSeq = 1*DIGIT LWS Method (RFC 3261 section 20.16); the number is below 2**31. */
export function parseCSeq(value: string): { seq: number; method: string } | undefined {
  const m = /^(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value.trim());
  if (!m) return undefined;
  const seq = Number(m[1]);
  if (seq >= 2 ** 31) return undefined;
  return { seq, method: m[2] as string };
}

export interface Via {
  transport: string;
  host: string;
  port: number | undefined;
  /** Raw `;name=value` parameters in order (names lower-cased; value '' when absent). */
  params: Array<[string, string]>;
  branch: string | undefined;
}

/** via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (RFC 3261 section 20.42). */
export function parseVia(value: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9a-fA-F:.]+\]|[^\s;:]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/i.exec(value.trim());
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port <= 0 || port > 65535)) return undefined;
  const params = parseParams(m[4] ?? '');
  let branch: string | undefined;
  for (const [k, v] of params) if (k === 'branch') branch = v;
  return { transport: (m[1] as string).toUpperCase(), host: m[2] as string, port, params, branch };
}

export function serializeVia(via: Via): string {
  let s = `SIP/2.0/${via.transport} ${via.host}${via.port !== undefined ? ':' + via.port : ''}`;
  for (const [k, v] of via.params) s += v === '' ? `;${k}` : `;${k}=${v}`;
  return s;
}

/** `;a=b;c` -> [['a','b'],['c','']] (names lower-cased). */
export function parseParams(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!s) return out;
  for (const part of s.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.push([p.toLowerCase(), '']);
    else out.push([p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim()]);
  }
  return out;
}

export interface NameAddr {
  /** Everything before '<' (display name with quotes), '' if none. */
  display: string;
  uri: string;
  /** Header parameters after the address (e.g. ';tag=abc'), raw text starting with ';' or ''. */
  params: string;
}

/** name-addr / addr-spec with header params (From, To, Contact, Route, Record-Route). */
export function parseNameAddr(value: string): NameAddr | undefined {
  const v = value.trim();
  const lt = findUnquoted(v, '<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return undefined;
    const uri = v.slice(lt + 1, gt).trim();
    if (!uri) return undefined;
    return { display: v.slice(0, lt).trim(), uri, params: v.slice(gt + 1).trim() };
  }
  if (v === '*') return { display: '', uri: '*', params: '' };
  const semi = v.indexOf(';');
  const uri = semi < 0 ? v : v.slice(0, semi);
  if (!uri || /\s/.test(uri)) return undefined;
  return { display: '', uri, params: semi < 0 ? '' : v.slice(semi) };
}

function findUnquoted(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ch) return i;
  }
  return -1;
}

export function serializeNameAddr(na: NameAddr): string {
  return `${na.display ? na.display + ' ' : ''}<${na.uri}>${na.params}`;
}

/** Value of a `;name=value` parameter in a raw parameter string, or undefined. */
export function getParam(params: string, name: string): string | undefined {
  for (const [k, v] of parseParams(params)) if (k === name) return v;
  return undefined;
}

/** The tag parameter of a From/To header value. */
export function getTag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const na = parseNameAddr(value);
  if (!na) return undefined;
  const t = getParam(na.params, 'tag');
  return t === '' ? undefined : t;
}

/** Add (or replace) the tag parameter of a From/To header value. */
export function withTag(value: string, tag: string): string {
  const na = parseNameAddr(value);
  if (!na) return value;
  const rest = parseParams(na.params).filter(([k]) => k !== 'tag');
  rest.push(['tag', tag]);
  return serializeNameAddr({ ...na, params: rest.map(([k, v]) => (v === '' ? `;${k}` : `;${k}=${v}`)).join('') });
}

export interface SipUri {
  scheme: string;
  user: string | undefined;
  host: string;
  port: number | undefined;
  params: Array<[string, string]>;
}

/** sip:/sips: URI (RFC 3261 section 19.1), without headers. */
export function parseSipUri(uri: string): SipUri | undefined {
  const m = /^(sips?):(?:([^@]*)@)?(\[[0-9a-fA-F:.]+\]|[^;:?>]+)(?::(\d{1,5}))?((?:;[^?]*)?)(?:\?.*)?$/i.exec(uri.trim());
  if (!m) return undefined;
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && (port <= 0 || port > 65535)) return undefined;
  return { scheme: (m[1] as string).toLowerCase(), user: m[2], host: m[3] as string, port, params: parseParams(m[5] ?? '') };
}

export function uriParam(uri: SipUri, name: string): string | undefined {
  for (const [k, v] of uri.params) if (k === name) return v;
  return undefined;
}

/** Text form of a message: start line, headers in order, Content-Length (in bytes), body. */
export function serializeSipMessage(msg: SipMessage): string {
  let s = msg.isRequest ? `${msg.method} ${msg.uri} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  let wroteLength = false;
  const bodyLen = msg.body ? Buffer.byteLength(msg.body, 'utf8') : 0;
  for (const h of msg.headers) {
    if (h.name === 'content-length') {
      if (wroteLength) continue;
      wroteLength = true;
      s += `Content-Length: ${bodyLen}\r\n`;
      continue;
    }
    s += `${headerDisplayName(h.name)}: ${h.value}\r\n`;
  }
  if (!wroteLength) s += `Content-Length: ${bodyLen}\r\n`;
  s += '\r\n';
  if (msg.body) s += msg.body;
  return s;
}
