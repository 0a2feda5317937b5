/**
 * A minimal, stateless SIP user agent for raw-socket tests that must not leave the system under
 * test waiting: it answers requests it receives (RFC 3261 section 8.2.6: Via, From, To, Call-ID
 * and CSeq copied, a To tag added) and acknowledges non-2xx final responses to INVITE (RFC 3261
 * section 17.1.1.3: the ACK reuses the INVITE's top Via branch, From, Call-ID and CSeq number and
 * the response's To). Pure string functions; never throws on a mangled message (returns undefined).
 */

export interface SipMessageView {
  readonly startLine: string;
  /** Request method, undefined for responses. */
  readonly method: string | undefined;
  /** Response status, undefined for requests. */
  readonly status: number | undefined;
  /** The first value of a header (long or compact name), undefined when absent. */
  header(name: string, compact?: string): string | undefined;
  /** Every header line (name: value) with this name, in order (for Via). */
  headerLines(name: string, compact?: string): string[];
  readonly body: string;
}

/** Splits a message into start line, header lines and body; unfolds nothing (tests send no folding). */
export function viewSip(text: string): SipMessageView | undefined {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  const req = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(startLine);
  const res = /^SIP\/2\.0 (\d{3}) /.exec(startLine);
  if (!req && !res) return undefined;
  const matching = (name: string, compact?: string): string[] =>
    lines.slice(1).filter((l) => {
      const colon = l.indexOf(':');
      if (colon < 0) return false;
      const n = l.slice(0, colon).trim().toLowerCase();
      return n === name.toLowerCase() || (compact !== undefined && n === compact);
    });
  return {
    startLine,
    method: req?.[1],
    status: res ? Number(res[1]) : undefined,
    header: (name, compact) => {
      const l = matching(name, compact)[0];
      return l === undefined ? undefined : l.slice(l.indexOf(':') + 1).trim();
    },
    headerLines: (name, compact) => matching(name, compact),
    body: end < 0 ? '' : text.slice(end + 4),
  };
}

/** The CSeq method of a message ('INVITE' for '1 INVITE'). */
export function cseqMethod(m: SipMessageView): string | undefined {
  return /^\s*\d+\s+([A-Za-z]+)/.exec(m.header('CSeq') ?? '')?.[1]?.toUpperCase();
}

/** The tag parameter of a From / To value. */
export function tagOf(value: string | undefined): string | undefined {
  return /;\s*tag=([^;\s>]+)/i.exec(value ?? '')?.[1];
}

export interface AnswerOptions {
  status: number;
  reason: string;
  /** The To tag to add when the request has none. */
  toTag: string;
  /** Our Contact URI (needed on 2xx to INVITE). */
  contact?: string;
  /** An SDP body. */
  sdp?: string;
}

/** A response to `request` (which must be a request view), or undefined when it lacks what a response needs. */
export function answer(request: SipMessageView, o: AnswerOptions): string | undefined {
  const vias = request.headerLines('Via', 'v');
  const from = request.header('From', 'f');
  const to = request.header('To', 't');
  const callId = request.header('Call-ID', 'i');
  const cseq = request.header('CSeq');
  if (vias.length === 0 || !from || !to || !callId || !cseq) return undefined;
  const body = o.sdp ?? '';
  return [
    `SIP/2.0 ${o.status} ${o.reason}`,
    ...vias,
    `From: ${from}`,
    `To: ${tagOf(to) ? to : `${to};tag=${o.toTag}`}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq}`,
    ...(o.contact ? [`Contact: <${o.contact}>`] : []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
    '',
    body,
  ].join('\r\n');
}

/** The ACK for a non-2xx final response to INVITE, sent to `requestUri`; undefined when the response lacks a part. */
export function ackForFailure(response: SipMessageView, requestUri: string): string | undefined {
  const via = response.headerLines('Via', 'v')[0];
  const from = response.header('From', 'f');
  const to = response.header('To', 't');
  const callId = response.header('Call-ID', 'i');
  const n = /^\s*(\d+)/.exec(response.header('CSeq') ?? '')?.[1];
  if (!via || !from || !to || !callId || !n) return undefined;
  return [`ACK ${requestUri} SIP/2.0`, via, 'Max-Forwards: 70', `From: ${from}`, `To: ${to}`, `Call-ID: ${callId}`, `CSeq: ${n} ACK`, 'Content-Length: 0', '', ''].join('\r\n');
}

/** A minimal audio SDP offering/answering PCMU + telephone-event at 127.0.0.1:`port`. */
export function audioSdp(port: number, sessionId = 1): string {
  return ['v=0', `o=test ${sessionId} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
}
