/**
 * Message framing on stream transports (RFC 3261 section 18.3): a message ends after the blank
 * line plus Content-Length bytes of body. Handles split reads, several messages in one read and
 * CRLF keep-alives between messages (RFC 5626 section 3.5.1: a CRLFCRLF "ping" is answered with
 * a CRLF "pong"). A message larger than the limit is an error: the caller answers 513 if it can
 * and closes the connection, since the stream position is lost.
 */
export interface StreamFrameResult {
  messages: Buffer[];
  /** Number of CRLFCRLF keep-alive pings seen (each deserves a CRLF pong). */
  pings: number;
  /** Set when the stream can no longer be framed; `head` holds the header block if one was found. */
  error?: { reason: 'too-large' | 'bad-content-length' | 'garbage'; head?: Buffer };
}

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\S*)/im;

/**
 * The first line of a stream message must be printable ASCII (a SIP start line); control bytes
 * or 8-bit data there mean the stream is not SIP (or lost its framing). Checks what has arrived.
 */
function looksLikeStartLine(buf: Buffer): boolean {
  const n = Math.min(buf.length, 512);
  for (let i = 0; i < n; i++) {
    const c = buf[i] as number;
    if (c === 13 || c === 10) return i > 0;
    if (c < 32 || c > 126) return false;
  }
  return true;
}

export class SipStreamFramer {
  #buf: Buffer = Buffer.alloc(0);
  readonly #maxBytes: number;
  #startedAt: number | undefined;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * performance.now() when the first byte of the message being received arrived; undefined between
   * messages (CRLF keep-alives start none). The transport closes a connection whose message is not
   * complete by a deadline from this time (slowloris).
   */
  get messageStartedAt(): number | undefined {
    return this.#startedAt;
  }

  push(chunk: Buffer): StreamFrameResult {
    const result: StreamFrameResult = { messages: [], pings: 0 };
    let buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      // skip keep-alive CRLFs between messages
      let skip = 0;
      let crlfPairs = 0;
      while (skip < buf.length && (buf[skip] === 13 || buf[skip] === 10)) {
        if (buf[skip] === 10) crlfPairs++;
        skip++;
      }
      if (crlfPairs >= 2) result.pings += Math.floor(crlfPairs / 2);
      if (skip > 0) buf = buf.subarray(skip);
      if (buf.length === 0) break;
      if (!looksLikeStartLine(buf)) {
        result.error = { reason: 'garbage' };
        buf = Buffer.alloc(0);
        break;
      }
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        if (buf.length > this.#maxBytes) {
          result.error = { reason: 'too-large' };
          buf = Buffer.alloc(0);
        }
        break;
      }
      const head = buf.subarray(0, headEnd);
      const m = CL_RE.exec(head.toString('latin1'));
      let cl = 0;
      if (m) {
        const v = m[1] as string;
        if (!/^\d{1,9}$/.test(v)) {
          result.error = { reason: 'bad-content-length', head: Buffer.from(head) };
          buf = Buffer.alloc(0);
          break;
        }
        cl = Number(v);
      }
      const total = headEnd + 4 + cl;
      if (total > this.#maxBytes) {
        result.error = { reason: 'too-large', head: Buffer.from(head) };
        buf = Buffer.alloc(0);
        break;
      }
      if (buf.length < total) break;
      result.messages.push(buf.subarray(0, total));
      buf = buf.subarray(total);
    }
    // the partial message left is the one that started earliest: keep its start time while it grows
    if (buf.length === 0) this.#startedAt = undefined;
    else if (result.messages.length > 0 || this.#startedAt === undefined) this.#startedAt = performance.now();
    this.#buf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return result;
  }
}
