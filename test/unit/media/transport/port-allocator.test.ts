import { describe, expect, it } from 'vitest';
import { PortAllocator } from '../../../../src/media/transport/port-allocator.js';

describe('PortAllocator', () => {
  it('hands out even RTP ports (RTCP = +1) inside the range until exhausted', () => {
    const a = new PortAllocator(20001, 20009);
    const got = [a.allocate(), a.allocate(), a.allocate(), a.allocate()];
    expect(got).toEqual([20002, 20004, 20006, 20008]);
    expect(a.allocate()).toBeUndefined();
  });

  it('reuses a released port only after the others (round robin)', () => {
    const a = new PortAllocator(20000, 20007);
    const p = a.allocate()!;
    a.release(p);
    expect(a.allocate()).toBe(20002);
    expect(a.allocate()).toBe(20004);
    expect(a.allocate()).toBe(20006);
    expect(a.allocate()).toBe(20000);
  });

  it('skips a port marked unavailable (held by another process)', () => {
    const a = new PortAllocator(20000, 20003);
    a.markUnavailable(20000);
    expect(a.allocate()).toBe(20002);
    expect(a.allocate()).toBeUndefined();
  });

  it('rejects an invalid range', () => {
    expect(() => new PortAllocator(20000, 20000)).toThrow(RangeError);
    expect(() => new PortAllocator(80, 90)).toThrow(RangeError);
  });
});
