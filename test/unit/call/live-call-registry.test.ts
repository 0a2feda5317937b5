/**
 * The live-call registry (src/call/live-call-registry.ts) and the expiry rule (src/call/node-liveness.ts)
 * on a fake clock and an in-memory store: two nodes share the store; a node's calls are written,
 * updated and removed; a node that stops beating is no longer listed once its heartbeat is older
 * than heartbeatMs x missedHeartbeats, and is then purged; store outages are repaired.
 */
import { describe, expect, it } from 'vitest';
import type { CallSummary } from '../../../src/call/call-session.js';
import { LiveCallRegistry, type LocalCalls } from '../../../src/call/live-call-registry.js';
import { NODE_LIVENESS_DEFAULTS, nodeAlive, nodeExpiryMs } from '../../../src/call/node-liveness.js';
import { TypedEmitter } from '../../../src/common/typed-emitter.js';
import { createLogger } from '../../../src/observability/logger.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeLiveCallStore } from '../../fakes/fake-live-call-store.js';

const logger = createLogger({ level: 'silent' });
const LIVENESS = { heartbeatMs: 2000, missedHeartbeats: 3 };

/** A call manager's list, get and change feed, over summaries the test edits. */
class FakeCalls implements LocalCalls {
  readonly map = new Map<string, CallSummary>();
  readonly changes = new TypedEmitter<{ changed: [callId: string] }>();
  list(): CallSummary[] {
    return [...this.map.values()];
  }
  /** By id or by SIP Call-ID, as the call manager finds a call. */
  get(id: string): { summary(): CallSummary } | undefined {
    const c = this.map.get(id) ?? [...this.map.values()].find((x) => x.callId === id);
    return c && { summary: () => c };
  }
  /** A recording event: the manager tells its change under the event's SIP Call-ID. */
  recordingEvent(id: string): void {
    this.changes.emit('changed', `sip-${id}`);
  }
  set(id: string, state: string): void {
    this.map.set(id, { id, callId: `sip-${id}`, state, startedAt: '2026-01-01T00:00:00.000Z' } as unknown as CallSummary);
    this.changes.emit('changed', id);
  }
  end(id: string): void {
    this.map.delete(id);
    this.changes.emit('changed', id);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function node(nodeId: string, store: FakeLiveCallStore, timers: FakeClock) {
  const calls = new FakeCalls();
  const registry = new LiveCallRegistry({ nodeId, store, calls, liveness: LIVENESS, timers, logger, flushDelayMs: 50 });
  return { calls, registry };
}

/** Nodes A and B on one in-memory store and one fake clock (not started). */
function twoNodes() {
  const clock = new FakeClock();
  const store = new FakeLiveCallStore(clock);
  return { clock, store, a: node('node-a', store, clock), b: node('node-b', store, clock) };
}

describe('node liveness: the expiry rule', () => {
  it('MUST count a node alive while its last heartbeat is at most heartbeatMs x missedHeartbeats old, dead 1 ms later', () => {
    expect(nodeExpiryMs(NODE_LIVENESS_DEFAULTS)).toBe(6000);
    expect(nodeAlive(10_000, 16_000, NODE_LIVENESS_DEFAULTS)).toBe(true);
    expect(nodeAlive(10_000, 16_001, NODE_LIVENESS_DEFAULTS)).toBe(false);
    expect(nodeAlive(10_000, 10_500, { heartbeatMs: 200, missedHeartbeats: 2 })).toBe(false);
    expect(nodeAlive(10_000, 10_400, { heartbeatMs: 200, missedHeartbeats: 2 })).toBe(true);
  });
});

describe('LiveCallRegistry (fake clock, in-memory store)', () => {
  it("MUST list another node's calls with its node id and admin URL, follow their changes and drop them when they end", async () => {
    const { clock, a, b } = twoNodes();
    a.calls.set('a1', 'connected');
    b.calls.set('b1', 'ringing');
    await a.registry.start('http://10.0.0.1:8080');
    await b.registry.start('http://10.0.0.2:8080');
    expect(await a.registry.remoteCalls()).toEqual([{ nodeId: 'node-b', adminUrl: 'http://10.0.0.2:8080', summary: expect.objectContaining({ id: 'b1', state: 'ringing' }) }]);
    expect((await b.registry.remoteCalls()).map((c) => c.summary.id), 'a node lists the others, not itself').toEqual(['a1']);

    b.calls.set('b1', 'connected');
    b.calls.set('b2', 'ringing');
    clock.advance(50);
    await settle();
    expect((await a.registry.remoteCalls()).map((c) => `${c.summary.id}:${c.summary.state}`).sort()).toEqual(['b1:connected', 'b2:ringing']);
    expect((await a.registry.findRemote('sip-b2'))?.summary.id, 'found by its SIP Call-ID').toBe('b2');

    b.calls.end('b1');
    clock.advance(50);
    await settle();
    expect((await a.registry.remoteCalls()).map((c) => c.summary.id)).toEqual(['b2']);
    expect(await a.registry.findRemote('b1')).toBeUndefined();

    await b.registry.close();
    expect(await a.registry.remoteCalls(), 'a node that closes removes itself and its calls at once').toEqual([]);
    await a.registry.close();
  });

  it('MUST stop listing the calls of a node whose heartbeat is older than heartbeatMs x missedHeartbeats, then purge them', async () => {
    const clock = new FakeClock();
    const store = new FakeLiveCallStore(clock);
    const a = node('node-a', store, clock);
    // node B's timers stop when it is "killed": its heartbeat runs on a clock the test stops advancing
    const bTimers = new FakeClock();
    const b = node('node-b', store, bTimers);
    b.calls.set('b1', 'connected');
    await a.registry.start('http://a');
    await b.registry.start('http://b');
    const lastBeat = clock.now();

    clock.advance(nodeExpiryMs(LIVENESS));
    await settle();
    expect((await a.registry.remoteCalls()).map((c) => c.summary.id), 'exactly at the expiry age: still alive').toEqual(['b1']);
    expect(store.nodes.has('node-b')).toBe(true);

    clock.advance(1);
    await settle();
    expect(clock.now() - lastBeat).toBe(6001);
    expect(await a.registry.remoteCalls(), 'past it: no longer listed, even before the purge').toEqual([]);
    expect(await a.registry.findRemote('b1')).toBeUndefined();
    expect(store.calls.get('node-b')?.size, 'not yet purged: A beats next at 8000 ms').toBe(1);

    clock.advance(2000);
    await settle();
    expect(store.nodes.has('node-b')).toBe(false);
    expect(store.calls.has('node-b')).toBe(false);
    expect(a.registry.stats().nodesPurged).toBe(1);
    await a.registry.close();
  });

  it('MUST keep a node alive while it beats, however long it runs', async () => {
    const { clock, a, b } = twoNodes();
    b.calls.set('b1', 'connected');
    await a.registry.start('http://a');
    await b.registry.start('http://b');
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      await settle();
    }
    expect((await a.registry.remoteCalls()).map((c) => c.summary.id)).toEqual(['b1']);
    expect(b.registry.stats().heartbeats).toBe(15);
    await a.registry.close();
    await b.registry.close();
  });

  it('MUST write a call once when it changed under its id and under its SIP Call-ID in the same batch', async () => {
    const { clock, a, b } = twoNodes();
    await a.registry.start('http://a');
    await b.registry.start('http://b');
    b.calls.set('b1', 'connected');
    b.calls.recordingEvent('b1');
    clock.advance(50);
    await settle();
    expect(b.registry.stats().writeFailures).toBe(0);
    expect((await a.registry.remoteCalls()).map((c) => `${c.summary.id}:${c.summary.state}`)).toEqual(['b1:connected']);
    await a.registry.close();
    await b.registry.close();
  });

  it('MUST count failed writes and write every call again on the first heartbeat after the store is back', async () => {
    const { clock, store, a, b } = twoNodes();
    await a.registry.start('http://a');
    await b.registry.start('http://b');
    store.down = true;
    b.calls.set('b1', 'connected');
    clock.advance(50);
    await settle();
    expect(b.registry.stats().writeFailures).toBe(1);
    store.down = false;
    expect(await a.registry.remoteCalls(), 'the failed write is not in the store').toEqual([]);
    clock.advance(2000);
    await settle();
    expect((await a.registry.remoteCalls()).map((c) => c.summary.id)).toEqual(['b1']);
    expect(b.registry.stats().resyncs).toBe(1);
    await a.registry.close();
    await b.registry.close();
  });

  it('MUST register again with its calls when other nodes purged it while it could not reach the store', async () => {
    const { clock, store, a, b } = twoNodes();
    b.calls.set('b1', 'connected');
    await a.registry.start('http://a');
    await b.registry.start('http://b');
    await store.removeNode('node-b'); // what A's purge does to a node it took for dead
    expect(await a.registry.remoteCalls()).toEqual([]);
    clock.advance(2000);
    await settle();
    expect((await a.registry.remoteCalls()).map((c) => `${c.nodeId}/${c.summary.id}`)).toEqual(['node-b/b1']);
    await a.registry.close();
    await b.registry.close();
  });

  it('MUST keep one heartbeat in flight while the store hangs, and report itself down after a failure until a heartbeat succeeds', async () => {
    const clock = new FakeClock();
    const store = new FakeLiveCallStore(clock);
    const a = node('node-a', store, clock);
    await a.registry.start('http://a');
    const beat = store.beat.bind(store);
    let calls = 0;
    let release: () => void = () => undefined;
    store.beat = () => {
      calls++;
      return new Promise((resolve) => (release = () => resolve(false)));
    };
    for (let i = 0; i < 5; i++) {
      clock.advance(2000);
      await settle();
    }
    expect(calls, 'a hanging heartbeat is not queued behind by the next ones').toBe(1);
    release();
    await settle();
    store.beat = beat;
    expect(a.registry.stats().up).toBe(true);
    store.down = true;
    clock.advance(2000);
    await settle();
    expect(a.registry.stats()).toMatchObject({ up: false, heartbeatFailures: 1 });
    store.down = false;
    clock.advance(2000);
    await settle();
    expect(a.registry.stats().up).toBe(true);
    await a.registry.close();
  });

  it('MUST refuse to start under the node id of another live node, and start under it once that node is dead or at the same admin URL', async () => {
    const clock = new FakeClock();
    const store = new FakeLiveCallStore(clock);
    const first = node('node-a', store, new FakeClock());
    await first.registry.start('http://10.0.0.1:8080');
    await expect(node('node-a', store, clock).registry.start('http://10.0.0.2:8080')).rejects.toThrow(
      /NODE_ID 'node-a' is in use by a live node whose admin API is http:\/\/10\.0\.0\.1:8080 .*give each node its own NODE_ID/,
    );
    const restarted = node('node-a', store, clock);
    await restarted.registry.start('http://10.0.0.1:8080');
    await restarted.registry.close();
    expect(store.nodes.has('node-a')).toBe(false);
    // registered again, then silent (its timers never run): once its heartbeat expired, its id is free
    await node('node-a', store, new FakeClock()).registry.start('http://10.0.0.1:8080');
    await expect(node('node-a', store, clock).registry.start('http://10.0.0.2:8080')).rejects.toThrow(/in use/);
    clock.advance(nodeExpiryMs(LIVENESS) + 1);
    const moved = node('node-a', store, clock);
    await moved.registry.start('http://10.0.0.2:8080');
    expect(store.nodes.get('node-a')?.adminUrl).toBe('http://10.0.0.2:8080');
    await moved.registry.close();
  });

  it("MUST tell its listeners on its heartbeat when other nodes' calls changed or a node went, and only then", async () => {
    const { clock, store, a, b } = twoNodes();
    await a.registry.start('http://a');
    await b.registry.start('http://b');
    const told: string[] = [];
    a.registry.othersChanges.on('changed', (id) => told.push(id));
    clock.advance(2000);
    await settle();
    expect(told, 'the first look').toEqual(['node-b']);
    clock.advance(2000);
    await settle();
    expect(told, 'nothing changed').toHaveLength(1);
    clock.advance(1000);
    b.calls.set('b1', 'ringing');
    clock.advance(50);
    await settle();
    expect(store.calls.get('node-b')?.size, 'written by node B').toBe(1);
    expect(told, 'seen on the next heartbeat, not before').toHaveLength(1);
    clock.advance(950);
    await settle();
    expect(told, 'a call started on node B').toHaveLength(2);
    a.calls.set('a1', 'ringing');
    clock.advance(2000);
    await settle();
    expect(told, "this node's own calls are not news").toHaveLength(2);
    await b.registry.close();
    clock.advance(2000);
    await settle();
    expect(told, 'node B gone').toEqual(['node-b', 'node-b', '']);
    await a.registry.close();
  });

  it('MUST refuse to start when the store cannot be written', async () => {
    const clock = new FakeClock();
    const store = new FakeLiveCallStore(clock);
    store.down = true;
    await expect(node('node-a', store, clock).registry.start('http://a')).rejects.toMatchObject({ code: 'CALL_REGISTRY_UNAVAILABLE' });
  });
});
