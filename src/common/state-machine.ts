import { systemTimers, type TimerHandle, type Timers } from './clock.js';
import { AppError } from './errors.js';

/**
 * The one state-machine mechanism of the product (every lifecycle uses it: the call, its
 * recordings, the SIPREC recording session, the reference server's recording, the media plane,
 * session, forks and frame pacer, the event webhook queue, the engine's transactions, dialogs and
 * proxy branches). No I/O.
 *
 * - a table of legal moves per state (`TransitionTable`); a state with no move out is final;
 * - one `transition(next, reason?)` that rejects anything else with ILLEGAL_STATE_TRANSITION;
 * - every move logged `from -> to` at debug through the injected logger (default: none);
 * - per-state timers (`after()`): started through the injected Timers (default: the system's),
 *   stopped when the machine leaves the state they were started in;
 * - a dispose hook, run once when the machine enters a final state.
 *
 * docs/state-machines.md draws every table; test/unit/common/state-machines-doc.test.ts checks the
 * drawings against the tables.
 */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/** What the machine logs through: any logger with a pino-style `debug(fields, msg)`. */
export interface TransitionLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
}

export interface StateMachineOptions<S extends string> {
  /** Names the machine in its log line and errors ('call', 'recording session', 'client transaction'). */
  readonly name: string;
  readonly initial: S;
  readonly table: TransitionTable<S>;
  /** Receives `{ machine, from, to, reason? }` at debug on every move. Default: no log. */
  readonly log?: TransitionLogger;
  /** Timers for `after()`. Default: the system timers (common/clock.ts). */
  readonly timers?: Timers;
  /** Told after every move, once the timers of `from` are stopped. */
  readonly onChange?: (from: S, to: S, reason: string | undefined) => void;
  /** Run once, after onChange, when the machine enters a final state. */
  readonly dispose?: (final: S) => void;
}

export class StateMachine<S extends string> {
  #state: S;
  readonly #o: StateMachineOptions<S>;
  readonly #timers: Timers;
  /** Timers of the current state, stopped on the next move (created on the first after()). */
  #stateTimers: Set<TimerHandle> | undefined;
  #disposed = false;

  constructor(options: StateMachineOptions<S>) {
    this.#o = options;
    this.#state = options.initial;
    this.#timers = options.timers ?? systemTimers;
  }

  get state(): S {
    return this.#state;
  }

  /** True in a state with no move out of it. */
  get final(): boolean {
    return this.#o.table[this.#state].length === 0;
  }

  /** True when the machine is in one of `states`. */
  is(...states: readonly S[]): boolean {
    return states.includes(this.#state);
  }

  /** True when `next` is a legal move from the current state. */
  can(next: S): boolean {
    return this.#o.table[this.#state].includes(next);
  }

  /**
   * Moves to `next`: stops the current state's timers, logs `from -> to`, tells onChange and, in a
   * final state, disposes. An illegal move throws ILLEGAL_STATE_TRANSITION (a programmer error) and
   * changes nothing.
   */
  transition(next: S, reason?: string): void {
    const from = this.#state;
    if (!this.#o.table[from].includes(next)) {
      throw new AppError('ILLEGAL_STATE_TRANSITION', `${this.#o.name} ${from} -> ${next}${reason === undefined ? '' : ` (${reason})`}`);
    }
    this.#stopStateTimers();
    this.#state = next;
    this.#o.log?.debug(reason === undefined ? { machine: this.#o.name, from, to: next } : { machine: this.#o.name, from, to: next, reason }, 'state');
    this.#o.onChange?.(from, next, reason);
    if (this.#o.table[next].length === 0 && !this.#disposed) {
      this.#disposed = true;
      this.#o.dispose?.(next);
    }
  }

  /**
   * Runs `fn` after `ms` unless the machine leaves the current state first. Returns a function
   * that stops the timer earlier (idempotent).
   */
  after(ms: number, fn: () => void): () => void {
    const timers = (this.#stateTimers ??= new Set());
    const handle = this.#timers.setTimeout(() => {
      timers.delete(handle);
      fn();
    }, ms);
    timers.add(handle);
    return () => {
      if (timers.delete(handle)) this.#timers.clearTimeout(handle);
    };
  }

  #stopStateTimers(): void {
    const timers = this.#stateTimers;
    if (timers === undefined || timers.size === 0) return;
    for (const h of timers) this.#timers.clearTimeout(h);
    timers.clear();
  }
}
