/**
 * SIP access control: the first gate every request from the network passes, before admission
 * (src/sip/admission.ts) looks at who is calling whom. Pure: time comes from an injected Clock, no
 * I/O, no logging, and the per-request path never throws on odd input (an address that does not
 * parse matches no list entry).
 *
 *   request from the network (any method; in-dialog requests pass the ACL only)
 *     │
 *     ├─ 1. source ACL:   deny list matches            -> drop 'source-denied' (silence, always)
 *     │                   allow list set, no match     -> reject 403 'source-not-allowed' (or drop)
 *     ├─ 2. rate limit:   the source's token bucket is empty
 *     │                     and its 503 budget is left -> reject 503 'rate-limited' (Retry-After)
 *     │                     else                       -> drop 'rate-limited'
 *     └─ allow
 *
 *   new call (initial INVITE, after checkRequest allowed it and admission admitted it)
 *     └─ 3. concurrent calls: activeCalls >= maxConcurrentCalls -> reject 503 'max-concurrent-calls'
 *                             else allow with a release() the call layer calls once the call is over
 *
 * An ACK is never answered (RFC 3261 17.2.1) and a CANCEL of a request that was refused has nothing
 * to cancel: every reject of an ACK or a CANCEL becomes a drop. Every decision
 * other than allow is counted by reason (`counters()`), so floods and scans show in the metrics.
 *
 * Rate limiting (token bucket, one per source address, any port; a known source, i.e. a trunk or a
 * trusted source matched by address and port where its entry names one, has a bucket of its own
 * keyed by address and port, so a flood from the carrier's address on another port, spoofed or
 * not, cannot empty the carrier's bucket): a bucket holds up to `burst`
 * tokens and gains `ratePerSecond` tokens per second; each request takes one. A bucket that has
 * refilled to `burst` is the same as no bucket, so idle buckets are forgotten, and at most
 * `maxSources` are kept (least recently used evicted first): memory stays bounded whatever the
 * number of spoofed sources. 503s to a flooding source are themselves limited to
 * `rejectsPerSecond` (default 1), beyond which requests are dropped silently, so that a flood is not
 * answered packet for packet (RFC 3261 21.5.4: 503 with Retry-After).
 *
 * Address entries: IPv4 'a.b.c.d', IPv4 CIDR 'a.b.c.d/n', IPv6 '2001:db8::1', IPv6 CIDR
 * '2001:db8::/32'. An IPv4-mapped IPv6 source ('::ffff:a.b.c.d', as a dual-stack socket reports it)
 * is matched as the IPv4 address. A bad entry is a configuration error (AppError CONFIG_INVALID, at
 * construction).
 */
import type { Clock } from '../common/clock.js';
import { AppError } from '../common/errors.js';

/** Why a request or call was not allowed; also the counter names. */
export type AccessRejectReason = 'source-denied' | 'source-not-allowed' | 'rate-limited' | 'max-concurrent-calls';

export const ACCESS_REJECT_REASONS: readonly AccessRejectReason[] = [
  'source-denied',
  'source-not-allowed',
  'rate-limited',
  'max-concurrent-calls',
];

/** The outcome for one request: let it through, answer it with `status`, or drop it silently. */
export type AccessDecision =
  | { readonly action: 'allow' }
  | {
      readonly action: 'reject';
      readonly status: 403 | 503;
      readonly reason: AccessRejectReason;
      /** Seconds for a Retry-After header (503 only). */
      readonly retryAfterSec?: number;
    }
  | { readonly action: 'drop'; readonly reason: AccessRejectReason };

/** The outcome for a new call; on allow, `release()` (idempotent) frees the slot when the call ends. */
export type CallSlotDecision =
  | { readonly action: 'allow'; readonly release: () => void }
  | { readonly action: 'reject'; readonly status: 503; readonly reason: 'max-concurrent-calls'; readonly retryAfterSec: number };

