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

  it("hands each step's files to its runner as one list: the day's folder, the journal, each metadata document with its copy as the latest, the summary with the journal's removal", async () => {
    const store = new RecordingStore(root);
    const lists: string[][] = [];
    store.runOps = async (ops) => {
      lists.push(ops.map((o) => ('path' in o ? `${o.op} ${o.path.split('/').pop()}` : `${o.op} ${o.from.split('/').pop()} ${o.to.split('/').pop()}`)));
    };
    const files = await store.create('rec-ops', Date.UTC(2025, 2, 6));
    await files.markOpen({ callId: 'c', sampleRate: 8000, channels: 2 });
    await files.appendMetadata('<a/>');
    await files.writeSummary({ ok: true });
    expect(lists).toEqual([
      ['mkdir 2025-03-06'],
      ['write rec-ops.open'],
      ['write rec-ops.metadata.1.xml', 'copy rec-ops.metadata.1.xml rec-ops.metadata.xml'],
      ['write rec-ops.json.tmp', 'rename rec-ops.json.tmp rec-ops.json', 'unlink rec-ops.open'],
    ]);
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
