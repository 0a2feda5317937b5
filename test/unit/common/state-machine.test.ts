import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { StateMachine, type TransitionTable } from '../../../src/common/state-machine.js';
import { FakeClock } from '../../fakes/fake-clock.js';

type Light = 'off' | 'warming' | 'on' | 'broken';

const TABLE: TransitionTable<Light> = {
  off: ['warming', 'broken'],
  warming: ['on', 'off', 'broken'],
  on: ['off', 'broken'],
  broken: [],
};

function machine(extra: { dispose?: (s: Light) => void; onChange?: (from: Light, to: Light, reason: string | undefined) => void } = {}) {
  const clock = new FakeClock();
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const sm = new StateMachine<Light>({ name: 'lamp', initial: 'off', table: TABLE, timers: clock, log: { debug: (fields, msg) => lines.push({ fields, msg }) }, ...extra });
  return { sm, clock, lines };
}

describe('StateMachine: the one state-machine mechanism (docs/state-machines.md)', () => {
  it('MUST reject a move the table does not allow with ILLEGAL_STATE_TRANSITION and leave the state unchanged', () => {
    const { sm, lines } = machine();
    let caught: unknown;
    try {
      sm.transition('on', 'switch');
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'ILLEGAL_STATE_TRANSITION')).toBe(true);
    expect((caught as Error).message).toContain('lamp off -> on (switch)');
    expect(sm.state).toBe('off');
    expect(lines).toEqual([]);
  });

  it('MUST log every move from -> to at debug, with the reason when given', () => {
    const { sm, lines } = machine();
    sm.transition('warming');
    sm.transition('on', 'warm');
    expect(lines).toEqual([
      { fields: { machine: 'lamp', from: 'off', to: 'warming' }, msg: 'state' },
      { fields: { machine: 'lamp', from: 'warming', to: 'on', reason: 'warm' }, msg: 'state' },
    ]);
  });

  it('can() and is() answer from the table and the current state; final is true only in a state with no move out', () => {
    const { sm } = machine();
    expect(sm.can('warming')).toBe(true);
    expect(sm.can('on')).toBe(false);
    expect(sm.is('on', 'off')).toBe(true);
    expect(sm.final).toBe(false);
    sm.transition('broken');
    expect(sm.final).toBe(true);
    expect(sm.can('off')).toBe(false);
  });

  it('MUST stop the timers of a state when the machine leaves it, and run them while it stays', () => {
    const { sm, clock } = machine();
    sm.transition('warming');
    const fired: string[] = [];
    sm.after(100, () => fired.push('warm timer'));
    sm.transition('off');
    clock.advance(200);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
    sm.transition('warming');
    sm.after(100, () => sm.transition('on', 'warm'));
    clock.advance(100);
    expect(sm.state).toBe('on');
    expect(clock.pending).toBe(0);
  });

  it('a state timer can be stopped earlier by the function after() returns (idempotent)', () => {
    const { sm, clock } = machine();
    const fired: number[] = [];
    const stop = sm.after(50, () => fired.push(1));
    stop();
    stop();
    clock.advance(100);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('MUST run the dispose hook once, after onChange, on entering the final state; no move out of it', () => {
    const calls: string[] = [];
    const { sm, clock } = machine({ onChange: (from, to) => calls.push(`${from}->${to}`), dispose: (s) => calls.push(`dispose ${s}`) });
    sm.transition('warming');
    sm.after(10, () => calls.push('late timer'));
    sm.transition('broken', 'fuse');
    expect(() => sm.transition('off')).toThrow(/lamp broken -> off/);
    clock.advance(50);
    expect(calls).toEqual(['off->warming', 'warming->broken', 'dispose broken']);
  });

  it('onChange receives the reason', () => {
    const seen: Array<string | undefined> = [];
    const { sm } = machine({ onChange: (_f, _t, reason) => seen.push(reason) });
    sm.transition('warming', 'button');
    sm.transition('off');
    expect(seen).toEqual(['button', undefined]);
  });
});
