/**
 * drachtio app-protocol framing (docs/engine.md protocol section 1):
 *
 *   <byte-length> '#' <payload>
 *
 * The length is the decimal UTF-8 byte length of the payload, at most 5 digits (so a frame is at
 * most 99,999 bytes, like drachtio-server's readMessageLength). A non-digit before '#' or a sixth
 * digit is a protocol error: the decoder reports it and the caller drops the connection.
 */
export const MAX_FRAME_DIGITS = 5;

/** Encode one frame as a Buffer. */
export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const prefix = Buffer.from(`${body.length}#`, 'latin1');
  return Buffer.concat([prefix, body], prefix.length + body.length);
}

export type FrameDecodeResult = { frames: string[]; error?: string };

/** Incremental decoder: push() bytes as they arrive, get complete payloads back. */
export class FrameDecoder {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): FrameDecodeResult {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: string[] = [];
    let pos = 0;
    const buf = this.#buf;
    for (;;) {
      let len = 0;
      let digits = 0;
      let i = pos;
      let complete = false;
      for (; i < buf.length; i++) {
        const c = buf[i] as number;
        if (c === 35 /* # */) {
          complete = true;
          break;
        }
        if (c < 48 || c > 57) {
          this.#buf = Buffer.alloc(0);
          return { frames, error: 'invalid character in frame length' };
        }
        digits++;
        if (digits > MAX_FRAME_DIGITS) {
          this.#buf = Buffer.alloc(0);
          return { frames, error: 'frame length has more than 5 digits' };
        }
        len = len * 10 + (c - 48);
      }
      if (!complete) break;
      if (digits === 0) {
        this.#buf = Buffer.alloc(0);
        return { frames, error: 'empty frame length' };
      }
      const start = i + 1;
      if (buf.length - start < len) break;
      frames.push(buf.toString('utf8', start, start + len));
      pos = start + len;
    }
    this.#buf = pos === 0 ? buf : buf.subarray(pos);
    if (this.#buf.length === 0) this.#buf = Buffer.alloc(0);
    return { frames };
  }

  /** Bytes buffered while waiting for the rest of a frame. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** A payload split into its leader tokens (empty tokens kept) and the SIP text after the first CRLF. */
export interface AppMessage {
  tokens: string[];
  sip: string;
}

export function splitPayload(payload: string): AppMessage {
  const crlf = payload.indexOf('\r\n');
  const leader = crlf < 0 ? payload : payload.slice(0, crlf);
  return { tokens: leader.split('|'), sip: crlf < 0 ? '' : payload.slice(crlf + 2) };
}
