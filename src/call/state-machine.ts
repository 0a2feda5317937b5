import { AppError } from '../common/errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * A small explicit state machine (STYLE habit 4): a table of allowed moves, one `transition(next)`
 * that rejects anything else with ILLEGAL_STATE_TRANSITION, logs `from -> to` and tells the owner
 * (which starts/stops that state's timers and disposes on a final state).
 */
export class StateMachine<S extends string> {
  #state: S;
  readonly #name: string;
  readonly #table: Readonly<Record<S, readonly S[]>>;
  readonly #log: Logger;
  readonly #onChange: (from: S, to: S) => void;

  constructor(name: string, initial: S, table: Readonly<Record<S, readonly S[]>>, log: Logger, onChange: (from: S, to: S) => void = () => {}) {
    this.#name = name;
    this.#state = initial;
    this.#table = table;
    this.#log = log;
    this.#onChange = onChange;
  }

  get state(): S {
    return this.#state;
  }

  /** True when `next` is an allowed move from the current state. */
  can(next: S): boolean {
    return this.#table[this.#state].includes(next);
  }

  is(...states: S[]): boolean {
    return states.includes(this.#state);
  }

  transition(next: S): void {
    const from = this.#state;
    if (!this.#table[from].includes(next)) throw new AppError('ILLEGAL_STATE_TRANSITION', `${this.#name} ${from} -> ${next}`);
    this.#state = next;
    this.#log.debug({ machine: this.#name, from, to: next }, 'state');
    this.#onChange(from, next);
  }
}
