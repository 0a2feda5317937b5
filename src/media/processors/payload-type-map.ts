/**
 * Payload-type numbering between the two legs of a call. A payload type number means a codec only
 * within one SDP exchange (RFC 3551 section 3, RFC 3264 section 6.1): one leg may carry
 * telephone-event as 101 while the other answered it as 96, or PCMA under a dynamic number. The
 * relay renumbers each packet by codec, from what the sending leg uses to the number the receiving
 * leg negotiated:
 *
 *   sending leg's pt ──(encoding name + clock rate)──▶ receiving leg's pt   (-1: it has no such codec)
 *
 * "Negotiated" is the list the media plane got for the leg (RemoteMedia.payloadTypes): the first
 * entry of a codec is the number the leg receives with; further entries of the same codec are
 * numbers it may send with (RFC 3264 section 5.1: it sends with the numbers of our SDP) and are
 * mapped too. A packet whose codec the receiving leg did not negotiate is not relayed (the caller
 * drops and counts it: a receiver cannot decode a codec it never agreed to).
 *
 * Pure: `set` runs on SDP changes (off the packet path); `map` is one array read and never throws
 * (any number is masked to the 7-bit payload type field).
 */
import type { PayloadTypeInfo } from '../media-session-types.js';

/** Clock rate of an entry without one (RFC 3551 G.711 and telephone-event as used with it). */
const DEFAULT_CLOCK_RATE = 8000;

/** A static payload type named by RFC 3551 table 4 when the list gives no name. */
const STATIC_NAMES: Readonly<Record<number, string>> = { 0: 'PCMU', 3: 'GSM', 4: 'G723', 8: 'PCMA', 9: 'G722', 18: 'G729' };

function codecKey(p: PayloadTypeInfo): string | undefined {
  const name = typeof p.name === 'string' && p.name.length > 0 ? p.name : STATIC_NAMES[p.pt];
  if (name === undefined) return undefined;
  return `${name.toUpperCase()}/${p.clockRate ?? DEFAULT_CLOCK_RATE}`;
}

function validPt(pt: unknown): pt is number {
  return typeof pt === 'number' && Number.isInteger(pt) && pt >= 0 && pt <= 127;
}

export class PayloadTypeMap {
  readonly #map = new Int16Array(128).fill(-1);
  /** How many payload types of the sending leg are renumbered (not mapped onto themselves). */
  renumbered = 0;

  /**
   * Rebuild from the sending leg's payload types (`from`) and the receiving leg's (`to`). Entries
   * without a valid number or a name (and not static) are ignored.
   */
  set(from: readonly PayloadTypeInfo[], to: readonly PayloadTypeInfo[]): void {
    const receive = new Map<string, number>();
    for (const p of to) {
      const key = validPt(p.pt) ? codecKey(p) : undefined;
      if (key !== undefined && !receive.has(key)) receive.set(key, p.pt);
    }
    this.#map.fill(-1);
    this.renumbered = 0;
    for (const p of from) {
      if (!validPt(p.pt) || this.#map[p.pt] !== -1) continue;
      const key = codecKey(p);
      const out = key === undefined ? undefined : receive.get(key);
      if (out === undefined) continue;
      this.#map[p.pt] = out;
      if (out !== p.pt) this.renumbered++;
    }
  }

  /** The receiving leg's number for the sending leg's `pt`, or -1 when it did not negotiate that codec. */
  map(pt: number): number {
    return this.#map[pt & 0x7f]!;
  }
}
