import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { sleep } from '../../support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'srs-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('RecordingStore', () => {
  it('lays files out as <dir>/<UTC date>/<id>.* and keeps every metadata document in order', async () => {
    const store = new RecordingStore(root);
    const files = await store.create('rec-1', Date.UTC(2025, 2, 4, 23, 59, 59));
    expect(files.dir).toBe(join(root, '2025-03-04'));
    expect(files.wavPath).toBe(join(root, '2025-03-04', 'rec-1.wav'));
    // the latest document replaces a longer one whole
    const p1 = files.appendMetadata('<a>the first, longer document</a>');
    const p2 = files.appendMetadata('<b/>');
    expect(await p1).toBe(join(files.dir, 'rec-1.metadata.1.xml'));
    expect(await p2).toBe(join(files.dir, 'rec-1.metadata.2.xml'));
    expect(readFileSync(join(files.dir, 'rec-1.metadata.1.xml'), 'utf8')).toBe('<a>the first, longer document</a>');
    expect(readFileSync(join(files.dir, 'rec-1.metadata.xml'), 'utf8')).toBe('<b/>');
    expect(files.metadataCount).toBe(2);
    await files.writeSummary({ ok: true });
    expect(JSON.parse(readFileSync(files.summaryPath, 'utf8'))).toEqual({ ok: true });
  });

  it('writes the summary whole or not at all: a reader that sees the file name reads complete JSON (written beside it, then renamed)', async () => {
    const store = new RecordingStore(root);
    const files = await store.create('rec-2', Date.UTC(2025, 2, 5));
    const big = { streams: Array.from({ length: 5000 }, (_, i) => ({ label: String(i), packets: i })) };
    const seen: string[] = [];
    // read the summary each time the folder changes, while it is being written
    const watcher = watch(files.dir, (_event, name) => {
      if (name === 'rec-2.json' && existsSync(files.summaryPath)) seen.push(readFileSync(files.summaryPath, 'utf8'));
    });
    try {
      await files.writeSummary(big);
      await sleep(50);
    } finally {
      watcher.close();
    }
    for (const text of seen) expect(JSON.parse(text)).toEqual(big);
    expect(JSON.parse(readFileSync(files.summaryPath, 'utf8'))).toEqual(big);
    expect(readdirSync(files.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses recording ids that are not safe file names', async () => {
    const store = new RecordingStore(root);
    await expect(store.create('../evil', 0)).rejects.toThrow(RangeError);
    expect(existsSync(join(root, 'evil.wav'))).toBe(false);
  });
});
