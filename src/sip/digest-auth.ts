/**
 * SIP digest authentication of user agents (RFC 3261 section 22; RFC 7616 for the digest itself,
 * RFC 8760 for SHA-256 in SIP), the way an SBC or a proxy authenticates users: the B2BUA answers an
 * INVITE from a source that is neither a trunk nor a trusted source with 407 and a
 * Proxy-Authenticate challenge, and admits the INVITE that comes back with a Proxy-Authorization
 * whose response proves the password.
 *
 *   INVITE (no credentials)            -> 407  Proxy-Authenticate: Digest realm, nonce, qop="auth", algorithm
 *   INVITE + Proxy-Authorization       -> verify():
 *     parse (quoted strings, commas in quotes, case-insensitive names; several credentials: ours by realm)
 *     realm is ours                    else 'wrong-realm'
 *     algorithm offered (default MD5)  else 'unsupported-algorithm'
 *     qop absent or "auth"             else 'unsupported-qop'
 *     nonce carries our HMAC           else 'bad-nonce'
 *     username known                   else 'unknown-user'
 *     uri designates the Request-URI   else 'uri-mismatch'
 *     response = H(HA1:nonce[:nc:cnonce:qop]:HA2), compared in constant time  else 'bad-response'
 *     nonce younger than nonceSeconds  else 'stale'   (the next challenge says stale=true)
 *     nc above the last one seen for that nonce (qop=auth), nonce unused (no qop)  else 'replay' (stale=true too)
 *     -> ok: username and the identities the user may call as
 *
 * Nonces are stateless (RFC 7616 section 3.3 suggests a time stamp and a private key): base64url of
 * 8 bytes issue time (ms, monotonic clock) + 8 random bytes + the first 16 bytes of
 * HMAC-SHA256(per-process secret, time || random || realm). Only nonces that authenticated a request
 * are remembered, in a bounded LRU (nonce -> highest nc); a nonce forgotten to make room is answered
 * 'stale' (the user agent retries with a fresh one), so eviction never re-opens a replay.
 *
 * Pure: time from an injected Clock, randomness and the secret injectable, no I/O, no logging (so no
 * password, HA1 or header value can reach a log line). verify() never throws on request input; the
 * constructor throws AppError CONFIG_INVALID for bad options (a configuration error).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { AppError } from '../common/errors.js';
import { firstUri, userPart } from './admission.js';
import { unescapeUri } from './uri-escape.js';

/** RFC 7616 section 6.1 / RFC 8760 section 2.2 algorithm names this module computes. */
export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

/** One user of the credentials file (calls.digestCredentialsFile). */
export interface DigestUser {
  readonly username: string;
  /** Plain password; HA1s are derived from it at start and it is not kept. Or give the HA1s instead. */
  readonly password?: string;
  /** hex MD5(username:realm:password), 32 hex digits; must be made with the configured realm. */
  readonly ha1Md5?: string;
  /** hex SHA-256(username:realm:password), 64 hex digits. */
  readonly ha1Sha256?: string;
  /** User parts ('alice', '+15550002001') or URIs ('sip:alice@acme.example') the user may call as (From). Default [username]. */
  readonly identities?: readonly string[];
}

export interface DigestAuthOptions {
  /** The protection realm (RFC 3261 section 22.1), e.g. the SIP domain. Required. */
  readonly realm: string;
  readonly users: readonly DigestUser[];
  /** Algorithms offered (one challenge each, most preferred first) and accepted. Default ['MD5']. */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** How long a nonce stays valid, seconds. Default 300. */
  readonly nonceSeconds?: number;
  /** An opaque value sent in every challenge and required back unchanged (RFC 7616 section 3.3). Default none. */
  readonly opaque?: string;
  /** Nonces whose nc is tracked at once (LRU). Default 10000. */
  readonly maxTrackedNonces?: number;
  /** HMAC key of the nonces. Default 32 random bytes per process (nonces do not survive a restart). */
  readonly secret?: Uint8Array;
  /** Random bytes source (tests). Default crypto.randomBytes. */
  readonly random?: (size: number) => Uint8Array;
}

/** What verify() looks at. `authorization` is the Proxy-Authorization value (undefined when absent). */
export interface DigestRequest {
  readonly method: string;
  readonly requestUri: string;
  readonly authorization: string | undefined;
}

