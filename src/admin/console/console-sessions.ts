import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.js';

/** The session cookie's name (HttpOnly, SameSite=Strict, Path=/). */
export const SESSION_COOKIE = 'console_session';
/** The header a cookie-authenticated write must carry (the session's CSRF token). */
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSession {
  readonly id: string;
  /** Synchronizer token (OWASP CSRF cheat sheet): sent back in CSRF_HEADER on every write. */
  readonly csrfToken: string;
  readonly expiresAt: number;
}

export interface ConsoleSessionOptions {
  /** Lifetime of a session from login; default 8 h. Not extended by use. */
  readonly ttlMs?: number;
  /** Most sessions kept at once; the oldest is dropped beyond it; default 1000. */
  readonly maxSessions?: number;
}

export const CONSOLE_SESSION_DEFAULTS = Object.freeze({ ttlMs: 8 * 3600_000, maxSessions: 1000 });

const token = () => randomBytes(32).toString('base64url');

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The console's login sessions, in memory (a restart logs everyone out): a login with the admin
 * bearer token creates one; the browser holds its id in an HttpOnly cookie, the page holds its CSRF
 * token and sends it on every write. Ids and tokens are 256 random bits.
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(clock: Clock, opts: ConsoleSessionOptions = {}) {
    this.#clock = clock;
    this.#ttlMs = opts.ttlMs ?? CONSOLE_SESSION_DEFAULTS.ttlMs;
    this.#max = opts.maxSessions ?? CONSOLE_SESSION_DEFAULTS.maxSessions;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  create(): ConsoleSession {
    const session: ConsoleSession = { id: token(), csrfToken: token(), expiresAt: this.#clock.now() + this.#ttlMs };
    this.#sessions.set(session.id, session);
    while (this.#sessions.size > this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string);
    return session;
  }

  /** The live session with that id; an expired one is forgotten and undefined returned. */
  find(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.#clock.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** True when `presented` is the session's CSRF token (constant-time compare). */
  csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
    return presented !== undefined && sameText(presented, session.csrfToken);
  }

  destroy(id: string): void {
    this.#sessions.delete(id);
  }
}

/** The value of one cookie in a Cookie header (RFC 6265 section 5.4), undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
