/**
 * Pure SDP helpers for the B2BUA's media anchoring (RFC 4566 SDP, RFC 3264 offer/answer).
 *
 * The B2BUA never passes a party's SDP through: each leg receives the other leg's session
 * description rewritten so that media flows through the media plane: our address and port,
 * our own o= line (one session id per leg, version bumped on every change, RFC 3264 section 8),
 * only the audio stream anchored (other m-lines are refused with port 0), and optionally the
 * G.711 codecs first when the call is recorded so prompts can be injected.
 *
 * RFC 7866 section 6.5: `a=record:on|off|paused` tells a recording-aware user agent whether the
 * session is being recorded.
 *
 * Nothing here throws on a peer's SDP: readAudio() returns undefined for anything it cannot use.
 */
import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type RecordIndication = 'on' | 'off' | 'paused';

export interface AudioCodec {
  readonly payloadType: number;
  /** Encoding name as in rtpmap, upper-cased for the G.711 pair: 'PCMU', 'PCMA', 'telephone-event', 'G729'... */
  readonly name: string;
  readonly clockRate: number;
  readonly fmtp: string | undefined;
}

export interface AudioDescription {
  /** Connection address of the audio stream (media-level c= wins over session-level). */
  readonly address: string;
  readonly port: number;
  readonly protocol: string;
  readonly direction: MediaDirection;
  /** Codecs in the order offered, telephone-event excluded. */
  readonly codecs: readonly AudioCodec[];
  readonly telephoneEvent: AudioCodec | undefined;
  readonly ptime: number | undefined;
  readonly recordIndication: RecordIndication | undefined;
  /** True when the stream is on hold: direction sendonly/inactive or the RFC 2543 c=0.0.0.0 form. */
  readonly onHold: boolean;
}

/** RFC 3551 table 4: static payload types a peer may use without an rtpmap line. */
const STATIC_PAYLOADS: Readonly<Record<number, { name: string; clockRate: number }>> = {
  0: { name: 'PCMU', clockRate: 8000 },
  3: { name: 'GSM', clockRate: 8000 },
  4: { name: 'G723', clockRate: 8000 },
  8: { name: 'PCMA', clockRate: 8000 },
  9: { name: 'G722', clockRate: 8000 },
  18: { name: 'G729', clockRate: 8000 },
};

const G711 = new Set(['PCMU', 'PCMA']);

function safeParse(sdp: string): SessionDescription | undefined {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) return undefined;
  try {
    return parse(sdp);
  } catch {
    return undefined;
  }
}

function codecsOf(m: MediaDescription): AudioCodec[] {
  const out: AudioCodec[] = [];
  for (const token of String(m.payloads ?? '').split(' ')) {
    if (token === '') continue;
    const pt = Number(token);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const map = m.rtp.find((r) => r.payload === pt);
    const fmtp = m.fmtp.find((f) => f.payload === pt)?.config;
    const known = map ? { name: map.codec, clockRate: map.rate ?? 8000 } : STATIC_PAYLOADS[pt];
    if (!known) continue;
    const upper = known.name.toUpperCase();
    out.push({ payloadType: pt, name: G711.has(upper) ? upper : known.name, clockRate: known.clockRate, fmtp });
  }
  return out;
}

function recordIndicationOf(m: MediaDescription, session: SessionDescription): RecordIndication | undefined {
  const attrs = [...(m.invalid ?? []), ...((session as { invalid?: { value: string }[] }).invalid ?? [])];
  for (const a of attrs) {
    const match = /^record:(on|off|paused)$/.exec(a.value);
    if (match) return match[1] as RecordIndication;
  }
  return undefined;
}

/** The first audio stream of an SDP body, or undefined when there is none usable. */
export function readAudio(sdp: string): AudioDescription | undefined {
  const session = safeParse(sdp);
  const m = session?.media.find((media) => media.type === 'audio');
  if (!session || !m) return undefined;
  const address = m.connection?.ip ?? session.connection?.ip;
  if (!address || !Number.isInteger(m.port) || m.port < 0 || m.port > 65535) return undefined;
  const all = codecsOf(m);
  const direction = (m.direction ?? (session as { direction?: MediaDirection }).direction ?? 'sendrecv') as MediaDirection;
  return {
    address,
    port: m.port,
    protocol: m.protocol,
    direction,
    codecs: all.filter((c) => c.name.toLowerCase() !== 'telephone-event'),
    telephoneEvent: all.find((c) => c.name.toLowerCase() === 'telephone-event'),
    ptime: m.ptime,
    recordIndication: recordIndicationOf(m, session),
    onHold: direction === 'sendonly' || direction === 'inactive' || address === '0.0.0.0',
  };
}