export type DigestFailure =
  | 'missing'
  | 'malformed'
  | 'wrong-realm'
  | 'unsupported-algorithm'
  | 'unsupported-qop'
  | 'bad-nonce'
  | 'bad-opaque'
  | 'unknown-user'
  | 'uri-mismatch'
  | 'bad-response'
  | 'stale'
  | 'replay';

export type DigestVerdict =
  | { readonly ok: true; readonly username: string; readonly identities: readonly string[]; readonly algorithm: DigestAlgorithm }
  /** `username`: the user the credentials named, for a wrong password or an unknown user (lockout counting). */
  | { readonly ok: false; readonly reason: DigestFailure; readonly username?: string };

/** Failures after which the next challenge carries stale=true: the password was right, the nonce was not. */
export function isStaleFailure(reason: DigestFailure): boolean {
  return reason === 'stale' || reason === 'replay';
}

/** Longest Proxy-Authorization value parsed; longer is 'malformed'. */
const MAX_HEADER_LENGTH = 8192;
const NONCE_BYTES = 32;

interface UserEntry {
  readonly username: string;
  readonly ha1: Partial<Record<DigestAlgorithm, string>>;
  readonly identities: readonly string[];
}

interface NonceUse {
  /** Highest nc seen (0 = used without qop). */
  nc: number;
  readonly issuedAt: number;
}

/** RFC 7616 section 3.4.1: the response. HA1 given in hex; qop 'auth' or undefined (RFC 2069 form). */
export function digestResponse(
  algorithm: DigestAlgorithm,
  p: { ha1: string; nonce: string; method: string; uri: string; qop?: 'auth'; nc?: string; cnonce?: string },
): string {
  const ha2 = hash(algorithm, `${p.method}:${p.uri}`);
  return p.qop === 'auth'
    ? hash(algorithm, `${p.ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`)
    : hash(algorithm, `${p.ha1}:${p.nonce}:${ha2}`);
}

/** RFC 7616 section 3.4.2: HA1 = H(username:realm:password), hex. */
export function digestHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

function hash(algorithm: DigestAlgorithm, s: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
}

export class DigestAuthenticator {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  readonly #users = new Map<string, UserEntry>();
  readonly #nonceMs: number;
  readonly #opaque: string | undefined;
  readonly #maxTracked: number;
  readonly #secret: Uint8Array;
  readonly #random: (size: number) => Uint8Array;
  readonly #clock: Clock;
  /** nonce -> use; Map order is least recently used first. */
  readonly #uses = new Map<string, NonceUse>();
  /** Nonces issued at or before this time and not in #uses may have been forgotten: answered 'stale'. */
  #forgottenUpTo = -Infinity;

