/**
 * The start buffer of a forked stream (processors/fork-buffer.ts): bounded by arrival time and by
 * packet count, oldest evicted first and counted, drained in arrival order with the packets untouched.
 */
import { describe, expect, it } from 'vitest';
import { ForkBuffer, type BufferedPacket } from '../../../../src/media/processors/fork-buffer.js';
import { rtpSeq, writeRtpHeader } from '../../../../src/media/rtp/rtp-header.js';

function packet(seq: number, bytes = 160): Buffer {
  const buf = Buffer.alloc(12 + bytes, seq & 0xff);
  writeRtpHeader(buf, { payloadType: 0, seq, timestamp: seq * 160, ssrc: 7 });
  return buf;
}

function drain(b: ForkBuffer): Array<BufferedPacket & { seq: number; copy: Buffer }> {
  const out: Array<BufferedPacket & { seq: number; copy: Buffer }> = [];
  b.drain((p) => out.push({ ...p, seq: rtpSeq(p.data), copy: Buffer.from(p.data.subarray(0, p.length)) }));
  return out;
}

describe('ForkBuffer: the audio between the answer and the recording server answer', () => {
  it('MUST hand back every packet, oldest first and byte for byte, when nothing overflowed', () => {
    const b = new ForkBuffer(3000);
    const sent = Array.from({ length: 100 }, (_, i) => packet(1000 + i));
    sent.forEach((p, i) => b.push(p, p.length, 0, false, i * 20));
    expect(b.length).toBe(100);
    const out = drain(b);
    expect(out.map((p) => p.seq)).toEqual(sent.map((p) => rtpSeq(p)));
    expect(out.every((p, i) => p.copy.equals(sent[i]!))).toBe(true);
    expect(out.map((p) => p.atMs)).toEqual(sent.map((_, i) => i * 20));
    expect([b.overflowed, b.length, b.buffered]).toEqual([0, 0, 100]);
  });

  it('MUST keep only the newest maxMs of audio and count every evicted packet as overflowed', () => {
    const b = new ForkBuffer(3000);
    // 5 s of 20 ms packets: the first 2 s do not fit
    for (let i = 0; i < 250; i++) b.push(packet(i), 172, 0, false, i * 20);
    expect(b.length).toBe(150);
    expect(b.overflowed).toBe(100);
    const out = drain(b);
    expect(out[0]!.seq).toBe(100);
    expect(out.at(-1)!.seq).toBe(249);
  });

  it('MUST bound the packet count too (maxMs / 10 ms), when packets arrive faster than real time', () => {
    const b = new ForkBuffer(200);
    expect(b.capacity).toBe(20);
    for (let i = 0; i < 50; i++) b.push(packet(i), 172, 0, false, 0); // a burst: all at once
    expect([b.length, b.overflowed]).toEqual([20, 30]);
    expect(drain(b).map((p) => p.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
  });

  it('keeps payload type, telephone-event flag and a requested epoch break with each packet', () => {
    const b = new ForkBuffer(1000);
    b.push(packet(1), 172, 0, false, 0);
    b.push(packet(2), 16, 101, true, 20);
    b.breakEpoch();
    b.push(packet(3), 172, 8, false, 400);
    b.push(packet(4), 172, 8, false, 420);
    expect(drain(b).map((p) => [p.seq, p.length, p.payloadType, p.telephoneEvent, p.epochBreak])).toEqual([
      [1, 172, 0, false, false],
      [2, 16, 101, true, false],
      [3, 172, 8, false, true],
      [4, 172, 8, false, false],
    ]);
  });

  it('takes packets larger than a slot (1500-byte RTP) and reuses slots after a wrap', () => {
    const b = new ForkBuffer(40); // 4 slots
    for (let i = 0; i < 6; i++) b.push(packet(i, i === 5 ? 1488 : 160), i === 5 ? 1500 : 172, 0, false, i);
    const out = drain(b);
    expect(out.map((p) => [p.seq, p.length])).toEqual([
      [2, 172],
      [3, 172],
      [4, 172],
      [5, 1500],
    ]);
    expect(out[3]!.copy.equals(packet(5, 1488))).toBe(true);
  });

  it('discard() empties it and says how many packets were dropped', () => {
    const b = new ForkBuffer(3000);
    for (let i = 0; i < 7; i++) b.push(packet(i), 172, 0, false, i * 20);
    expect(b.discard()).toBe(7);
    expect(b.length).toBe(0);
    expect(drain(b)).toEqual([]);
  });
});
