/**
 * The carrier's media in the field test bed: SIPp (carrier-caller.xml / carrier-callee.xml) does the
 * carrier's signalling and names this process's address and port in its SDP; this process, run
 * inside the provider namespace (`ip netns exec NS node --import tsx carrier-media.ts ...`), is the
 * carrier's RTP end. It answers symmetric RTP: from the first RTP packet on it streams a PCMU tone
 * (20 ms frames) to where that packet came from, and it appends everything it hears (PCMU/PCMA,
 * decoded to 16-bit little-endian 8 kHz PCM, in arrival order) to the output file, so the test can
 * tell what the carrier heard (the compliance prompt, then the phone).
 *
 * Usage: carrier-media.ts <bind address> <port> <tone Hz> <output .pcm> <max seconds>
 * Stops on SIGTERM / SIGINT or after <max seconds>.
 */
import dgram from 'node:dgram';
import { appendFileSync, writeFileSync } from 'node:fs';
import { decodeG711, encodeG711 } from '../../../src/media/audio/g711.js';
import { rtpPayloadEnd, rtpPayloadOffset, rtpPayloadType, writeRtpHeader } from '../../../src/media/rtp/rtp-header.js';
import { sine } from '../../support/tone-source.js';

const [address, portText, hzText, out, maxText] = process.argv.slice(2);
if (!address || !portText || !hzText || !out || !maxText) {
  process.stderr.write('usage: carrier-media.ts <bind address> <port> <tone Hz> <output .pcm> <max seconds>\n');
  process.exit(2);
}
writeFileSync(out, Buffer.alloc(0));
const tone = encodeG711('PCMU', sine(Number(hzText), 1000, -12));
const sock = dgram.createSocket('udp4');
let target: { address: string; port: number } | undefined;
let seq = (Math.random() * 0xffff) & 0xffff;
let ts = (Math.random() * 0xffffffff) >>> 0;
const ssrc = (Math.random() * 0xffffffff) >>> 0;
let frame = 0;
let pacer: NodeJS.Timeout | undefined;

function startSending(): void {
  const t0 = performance.now();
  const tick = (): void => {
    while (target && t0 + frame * 20 <= performance.now()) {
      const buf = Buffer.alloc(12 + 160);
      writeRtpHeader(buf, { payloadType: 0, seq, timestamp: ts, ssrc, marker: frame === 0 });
      const off = (frame % 50) * 160;
      buf.set(tone.subarray(off, off + 160), 12);
      sock.send(buf, target.port, target.address);
      seq = (seq + 1) & 0xffff;
      ts = (ts + 160) >>> 0;
      frame++;
    }
    pacer = setTimeout(tick, 5);
  };
  tick();
}

sock.on('message', (buf, rinfo) => {
  const off = rtpPayloadOffset(buf);
  if (off < 0) return;
  const pt = rtpPayloadType(buf);
  if (pt !== 0 && pt !== 8) return;
  if (!target) {
    target = { address: rinfo.address, port: rinfo.port };
    process.stdout.write(`first RTP from ${rinfo.address}:${rinfo.port}\n`);
    startSending();
  }
  const pcm = decodeG711(pt === 0 ? 'PCMU' : 'PCMA', buf.subarray(off, rtpPayloadEnd(buf)));
  appendFileSync(out, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
});

sock.on('error', (err) => {
  process.stderr.write(`carrier-media: ${err.message}\n`);
  process.exit(1);
});

const stop = (): void => {
  if (pacer) clearTimeout(pacer);
  sock.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(maxText) * 1000).unref();
sock.bind(Number(portText), address, () => process.stdout.write(`listening ${address}:${portText}\n`));