  /** Throws AppError CONFIG_INVALID for a bad realm, algorithm, limit or user entry. */
  constructor(options: DigestAuthOptions, clock: Clock) {
    const problems: string[] = [];
    this.realm = options.realm;
    if (typeof this.realm !== 'string' || this.realm === '' || /["\\\r\n]/.test(this.realm)) problems.push('digest realm must be a non-empty string without quotes, backslashes or line breaks');
    this.algorithms = options.algorithms ?? ['MD5'];
    if (this.algorithms.length === 0) problems.push('digest algorithms must not be empty');
    for (const a of this.algorithms) if (!DIGEST_ALGORITHMS.includes(a)) problems.push(`digest algorithm '${String(a)}' is not one of ${DIGEST_ALGORITHMS.join(', ')}`);
    if (new Set(this.algorithms).size !== this.algorithms.length) problems.push('digest algorithms must not repeat');
    const seconds = options.nonceSeconds ?? 300;
    if (!Number.isInteger(seconds) || seconds < 1) problems.push(`digest nonce lifetime must be a whole number of seconds >= 1 (got ${seconds})`);
    this.#nonceMs = seconds * 1000;
    this.#opaque = options.opaque;
    if (this.#opaque !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(this.#opaque)) problems.push('digest opaque must be printable ASCII without quotes or backslashes');
    this.#maxTracked = options.maxTrackedNonces ?? 10_000;
    if (!Number.isInteger(this.#maxTracked) || this.#maxTracked < 1) problems.push('digest maxTrackedNonces must be a positive integer');
    this.#random = options.random ?? ((n) => randomBytes(n));
    this.#secret = options.secret ?? randomBytes(32);
    this.#clock = clock;
    (options.users ?? []).forEach((u, i) => this.#addUser(u, i, problems));
    if (problems.length > 0) throw new AppError('CONFIG_INVALID', problems.join('; '));
  }

  get userCount(): number {
    return this.#users.size;
  }

  /** Nonces whose use is remembered now (at most maxTrackedNonces). */
  get trackedNonces(): number {
    return this.#uses.size;
  }

  /**
   * Proxy-Authenticate values, one per algorithm, most preferred first (RFC 8760 section 2.4), each
   * with a fresh nonce. `stale` after a 'stale' or 'replay' failure (RFC 7616 section 3.3): the user
   * agent retries with the new nonce without asking its user again.
   */
  challenges(options: { stale?: boolean } = {}): string[] {
    return this.algorithms.map((algorithm) => {
      const parts = [`realm="${this.realm}"`, `nonce="${this.#newNonce()}"`];
      if (this.#opaque !== undefined) parts.push(`opaque="${this.#opaque}"`);
      if (options.stale) parts.push('stale=true');
      parts.push(`algorithm=${algorithm}`, 'qop="auth"');
      return `Digest ${parts.join(', ')}`;
    });
  }

  /** Checks a Proxy-Authorization value against the request. Never throws on request input. */
  verify(request: DigestRequest): DigestVerdict {
    try {
      return this.#verify(request);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
  }

  #verify(request: DigestRequest): DigestVerdict {
    const header: unknown = request.authorization;
    if (header === undefined || header === null || (typeof header === 'string' && header.trim() === '')) return { ok: false, reason: 'missing' };
    if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
    const credentials = parseCredentials(header);
    if (credentials === null) return { ok: false, reason: 'malformed' };
    const digests = credentials.filter((c) => c.scheme === 'digest');
    if (digests.length === 0) return { ok: false, reason: 'malformed' };
    const c = digests.find((d) => d.params.get('realm') === this.realm);
    if (!c) return { ok: false, reason: digests.some((d) => d.params.has('realm')) ? 'wrong-realm' : 'malformed' };
    const p = c.params;
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) return { ok: false, reason: 'malformed' };
    const algorithmName = p.get('algorithm') ?? 'MD5';
    const algorithm = this.algorithms.find((a) => a.toLowerCase() === algorithmName.toLowerCase());
    if (!algorithm) return { ok: false, reason: 'unsupported-algorithm' };
    const qop = p.get('qop');
    let nc: number | undefined;
    if (qop !== undefined) {
      if (qop.toLowerCase() !== 'auth') return { ok: false, reason: 'unsupported-qop' };
      const ncText = p.get('nc');
      const cnonce = p.get('cnonce');
      if (ncText === undefined || !/^[0-9a-fA-F]{8}$/.test(ncText) || cnonce === undefined || cnonce === '') return { ok: false, reason: 'malformed' };
      nc = parseInt(ncText, 16);
      if (nc === 0) return { ok: false, reason: 'malformed' };
    }
    const issuedAt = this.#checkNonce(nonce);
    if (issuedAt === undefined) return { ok: false, reason: 'bad-nonce' };
    if (this.#opaque !== undefined && p.get('opaque') !== this.#opaque) return { ok: false, reason: 'bad-opaque' };
    const user = this.#users.get(username);
    const ha1 = user?.ha1[algorithm];
    if (!user || ha1 === undefined) return { ok: false, reason: 'unknown-user', username };
    if (!uriMatches(uri, request.requestUri)) return { ok: false, reason: 'uri-mismatch' };
    const expected = digestResponse(algorithm, {
      ha1,
      nonce,
      method: request.method,
      uri,
      ...(qop !== undefined ? { qop: 'auth' as const, nc: p.get('nc')!, cnonce: p.get('cnonce')! } : {}),
    });
    if (!constantTimeEqual(expected, response.toLowerCase())) return { ok: false, reason: 'bad-response', username };
    const now = this.#clock.monotonic();
    if (now - issuedAt > this.#nonceMs) return { ok: false, reason: 'stale' };
    if (!this.#recordUse(nonce, issuedAt, nc ?? 0)) return { ok: false, reason: isForgotten(this.#uses, nonce, issuedAt, this.#forgottenUpTo) ? 'stale' : 'replay' };
    return { ok: true, username: user.username, identities: user.identities, algorithm };
  }

  #addUser(u: DigestUser, index: number, problems: string[]): void {
    const where = `digest user #${index + 1}`;
    if (u === null || typeof u !== 'object') {
      problems.push(`${where} is not an object`);
      return;
    }
    const username = u.username;
    if (typeof username !== 'string' || username === '' || /[\r\n"\\]/.test(username)) {
      problems.push(`${where}: username must be a non-empty string without quotes, backslashes or line breaks`);
      return;
    }
    if (this.#users.has(username)) problems.push(`${where}: username '${username}' appears twice`);
    if (u.password !== undefined && typeof u.password !== 'string') problems.push(`${where} (${username}): password must be a string`);
    const ha1: Partial<Record<DigestAlgorithm, string>> = {};
    for (const algorithm of this.algorithms) {
      const given = algorithm === 'MD5' ? u.ha1Md5 : u.ha1Sha256;
      const size = algorithm === 'MD5' ? 32 : 64;
      if (given !== undefined) {
        if (typeof given !== 'string' || !new RegExp(`^[0-9a-fA-F]{${size}}$`).test(given)) {
          problems.push(`${where} (${username}): ${algorithm === 'MD5' ? 'ha1Md5' : 'ha1Sha256'} must be ${size} hex digits`);
        } else ha1[algorithm] = given.toLowerCase();
      } else if (typeof u.password === 'string') {
        ha1[algorithm] = digestHa1(algorithm, username, this.realm, u.password);
      } else {
        problems.push(`${where} (${username}): needs a password or ${algorithm === 'MD5' ? 'ha1Md5' : 'ha1Sha256'} for algorithm ${algorithm}`);
      }
    }
    const identities = u.identities ?? [username];
    if (!Array.isArray(identities) || identities.length === 0 || identities.some((x) => typeof x !== 'string' || x.trim() === '')) {
      problems.push(`${where} (${username}): identities must be a non-empty list of user parts or URIs`);
    }
    this.#users.set(username, { username, ha1, identities: Object.freeze([...identities].map((x) => String(x).trim())) });
  }

  #newNonce(): string {
    const raw = Buffer.alloc(NONCE_BYTES);
    raw.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.#clock.monotonic()))), 0);
    Buffer.from(this.#random(8)).copy(raw, 8, 0, 8);
    this.#mac(raw.subarray(0, 16)).copy(raw, 16);
    return raw.toString('base64url');
  }

  /** The nonce's issue time when it is one of ours (HMAC checks out, not from the future), else undefined. */
  #checkNonce(nonce: string): number | undefined {
    if (!/^[A-Za-z0-9_-]{43}$/.test(nonce)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return undefined;
    if (!timingSafeEqual(this.#mac(raw.subarray(0, 16)), raw.subarray(16))) return undefined;
    const issuedAt = Number(raw.readBigUInt64BE(0));
    return issuedAt > this.#clock.monotonic() + 1000 ? undefined : issuedAt;
  }

  #mac(head: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(head).update(this.realm, 'utf8').digest().subarray(0, 16);
  }

  /** Remembers an authenticated use; false for a replay (nc not above the last, or a no-qop nonce used before) or a forgotten nonce. */
  #recordUse(nonce: string, issuedAt: number, nc: number): boolean {
    const use = this.#uses.get(nonce);
    if (use) {
      if (nc === 0 || nc <= use.nc) return false;
      use.nc = nc;
      this.#uses.delete(nonce); // re-inserted: most recently used
      this.#uses.set(nonce, use);
      return true;
    }
    if (issuedAt <= this.#forgottenUpTo) return false;
    this.#makeRoom();
    this.#uses.set(nonce, { nc, issuedAt });
    return true;
  }

  /** Before adding at the cap: drop expired nonces (they are refused as stale anyway), then the least recently used. */
  #makeRoom(): void {
    if (this.#uses.size < this.#maxTracked) return;
    const now = this.#clock.monotonic();
    for (const [nonce, use] of this.#uses) if (now - use.issuedAt > this.#nonceMs) this.#uses.delete(nonce);
    while (this.#uses.size >= this.#maxTracked) {
      const oldest = this.#uses.entries().next().value;
      if (oldest === undefined) break;
      this.#uses.delete(oldest[0]);
      this.#forgottenUpTo = Math.max(this.#forgottenUpTo, oldest[1].issuedAt);
    }
  }
}

function isForgotten(uses: Map<string, NonceUse>, nonce: string, issuedAt: number, forgottenUpTo: number): boolean {
  return !uses.has(nonce) && issuedAt <= forgottenUpTo;
}

/**
 * May a caller authenticated with these identities call with this From? An identity without ':' or
 * '@' is a user part compared with the From user part; 'sip:user@host' / 'user@host' compares user
 * and host (host case-insensitive, port and parameters ignored); 'tel:+1555...' compares the number
 * with the From user part. Never throws.
 */
export function identityAllowed(identities: readonly string[], from: string): boolean {
  const fromUser = userPart(from);
  if (fromUser === '') return false;
  const fromHost = hostOf(firstUri(from) ?? from);
  return identities.some((identity) => {
    const id = identity.trim();
    const tel = /^tel:([^;]+)/i.exec(id);
    if (tel) return tel[1] === fromUser;
    if (!id.includes('@') && !/^sips?:/i.test(id)) return id === fromUser;
    const user = userPart(/^sips?:/i.test(id) ? id : `sip:${id}`);
    const host = hostOf(/^sips?:/i.test(id) ? id : `sip:${id}`);
    return user === fromUser && host !== '' && host === fromHost;
  });
}

function hostOf(uri: string): string {
  const m = /^(?:sips?:)?(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)/i.exec(uri.trim());
  return m ? m[1]!.toLowerCase() : '';
}

/**
 * RFC 7616 section 3.4.6 wants the digest uri to designate the Request-URI. User agents differ on
 * the user part (SIPp sends 'sip:host:port'), so: scheme sip/sips, the same host and port (default
 * 5060 / 5061), and the same user part when the digest uri has one.
 */
function uriMatches(digestUri: string, requestUri: string): boolean {
  const a = parseSipUri(digestUri);
  const b = parseSipUri(requestUri);
  if (!a || !b) return false;
  if (a.host !== b.host || a.port !== b.port) return false;
  return a.user === '' || a.user === b.user;
}

function parseSipUri(uri: string): { user: string; host: string; port: string } | undefined {
  const m = /^(sips?):(?:([^@]*)@)?(\[[^\]]+\]|[^:;?]+)(?::(\d{1,5}))?(?:[;?].*)?$/i.exec(uri.trim());
  if (!m) return undefined;
  const user = unescapeUri((m[2] ?? '').split(';')[0]!);
  if (user === undefined) return undefined;
  return { user, host: m[3]!.toLowerCase(), port: m[4] ?? (m[1]!.toLowerCase() === 'sips' ? '5061' : '5060') };
}

function constantTimeEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // the length of the expected value is public (it is the hash size)
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

interface Credentials {
  readonly scheme: string;
  /** Parameter names lower-cased; values unquoted and unescaped. */
  readonly params: Map<string, string>;
}

/**
 * Parses one or more credentials (RFC 3261 section 25.1 `credentials`; several Proxy-Authorization
 * rows may arrive joined with ','): `scheme param=value, param="quoted, \"escaped\"" [, scheme ...]`.
 * Returns null for anything that does not follow the grammar (including a repeated parameter).
 */
export function parseCredentials(header: string): Credentials[] | null {
  const s = header;
  let i = 0;
  const out: Array<{ scheme: string; params: Map<string, string> }> = [];
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  skipWs();
  while (i < s.length) {
    const scheme = token();
    if (scheme === '') return null;
    const params = new Map<string, string>();
    out.push({ scheme: scheme.toLowerCase(), params });
    skipWs();
    // params until the end or the next scheme
    for (;;) {
      const save = i;
      const name = token().toLowerCase();
      if (name === '') return null;
      skipWs();
      if (s[i] !== '=') {
        // a token not followed by '=' starts the next credentials (only after a comma)
        if (params.size === 0) return null;
        i = save;
        break;
      }
      i++;
      skipWs();
      let value: string;
      if (s[i] === '"') {
        i++;
        let v = '';
        let closed = false;
        while (i < s.length) {
          const ch = s[i]!;
          if (ch === '\\' && i + 1 < s.length) {
            v += s[i + 1];
            i += 2;
          } else if (ch === '"') {
            i++;
            closed = true;
            break;
          } else {
            v += ch;
            i++;
          }
        }
        if (!closed) return null;
        value = v;
      } else {
        value = token();
        if (value === '') return null;
      }
      if (params.has(name)) return null;
      params.set(name, value);
      skipWs();
      if (i >= s.length) break;
      if (s[i] !== ',') return null;
      i++;
      skipWs();
      if (i >= s.length) return null;
    }
  }
  return out.length > 0 ? out : null;
}
