/**
 * media.forkBufferMs (MEDIA_FORK_BUFFER_MS): the audio each recording keeps from the answer until
 * the recording server answers (docs/media.md "Fork start buffer"): default, environment, file, validation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';

describe('media.forkBufferMs configuration', () => {
  it('MUST default to 3000 ms, and read MEDIA_FORK_BUFFER_MS (0 turns the buffer off)', () => {
    expect(loadConfig({}).media.forkBufferMs).toBe(3000);
    expect(loadConfig({ MEDIA_FORK_BUFFER_MS: '0' }).media.forkBufferMs).toBe(0);
    expect(loadConfig({ MEDIA_FORK_BUFFER_MS: '5000' }).media.forkBufferMs).toBe(5000);
  });

  it('MUST read media.forkBufferMs from the config file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fork-buffer-config-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'media:\n  forkBufferMs: 1500\n');
      expect(loadConfig({ CONFIG_FILE: file }).media.forkBufferMs).toBe(1500);
      expect(loadConfig({ CONFIG_FILE: file, MEDIA_FORK_BUFFER_MS: '200' }).media.forkBufferMs).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('MUST refuse a negative, fractional, non-numeric or over-60000 value', () => {
    for (const v of ['-1', '2.5', 'lots', '60001']) expect(() => loadConfig({ MEDIA_FORK_BUFFER_MS: v })).toThrow(/media\.forkBufferMs/);
    expect(loadConfig({ MEDIA_FORK_BUFFER_MS: '60000' }).media.forkBufferMs).toBe(60000);
  });
});
