/**
 * RFC 4733 telephone-events (DTMF named events 0-15), decode and encode. Feeds feature codes.
 *
 * Payload format (RFC 4733 section 2.3):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * event: 0-9 = digits, 10 = '*', 11 = '#', 12-15 = 'A'-'D' (section 3.2). E: end of event.
 * volume: 0..63, power in -dBm0. duration: in RTP timestamp units since the event began (the RTP
 * timestamp of every packet of one event is the event's start time, section 2.3.5/2.5.1.2).
 *
 * Receiver semantics (section 2.5.2): a packet with a new RTP timestamp (or a new event code) starts
 * a new event; later packets with the same timestamp update the duration; the first packet with the
 * E bit ends it; the sender's (typically three) retransmitted end packets are ignored. If the first
 * packet(s) of an event are lost, the event starts at the first packet that does arrive. If an event
 * starts while the previous one has not seen its end packet (all end packets lost), the previous one
 * is ended first. Packets of an older event arriving late are ignored. Bad payloads are counted and
 * dropped, never thrown.
 *
 * Not handled: long-duration segmentation (section 2.5.2.1; events longer than 8.19 s at 8 kHz are
 * reported as consecutive events) and non-DTMF events (codes > 15; counted in `ignored`).
 */

export interface DtmfEvent {
  /** '0'-'9', '*', '#', 'A'-'D'. */
  digit: string;
  /** RTP timestamp of the event's start (the timestamp of all its packets). */
  startTimestamp: number;
  /** Duration so far (start) or total (end), in RTP timestamp units (8 kHz: 8 per ms). */
  durationSamples: number;
  /** false: the event began (first packet seen); true: the event ended (first end packet). */
  end: boolean;
  /** Volume of the packet, 0..63 (-dBm0). */
  volume?: number;
}

const DIGITS = '0123456789*#ABCD';

/** Event code (RFC 4733 section 3.2) of a DTMF digit, or -1. Accepts lower-case a-d. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** The DTMF digit of an event code 0..15, or undefined. */
export function dtmfDigit(code: number): string | undefined {
  return code >= 0 && code < 16 ? DIGITS[code] : undefined;
}

/** True when timestamp a is strictly before b in 32-bit RTP timestamp arithmetic (RFC 3550 wrap). */
function tsBefore(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < 0x80000000;
}

interface Current {
  code: number;
  ts: number;
  duration: number;
  ended: boolean;
  volume: number;
}

/** Decoder state for one RTP stream (one SSRC); create one per direction. */
export class TelephoneEventDecoder {
  #cur: Current | undefined;
  /** Payloads shorter than 4 bytes. */
  malformed = 0;
  /** Well-formed events that are not DTMF (code > 15) or belong to an older event. */
  ignored = 0;

  /**
   * Feed one telephone-event payload with its packet's RTP timestamp. Returns the event that
   * happened (a start or an end) or undefined (duration update, retransmission, bad input).
   * When one packet yields two events (an unseen end of the previous event then a new start, or a
   * start and end together because only end packets arrived) the last one is returned; use
   * pushAll() to receive both.
   */
  push(payload: Uint8Array, rtpTimestamp: number): DtmfEvent | undefined {
    const events = this.pushAll(payload, rtpTimestamp);
    return events[events.length - 1];
  }

