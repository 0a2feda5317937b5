import { describe, expect, it } from 'vitest';
import {
  TelephoneEventDecoder,
  dtmfDigit,
  dtmfEventCode,
  encodeTelephoneEvent,
  telephoneEventSequence,
  type DtmfEvent,
} from '../../../../src/media/processors/dtmf.js';

function feed(dec: TelephoneEventDecoder, packets: Array<{ payload: Buffer; timestamp: number }>): DtmfEvent[] {
  return packets.flatMap((p) => dec.pushAll(p.payload, p.timestamp));
}

describe('RFC 4733 telephone-event codec (R-17 feature codes)', () => {
  it('MUST encode the section 2.3 layout byte for byte', () => {
    // '#' (11), end bit, volume 10, duration 1600 = 0x0640
    expect([...encodeTelephoneEvent('#', true, 10, 1600)]).toEqual([0x0b, 0x8a, 0x06, 0x40]);
    expect([...encodeTelephoneEvent('5', false, 63, 160)]).toEqual([0x05, 0x3f, 0x00, 0xa0]);
    expect([...encodeTelephoneEvent('d', false, 99, 70000)]).toEqual([0x0f, 0x3f, 0xff, 0xff]);
    const out = Buffer.alloc(4);
    expect(encodeTelephoneEvent('*', false, 0, 0, out)).toBe(out);
    expect(() => encodeTelephoneEvent('x', false, 0, 0)).toThrow(RangeError);
  });

  it('MUST map all 16 DTMF events 0-9 * # A-D (section 3.2)', () => {
    const digits = '0123456789*#ABCD'.split('');
    expect(digits.map(dtmfEventCode)).toEqual([...Array(16).keys()]);
    expect([...Array(16).keys()].map(dtmfDigit)).toEqual(digits);
    expect(dtmfDigit(16)).toBeUndefined();
    for (const d of digits) {
      const dec = new TelephoneEventDecoder();
      const ev = feed(dec, telephoneEventSequence(d, 1000, 100));
      expect(ev.map((e) => `${e.digit}${e.end ? '/' : ''}`)).toEqual([d, `${d}/`]);
    }
  });

  it('MUST emit start once and end once per event, ignoring duration updates and the 3 redundant end packets', () => {
    const dec = new TelephoneEventDecoder();
    const seq = telephoneEventSequence('7', 48_000, 200, { volume: 12 });
    expect(seq.length).toBe(9 + 3);
    expect(seq[0]!.marker).toBe(true);
    const results = seq.map((p) => dec.push(p.payload, p.timestamp));
    expect(results[0]).toEqual({ digit: '7', startTimestamp: 48_000, durationSamples: 160, end: false, volume: 12 });
    expect(results.slice(1, 9).every((r) => r === undefined)).toBe(true);
    expect(results[9]).toEqual({ digit: '7', startTimestamp: 48_000, durationSamples: 1600, end: true, volume: 12 });
    expect(results.slice(10)).toEqual([undefined, undefined]);
  });

  it('MUST track the duration while the event is active', () => {
    const dec = new TelephoneEventDecoder();
    const seq = telephoneEventSequence('1', 0, 200);
    for (const p of seq.slice(0, 5)) dec.push(p.payload, p.timestamp);
    expect(dec.active).toMatchObject({ digit: '1', durationSamples: 800, end: false });
    for (const p of seq.slice(5)) dec.push(p.payload, p.timestamp);
    expect(dec.active).toBeUndefined();
  });

  it('MUST start the event at the first packet that arrives when the first packet is lost', () => {
    const dec = new TelephoneEventDecoder();
    const ev = feed(dec, telephoneEventSequence('9', 8000, 200).slice(1));
    expect(ev).toEqual([
      { digit: '9', startTimestamp: 8000, durationSamples: 320, end: false, volume: 10 },
      { digit: '9', startTimestamp: 8000, durationSamples: 1600, end: true, volume: 10 },
    ]);
  });

  it('MUST report start and end once when only the end packets arrive (push returns the end)', () => {
    const dec = new TelephoneEventDecoder();
    const seq = telephoneEventSequence('4', 800, 100).slice(-3);
    expect(dec.pushAll(seq[0]!.payload, 800).map((e) => e.end)).toEqual([false, true]);
    expect(dec.push(seq[1]!.payload, 800)).toBeUndefined();
    const dec2 = new TelephoneEventDecoder();
    expect(dec2.push(seq[0]!.payload, 800)).toMatchObject({ digit: '4', end: true, durationSamples: 800 });
  });

  it('MUST separate consecutive presses of the same digit by their RTP timestamps', () => {
    const dec = new TelephoneEventDecoder();
    const ev = feed(dec, [...telephoneEventSequence('2', 1000, 100), ...telephoneEventSequence('2', 3000, 100)]);
    expect(ev.map((e) => `${e.digit}@${e.startTimestamp}${e.end ? '/' : ''}`)).toEqual(['2@1000', '2@1000/', '2@3000', '2@3000/']);
  });

  it('MUST end the previous event when a new one starts and every end packet was lost', () => {
    const dec = new TelephoneEventDecoder();
    const first = telephoneEventSequence('3', 1000, 100).filter((p) => (p.payload[1]! & 0x80) === 0);
    const ev = feed(dec, [...first, ...telephoneEventSequence('6', 2000, 100)]);
    expect(ev.map((e) => `${e.digit}${e.end ? '/' : ''}`)).toEqual(['3', '3/', '6', '6/']);
  });

  it('MUST ignore late packets of an older event, also across the 32-bit timestamp wrap', () => {
    const dec = new TelephoneEventDecoder();
    const old = telephoneEventSequence('8', 0xffff_ff00, 100);
    const next = telephoneEventSequence('0', 0x0000_0100, 100);
    feed(dec, old.slice(0, 2));
    expect(feed(dec, next).length).toBe(3); // end of '8' (its end packets lost), start and end of '0'
    expect(dec.push(old.at(-1)!.payload, 0xffff_ff00)).toBeUndefined();
    expect(dec.ignored).toBe(1);
  });

  it('MUST count and drop malformed and non-DTMF payloads without throwing', () => {
    const dec = new TelephoneEventDecoder();
    expect(dec.push(Buffer.from([1, 2]), 0)).toBeUndefined();
    expect(dec.push(new Uint8Array(0), 0)).toBeUndefined();
    expect(dec.push(Buffer.from([32, 0x0a, 0, 160]), 0)).toBeUndefined(); // event 32 (not DTMF)
    expect(dec.malformed).toBe(2);
    expect(dec.ignored).toBe(1);
    expect(dec.push(encodeTelephoneEvent('A', false, 5, 160), 5)).toMatchObject({ digit: 'A', end: false });
  });
});
