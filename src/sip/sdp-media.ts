/**
 * Pure SDP helpers for the B2BUA's media anchoring (RFC 4566 SDP, RFC 3264 offer/answer).
 *
 * The B2BUA never passes a party's SDP through. Each leg receives a description we write ourselves
 * from what the other leg sent, carrying only what the media plane implements:
 *
 *   v=0 / o=- <our session id> <version> / s=- / c=<our address> / t=0 0      (RFC 4566 section 5)
 *   m=audio <our port> RTP/AVP <kept payload types>    (RTP/AVPF when answering an RTP/AVPF offer)
 *   a=rtpmap / a=fmtp of the kept payload types (fmtp passed through: we relay those codecs untouched)
 *   a=ptime:<n>        the other leg's ptime when it is 10, 20, 30 or 40, else 20 (see PTIME_MS)
 *   a=rtcp-mux         only in an answer to an offer that has it (RFC 5761 section 5.1.1)
 *   a=<direction>      always explicit
 *   a=record:...       RFC 7866 section 6.5, for a recording-aware user agent
 *
 * and nothing else: no a=ssrc (our SSRC is our own and unannounced), label, msid, mid/group,
 * rtcp-rsize, rtcp-fb, rtcp-xr, extmap, minptime/maxptime, ICE, crypto or fingerprint, no b=.
 * Only one audio stream is anchored: the first `m=audio` with a non-zero port and the RTP/AVP or
 * RTP/AVPF profile (we do not terminate SRTP or DTLS-SRTP towards legs: an RTP/SAVP, RTP/SAVPF or
 * UDP/TLS/RTP/SAVPF stream is refused unless an RTP/AVP alternative is offered beside it). Every
 * other m-line is answered or offered with port 0 and its format list, without attributes
 * (RFC 3264 section 6: the answer has as many m-lines as the offer, a refused stream has port 0).
 *
 * Payload-type numbers: an offer keeps the other leg's numbering; an answer (`answerTo`) numbers
 * each codec as the offer it answers does (RFC 3264 section 6.1), so a party answering
 * telephone-event as 96 to an offer of 101 is still told 101 by us. The media plane maps numbers
 * between the legs by codec name and clock rate (src/media/processors/payload-type-map.ts).
 *
 * Nothing here throws on a peer's SDP: readAudio() returns undefined for anything it cannot use,
 * and audioRefusal() says why (the warn-code of a 488, RFC 3261 section 20.43).
 */
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type RecordIndication = 'on' | 'off' | 'paused';

export interface AudioCodec {
  readonly payloadType: number;
  /** Encoding name as in rtpmap, upper-cased for the G.711 pair: 'PCMU', 'PCMA', 'telephone-event', 'G729'... */
  readonly name: string;
  readonly clockRate: number;
  /** Encoding parameters of the rtpmap (audio: channels), e.g. 2 for opus/48000/2; undefined when absent. */
  readonly channels?: number | undefined;
  readonly fmtp: string | undefined;
}

