/**
 * The house keeps files small (STYLE.md habit 8, a few hundred lines): a source file over 500 lines
 * MUST say in its header why it stays one file ("Size: ...", "Why one file ..." or "... is one file because ...").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/product-process.js';

const LIMIT = 500;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('file size', () => {
  it(`MUST give the reason in the header of every src file over ${LIMIT} lines`, () => {
    const unexplained = sources(join(ROOT, 'src'))
      .map((file) => ({ file, text: readFileSync(file, 'utf8') }))
      .filter(({ text }) => text.split('\n').length > LIMIT)
      .filter(({ text }) => !/Size: |Why one file|is one file because/.test(text.split('\n').slice(0, 120).join('\n')))
      .map(({ file, text }) => `${relative(ROOT, file)} (${text.split('\n').length} lines)`);
    expect(unexplained).toEqual([]);
  });
});