export interface RateLimitOptions {
  /** Sustained requests per second per source address. Required, > 0. */
  readonly ratePerSecond: number;
  /** Bucket size: requests a source may send at once after being idle. Default 2 x ratePerSecond (at least 1). */
  readonly burst?: number;
  /** 503 answers per second to one rate-limited source; further requests are dropped. Default 1; 0 = always drop. */
  readonly rejectsPerSecond?: number;
  /** Sources (address or CIDR) never rate limited, e.g. the carrier trunks. Default none. */
  readonly exempt?: readonly string[];
  /** Most source buckets kept at once (least recently used evicted). Default 10000. */
  readonly maxSources?: number;
}

export interface AccessControlOptions {
  /** Only these sources (address or CIDR) may send requests. Default: undefined = any source (admission
   *  still decides per trunk/PBX). An empty list allows no one. */
  readonly allow?: readonly string[];
  /** Sources always refused, silently (no answer to any request); checked before `allow`. Default none. */
  readonly deny?: readonly string[];
  /** What a source outside the allow list gets: 'reject' answers 403, 'drop' answers nothing (quieter towards scanners). Default 'reject'. */
  readonly aclAction?: 'reject' | 'drop';
  /** Per-source rate limiting. Default: off. */
  readonly rateLimit?: RateLimitOptions;
  /** Most calls at once; further initial INVITEs get 503. Default: unlimited. */
  readonly maxConcurrentCalls?: number;
  /** Retry-After seconds in 503 answers. Default 5. */
  readonly retryAfterSec?: number;
}

export interface AccessSource {
  readonly address: string;
  readonly port?: number;
}

/** What the caller knows about a request beyond its source. */
export interface AccessRequestContext {
  /**
   * The source is a trunk or trusted source (src/sip/admission.ts knownSourceRole, matched by
   * address and port where the entry has a port): its requests use a bucket of its own, keyed by
   * address and port. Default false.
   */
  readonly known?: boolean;
  /** An in-dialog request (To tag): the ACL applies, the rate limit does not. Default false. */
  readonly inDialog?: boolean;
}

/** Counters: requests allowed, and every non-allow decision by reason and by action. */
export interface AccessCounters {
  readonly allowed: number;
  readonly rejected: Readonly<Record<AccessRejectReason, number>>;
  readonly dropped: Readonly<Record<AccessRejectReason, number>>;
  readonly activeCalls: number;
  readonly trackedSources: number;
}

// ---------------------------------------------------------------------------------------------
// Addresses and CIDR blocks

/** A parsed address: 4 bytes (IPv4) or 16 bytes (IPv6). */
type IpBytes = Uint8Array;

interface CidrBlock {
  readonly bytes: IpBytes;
  readonly prefix: number;
  readonly text: string;
}

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): IpBytes | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0 || s.length > 45) return undefined;
  // a trailing dotted IPv4 part ('::ffff:10.0.0.1') becomes two hex groups
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.includes('.', lastColon)) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (g: string): number | undefined => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : undefined);
  const side = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      const v = group(g);
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  };
  const head = side(halves[0]!);
  const rest = halves.length === 2 ? side(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  } else {
    if (explicit !== 8) return undefined;
    groups = head;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/**
 * Parses an IPv4 or IPv6 address (brackets allowed); an IPv4-mapped IPv6 address becomes IPv4.
 * Returns undefined for anything else; never throws.
 */
export function parseIpAddress(text: string): IpBytes | undefined {
  if (typeof text !== 'string') return undefined;
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes(':')) {
    const v6 = parseIpv6(s);
    if (!v6) return undefined;
    const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
    return mapped ? v6.slice(12) : v6;
  }
  return parseIpv4(s);
}

/** Parses 'address' or 'address/prefix' (prefix 0-32 for IPv4, 0-128 for IPv6); undefined when invalid. */
export function parseCidr(text: string): CidrBlock | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addrText = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const bytes = parseIpAddress(addrText);
  if (!bytes) return undefined;
  const max = addrText.includes(':') ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  // an IPv4-mapped IPv6 block '::ffff:a.b.c.d/120' becomes the IPv4 block '/24'
  if (bytes.length === 4 && addrText.includes(':')) {
    if (slash >= 0) prefix -= 96;
    if (prefix < 0) return undefined;
  }
  return { bytes, prefix, text: trimmed };
}