export interface AudioDescription {
  /** Connection address of the audio stream (media-level c= wins over session-level). */
  readonly address: string;
  /** 4 or 6 (the c= line's address type). */
  readonly ipVersion: 4 | 6;
  readonly port: number;
  /** 'RTP/AVP' or 'RTP/AVPF' (the profiles we anchor). */
  readonly protocol: string;
  readonly direction: MediaDirection;
  /** Codecs in the order offered, telephone-event excluded. */
  readonly codecs: readonly AudioCodec[];
  /** The telephone-event payload type to use: the one at 8000 Hz when there are several, else the first. */
  readonly telephoneEvent: AudioCodec | undefined;
  /** Every telephone-event payload type (one per clock rate, RFC 4733 section 7.1.1). */
  readonly telephoneEvents: readonly AudioCodec[];
  readonly ptime: number | undefined;
  /** RFC 5761: the stream has a=rtcp-mux. */
  readonly rtcpMux: boolean;
  /** RFC 3605 a=rtcp port, when given. */
  readonly rtcpPort: number | undefined;
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
/** The transport profiles of the anchored stream: plain RTP (RFC 3551) and its feedback profile (RFC 4585). */
const PLAIN_RTP = new Set(['RTP/AVP', 'RTP/AVPF']);
/**
 * Packet times (ms) the media plane takes from a leg and relays as they come: nothing in the relay,
 * fork, DTMF or tone mixing assumes 20 ms of incoming audio. What we generate ourselves (prompts,
 * tones sent alone, silence while the fork is paused) is 20 ms frames.
 */
export const PTIME_MS: readonly number[] = [10, 20, 30, 40];
/** a=ptime we write when the other leg asked for none or for one outside PTIME_MS. */
export const DEFAULT_PTIME_MS = 20;

/**
 * Why an SDP body gets 488 (RFC 3261 section 21.4.26) and the warn-code of its Warning header
 * (section 20.43): 301 address family we do not use, 302 no plain RTP/AVP audio stream (SRTP, DTLS),
 * 304 no audio stream or only disabled ones (`m=audio 0`), 305 no codec we can relay or none in
 * common, 307 an audio stream without a usable connection address.
 */
export interface SdpRefusal {
  readonly code: 301 | 302 | 304 | 305 | 307;
  /** For the log, not for the wire. */
  readonly detail: string;
}

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
    const map = (m.rtp ?? []).find((r) => r.payload === pt);
    const fmtp = (m.fmtp ?? []).find((f) => f.payload === pt)?.config;
    const known = map ? { name: map.codec, clockRate: map.rate ?? 8000 } : STATIC_PAYLOADS[pt];
    if (!known || typeof known.name !== 'string' || known.name === '') continue;
    const channels = map?.encoding !== undefined && Number.isInteger(Number(map.encoding)) ? Number(map.encoding) : undefined;
    const upper = known.name.toUpperCase();
    out.push({ payloadType: pt, name: G711.has(upper) ? upper : known.name, clockRate: known.clockRate, channels, fmtp });
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

const isTelephoneEvent = (c: AudioCodec): boolean => c.name.toLowerCase() === 'telephone-event';

interface Inspected {
  readonly session: SessionDescription;
  /** Index of the anchored m-line in session.media. */
  readonly index: number;
  readonly audio: AudioDescription;
}

/** The anchored audio stream of an SDP body, or why there is none. */
function inspect(sdp: string): Inspected | SdpRefusal {
  const session = safeParse(sdp);
  if (!session) return { code: 304, detail: 'no SDP' };
  const audios = session.media.map((m, i) => ({ m, i })).filter(({ m }) => m.type === 'audio');
  if (audios.length === 0) return { code: 304, detail: 'no audio stream' };
  const active = audios.filter(({ m }) => Number.isInteger(m.port) && m.port > 0 && m.port <= 65535);
  if (active.length === 0) return { code: 304, detail: 'audio stream disabled (m=audio 0)' };
  const plain = active.find(({ m }) => PLAIN_RTP.has(String(m.protocol).toUpperCase()));
  if (!plain) return { code: 302, detail: `no RTP/AVP audio stream (${String(active[0]!.m.protocol)})` };
  const { m, i } = plain;
  const connection = m.connection ?? session.connection;
  const address = connection?.ip;
  if (!address || (connection.version !== 4 && connection.version !== 6)) return { code: 307, detail: 'no connection address for the audio stream' };
  const all = codecsOf(m);
  const codecs = all.filter((c) => !isTelephoneEvent(c));
  if (codecs.length === 0) return { code: 305, detail: 'no codec in the audio stream' };
  const telephoneEvents = all.filter(isTelephoneEvent);
  const direction = (m.direction ?? (session as { direction?: MediaDirection }).direction ?? 'sendrecv') as MediaDirection;
  const rtcpPort = m.rtcp?.port;
  const audio: AudioDescription = {
    address,
    ipVersion: connection.version === 6 ? 6 : 4,
    port: m.port,
    protocol: String(m.protocol).toUpperCase(),
    direction,
    codecs,
    telephoneEvent: telephoneEvents.find((c) => c.clockRate === 8000) ?? telephoneEvents[0],
    telephoneEvents,
    ptime: m.ptime,
    rtcpMux: m.rtcpMux !== undefined,
    rtcpPort: Number.isInteger(rtcpPort) && rtcpPort! > 0 && rtcpPort! <= 65535 ? rtcpPort : undefined,
    recordIndication: recordIndicationOf(m, session),
    onHold: direction === 'sendonly' || direction === 'inactive' || address === '0.0.0.0',
  };
  return { session, index: i, audio };
}

/** The anchored audio stream of an SDP body, or undefined when there is none usable (audioRefusal says why). */
export function readAudio(sdp: string): AudioDescription | undefined {
  const r = inspect(sdp);
  return 'audio' in r ? r.audio : undefined;
}

/**
 * Why `sdp` cannot be anchored (488 with this warn-code), or undefined when it can. With
 * `localAddress` (our media address for the leg) an audio stream of the other address family is
 * refused too (301): the media plane's socket for the leg is either IPv4 or IPv6.
 */
export function audioRefusal(sdp: string, localAddress?: string): SdpRefusal | undefined {
  const r = inspect(sdp);
  if (!('audio' in r)) return r;
  if (localAddress !== undefined && r.audio.ipVersion !== ipVersionOf(localAddress)) {
    return { code: 301, detail: `audio stream on IPv${r.audio.ipVersion}, our media address is IPv${ipVersionOf(localAddress)}` };
  }
  return undefined;
}

function ipVersionOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

export interface LegSdpOptions {
  /** Our media address for this leg (c= and o=; IP4 or IP6 after its form). */
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
  /**
   * The offer (from this leg) the description answers; default none (the description is an offer).
   * An answer (RFC 3264 section 6) has the offer's m-lines, its transport profile, a=rtcp-mux when
   * the offer has it, and only the source's codecs the offer has (same name, clock rate and
   * channels), numbered as in the offer; no codec in common: undefined.
   */
  readonly answerTo?: string;
}

/** Same encoding: name (case-insensitive), clock rate and channels (absent = 1). */
function sameCodec(a: AudioCodec, b: AudioCodec): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate && (a.channels ?? 1) === (b.channels ?? 1);
}