  /** As push(), returning every event the packet produced, in order (0, 1 or 2). */
  pushAll(payload: Uint8Array, rtpTimestamp: number): DtmfEvent[] {
    if (payload.length < 4) {
      this.malformed++;
      return [];
    }
    const code = payload[0]!;
    const endBit = (payload[1]! & 0x80) !== 0;
    const volume = payload[1]! & 0x3f;
    const duration = (payload[2]! << 8) | payload[3]!;
    const ts = rtpTimestamp >>> 0;
    const digit = dtmfDigit(code);
    if (digit === undefined) {
      this.ignored++;
      return [];
    }
    const cur = this.#cur;
    if (cur && cur.ts === ts && cur.code === code) {
      // same event: duration update, end, or retransmitted end
      if (cur.ended) return [];
      if (duration > cur.duration) cur.duration = duration;
      cur.volume = volume;
      if (!endBit) return [];
      cur.ended = true;
      return [this.#event(cur, true)];
    }
    if (cur && tsBefore(ts, cur.ts)) {
      this.ignored++; // late packet of an older event
      return [];
    }
    const out: DtmfEvent[] = [];
    if (cur && !cur.ended) {
      cur.ended = true;
      out.push(this.#event(cur, true));
    }
    const next: Current = { code, ts, duration, ended: false, volume };
    this.#cur = next;
    out.push(this.#event(next, false));
    if (endBit) {
      next.ended = true;
      out.push(this.#event(next, true));
    }
    return out;
  }

  /** The event in progress (started, not yet ended), if any. */
  get active(): DtmfEvent | undefined {
    const cur = this.#cur;
    return cur && !cur.ended ? this.#event(cur, false) : undefined;
  }

  /** Forget the current event (e.g. after an SSRC change). */
  reset(): void {
    this.#cur = undefined;
  }

  #event(c: Current, end: boolean): DtmfEvent {
    return { digit: DIGITS[c.code]!, startTimestamp: c.ts, durationSamples: c.duration, end, volume: c.volume };
  }
}

/**
 * Build a 4-byte telephone-event payload (RFC 4733 section 2.3). Programmer errors (unknown digit)
 * throw RangeError; volume is clamped to 0..63 and duration to 0..65535.
 */
export function encodeTelephoneEvent(digit: string, end: boolean, volume: number, durationSamples: number, out?: Buffer): Buffer {
  const code = dtmfEventCode(digit);
  if (code < 0) throw new RangeError(`encodeTelephoneEvent: '${digit}' is not a DTMF digit`);
  const buf = out ?? Buffer.alloc(4);
  if (buf.length < 4) throw new RangeError('encodeTelephoneEvent: output smaller than 4 bytes');
  const vol = Math.max(0, Math.min(63, Math.round(volume)));
  const dur = Math.max(0, Math.min(0xffff, Math.round(durationSamples)));
  buf[0] = code;
  buf[1] = (end ? 0x80 : 0) | vol;
  buf[2] = dur >> 8;
  buf[3] = dur & 0xff;
  return buf;
}

/** One packet of a sender's event sequence: payload plus the RTP header fields it needs. */
export interface TelephoneEventPacket {
  payload: Buffer;
  /** RTP timestamp: the event start for every packet of the event. */
  timestamp: number;
  /** RTP marker bit: set on the first packet of the event (section 2.5.1.1). */
  marker: boolean;
}

/**
 * The packet sequence a sender emits for one digit (section 2.5.1): one packet every `ptimeMs` with
 * growing duration, the first with the marker bit, then `endRepeats` (default 3) identical end
 * packets. For tests and in-band injection. Defaults: 8 kHz clock, 20 ms, volume 10.
 */
export function telephoneEventSequence(
  digit: string,
  startTimestamp: number,
  durationMs: number,
  opts: { ptimeMs?: number; clockRate?: number; volume?: number; endRepeats?: number } = {},
): TelephoneEventPacket[] {
  const ptime = opts.ptimeMs ?? 20;
  const rate = opts.clockRate ?? 8000;
  const volume = opts.volume ?? 10;
  const perPacket = (ptime * rate) / 1000;
  const total = Math.round((durationMs * rate) / 1000);
  const packets: TelephoneEventPacket[] = [];
  for (let d = perPacket; d < total; d += perPacket) {
    packets.push({ payload: encodeTelephoneEvent(digit, false, volume, d), timestamp: startTimestamp >>> 0, marker: packets.length === 0 });
  }
  for (let i = 0; i < (opts.endRepeats ?? 3); i++) {
    packets.push({ payload: encodeTelephoneEvent(digit, true, volume, total), timestamp: startTimestamp >>> 0, marker: packets.length === 0 });
  }
  return packets;
}
