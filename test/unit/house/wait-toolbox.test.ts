import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/product-process.js';
import { sleep, until, untilValue } from '../../support/wait.js';

describe('test/support/wait.ts: the one way tests wait', () => {
  it('until resolves as soon as a sync or async check holds', async () => {
    let n = 0;
    await until(() => ++n >= 3, 'the third poll', 1000, 1);
    expect(n).toBe(3);
    let m = 0;
    await until(async () => ++m >= 2, 'the second async poll', 1000, 1);
    expect(m).toBe(2);
  });

  it('until throws "timed out after <ms> ms waiting for <what>" when the check never holds, after checking once more at the deadline', async () => {
    let checks = 0;
    const started = Date.now();
    await expect(until(() => (checks++, false), 'the impossible', 60, 20)).rejects.toThrow('timed out after 60 ms waiting for the impossible');
    expect(Date.now() - started).toBeGreaterThanOrEqual(59);
    expect(checks).toBeGreaterThanOrEqual(2);
  });

  it('until passes a check that throws on at once', async () => {
    await expect(until(() => { throw new Error('broken check'); }, 'anything', 1000)).rejects.toThrow('broken check');
  });

  it('untilValue resolves with the first value that is not undefined, falsy ones included', async () => {
    const values: Array<number | undefined> = [undefined, undefined, 0, 7];
    expect(await untilValue(() => values.shift(), 'a value', 1000, 1)).toBe(0);
    expect(await untilValue(async () => 'x', 'an async value', 1000, 1)).toBe('x');
    await expect(untilValue(() => undefined, 'nothing', 30, 10)).rejects.toThrow('timed out after 30 ms waiting for nothing');
  });

  it('sleep waits at least the time asked', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(29);
  });
});

const OWN_WAIT = [
  /^\s*(export\s+)?(const|let)\s+(sleep|delay|pause|wait|waitFor|until)\s*=\s*(async\s*)?\(/m,
  /^\s*(export\s+)?(async\s+)?function\s+(sleep|delay|pause|wait|waitFor|until)\b/m,
  /new Promise(<void>)?\(\((r|res|resolve)\) => setTimeout\(\2,/,
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('tests share one toolbox (STYLE habit 15)', () => {
  it('no test, harness or benchmark defines its own sleep/delay/waitFor/until or pauses through an inline setTimeout promise: they import test/support/wait.ts', () => {
    const offenders = [...sources(join(ROOT, 'test')), ...sources(join(ROOT, 'bench'))]
      .map((file) => relative(ROOT, file).split('\\').join('/'))
      .filter((file) => file !== 'test/support/wait.ts' && file !== 'test/unit/house/wait-toolbox.test.ts')
      .filter((file) => OWN_WAIT.some((re) => re.test(readFileSync(join(ROOT, file), 'utf8'))));
    expect(offenders, 'use sleep/until/untilValue from test/support/wait.ts').toEqual([]);
  });

  it('the rule sees the usual hand-rolled forms', () => {
    const forms = [
      'const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));',
      'async function until(cond: () => boolean, ms: number, what: string): Promise<void> {',
      'export async function waitFor(check: () => boolean, what: string): Promise<void> {',
      '    await new Promise((r) => setTimeout(r, 100));',
    ];
    for (const form of forms) expect(OWN_WAIT.some((re) => re.test(form)), form).toBe(true);
    expect(OWN_WAIT.some((re) => re.test('  async waitFor(match: (m: string) => boolean, ms: number): Promise<string> {')), 'a method of that name is something else').toBe(false);
  });
});
