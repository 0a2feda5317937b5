/**
 * GET /v1/recordings/{id}/events (docs/admin-api.md "Recordings"): the recording event log's entries
 * of one recording of the reference recording server, as the product's event log keeps them in
 * memory (src/observability/recording-events.ts historySize), for the console's timeline: the
 * server that answered after a failover (recording.srs.attempt), a lost link (failed 'srs-lost'),
 * the stop. Fastify inject, a temporary recordings directory, no socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../src/admin/admin-errors.js';
import { registerRecordingRoutes } from '../../../src/admin/plugins/recordings-plugin.js';
import { openRecordingEventLog, type RecordingEventLog } from '../../../src/observability/recording-events.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { silentLogger } from '../../../src/observability/logger.js';

let dir = '';
let app: FastifyInstance | undefined;
let log: RecordingEventLog | undefined;

async function writeRecording(id: string, siprecCallId: string): Promise<void> {
  const files = await new RecordingStore(dir).create(id, Date.parse('2026-01-02T10:00:00Z'));
  await files.markOpen({ callId: siprecCallId, sampleRate: 8000, channels: 2 });
  await files.writeSummary({ recordingId: id, callId: siprecCallId, startedAt: '2026-01-02T10:00:00.000Z', durationMs: 1000, participants: [], streams: [], metadataDocuments: 1 });
}

const link = (attempt: number, target: string) => ({ siprecSessionId: 's1', srs: { status: 200, target, attempt } });

async function serve(events: RecordingEventLog | undefined): Promise<FastifyInstance> {
  app = Fastify();
  installErrorHandling(app, silentLogger);
  await app.register(async (scope) => registerRecordingRoutes(scope, dir, events), { prefix: '/v1' });
  return app;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recording-events-route-'));
});

afterEach(async () => {
  await app?.close();
  await log?.close();
  app = undefined;
  log = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/recordings/{id}/events', () => {
  it('MUST answer the entries naming the recording (its srsRecordingId or SIPREC Call-ID), oldest first, with the failover attempt and a lost link; not those of other recordings', async () => {
    await writeRecording('rec-a', 'siprec-call-a');
    await writeRecording('rec-b', 'siprec-call-b');
    let now = Date.parse('2026-01-02T10:00:00Z');
    log = await openRecordingEventLog({ clock: { now: () => now, monotonic: () => now } });
    log.record({ event: 'started', callId: 'call-1', siprecSessionId: 's1', siprecCallId: 'siprec-call-a', srsRecordingId: 'rec-a', recording: link(1, 'sip:backup@192.0.2.2'), detail: { mode: 'always' } });
    now += 1000;
    log.record({ event: 'started', callId: 'call-2', siprecSessionId: 's2', siprecCallId: 'siprec-call-b', srsRecordingId: 'rec-b', recording: link(0, 'sip:main@192.0.2.1') });
    now += 1000;
    // an entry carrying only the dialog's Call-ID still belongs to rec-a
    log.record({ event: 'failed', callId: 'call-1', siprecSessionId: 's1', siprecCallId: 'siprec-call-a', reason: 'srs-lost' });
    const res = await (await serve(log)).inject({ method: 'GET', url: '/v1/recordings/rec-a/events' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { recordingId: string; kept: boolean; events: { event: string; reason?: string; time: string; recording?: { srs: { attempt: number; target: string } } }[] };
    expect(body.recordingId).toBe('rec-a');
    expect(body.kept).toBe(true);
    expect(body.events.map((e) => [e.event, e.reason ?? null, e.time])).toEqual([
      ['started', null, '2026-01-02T10:00:00.000Z'],
      ['failed', 'srs-lost', '2026-01-02T10:00:02.000Z'],
    ]);
    expect(body.events[0]!.recording!.srs).toMatchObject({ attempt: 1, target: 'sip:backup@192.0.2.2' });
  });

  it('MUST keep only the newest historySize entries in memory', async () => {
    await writeRecording('rec-a', 'siprec-call-a');
    log = await openRecordingEventLog({ historySize: 2 });
    for (const event of ['started', 'paused', 'resumed', 'stopped'] as const) log.record({ event, callId: 'call-1', srsRecordingId: 'rec-a' });
    const res = await (await serve(log)).inject({ method: 'GET', url: '/v1/recordings/rec-a/events' });
    expect((res.json() as { events: { event: string }[] }).events.map((e) => e.event)).toEqual(['resumed', 'stopped']);
  });

  it('MUST answer kept=false and no entries without the call layer (the standalone server), 404 RECORDING_NOT_FOUND for an unknown recording and 400 RECORDING_ID_INVALID for an unsafe id', async () => {
    await writeRecording('rec-a', 'siprec-call-a');
    const server = await serve(undefined);
    const res = await server.inject({ method: 'GET', url: '/v1/recordings/rec-a/events' });
    expect(res.json()).toEqual({ recordingId: 'rec-a', kept: false, events: [] });
    const unknown = await server.inject({ method: 'GET', url: '/v1/recordings/nope/events' });
    expect([unknown.statusCode, (unknown.json() as { error: { code: string } }).error.code]).toEqual([404, 'RECORDING_NOT_FOUND']);
    const unsafe = await server.inject({ method: 'GET', url: '/v1/recordings/.hidden/events' });
    expect([unsafe.statusCode, (unsafe.json() as { error: { code: string } }).error.code]).toEqual([400, 'RECORDING_ID_INVALID']);
  });
});
