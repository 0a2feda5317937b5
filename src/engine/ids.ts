/**
 * Identifiers the engine generates: transaction/message ids (UUID v4, like drachtio-server),
 * tags and Via branches (RFC 3261 sections 19.3 and 8.1.1.7: branch starts with z9hG4bK),
 * Call-IDs, initial CSeq numbers, and the `HH:MM:SS.uuuuuu` UTC time the protocol carries.
 */
import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolPos = 0;

function randomToken(len: number): string {
  if (poolPos + len > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolPos = 0;
  }
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[(pool[poolPos++] as number) % 62];
  return s;
}

export const newUuid = (): string => randomUUID();
/** A From/To tag (RFC 3261 section 19.3: at least 32 bits of randomness; 13 chars of base62 here). */
export const newTag = (): string => randomToken(13);
/** A Via branch with the RFC 3261 magic cookie. */
export const newBranch = (): string => 'z9hG4bK' + randomToken(16);
export const newCallId = (): string => randomUUID();
/** A random initial CSeq below 2**31 (RFC 3261 section 8.1.1.5), kept below 2**30 to leave room. */
export const newCseq = (): number => 1 + Math.floor(Math.random() * 2 ** 30);

/** `HH:MM:SS.uuuuuu`, UTC time of day (drachtio.cpp formats it the same way). */
export function protocolTime(nowMs: number): string {
  const d = new Date(nowMs);
  const micros = Math.floor((nowMs % 1000) * 1000);
  const p2 = (n: number): string => (n < 10 ? '0' + n : String(n));
  return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(micros).padStart(6, '0')}`;
}
