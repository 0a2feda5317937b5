import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { openRecordingEventLog, type RecordingEventLog } from '../../../src/observability/recording-events.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeWebhookServer } from '../../fakes/fake-webhook-server.js';
import { until } from '../../support/wait.js';

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('recording event log', () => {
  const open: RecordingEventLog[] = [];
  const servers: FakeWebhookServer[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const track = (log: RecordingEventLog): RecordingEventLog => (open.push(log), log);
  const server = async (): Promise<FakeWebhookServer> => {
    const s = await FakeWebhookServer.start();
    servers.push(s);
    return s;
  };

  describe('JSON lines file', () => {
    it('appends one JSON line per event with seq, time, event, call id, recording id and reason, creating the directory', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'events-'));
      const file = join(dir, 'sub', 'recording-events.jsonl');
      const clock = new FakeClock(Date.UTC(2025, 0, 2, 3, 4, 5));
      const log = await openRecordingEventLog({ file, clock, timers: clock });
      log.record({ event: 'started', callId: 'call-1', siprecSessionId: 'rec-1', detail: { srs: 'sip:srs@127.0.0.1' } });
      clock.advance(1500);
      log.record({ event: 'paused', callId: 'call-1', siprecSessionId: 'rec-1', reason: 'feature-code' });
      log.record({ event: 'resumed', callId: 'call-1', siprecSessionId: 'rec-1', at: Date.UTC(2025, 0, 2, 3, 4, 9) });
      log.record({ event: 'stopped', callId: 'call-1', siprecSessionId: 'rec-1', reason: 'call-ended' });
      log.record({ event: 'failed', callId: 'call-2', reason: 'srs-unavailable' });
      await log.close();
      expect(lines(file)).toEqual([
        { seq: 1, time: '2025-01-02T03:04:05.000Z', event: 'started', callId: 'call-1', siprecSessionId: 'rec-1', detail: { srs: 'sip:srs@127.0.0.1' } },
        { seq: 2, time: '2025-01-02T03:04:06.500Z', event: 'paused', callId: 'call-1', siprecSessionId: 'rec-1', reason: 'feature-code' },
        { seq: 3, time: '2025-01-02T03:04:09.000Z', event: 'resumed', callId: 'call-1', siprecSessionId: 'rec-1' },
        { seq: 4, time: '2025-01-02T03:04:06.500Z', event: 'stopped', callId: 'call-1', siprecSessionId: 'rec-1', reason: 'call-ended' },
        { seq: 5, time: '2025-01-02T03:04:06.500Z', event: 'failed', callId: 'call-2', reason: 'srs-unavailable' },
      ]);
      expect(log.stats()).toMatchObject({ recorded: 5, fileWritten: 5, fileDropped: 0 });
    });

    it('appends to an existing file and ignores record() after close', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'events-')), 'events.jsonl');
      writeFileSync(file, '{"seq":1,"event":"started","callId":"old"}\n');
      const log = await openRecordingEventLog({ file });
      log.record({ event: 'stopped', callId: 'new', reason: 'call-ended' });
      await log.close();
      log.record({ event: 'started', callId: 'late' });
      await log.close();
      expect(lines(file).map((l) => l.callId)).toEqual(['old', 'new']);
    });

    it('refuses to start with EVENT_LOG_UNAVAILABLE when the file cannot be opened', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'events-'));
      const err = await openRecordingEventLog({ file: dir }).catch((e: unknown) => e);
      expect(isAppError(err, 'EVENT_LOG_UNAVAILABLE')).toBe(true);
    });

    it('drops and counts entries instead of buffering without bound when the file write buffer is full', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'events-')), 'events.jsonl');
      const log = await openRecordingEventLog({ file, fileBufferBytes: 0 });
      for (let i = 0; i < 50; i++) log.record({ event: 'started', callId: `c${i}` });
      await log.close();
      const s = log.stats();
      expect(s.fileDropped).toBeGreaterThan(0);
      expect(s.fileWritten + s.fileDropped).toBe(50);
      expect(lines(file)).toHaveLength(s.fileWritten);
    });
  });

  describe('webhook', () => {
    it('POSTs events as JSON batches with the bearer token', async () => {
      const hook = await server();
      const log = track(await openRecordingEventLog({ webhook: { url: hook.url, token: 'hook-secret' } }));
      log.record({ event: 'started', callId: 'c1', siprecSessionId: 'r1' });
      await hook.waitForRequests(1);
      const req = hook.requests[0]!;
      expect(req.headers.authorization).toBe('Bearer hook-secret');
      expect(req.headers['content-type']).toBe('application/json');
      expect(hook.events()).toMatchObject([{ seq: 1, event: 'started', callId: 'c1', siprecSessionId: 'r1' }]);
      await until(() => log.stats().webhookDelivered === 1, '1 webhook delivery', 3000, 5);
    });

    it('retries a failed POST with exponential back-off until it is accepted, in order', async () => {
      const hook = await server();
      hook.statuses = [503, 500];
      const log = track(await openRecordingEventLog({ webhook: { url: hook.url, backoffMs: 40, maxAttempts: 5 } }));
      log.record({ event: 'started', callId: 'c1' });
      log.record({ event: 'stopped', callId: 'c1', reason: 'call-ended' });
      await hook.waitForRequests(3);
      await until(() => log.stats().webhookDelivered === 2, '2 webhook deliveries', 3000, 5);
      const [first, second, third] = hook.requests;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(35);
      expect(third!.at - second!.at).toBeGreaterThanOrEqual(75);
      expect(hook.requests.map((r) => JSON.parse(r.body).events.map((e: { seq: number }) => e.seq))).toEqual([[1], [1, 2], [1, 2]]); // the retried batch takes along what queued meanwhile
      expect(log.stats()).toMatchObject({ webhookRetries: 2, webhookFailed: 0, webhookQueued: 0 });
    });

    it('gives up on a batch after maxAttempts, and at once on a 4xx, counting the events as failed', async () => {
      const hook = await server();
      hook.statuses = [500, 500, 400];
      const log = track(await openRecordingEventLog({ webhook: { url: hook.url, backoffMs: 5, maxAttempts: 2, batchSize: 1 } }));
      log.record({ event: 'started', callId: 'c1' });
      log.record({ event: 'failed', callId: 'c2', reason: 'srs-lost' });
      log.record({ event: 'paused', callId: 'c3' });
      await until(() => log.stats().webhookDelivered === 1, '1 webhook delivery', 3000, 5);
      expect(hook.requests).toHaveLength(4); // c1 twice, c2 once (400), c3 once
      expect(log.stats()).toMatchObject({ webhookFailed: 2, webhookRetries: 1, webhookDelivered: 1 });
      expect(hook.events().at(-1)).toMatchObject({ callId: 'c3' });
    });

    it('never blocks a call: a full queue drops its oldest events and counts them', async () => {
      const hook = await server();
      hook.hold = true;
      const log = track(await openRecordingEventLog({ webhook: { url: hook.url, queueSize: 3, batchSize: 1 } }));
      log.record({ event: 'started', callId: 'c1' });
      await hook.waitForRequests(1); // seq 1 in flight, held by the server
      for (let i = 2; i <= 7; i++) log.record({ event: 'started', callId: `c${i}` });
      expect(log.stats()).toMatchObject({ webhookQueued: 3, webhookDropped: 3 });
      hook.release();
      await until(() => log.stats().webhookDelivered === 4, '4 webhook deliveries', 3000, 5);
      expect(hook.events().map((e) => e.seq)).toEqual([1, 5, 6, 7]);
    });

    it('keeps retrying an unreachable webhook without throwing, then counts the batch as failed', async () => {
      const gone = await FakeWebhookServer.start();
      const url = gone.url;
      await gone.close();
      const log = track(await openRecordingEventLog({ webhook: { url, backoffMs: 5, maxAttempts: 3, timeoutMs: 500 } }));
      expect(() => log.record({ event: 'started', callId: 'c1' })).not.toThrow();
      await until(() => log.stats().webhookFailed === 1, '1 failed webhook delivery', 3000, 5);
      expect(log.stats()).toMatchObject({ webhookRetries: 2, webhookDelivered: 0 });
    });

    it('delivers what is still queued on close, then counts later events as dropped', async () => {
      const hook = await server();
      hook.statuses = [503];
      const log = await openRecordingEventLog({ webhook: { url: hook.url, backoffMs: 60_000 } });
      log.record({ event: 'started', callId: 'c1' });
      await hook.waitForRequests(1);
      await until(() => log.stats().webhookRetries === 1, '1 webhook retry', 3000, 5); // now waiting 60 s to retry
      log.record({ event: 'stopped', callId: 'c1', reason: 'call-ended' });
      await log.close();
      expect(log.stats()).toMatchObject({ webhookDelivered: 2, webhookQueued: 0, webhookDropped: 0 });
      expect(hook.events().slice(1).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('writes the file and the webhook from the same record() call', async () => {
      const hook = await server();
      const file = join(mkdtempSync(join(tmpdir(), 'events-')), 'events.jsonl');
      const log = await openRecordingEventLog({ file, webhook: { url: hook.url } });
      log.record({ event: 'failed', callId: 'c9', reason: 'srs-unavailable' });
      await log.close();
      expect(lines(file)).toEqual(hook.events());
    });
  });
});
