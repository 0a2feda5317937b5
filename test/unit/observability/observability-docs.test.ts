import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';

describe('docs/observability.md', () => {
  it('lists every metric the registry exposes, and no other (default process metrics aside)', () => {
    const doc = readFileSync('docs/observability.md', 'utf8');
    const documented = [...doc.matchAll(/^\| `(siprec_b2bua_[a-z0-9_]+)` \| (counter|gauge) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const metrics = createMetrics({}, { defaultMetrics: false });
    const registered = metrics.registry
      .getMetricsAsArray()
      .map((m) => `${m.name} ${(m as unknown as { type: string }).type}`)
      .sort();
    metrics.close();
    expect(registered.length).toBeGreaterThan(25);
    expect(documented).toEqual(registered);
  });
});