/** True when `address` (parsed) lies inside `block`. Different families never match. */
function inBlock(address: IpBytes, block: CidrBlock): boolean {
  if (address.length !== block.bytes.length) return false;
  let bits = block.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i]! & mask) !== (block.bytes[i]! & mask)) return false;
  }
  return true;
}

/** A list of addresses and CIDR blocks. */
export class AddressList {
  readonly #blocks: CidrBlock[];

  /** Throws AppError CONFIG_INVALID naming the first entry that is not an address or CIDR block. */
  constructor(entries: readonly string[], what = 'address list') {
    this.#blocks = entries.map((e) => {
      const block = parseCidr(e);
      if (!block) throw new AppError('CONFIG_INVALID', `${what}: '${String(e)}' is not an IP address or CIDR block`);
      return block;
    });
  }

  get size(): number {
    return this.#blocks.length;
  }

  /** True when the address is inside any entry; false for an address that does not parse. */
  has(address: string): boolean {
    const bytes = parseIpAddress(address);
    return bytes !== undefined && this.#blocks.some((b) => inBlock(bytes, b));
  }
}

// ---------------------------------------------------------------------------------------------
// Token buckets

interface Bucket {
  tokens: number;
  /** Tokens of the 503 budget. */
  rejectTokens: number;
  /** Clock.monotonic() of the last refill. */
  at: number;
}

