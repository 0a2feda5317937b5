import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, type ErrorSpec } from '../../../src/common/errors.js';

function documentedRows(): Map<string, { sip: string; http: string }> {
  const md = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, { sip: string; http: string }>();
  for (const line of md.split('\n')) {
    const m = /^\| ([A-Z0-9_]+) \|[^|]*\| *(\d*) *\| *(\d*) *\|$/.exec(line);
    if (m) rows.set(m[1]!, { sip: m[2]!, http: m[3]! });
  }
  return rows;
}

describe('error registry', () => {
  it('docs/errors.md lists exactly the registered codes with the same SIP and HTTP statuses', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, raw] of Object.entries(ERROR_CODES)) {
      const spec: ErrorSpec = raw;
      expect(rows.get(code), code).toEqual({ sip: spec.sipStatus?.toString() ?? '', http: spec.httpStatus?.toString() ?? '' });
    }
  });

  it('AppError carries the code, statuses and detail', () => {
    const err = new AppError('ENGINE_NO_DIALOG', 'abc;from-tag=x');
    expect(err.code).toBe('ENGINE_NO_DIALOG');
    expect(err.sipStatus).toBe(481);
    expect(err.message).toBe('unable to find dialog for dialog id provided: abc;from-tag=x');
  });
});
