/** runFileOps and atomicWriteOps (src/srs/file-ops.ts): a recording's small file steps, in order. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { atomicWriteOps, runFileOps } from '../../../src/srs/file-ops.js';

const dir = mkdtempSync(join(tmpdir(), 'file-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runFileOps', () => {
  it('MUST run write, copy, rename, unlink and zeros in order; unlinking a missing file is not an error', async () => {
    const a = join(dir, 'a.xml');
    const b = join(dir, 'b.xml');
    await runFileOps([
      { op: 'write', path: a, text: '<first, longer/>' },
      { op: 'copy', from: a, to: b },
      { op: 'write', path: a, text: '<x/>' },
      { op: 'copy', from: a, to: b },
      { op: 'unlink', path: join(dir, 'never-there') },
      { op: 'zeros', path: join(dir, 'held'), bytes: 4096 },
    ]);
    expect(readFileSync(b, 'utf8')).toBe('<x/>');
    expect(readFileSync(join(dir, 'held'))).toEqual(Buffer.alloc(4096));
    await runFileOps([...atomicWriteOps(join(dir, 's.json'), '{"ok":true}\n'), { op: 'unlink', path: a }]);
    expect(readFileSync(join(dir, 's.json'), 'utf8')).toBe('{"ok":true}\n');
    expect(existsSync(join(dir, 's.json.tmp'))).toBe(false);
    expect(existsSync(a)).toBe(false);
  });

  it('MUST make a folder with its missing parents, and take one that is already there', async () => {
    const deep = join(dir, '2026', '12', '08');
    await runFileOps([{ op: 'mkdir', path: deep }, { op: 'write', path: join(deep, 'j'), text: 'x' }, { op: 'mkdir', path: deep }]);
    expect(readFileSync(join(deep, 'j'), 'utf8')).toBe('x');
    const err = (await runFileOps([{ op: 'mkdir', path: join(dir, 's.json', 'below-a-file') }]).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ENOTDIR');
  });

  it('MUST stop at the first step that fails and reject with its errno error', async () => {
    const after = join(dir, 'after.txt');
    const err = (await runFileOps([
      { op: 'write', path: join(dir, 'no-such-dir', 'x'), text: 'x' },
      { op: 'write', path: after, text: 'must not be written' },
    ]).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ENOENT');
    expect(existsSync(after)).toBe(false);
  });
});
