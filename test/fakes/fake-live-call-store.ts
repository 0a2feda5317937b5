import type { CallSummary } from '../../src/call/call-session.js';
import type { LiveCallStore, NodeRecord, RegistryContents } from '../../src/call/live-call-registry.js';
import type { Clock } from '../../src/common/clock.js';
import { AppError } from '../../src/common/errors.js';

/**
 * The live-call registry's store in memory (what call/store/postgres-live-calls.ts keeps in two
 * tables), on a test's clock: heartbeats are that clock's now(). `down = true` makes every method
 * reject CALL_REGISTRY_UNAVAILABLE, as an unreachable database does. Several registries may share one.
 */
export class FakeLiveCallStore implements LiveCallStore {
  readonly nodes = new Map<string, { adminUrl: string; heartbeatAt: number }>();
  readonly calls = new Map<string, Map<string, CallSummary>>();
  down = false;
  constructor(private readonly clock: Clock) {}

  #check(): void {
    if (this.down) throw new AppError('CALL_REGISTRY_UNAVAILABLE', 'fake store down');
  }

  async beat(node: NodeRecord): Promise<boolean> {
    this.#check();
    const created = !this.nodes.has(node.nodeId);
    this.nodes.set(node.nodeId, { adminUrl: node.adminUrl, heartbeatAt: this.clock.now() });
    return created;
  }

  #of(nodeId: string): Map<string, CallSummary> {
    // the tables' foreign key: no calls of a node that is not registered
    if (!this.nodes.has(nodeId)) throw new AppError('CALL_REGISTRY_UNAVAILABLE', `node ${nodeId} not registered`);
    let m = this.calls.get(nodeId);
    if (!m) this.calls.set(nodeId, (m = new Map()));
    return m;
  }

  async putCalls(nodeId: string, calls: readonly CallSummary[]): Promise<void> {
    this.#check();
    // as PostgreSQL's INSERT ... ON CONFLICT DO UPDATE: one statement may not write a row twice
    const ids = calls.map((c) => c.id);
    if (new Set(ids).size !== ids.length) throw new Error('ON CONFLICT DO UPDATE command cannot affect row a second time');
    const m = this.#of(nodeId);
    for (const c of calls) m.set(c.id, c);
    this.#wrote(nodeId);
  }

  async removeCalls(nodeId: string, ids: readonly string[]): Promise<void> {
    this.#check();
    for (const id of ids) this.calls.get(nodeId)?.delete(id);
    this.#wrote(nodeId);
  }

  async replaceCalls(nodeId: string, calls: readonly CallSummary[]): Promise<void> {
    this.#check();
    const m = this.#of(nodeId);
    m.clear();
    for (const c of calls) m.set(c.id, c);
    this.#wrote(nodeId);
  }

  async read(callId?: string): Promise<RegistryContents> {
    this.#check();
    const calls = [...this.calls.entries()].flatMap(([nodeId, m]) =>
      [...m.values()].filter((c) => callId === undefined || c.id === callId || c.callId === callId).map((summary) => ({ nodeId, summary })),
    );
    return { now: this.clock.now(), nodes: [...this.nodes.entries()].map(([nodeId, n]) => ({ nodeId, ...n })), calls };
  }

  /** Per node, bumped on every write of its calls (as updated_at is). */
  readonly #lastWriteAt = new Map<string, number>();
  #wrote(nodeId: string): void {
    this.#lastWriteAt.set(nodeId, Math.max((this.#lastWriteAt.get(nodeId) ?? 0) + 1, this.clock.now()));
  }

  async changeMark(nodeId: string): Promise<{ now: number; nodes: RegistryContents['nodes']; calls: number; lastWriteAt: number }> {
    this.#check();
    const calls = [...this.calls.entries()].filter(([id]) => id !== nodeId).reduce((n, [, m]) => n + m.size, 0);
    const { now, nodes } = await this.read('');
    const lastWriteAt = Math.max(0, ...[...this.#lastWriteAt.entries()].filter(([id]) => id !== nodeId).map(([, at]) => at));
    return { now, nodes, calls, lastWriteAt };
  }

  async purge(expiryMs: number): Promise<string[]> {
    this.#check();
    const dead = [...this.nodes.entries()].filter(([, n]) => n.heartbeatAt < this.clock.now() - expiryMs).map(([id]) => id);
    for (const id of dead) await this.removeNode(id);
    return dead;
  }

  async removeNode(nodeId: string): Promise<void> {
    this.#check();
    this.nodes.delete(nodeId);
    this.calls.delete(nodeId);
  }

  async close(): Promise<void> {}
}
