import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findUnknownKeys, nearestKey } from '../../../src/common/unknown-keys.js';
import { DEFAULT_CONFIG, loadConfig } from '../../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'cfg-errors-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const startError = (env: Record<string, string>): Error => {
  try {
    loadConfig(env);
  } catch (err) {
    return err as Error;
  }
  throw new Error('loadConfig accepted the configuration');
};

describe('config file: unknown keys and syntax errors refuse the start (issue 13 item 6)', () => {
  it('MUST refuse a misspelt key, naming its path and the nearest known key', () => {
    const path = file('typo.yaml', 'calls:\n  maxConcurentCalls: 3\n');
    const err = startError({ CONFIG_FILE: path });
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(err.message).toBe(`invalid configuration: ${path}: calls.maxConcurentCalls: unknown key; did you mean calls.maxConcurrentCalls?`);
  });

  it('MUST refuse an unknown section and list every unknown key of the file in the one error', () => {
    const path = file('many.json', JSON.stringify({ admn: { port: 1 }, media: { portMin: 40000, adress: '127.0.0.1' }, srs: { recordingDir: 'x' } }));
    const err = startError({ CONFIG_FILE: path });
    expect(err.message).toContain('admn: unknown key; did you mean admin?');
    expect(err.message).toContain('media.adress: unknown key; did you mean media.address?');
    expect(err.message).toContain('srs.recordingDir: unknown key; did you mean srs.recordingsDir?');
  });

  it('MUST refuse a section that is not a mapping', () => {
    expect(startError({ CONFIG_FILE: file('scalar.yaml', 'calls: 5\n') }).message).toContain('calls: must be a mapping');
  });

  it('accepts every key of DEFAULT_CONFIG (so a new setting is known as soon as it has a default) and free-form maps such as calls.trunkTargets', () => {
    const everyKey = Object.fromEntries(Object.entries(DEFAULT_CONFIG).map(([section, values]) => [section, { ...values }]));
    expect(() => loadConfig({ CONFIG_FILE: file('all.json', JSON.stringify(everyKey)) })).not.toThrow();
    const maps = loadConfig({ CONFIG_FILE: file('maps.yaml', 'calls:\n  trunkTargets: { anyTrunkName: "10.0.0.1:5060" }\nmedia:\n  latchingByTrunk: { carrier: sdp }\n') });
    expect(maps.calls.trunkTargets).toEqual({ anyTrunkName: '10.0.0.1:5060' });
  });

  it('ignores unknown environment variables by design (they are not keys)', () => {
    expect(loadConfig({ CALLS_MAX_CONCURENT: '3' }).calls.maxConcurrentCalls).toBe(0);
  });

  it('MUST report a YAML syntax error as one line with its line and column', () => {
    const path = file('syntax.yaml', 'log:\n  level: info\ncalls:\n  open: true\n  open: false\n');
    const err = startError({ CONFIG_FILE: path });
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(err.message).toBe(`invalid configuration: ${path} line 5, column 3: Map keys must be unique`);
  });

  it('MUST report a JSON syntax error as one line with its line and column', () => {
    const path = file('syntax.json', '{\n  "calls": {\n    "open": true,\n  }\n}\n');
    const err = startError({ CONFIG_FILE: path });
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(new RegExp(`^invalid configuration: ${path} line 4, column 3: `));
  });
});

describe('unknown keys: nearest key (Levenshtein over the keys of the same level)', () => {
  it('suggests the closest key, case-insensitively', () => {
    expect(nearestKey('maxConcurentCalls', Object.keys(DEFAULT_CONFIG.calls))).toBe('maxConcurrentCalls');
    expect(nearestKey('DRAINSECONDS', Object.keys(DEFAULT_CONFIG.calls))).toBe('drainSeconds');
    expect(nearestKey('x', [])).toBeUndefined();
  });

  it('walks lists of mappings and names the item in the path', () => {
    const shape = { items: [{ name: 'value', port: 'value' }] } as const;
    expect(findUnknownKeys({ items: [{ name: 'a' }, { nmae: 'b' }] }, shape)).toEqual(['items[1].nmae: unknown key; did you mean items[1].name?']);
    expect(findUnknownKeys({ items: { name: 'a' } }, shape)).toEqual(['items: must be a list']);
  });
});
