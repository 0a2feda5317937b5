/**
 * The divergences from drachtio-server are one list in three places: the registry the conformance
 * tests use (test/support/engine-divergences.ts), the headings of docs/engine.md's "Divergences from
 * drachtio-server", and the tests that assert each side. They MUST name the same ids.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIVERGENCES } from '../../support/engine-divergences.js';
import { ROOT } from '../../support/product-process.js';

const registry = Object.keys(DIVERGENCES).sort();

function documented(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'engine.md'), 'utf8');
  const start = doc.indexOf('### Divergences from drachtio-server');
  expect(start, 'docs/engine.md has the divergences section').toBeGreaterThan(0);
  const section = doc.slice(start, doc.indexOf('\n## ', start));
  return [...section.matchAll(/^#### `([a-z0-9-]+)`$/gm)].map((m) => m[1]!).sort();
}

function usedInTests(): Set<string> {
  const dir = join(ROOT, 'test', 'integration', 'engine');
  const used = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/expectedOn\(\s*harness,\s*'([a-z0-9-]+)'|divergence: ([a-z0-9-]+)|divergence: '([a-z0-9-]+)'/g)) used.add((m[1] ?? m[2] ?? m[3])!);
  }
  return used;
}

describe('divergences from drachtio-server', () => {
  it('MUST document every registered divergence in docs/engine.md, and register every documented one', () => {
    expect(documented()).toEqual(registry);
  });

  it('MUST assert every registered divergence in a conformance test, and use no id that is not registered', () => {
    const used = usedInTests();
    expect([...used].filter((id) => !registry.includes(id)), 'ids used but not registered').toEqual([]);
    expect(registry.filter((id) => !used.has(id)), 'registered ids no test asserts').toEqual([]);
  });
});
