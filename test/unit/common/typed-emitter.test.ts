import { afterEach, describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src/common/typed-emitter.js';

type Events = { packet: [n: number] };
class PacketSource extends TypedEmitter<Events> {}

const fallback = TypedEmitter.listenerErrorFallback;
afterEach(() => {
  TypedEmitter.listenerErrorFallback = fallback;
});

describe('TypedEmitter: a throwing listener stops nothing and is never swallowed (STYLE habit 6)', () => {
  it('runs the other listeners and hands the error to the emitter own onListenerError', () => {
    const e = new PacketSource();
    const seen: number[] = [];
    const errors: Array<[string, string]> = [];
    e.onListenerError = (err, event) => errors.push([(err as Error).message, String(event)]);
    e.on('packet', () => {
      throw new Error('bad listener');
    });
    e.on('packet', (n) => seen.push(n));
    expect(e.emit('packet', 7)).toBe(true);
    expect(seen).toEqual([7]);
    expect(errors).toEqual([['bad listener', 'packet']]);
  });

  it('without onListenerError, reports to the process-wide fallback with the event and the emitter class', () => {
    const reported: Array<[string, string, string]> = [];
    TypedEmitter.listenerErrorFallback = (err, event, emitter) => reported.push([(err as Error).message, event, emitter]);
    const e = new PacketSource();
    let after = 0;
    e.on('packet', () => {
      throw new Error('boom');
    });
    e.on('packet', () => after++);
    e.emit('packet', 1);
    expect(after).toBe(1);
    expect(reported).toEqual([['boom', 'packet', 'PacketSource']]);
  });

  it('the default fallback is a process warning on stderr, not silence', async () => {
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const e = new PacketSource();
    e.on('packet', () => {
      throw new Error('unseen');
    });
    e.emit('packet', 1);
    const w = await warned;
    expect(w.name).toBe('ListenerError');
    expect(w.message).toContain("PacketSource 'packet'");
    expect(w.message).toContain('unseen');
  });
});