export interface LegSdpOptions {
  /** Our media address for this leg (c= and o=). */
  readonly address: string;
  /** Our RTP port for this leg's audio. */
  readonly port: number;
  /** Our o= session id for this leg (stable for the leg's lifetime). */
  readonly sessionId: number;
  /** Our o= version: bump it on every change (RFC 3264 section 8). */
  readonly sessionVersion: number;
  /** Put PCMU/PCMA first (the call is recorded and prompts must be injectable). Default false. */
  readonly preferG711?: boolean;
  /** Offer only G.711 + telephone-event when the source offers G.711 (prompt injection guaranteed). Default false. */
  readonly onlyG711?: boolean;
  /**
   * Keep only these payload types (telephone-event is always kept), e.g. the one G.711 codec already
   * answered to the other leg in early media. Payload types the source does not offer are ignored;
   * when none remains the restriction is not applied. Default: no restriction.
   */
  readonly payloadTypes?: readonly number[];
  /** Override the direction attribute; default: keep the source's. */
  readonly direction?: MediaDirection;
  /** Add `a=record:...` (RFC 7866 section 6.5) for a recording-aware user agent; default: none (and any source value removed). */
  readonly recordIndication?: RecordIndication;
}

/**
 * Rewrites `sourceSdp` (what the other leg sent) into what this leg receives from us.
 * Returns undefined when the source has no usable audio stream.
 */
export function buildLegSdp(sourceSdp: string, opts: LegSdpOptions): string | undefined {
  const session = safeParse(sourceSdp);
  const audio = readAudio(sourceSdp);
  if (!session || !audio) return undefined;
  session.origin = {
    username: '-',
    sessionId: opts.sessionId,
    sessionVersion: opts.sessionVersion,
    netType: 'IN',
    ipVer: 4,
    address: opts.address,
  };
  session.name = session.name || '-';
  session.connection = { version: 4, ip: opts.address };
  delete (session as { invalid?: unknown }).invalid;
  let audioDone = false;
  for (const m of session.media) {
    delete m.connection;
    delete m.rtcp;
    delete m.candidates;
    delete m.iceUfrag;
    delete m.icePwd;
    delete m.fingerprint;
    if (m.type !== 'audio' || audioDone) {
      // Only one audio stream is anchored; anything else is refused (RFC 3264 section 6).
      m.port = 0;
      continue;
    }
    audioDone = true;
    m.port = opts.port;
    const order = orderedPayloads(audio, opts);
    m.payloads = order.join(' ');
    m.rtp = m.rtp.filter((r) => order.includes(r.payload));
    m.fmtp = m.fmtp.filter((f) => order.includes(f.payload));
    // Static payloads kept without rtpmap get one, so every codec is named explicitly.
    for (const c of [...audio.codecs, ...(audio.telephoneEvent ? [audio.telephoneEvent] : [])]) {
      if (order.includes(c.payloadType) && !m.rtp.some((r) => r.payload === c.payloadType)) {
        m.rtp.push({ payload: c.payloadType, codec: c.name, rate: c.clockRate });
      }
    }
    m.rtp.sort((a, b) => order.indexOf(a.payload) - order.indexOf(b.payload));
    if (opts.direction) m.direction = opts.direction;
    m.invalid = (m.invalid ?? []).filter((a) => !/^record:/.test(a.value));
    if (opts.recordIndication) m.invalid.push({ value: `record:${opts.recordIndication}` });
    if (m.invalid.length === 0) delete m.invalid;
  }
  return write(session);
}

function orderedPayloads(audio: AudioDescription, opts: LegSdpOptions): number[] {
  let codecs = audio.codecs;
  if (opts.payloadTypes) {
    const kept = audio.codecs.filter((c) => opts.payloadTypes!.includes(c.payloadType));
    if (kept.length > 0) codecs = kept;
  }
  const g711 = codecs.filter((c) => G711.has(c.name));
  if (opts.onlyG711 && g711.length > 0) codecs = g711;
  else if (opts.preferG711) codecs = [...g711, ...codecs.filter((c) => !G711.has(c.name))];
  const order = codecs.map((c) => c.payloadType);
  if (audio.telephoneEvent) order.push(audio.telephoneEvent.payloadType);
  return order;
}

/** True when every codec this leg can send is G.711 (prompts and tones can be injected). */
export function injectable(audio: AudioDescription): boolean {
  return audio.codecs.length > 0 && G711.has(audio.codecs[0]!.name);
}

/** The first PCMU/PCMA codec of an audio description (what early media and prompts use), or undefined. */
export function firstG711(audio: AudioDescription): AudioCodec | undefined {
  return audio.codecs.find((c) => G711.has(c.name));
}
