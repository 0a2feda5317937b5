/**
 * The recordings list names whom each recording is for (recording-catalog.ts listRecordings): the
 * sender of stream label 2 and the recording mode the product wrote (`<b2b:call
 * recordingMode>`, R-17), with the call's SIP Call-IDs, so the two recordings of a call with two
 * recorded users tell apart in the console.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRecordings } from '../../../src/srs/recording-catalog.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recording-catalog-party-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function write(id: string, startedAt: string, recorded: 'p1' | 'p2' | null, mode: string | undefined): Promise<void> {
  const files = await new RecordingStore(dir).create(id, Date.parse(startedAt));
  await files.markOpen({ callId: `siprec-${id}`, sampleRate: 8000, channels: 2 });
  const other = recorded === 'p1' ? 'p2' : 'p1';
  await files.writeSummary({
    recordingId: id,
    callId: `siprec-${id}`,
    sipSessionIds: ['call-1@pbx'],
    startedAt,
    durationMs: 1000,
    call: { direction: 'internal', ...(mode ? { recordingMode: mode } : {}) },
    participants: [
      { id: 'p1', aor: 'sip:alice@pbx', name: 'Alice' },
      { id: 'p2', aor: 'sip:bob@pbx' },
    ],
    streams: [
      { label: '1', senders: recorded ? [other] : [], srtp: false, packets: 1 },
      { label: '2', senders: recorded ? [recorded] : [], srtp: false, packets: 1 },
    ],
    metadataDocuments: 1,
  });
}

describe('recordings list: the recorded party of each recording', () => {
  it('MUST name the sender of label 2 and the mode of each recording of a call, sharing its SIP Call-IDs', async () => {
    await write('rec-alice', '2026-01-02T10:00:00.000Z', 'p1', 'alwaysWithPauseResume');
    await write('rec-bob', '2026-01-02T10:00:01.000Z', 'p2', 'always');
    const { recordings } = await listRecordings(dir, {});
    expect(recordings.map((r) => [r.recordingId, r.recordedParty, r.mode, r.sipSessionIds])).toEqual([
      ['rec-bob', { aor: 'sip:bob@pbx', name: undefined }, 'always', ['call-1@pbx']],
      ['rec-alice', { aor: 'sip:alice@pbx', name: 'Alice' }, 'alwaysWithPauseResume', ['call-1@pbx']],
    ]);
  });

  it('MUST leave the recorded party undefined when no participant sends label 2', async () => {
    await write('rec-x', '2026-01-02T10:00:00.000Z', null, undefined);
    const { recordings } = await listRecordings(dir, {});
    expect([recordings[0]!.recordedParty, recordings[0]!.mode]).toEqual([undefined, undefined]);
  });
});
