/**
 * What a party heard, measured: the measuring instruments of the call-level spectral tests.
 */
import { goertzelPower, meanSquare } from './goertzel.js';
import { RtpPeer } from './rtp-peer.js';

/** The G.711 audio a peer received in [from, to) (performance.now() instants), decoded to PCM. */
export function heard(peer: RtpPeer, from = -Infinity, to = Infinity): Int16Array {
  return RtpPeer.decode(peer.packets((p) => (p.pt === 0 || p.pt === 8) && p.at >= from && p.at < to));
}

/** Share of the signal's power at `hz`: a pure tone at `hz` reads ~1, speech or another tone ~0. */
export function toneShare(pcm: Int16Array, hz: number): number {
  const ms = meanSquare(pcm);
  return ms === 0 ? 0 : goertzelPower(pcm, hz) / (2 * ms);
}
