import type { PayloadTypeInfo, RemoteMedia } from '../media/media-session-types.js';
import type { AudioDescription } from '../sip/sdp-media.js';

/**
 * What the media plane needs to know about a leg from its SDP: where its RTP goes and the payload
 * types negotiated, restricted to the ones we answered / were answered with (`keep`), so the codec
 * prompts are injected in is the one the leg actually receives.
 */
export function remoteMediaOf(audio: AudioDescription, keep?: readonly number[]): RemoteMedia {
  const codecs = keep ? audio.codecs.filter((c) => keep.includes(c.payloadType)) : audio.codecs;
  const payloadTypes: PayloadTypeInfo[] = (codecs.length > 0 ? codecs : audio.codecs).map((c) => ({ pt: c.payloadType, name: c.name, clockRate: c.clockRate }));
  if (audio.telephoneEvent) payloadTypes.push({ pt: audio.telephoneEvent.payloadType, name: 'telephone-event', clockRate: audio.telephoneEvent.clockRate });
  return { address: audio.address, port: audio.port, payloadTypes };
}

/** Payload types of an SDP's audio stream (codecs and telephone-event). */
export function payloadTypesOf(audio: AudioDescription): number[] {
  return [...audio.codecs.map((c) => c.payloadType), ...(audio.telephoneEvent ? [audio.telephoneEvent.payloadType] : [])];
}