/**
 * Writes what this leg receives from us, from `sourceSdp` (what the other leg sent). Returns
 * undefined when the source (or the offer answered) has no usable audio stream, or an answer would
 * have no codec in common with the offer.
 */
export function buildLegSdp(sourceSdp: string, opts: LegSdpOptions): string | undefined {
  const source = inspect(sourceSdp);
  if (!('audio' in source)) return undefined;
  const offer = opts.answerTo === undefined ? undefined : inspect(opts.answerTo);
  if (offer !== undefined && !('audio' in offer)) return undefined;
  const audio = source.audio;
  let codecs = chooseCodecs(audio, opts);
  let events = audio.telephoneEvents.filter((t) => codecs.some((c) => c.clockRate === t.clockRate));
  if (offer !== undefined) {
    codecs = renumber(codecs, offer.audio.codecs);
    events = renumber(events, offer.audio.telephoneEvents);
    if (codecs.length === 0) return undefined;
  }
  const ip = ipVersionOf(opts.address);
  const lines = [
    'v=0',
    `o=- ${opts.sessionId} ${opts.sessionVersion} IN IP${ip} ${opts.address}`,
    's=-',
    `c=IN IP${ip} ${opts.address}`,
    't=0 0',
  ];
  const layout = offer ?? source;
  layout.session.media.forEach((m, i) => {
    if (i !== layout.index) {
      // refused: port 0, the format list kept, no attributes (RFC 3264 sections 6 and 8.2)
      lines.push(`m=${m.type} 0 ${String(m.protocol)} ${String(m.payloads ?? '').trim() || '0'}`);
      return;
    }
    const kept = [...codecs, ...events];
    lines.push(`m=audio ${opts.port} ${offer ? offer.audio.protocol : 'RTP/AVP'} ${kept.map((c) => c.payloadType).join(' ')}`);
    for (const c of kept) {
      lines.push(`a=rtpmap:${c.payloadType} ${c.name}/${c.clockRate}${c.channels !== undefined ? `/${c.channels}` : ''}`);
      if (c.fmtp !== undefined && c.fmtp !== '') lines.push(`a=fmtp:${c.payloadType} ${c.fmtp}`);
    }
    lines.push(`a=ptime:${audio.ptime !== undefined && PTIME_MS.includes(audio.ptime) ? audio.ptime : DEFAULT_PTIME_MS}`);
    if (offer?.audio.rtcpMux) lines.push('a=rtcp-mux');
    lines.push(`a=${opts.direction ?? audio.direction}`);
    if (opts.recordIndication) lines.push(`a=record:${opts.recordIndication}`);
  });
  return lines.join('\r\n') + '\r\n';
}

/** The source's codecs (telephone-event aside) after the payloadTypes / onlyG711 / preferG711 options. */
function chooseCodecs(audio: AudioDescription, opts: LegSdpOptions): readonly AudioCodec[] {
  let codecs = audio.codecs;
  if (opts.payloadTypes) {
    const kept = audio.codecs.filter((c) => opts.payloadTypes!.includes(c.payloadType));
    if (kept.length > 0) codecs = kept;
  }
  const g711 = codecs.filter((c) => G711.has(c.name));
  if (opts.onlyG711 && g711.length > 0) return g711;
  if (opts.preferG711) return [...g711, ...codecs.filter((c) => !G711.has(c.name))];
  return codecs;
}

/** The codecs the offer also has, each with the offer's payload type number (RFC 3264 section 6.1). */
function renumber(codecs: readonly AudioCodec[], offered: readonly AudioCodec[]): AudioCodec[] {
  const out: AudioCodec[] = [];
  for (const c of codecs) {
    const o = offered.find((x) => sameCodec(x, c));
    if (o && !out.some((k) => k.payloadType === o.payloadType)) out.push({ ...c, payloadType: o.payloadType, name: o.name });
  }
  return out;
}

/** True when every codec this leg can send is G.711 (prompts and tones can be injected). */
export function injectable(audio: AudioDescription): boolean {
  return audio.codecs.length > 0 && G711.has(audio.codecs[0]!.name);
}

/** The first PCMU/PCMA codec of an audio description (what early media and prompts use), or undefined. */
export function firstG711(audio: AudioDescription): AudioCodec | undefined {
  return audio.codecs.find((c) => G711.has(c.name));
}
