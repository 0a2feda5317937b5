import { describe, expect, it } from 'vitest';
import { PortPool } from '../../../src/srs/port-pool.js';

describe('PortPool', () => {
  it('hands out distinct even ports with room for RTCP and reports exhaustion', () => {
    const pool = new PortPool({ from: 17001, to: 17007 });
    const got = [pool.allocate(), pool.allocate(), pool.allocate()];
    expect(got).toEqual([17002, 17004, 17006]);
    expect(pool.allocate()).toBeUndefined();
    pool.release(17004);
    expect(pool.allocate()).toBe(17004);
  });

  it('refuses a range without an even/odd pair', () => {
    expect(() => new PortPool({ from: 17001, to: 17002 })).toThrow(RangeError);
  });
});
