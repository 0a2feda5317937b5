import type { PayloadTypeInfo, RemoteMedia } from '../media/media-session-types.js';
import { readAudio, type AudioCodec, type AudioDescription } from '../sip/sdp-media.js';

/**
 * What the media plane needs to know about a leg from its SDP: where its RTP goes and the payload
 * types negotiated, restricted to the ones we answered / were answered with (`keep`), so the codec
 * prompts are injected in is the one the leg actually receives.
 *
 * `ours` is the SDP we sent the leg. RFC 3264 section 5.1: a party sends with the payload-type
 * numbers of the SDP it received, so the numbers of `ours` that the leg's own SDP does not use are
 * appended: the media plane accepts them from the leg too (its first entry per codec stays the number
 * the leg receives with; relayed packets are renumbered to it). RTCP multiplexing (RFC 5761) is on
 * when both the leg's SDP and ours have a=rtcp-mux; the leg's a=rtcp port (RFC 3605) is used.
 */
export function remoteMediaOf(audio: AudioDescription, keep?: readonly number[], ours?: string): RemoteMedia {
  const codecs = keep ? audio.codecs.filter((c) => keep.includes(c.payloadType)) : audio.codecs;
  const payloadTypes: PayloadTypeInfo[] = [...(codecs.length > 0 ? codecs : audio.codecs), ...audio.telephoneEvents].map(infoOf);
  const sent = ours === undefined ? undefined : readAudio(ours);
  for (const c of sent ? [...sent.codecs, ...sent.telephoneEvents] : []) {
    if (!payloadTypes.some((p) => p.pt === c.payloadType)) payloadTypes.push(infoOf(c));
  }
  return {
    address: audio.address,
    port: audio.port,
    ...(audio.rtcpPort !== undefined ? { rtcpPort: audio.rtcpPort } : {}),
    ...(audio.rtcpMux && sent?.rtcpMux ? { rtcpMux: true } : {}),
    payloadTypes,
  };
}

function infoOf(c: AudioCodec): PayloadTypeInfo {
  return { pt: c.payloadType, name: c.name, clockRate: c.clockRate };
}

/** Payload types of an SDP's audio stream (codecs and telephone-event). */
export function payloadTypesOf(audio: AudioDescription): number[] {
  return [...audio.codecs.map((c) => c.payloadType), ...audio.telephoneEvents.map((c) => c.payloadType)];
}