/** Per-key token buckets with lazy refill, idle eviction and a size cap (LRU). */
class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #rejectRate: number;
  readonly #rejectBurst: number;
  readonly #maxSources: number;

  constructor(
    options: RateLimitOptions,
    private readonly clock: Clock,
  ) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new AppError('CONFIG_INVALID', `rateLimit.ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    this.#rate = options.ratePerSecond / 1000;
    this.#burst = options.burst ?? Math.max(1, 2 * options.ratePerSecond);
    if (!(this.#burst >= 1)) throw new AppError('CONFIG_INVALID', `rateLimit.burst must be >= 1, got ${options.burst}`);
    const rejects = options.rejectsPerSecond ?? 1;
    if (!(rejects >= 0)) throw new AppError('CONFIG_INVALID', `rateLimit.rejectsPerSecond must be >= 0, got ${rejects}`);
    this.#rejectRate = rejects / 1000;
    this.#rejectBurst = Math.max(rejects, rejects > 0 ? 1 : 0);
    this.#maxSources = options.maxSources ?? 10_000;
    if (!(this.#maxSources >= 1)) throw new AppError('CONFIG_INVALID', `rateLimit.maxSources must be >= 1, got ${options.maxSources}`);
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token: 'ok', 'reject' (empty, 503 budget left) or 'drop' (empty, budget spent too). */
  take(key: string): 'ok' | 'reject' | 'drop' {
    const now = this.clock.monotonic();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: Map order is the LRU order
      const elapsed = Math.max(0, now - bucket.at);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + elapsed * this.#rate);
      bucket.rejectTokens = Math.min(this.#rejectBurst, bucket.rejectTokens + elapsed * this.#rejectRate);
      bucket.at = now;
    } else {
      this.#makeRoom(now);
      bucket = { tokens: this.#burst, rejectTokens: this.#rejectBurst, at: now };
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'ok';
    }
    if (bucket.rejectTokens >= 1) {
      bucket.rejectTokens -= 1;
      return 'reject';
    }
    return 'drop';
  }

  /** Before adding a key at the cap: forget buckets that have refilled (lossless), else the least recently used. */
  #makeRoom(now: number): void {
    if (this.#buckets.size < this.#maxSources) return;
    for (const [key, b] of this.#buckets) {
      const elapsed = now - b.at;
      if (b.tokens + elapsed * this.#rate >= this.#burst && b.rejectTokens + elapsed * this.#rejectRate >= this.#rejectBurst) {
        this.#buckets.delete(key);
      }
    }
    while (this.#buckets.size >= this.#maxSources) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function zeroCounts(): Record<AccessRejectReason, number> {
  return { 'source-denied': 0, 'source-not-allowed': 0, 'rate-limited': 0, 'max-concurrent-calls': 0 };
}

/** The access gate: source ACL, per-source rate limit, concurrent-call limit, with counters. */
export class AccessControl {
  readonly #allow: AddressList | undefined;
  readonly #deny: AddressList;
  readonly #exempt: AddressList;
  readonly #aclAction: 'reject' | 'drop';
  readonly #buckets: TokenBuckets | undefined;
  readonly #maxCalls: number;
  readonly #retryAfterSec: number;
  #activeCalls = 0;
  #allowed = 0;
  readonly #rejected = zeroCounts();
  readonly #dropped = zeroCounts();

  /** Throws AppError CONFIG_INVALID for a bad address entry or limit. */
  constructor(options: AccessControlOptions, clock: Clock) {
    this.#allow = options.allow ? new AddressList(options.allow, 'access allow list') : undefined;
    this.#deny = new AddressList(options.deny ?? [], 'access deny list');
    this.#exempt = new AddressList(options.rateLimit?.exempt ?? [], 'rate limit exempt list');
    this.#aclAction = options.aclAction ?? 'reject';
    this.#buckets = options.rateLimit ? new TokenBuckets(options.rateLimit, clock) : undefined;
    const max = options.maxConcurrentCalls ?? Infinity;
    if (!(max >= 0)) throw new AppError('CONFIG_INVALID', `maxConcurrentCalls must be >= 0, got ${options.maxConcurrentCalls}`);
    this.#maxCalls = max;
    this.#retryAfterSec = options.retryAfterSec ?? 5;
  }

  /**
   * Every request from the network (any method, in or out of dialog): the source ACL, then the
   * source's rate limit. Never throws; a source address that does not parse matches no entry.
   */
  checkRequest(source: AccessSource, method: string, context: AccessRequestContext = {}): AccessDecision {
    const address = typeof source?.address === 'string' ? source.address : '';
    const silent = method === 'ACK' || method === 'CANCEL';
    if (this.#deny.has(address)) return this.#refuse('source-denied', 403, true);
    if (this.#allow && !this.#allow.has(address)) return this.#refuse('source-not-allowed', 403, this.#aclAction === 'drop' || silent);
    if (this.#buckets && context.inDialog !== true && !this.#exempt.has(address)) {
      const key = context.known === true ? `${normaliseKey(address)} ${Number(source.port ?? 0)}` : normaliseKey(address);
      const outcome = this.#buckets.take(key);
      if (outcome !== 'ok') return this.#refuse('rate-limited', 503, outcome === 'drop' || silent);
    }
    this.#allowed++;
    return { action: 'allow' };
  }

  /**
   * A new call (an initial INVITE that checkRequest and admission let through): takes a call slot,
   * or 503 'max-concurrent-calls' when all are in use. The caller MUST call `release()` when the
   * call ends (any way); release is idempotent.
   */
  acquireCall(): CallSlotDecision {
    if (this.#activeCalls >= this.#maxCalls) {
      this.#rejected['max-concurrent-calls']++;
      return { action: 'reject', status: 503, reason: 'max-concurrent-calls', retryAfterSec: this.#retryAfterSec };
    }
    this.#activeCalls++;
    let released = false;
    return {
      action: 'allow',
      release: () => {
        if (released) return;
        released = true;
        this.#activeCalls--;
      },
    };
  }

  get activeCalls(): number {
    return this.#activeCalls;
  }

  counters(): AccessCounters {
    return {
      allowed: this.#allowed,
      rejected: { ...this.#rejected },
      dropped: { ...this.#dropped },
      activeCalls: this.#activeCalls,
      trackedSources: this.#buckets?.size ?? 0,
    };
  }

  #refuse(reason: AccessRejectReason, status: 403 | 503, drop: boolean): AccessDecision {
    if (drop) {
      this.#dropped[reason]++;
      return { action: 'drop', reason };
    }
    this.#rejected[reason]++;
    return status === 503 ? { action: 'reject', status, reason, retryAfterSec: this.#retryAfterSec } : { action: 'reject', status, reason };
  }
}

/** One bucket per address whatever its spelling ('::ffff:10.0.0.1' and '10.0.0.1' share one). */
function normaliseKey(address: string): string {
  const bytes = parseIpAddress(address);
  if (!bytes) return address.toLowerCase();
  return bytes.join(bytes.length === 4 ? '.' : ',');
}
