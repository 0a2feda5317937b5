import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { isAppError } from '../../../src/common/errors.js';
import { decodeWav } from '../../../src/media/audio/wav.js';
import { buildSrcOffer, parseRecordingSdp, parseSrsAnswer, serializeMetadata } from '../../../src/siprec/index.js';
import { PortAllocator } from '../../../src/media/transport/port-allocator.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { SrsRecording } from '../../../src/srs/srs-recording.js';
import { goertzelPower } from '../../support/goertzel.js';
import { sine } from '../../support/tone-source.js';
import { initialModel } from '../../unit/siprec/metadata-fixture.js';
import { RtpToneSender } from './rtp-sender.js';
import { sleep } from '../../support/wait.js';

// Ports: SRS RTP 17100-17139, senders 17140-17149 (this file's block of the 17000-17999 range).
const root = mkdtempSync(join(tmpdir(), 'srs-rec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const offer = (direction: 'sendonly' | 'inactive', version: number) =>
  parseRecordingSdp(buildSrcOffer({ sessionId: '42', version, address: '127.0.0.1', direction, streams: [{ label: '1', port: 17140 }, { label: '2', port: 17142 }] }));

function channel(data: Buffer, ch: 0 | 1, fromMs: number, toMs: number): Int16Array {
  const from = Math.round(fromMs * 8);
  const to = Math.min(Math.round(toMs * 8), data.length / 4);
  const out = new Int16Array(Math.max(0, to - from));
  for (let i = 0; i < out.length; i++) out[i] = data.readInt16LE((from + i) * 4 + ch * 2);
  return out;
}

describe('SrsRecording over real UDP sockets', () => {
  it('records label 1 on channel 1 and label 2 on channel 2, pauses become silence (R-30, R-18)', async () => {
    const ports = new PortAllocator(17100, 17139);
    const rec = await SrsRecording.start({
      recordingId: 'rec-a',
      callId: 'call-a',
      offer: offer('sendonly', 1),
      metadataXml: serializeMetadata(initialModel()),
      store: new RecordingStore(root),
      ports,
      rtpAddress: '127.0.0.1',
      acceptCodecs: ['PCMU', 'PCMA'],
      jitterWindowMs: 200,
      validate: true,
      clock: systemClock,
    });
    const answer = parseSrsAnswer(rec.answerSdp, ['1', '2']);
    expect(answer.map((s) => [s.accepted, s.direction])).toEqual([
      [true, 'recvonly'],
      [true, 'recvonly'],
    ]);
    const a = await RtpToneSender.open(17140, 0x1111, 'PCMU');
    const b = await RtpToneSender.open(17142, 0x2222, 'PCMA');
    const toneA = sine(500, 20, -6);
    const toneB = sine(1300, 20, -6);
    const burst = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await a.send(a.packet(toneA), answer[0]!.port);
        await b.send(b.packet(toneB), answer[1]!.port);
        await sleep(20);
      }
    };
    await burst(25);
    await rec.update(offer('inactive', 2), undefined);
    expect(rec.state).toBe('paused');
    await burst(10); // sent while paused: must not reach the file
    await sleep(300);
    await rec.update(offer('sendonly', 3), undefined);
    expect(rec.state).toBe('receiving');
    await burst(25);
    const summary = await rec.close('bye-from-src');
    expect(await rec.close('error')).toBe(summary); // idempotent
    a.close();
    b.close();
    expect(ports.inUse).toBe(0);

    const dayDir = readdirSync(root)[0]!;
    const wav = decodeWav(readFileSync(join(root, dayDir, 'rec-a.wav')));
    expect(wav.channels).toBe(2);
    const total = (wav.data.length / 4 / 8) | 0; // ms
    const start = channel(wav.data, 0, 100, 400);
    expect(goertzelPower(start, 500)).toBeGreaterThan(0.05);
    expect(goertzelPower(start, 1300)).toBeLessThan(0.001);
    const right = channel(wav.data, 1, 100, 400);
    expect(goertzelPower(right, 1300)).toBeGreaterThan(0.05);
    expect(goertzelPower(right, 500)).toBeLessThan(0.001);
    // The pause window is silent on both channels.
    const pause = summary.sdpPauses[0]!;
    expect(pause.endMs! - pause.startMs).toBeGreaterThan(400);
    const silent = channel(wav.data, 0, pause.startMs + 60, pause.endMs! - 20);
    expect(silent.every((x) => x === 0)).toBe(true);
    expect(goertzelPower(channel(wav.data, 0, total - 400, total - 100), 500)).toBeGreaterThan(0.05);
    expect(summary.streams.map((s) => s.droppedInactive)).toEqual([10, 10]);
    expect(summary.metadataDocuments).toBe(1);
    expect(summary.participants).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(root, dayDir, 'rec-a.json'), 'utf8')).recordingId).toBe('rec-a');
  });

  it('refuses invalid metadata before binding any port (400)', async () => {
    const ports = new PortAllocator(17100, 17139);
    const bad = serializeMetadata(initialModel()).replace('2a3OYhkUSjq/YXVWwLUaVw==', 'd9adce86-1914-4a3a-bf61-7556c0b51a57');
    const err = await SrsRecording.start({
      recordingId: 'rec-b', callId: 'c', offer: offer('sendonly', 1), metadataXml: bad, store: new RecordingStore(root), ports,
      rtpAddress: '127.0.0.1', acceptCodecs: ['PCMU'], jitterWindowMs: 200, validate: true, clock: systemClock,
    }).catch((e: unknown) => e);
    expect(isAppError(err, 'SIPREC_METADATA_INVALID')).toBe(true);
    expect((err as { sipStatus: number }).sipStatus).toBe(400);
    expect(ports.inUse).toBe(0);
  });

  it('answers 503 (SRS_NO_RTP_PORTS) when the port range is used up', async () => {
    const ports = new PortAllocator(17130, 17132); // one pair only, two streams offered
    const err = await SrsRecording.start({
      recordingId: 'rec-c', callId: 'c', offer: offer('sendonly', 1), metadataXml: undefined, store: new RecordingStore(root), ports,
      rtpAddress: '127.0.0.1', acceptCodecs: ['PCMU'], jitterWindowMs: 200, validate: true, clock: systemClock,
    }).catch((e: unknown) => e);
    expect(isAppError(err, 'SRS_NO_RTP_PORTS')).toBe(true);
  });

  it('decrypts SDES-SRTP (RTP/SAVP) streams and drops packets that fail authentication (R-42)', async () => {
    const { SrtpSession, ProtectionProfileAes128CmHmacSha1_80, RtpHeader } = await import('werift');
    const srcKey = Buffer.alloc(30, 7);
    const keyParams = `inline:${srcKey.toString('base64')}`;
    const savpOffer = parseRecordingSdp(
      buildSrcOffer({
        sessionId: '43',
        version: 1,
        address: '127.0.0.1',
        streams: [
          { label: '1', port: 17144, crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams } },
          { label: '2', port: 17146, crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams } },
        ],
      }),
    );
    const ports = new PortAllocator(17100, 17139);
    const rec = await SrsRecording.start({
      recordingId: 'rec-srtp', callId: 'c', offer: savpOffer, metadataXml: undefined, store: new RecordingStore(root), ports,
      rtpAddress: '127.0.0.1', acceptCodecs: ['PCMU'], jitterWindowMs: 200, validate: true, clock: systemClock,
      randomBytes: (n) => Buffer.alloc(n, 9),
    });
    expect(rec.answerSdp).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(30, 9).toString('base64')}`);
    expect(rec.answerSdp).toContain('RTP/SAVP');
    const answer = parseSrsAnswer(rec.answerSdp, ['1', '2']);
    const srtp = new SrtpSession({
      keys: { localMasterKey: srcKey.subarray(0, 16), localMasterSalt: srcKey.subarray(16), remoteMasterKey: Buffer.alloc(16), remoteMasterSalt: Buffer.alloc(14) },
      profile: ProtectionProfileAes128CmHmacSha1_80,
    });
    const sender = await RtpToneSender.open(17144, 0x3333, 'PCMU');
    const tone = sine(700, 20, -6);
    for (let i = 0; i < 30; i++) {
      const plain = sender.packet(tone);
      const header = new RtpHeader({ payloadType: 0, sequenceNumber: plain.readUInt16BE(2), timestamp: plain.readUInt32BE(4), ssrc: 0x3333 });
      const protectedPacket = srtp.encrypt(plain.subarray(12), header);
      if (i === 5) protectedPacket[protectedPacket.length - 1]! ^= 0xff; // broken auth tag
      await sender.send(protectedPacket, answer[0]!.port);
      await sleep(20);
    }
    const summary = await rec.close('bye-from-src');
    sender.close();
    const stats = rec.receiverStats()[0]!;
    expect(stats.dropped.srtpAuth).toBe(1);
    expect(stats.packets).toBe(29);
    const dayDir = readdirSync(root)[0]!;
    const wav = decodeWav(readFileSync(join(root, dayDir, 'rec-srtp.wav')));
    expect(goertzelPower(channel(wav.data, 0, 100, 400), 700)).toBeGreaterThan(0.05);
    expect(summary.streams[0]!.packets).toBe(29);
  });
});
