import { describe, expect, it } from 'vitest';
import { PayloadTypeMap } from '../../../../src/media/processors/payload-type-map.js';

describe('PayloadTypeMap: renumbering relayed packets between legs by codec (RFC 3264 section 6.1)', () => {
  it('MUST map telephone-event 101 on one leg to 96 on the other, and back', () => {
    const a = [{ pt: 0, name: 'PCMU' }, { pt: 101, name: 'telephone-event', clockRate: 8000 }];
    const b = [{ pt: 0, name: 'PCMU' }, { pt: 96, name: 'telephone-event', clockRate: 8000 }];
    const aToB = new PayloadTypeMap();
    aToB.set(a, b);
    expect(aToB.map(0)).toBe(0);
    expect(aToB.map(101)).toBe(96);
    expect(aToB.renumbered).toBe(1);
    const bToA = new PayloadTypeMap();
    bToA.set(b, a);
    expect(bToA.map(96)).toBe(101);
  });

  it('MUST map a dynamic-numbered PCMA onto the static 8, by name case-insensitively, and a static type listed without a name', () => {
    const m = new PayloadTypeMap();
    m.set([{ pt: 97, name: 'pcma', clockRate: 8000 }, { pt: 0, name: '' }], [{ pt: 8, name: 'PCMA' }, { pt: 0, name: 'PCMU' }]);
    expect(m.map(97)).toBe(8);
    expect(m.map(0)).toBe(0);
  });

  it('MUST NOT map a codec the receiving leg did not negotiate, nor the same name at another clock rate', () => {
    const m = new PayloadTypeMap();
    m.set(
      [{ pt: 18, name: 'G729' }, { pt: 99, name: 'telephone-event', clockRate: 48000 }, { pt: 0, name: 'PCMU' }],
      [{ pt: 0, name: 'PCMU' }, { pt: 101, name: 'telephone-event', clockRate: 8000 }],
    );
    expect(m.map(18)).toBe(-1);
    expect(m.map(99)).toBe(-1);
    expect(m.map(0)).toBe(0);
    expect(m.map(55)).toBe(-1);
  });

  it('MUST send with the receiving leg\'s first number of a codec when it lists several (its own, then ours)', () => {
    const m = new PayloadTypeMap();
    m.set([{ pt: 101, name: 'telephone-event' }], [{ pt: 96, name: 'telephone-event' }, { pt: 101, name: 'telephone-event' }]);
    expect(m.map(101)).toBe(96);
  });

  it('never throws: out-of-range numbers are masked, invalid entries ignored', () => {
    const m = new PayloadTypeMap();
    m.set([{ pt: -1, name: 'PCMU' }, { pt: 300, name: 'PCMU' }, { pt: 1.5, name: 'PCMU' }, { pt: 77, name: '' }], [{ pt: 0, name: 'PCMU' }]);
    expect(m.map(128)).toBe(-1); // masked to 0, which the sending list never validly named
    expect(m.map(-1)).toBe(-1);
    expect(m.map(77)).toBe(-1);
  });
});
