/** RecordingStore.locate: the file names of a recording by its id, for the call's recording link (docs/siprec.md "Recording id header"). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingStore } from '../../../src/srs/recording-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('RecordingStore.locate', () => {
  it('MUST name the WAV, summary and metadata files of a recording it created, the metadata history as it grows, in its day folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'store-locate-'));
    dirs.push(root);
    const store = new RecordingStore(root);
    expect(store.locate('rec-1')).toBeUndefined();
    const startedAt = Date.UTC(2025, 2, 1, 10, 0, 0);
    const files = await store.create('rec-1', startedAt);
    expect(store.locate('rec-1')).toEqual({ dir: join(root, '2025-03-01'), wav: 'rec-1.wav', summary: 'rec-1.json', metadata: 'rec-1.metadata.xml', metadataHistory: [] });
    await files.appendMetadata('<recording/>');
    await files.appendMetadata('<recording/>');
    const located = store.locate('rec-1')!;
    expect(located.metadataHistory).toEqual(['rec-1.metadata.1.xml', 'rec-1.metadata.2.xml']);
    for (const name of [located.metadata, ...located.metadataHistory]) expect(existsSync(join(located.dir, name)), name).toBe(true);
    await files.writeSummary({ recordingId: 'rec-1' });
    expect(existsSync(join(located.dir, located.summary))).toBe(true);
    expect(store.locate('rec-2'), 'a recording of another store or process is not known').toBeUndefined();
  });
});
