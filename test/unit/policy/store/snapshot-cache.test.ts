import { describe, expect, it } from 'vitest';
import type { PolicySnapshot } from '../../../../src/policy/policy-types.js';
import { SnapshotCache } from '../../../../src/policy/store/snapshot-cache.js';
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
});
