/**
 * The web console's build output (console/dist) is committed so `npm start` serves it without a
 * build step; it MUST be what `npm run build:console` makes of console/src today: rebuilt into a
 * temporary folder, every file equal byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/product-process.js';

const filesOf = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesOf(join(dir, e.name)) : [join(dir, e.name)])).map((f) => f);

describe('web console build output', () => {
  it('console/dist equals a fresh build of console/src (run `npm run build:console` and commit)', () => {
    const out = mkdtempSync(join(tmpdir(), 'console-build-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-console.mjs'), out], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const committed = join(ROOT, 'console', 'dist');
      const fresh = filesOf(out).map((f) => relative(out, f)).sort();
      expect(filesOf(committed).map((f) => relative(committed, f)).sort()).toEqual(fresh);
      for (const f of fresh) expect(readFileSync(join(committed, f)).equals(readFileSync(join(out, f))), `${f} is stale`).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
