/**
 * A small typed event emitter. Events are declared as a record of listener argument tuples:
 *
 *   type Events = { packet: [buf: Buffer]; close: [] };
 *   const e = new TypedEmitter<Events>();
 *
 * A throwing listener never stops the emit loop (the packet path must keep going), and its error is
 * never swallowed: it goes to the emitter's own `onListenerError` when one is set (components log it
 * with their context), else to `TypedEmitter.listenerErrorFallback`, which the composition root
 * points at the process logger (src/app/main.ts); before that, Node's process warning (stderr).
 * The remaining listeners still run.
 */
export type EventMap = Record<string, unknown[]>;
type Listener<A extends unknown[]> = (...args: A) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (...args: any[]) => void;

export class TypedEmitter<E extends EventMap> {
  /** Where listener errors go for emitters without an onListenerError of their own. */
  static listenerErrorFallback: (err: unknown, event: string, emitter: string) => void = (err, event, emitter) => {
    process.emitWarning(`a listener of ${emitter} '${event}' failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 'ListenerError');
  };

  #listeners = new Map<keyof E, AnyListener[]>();
  onListenerError: ((err: unknown, event: keyof E) => void) | undefined;

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.#listeners.get(event) ?? [];
    list.push(fn);
    this.#listeners.set(event, list);
    return this;
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrapper = ((...args: E[K]) => {
      this.off(event, wrapper);
      fn(...args);
    }) as Listener<E[K]>;
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const fn of list.slice()) {
      try {
        fn(...args);
      } catch (err) {
        if (this.onListenerError) this.onListenerError(err, event);
        else TypedEmitter.listenerErrorFallback(err, String(event), this.constructor.name);
      }
    }
    return true;
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  removeAllListeners(): void {
    this.#listeners.clear();
  }
}
