import { describe, expect, it } from 'vitest';
import type { PolicySnapshot } from '../../../../src/policy/policy-types.js';
import { SnapshotCache } from '../../../../src/policy/store/snapshot-cache.js';
import { captureLogger } from '../../../support/capture-logger.js';
import { makeSnapshot } from '../snapshot-builder.js';

function countingRepository(fail = 0) {
  const repo = {
    loads: 0,
    failuresLeft: fail,
    async loadAllSnapshots(): Promise<PolicySnapshot[]> {
      repo.loads++;
      if (repo.failuresLeft-- > 0) throw new Error('database locked');
      return [makeSnapshot({})];
    },
  };
  return repo;
}

describe('SnapshotCache (settings on the call path)', () => {
  it('loads the snapshots once for many calls, and again only after a settings write invalidates them', async () => {
    const repo = countingRepository();
    const cache = new SnapshotCache(repo);
    const [a, b] = await Promise.all([cache.snapshots(), cache.snapshots()]);
    expect(a).toBe(b);
    await cache.snapshots();
    expect(repo.loads).toBe(1);
    cache.invalidate();
    const c = await cache.snapshots();
    expect(repo.loads).toBe(2);
    expect(c).not.toBe(a);
  });

  it('does not cache a failed load', async () => {
    const repo = countingRepository(1);
    const cache = new SnapshotCache(repo);
    await expect(cache.snapshots()).rejects.toThrow('database locked');
    await expect(cache.snapshots()).resolves.toHaveLength(1);
    expect(repo.loads).toBe(2);
  });

  it('MUST keep serving the snapshots loaded last when a reload fails (the settings store unreachable), counted and logged once per outage', async () => {
    const repo = countingRepository();
    let now = 0;
    const { logger, lines } = captureLogger('info');
    const cache = new SnapshotCache(repo, { logger, retryAfterFailureMs: 1000, now: () => now });
    const first = await cache.snapshots();
    repo.failuresLeft = 3; // the database goes away
    cache.invalidate(); // a change was announced
    expect(await cache.snapshots()).toBe(first);
    expect(await cache.snapshots()).toBe(first); // within the retry delay: no new attempt
    expect(repo.loads).toBe(2);
    now += 1000;
    expect(await cache.snapshots()).toBe(first); // retried, failed again
    now += 1000;
    expect(await cache.snapshots()).toBe(first);
    expect(cache.stats()).toEqual({ loads: 1, loadFailures: 3, staleReads: 4 });
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'settings store unreachable: calls use the settings loaded last until it answers again' });
    now += 1000; // the database is back
    const fresh = await cache.snapshots();
    expect(fresh).not.toBe(first);
    expect(await cache.snapshots()).toBe(fresh);
    expect(lines.at(-1)).toMatchObject({ msg: 'settings store reachable again: settings reloaded', loadFailures: 3 });
  });
});
