/** RTP packets and checks shared by the media engine's fork tests (fake endpoints, no sockets). */
import { writeRtpHeader } from '../../../../src/media/rtp/rtp-header.js';
import type { FakeRtpEndpoint } from '../../../fakes/fake-rtp-endpoints.js';

/** The payload types both legs offer. */
export const PTS = [
  { pt: 0, name: 'PCMU' },
  { pt: 101, name: 'telephone-event' },
];

/** A 20 ms PCMU packet: seq `seq`, timestamp seq * 160, payload bytes all `fill`. */
export function packet(seq: number, ssrc: number, fill: number): Buffer {
  const buf = Buffer.alloc(12 + 160, fill);
  writeRtpHeader(buf, { payloadType: 0, seq: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc });
  return buf;
}

/** The RTP packets `ep` sent to `port`, in order. */
export function rtpTo(ep: FakeRtpEndpoint, port: number): Buffer[] {
  return ep.sent.filter((d) => d.kind === 'rtp' && d.port === port).map((d) => d.data);
}
