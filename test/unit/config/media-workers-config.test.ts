/**
 * media.workers (MEDIA_WORKERS): media worker threads, one per core by default (docs/media.md "Shape").
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';

describe('media.workers configuration', () => {
  it('MUST default to one media worker per core, and read MEDIA_WORKERS', () => {
    expect(loadConfig({}).media.workers).toBe(availableParallelism());
    expect(loadConfig({ MEDIA_WORKERS: '1' }).media.workers).toBe(1);
    expect(loadConfig({ MEDIA_WORKERS: '6' }).media.workers).toBe(6);
  });

  it('MUST refuse 0 (media never runs on the signalling thread), a fraction, a word or more than 64', () => {
    for (const v of ['0', '-1', '1.5', 'many', '65']) expect(() => loadConfig({ MEDIA_WORKERS: v })).toThrow(/media\.workers/);
  });
});
