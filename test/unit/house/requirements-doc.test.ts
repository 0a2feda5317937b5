import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/product-process.js';

const DOC = readFileSync(join(ROOT, 'docs', 'requirements.md'), 'utf8');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|xml|md)$/.test(name) ? [path] : [];
  });
}

/** R-xx entries of docs/requirements.md with the test files their "Proven by" line names. */
function entries(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const block of DOC.split(/\n(?=\*\*R-\d\d )/).slice(1)) {
    const id = /^\*\*(R-\d\d) /.exec(block)![1]!;
    const proven = /Proven by: (.*)/.exec(block)?.[1] ?? '';
    out.set(id, [...proven.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  }
  return out;
}

describe('docs/requirements.md: the requirements live in the repository', () => {
  it('lists every requirement id the code and the tests cite', () => {
    const cited = new Set<string>();
    for (const file of [...filesUnder(join(ROOT, 'src')), ...filesUnder(join(ROOT, 'test')), ...filesUnder(join(ROOT, 'docs'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bR-(\d\d)\b/g)) cited.add(`R-${m[1]}`);
    }
    const listed = entries();
    expect([...cited].filter((id) => !listed.has(id)).sort()).toEqual([]);
  });

  it('names, for every requirement, test files that exist and cite it', () => {
    const problems: string[] = [];
    for (const [id, files] of entries()) {
      if (files.length === 0) problems.push(`${id}: no test named`);
      for (const file of files) {
        const path = join(ROOT, file);
        if (!existsSync(path)) problems.push(`${id}: ${file} does not exist`);
        else if (!new RegExp(`\\b${id}\\b`).test(readFileSync(path, 'utf8'))) problems.push(`${id}: ${relative(ROOT, path)} does not cite it`);
      }
    }
    expect(problems).toEqual([]);
  });
});
