import { describe, expect, it } from 'vitest';
import { SessionWaits } from '../../../../src/siprec/client/session-waits.js';
import { FakeClock } from '../../../fakes/fake-clock.js';

const settled = async <T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> => {
  let out: { done: boolean; value?: T } = { done: false };
  void p.then((value) => (out = { done: true, value }));
  await new Promise((r) => setImmediate(r));
  return out;
};

describe('the recording session waits', () => {
  it('MUST give the awaited value when it comes in time, the fallback after the bound or on a rejection', async () => {
    const clock = new FakeClock();
    const waits = new SessionWaits(clock);
    expect(await settled(waits.bounded(Promise.resolve('answer'), 1000, 'timeout'))).toEqual({ done: true, value: 'answer' });
    expect(await settled(waits.bounded(Promise.reject(new Error('x')), 1000, 'timeout'))).toEqual({ done: true, value: 'timeout' });
    const slow = waits.bounded(new Promise<string>(() => undefined), 1000, 'timeout');
    clock.advance(999);
    expect((await settled(slow)).done).toBe(false);
    clock.advance(1);
    expect(await settled(slow)).toEqual({ done: true, value: 'timeout' });
  });

  it('MUST settle every pending wait at once when the session ends, and leave no timer behind', async () => {
    const clock = new FakeClock();
    const waits = new SessionWaits(clock);
    const backoff = waits.wait(3000);
    const bounded = waits.bounded(new Promise<number>(() => undefined), 5000, -1);
    waits.settleAll();
    expect((await settled(backoff)).done).toBe(true);
    expect(await settled(bounded)).toEqual({ done: true, value: -1 });
    expect(clock.pending).toBe(0);
  });
});
