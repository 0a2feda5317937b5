/** ownString (src/common/own-string.ts): a kept value does not keep the message it was cut from. */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ownOptional, ownString } from '../../../src/common/own-string.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap held by `keep(slice of a 1 MB message)` for 40 messages, once the messages are dropped. */
function heldBy(keep: (s: string) => string): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: string[] = [];
  for (let i = 0; i < 40; i++) {
    const message = `Call-ID: ${i}-${Math.random().toString(36)}-call-identifier-long-enough\r\n${'x'.repeat(1 << 20)}`;
    kept.push(keep(message.slice(9, message.indexOf('\r\n'))));
  }
  gc();
  const held = process.memoryUsage().heapUsed - before;
  expect(kept.every((v) => v.endsWith('-call-identifier-long-enough'))).toBe(true);
  return held;
}

describe('ownString', () => {
  it('MUST return an equal string, whatever its characters', () => {
    for (const v of ['', 'a', 'tag-0123456789abcdef', 'sip:+1555@[2001:db8::1];transport=tcp', 'é"\\\n\u2028😀'])
      expect(ownString(v)).toBe(v);
    expect(ownOptional(undefined)).toBeUndefined();
    expect(ownOptional('x-y')).toBe('x-y');
  });

  it('MUST NOT keep the string it was cut from alive (a substring alone keeps it)', () => {
    const sliced = heldBy((s) => s);
    const owned = heldBy(ownString);
    // the control: 40 substrings of 1 MB messages hold the 40 MB
    expect(sliced).toBeGreaterThan(30 * 2 ** 20);
    expect(owned).toBeLessThan(4 * 2 ** 20);
  });
});
