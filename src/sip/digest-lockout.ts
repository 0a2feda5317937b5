/**
 * Digest lockout: limits password guessing against digest authentication (digest-auth.ts, RFC
 * 3261 section 22), the way fail2ban or a Kamailio pike/htable set-up does in front of a proxy.
 * Pure: time from an injected Clock, no I/O, no logging; the caller logs once per lockout
 * (`verdict.newLockout`).
 *
 *   before verify():  source locked                    -> refuse ('source')
 *   after verify():   failure (wrong password, unknown user) -> count for the user and the source;
 *                       `maxFailures` for a user, or 4 x `maxFailures` for a source, within
 *                       `lockoutMs` -> that key is locked for lockoutMs x 2^(earlier lockouts),
 *                       at most 64 x lockoutMs (back-off)
 *                     user locked (even with the right password) -> refuse ('user')
 *                     success -> the user's failure count starts again
 *
 * A source counts four times more failures than a user before it is locked, so that a few users
 * behind one NAT address who mistype are not all locked out by one of them. A key forgets its
 * failures and its back-off once it has been quiet for the longest lockout. At most `maxKeys`
 * users and sources are tracked (oldest forgotten first), whatever the number of spoofed sources.
 *
 * Defaults: 5 failures per user (20 per source) within 60 s lock for 60 s, then 120 s, 240 s, ...
 * up to 64 min.
 */
import type { Clock } from '../common/clock.js';
import { AppError } from '../common/errors.js';

export interface DigestLockoutOptions {
  /** Failures of one user within the window that lock it; a source gets 4 x as many. Default 5; 0 = off. */
  readonly maxFailures?: number;
  /** The window and the first lockout, ms. Default 60,000. */
  readonly lockoutMs?: number;
  /** Users and sources tracked at once. Default 10,000. */
  readonly maxKeys?: number;
}

/** Why a request is refused: its source or its user is locked out. */
export type LockedKey = 'source' | 'user';

export interface LockoutVerdict {
  readonly locked: boolean;
  /** Set when this failure started a lockout (log it once): which key, for how long. */
  readonly newLockout?: { readonly key: LockedKey; readonly lockMs: number; readonly failures: number };
}

export interface LockoutCounters {
  /** Lockouts started, by key. */
  readonly lockouts: Readonly<Record<LockedKey, number>>;
  /** Requests refused because their source or user was locked. */
  readonly refused: number;
  readonly tracked: number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  /** Lockouts so far (back-off exponent). */
  strikes: number;
  lastAt: number;
}

const MAX_BACKOFF = 64;
const SOURCE_FACTOR = 4;

export class DigestLockout {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #lockMs: number;
  readonly #maxKeys: number;
  readonly #lockouts: Record<LockedKey, number> = { source: 0, user: 0 };
  #refused = 0;

  /** Throws AppError CONFIG_INVALID for a negative or non-finite limit. */
  constructor(
    options: DigestLockoutOptions,
    private readonly clock: Clock,
  ) {
    this.#max = options.maxFailures ?? 5;
    this.#lockMs = options.lockoutMs ?? 60_000;
    this.#maxKeys = options.maxKeys ?? 10_000;
    if (!(this.#max >= 0) || !Number.isInteger(this.#max)) throw new AppError('CONFIG_INVALID', `digest maxFailures must be an integer >= 0, got ${options.maxFailures}`);
    if (!(this.#lockMs > 0) || !Number.isFinite(this.#lockMs)) throw new AppError('CONFIG_INVALID', `digest lockoutMs must be > 0, got ${options.lockoutMs}`);
    if (!(this.#maxKeys >= 1)) throw new AppError('CONFIG_INVALID', `digest lockout maxKeys must be >= 1, got ${options.maxKeys}`);
  }

  get enabled(): boolean {
    return this.#max > 0;
  }

  /** Before verifying credentials: true when the source is locked (the request is refused and counted). */
  sourceLocked(source: string): boolean {
    if (!this.enabled || !this.#isLocked(sourceKey(source))) return false;
    this.#refused++;
    return true;
  }

  /** After a successful verify(): refused when the user is locked; else the user's failures are forgotten. */
  succeeded(username: string): LockoutVerdict {
    if (!this.enabled) return UNLOCKED;
    const key = userKey(username);
    if (this.#isLocked(key)) {
      this.#refused++;
      return LOCKED;
    }
    this.#entries.delete(key);
    return UNLOCKED;
  }

  /** A guess failed (wrong password or unknown user): counts for the source and, when named, the user. */
  failed(source: string, username: string | undefined): LockoutVerdict {
    if (!this.enabled) return UNLOCKED;
    const bySource = this.#fail(sourceKey(source), this.#max * SOURCE_FACTOR, 'source');
    const byUser = username === undefined ? undefined : this.#fail(userKey(username), this.#max, 'user');
    const newLockout = bySource ?? byUser;
    const locked = this.#isLocked(sourceKey(source)) || (username !== undefined && this.#isLocked(userKey(username)));
    return newLockout ? { locked, newLockout } : { locked };
  }

  /** A user locked at the moment (for a request whose credentials named it). */
  userLocked(username: string): boolean {
    return this.enabled && this.#isLocked(userKey(username));
  }

  counters(): LockoutCounters {
    return { lockouts: { ...this.#lockouts }, refused: this.#refused, tracked: this.#entries.size };
  }

  #isLocked(key: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && this.clock.monotonic() < e.lockedUntil;
  }

  #fail(key: string, limit: number, kind: LockedKey): LockoutVerdict['newLockout'] {
    const now = this.clock.monotonic();
    let e = this.#entries.get(key);
    if (e && now - e.lastAt > this.#lockMs * MAX_BACKOFF) e = undefined; // quiet long enough: forgiven
    if (!e) {
      this.#makeRoom();
      e = { failures: 0, windowStart: now, lockedUntil: 0, strikes: 0, lastAt: now };
    }
    this.#entries.delete(key);
    this.#entries.set(key, e); // Map order = least recently failed first
    e.lastAt = now;
    if (now < e.lockedUntil) return undefined; // already locked: not counted again
    if (now - e.windowStart > this.#lockMs) {
      e.failures = 0;
      e.windowStart = now;
    }
    e.failures++;
    if (e.failures < limit) return undefined;
    const lockMs = this.#lockMs * Math.min(MAX_BACKOFF, 2 ** e.strikes);
    const failures = e.failures;
    e.strikes++;
    e.lockedUntil = now + lockMs;
    e.failures = 0;
    e.windowStart = now + lockMs;
    this.#lockouts[kind]++;
    return { key: kind, lockMs, failures };
  }

  #makeRoom(): void {
    while (this.#entries.size >= this.#maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) return;
      this.#entries.delete(oldest);
    }
  }
}

const UNLOCKED: LockoutVerdict = { locked: false };
const LOCKED: LockoutVerdict = { locked: true };

function sourceKey(source: string): string {
  return `s ${source}`;
}

function userKey(username: string): string {
  return `u ${username}`;
}
