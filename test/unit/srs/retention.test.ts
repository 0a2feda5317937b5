/**
 * Retention of the reference recording server (R-08: free plan 30 days, paid without limit):
 * src/srs/retention.ts over a temporary recordings directory, driven by a fake clock.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../support/capture-logger.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { RecordingRetention, configRetention, planRetention } from '../../../src/srs/retention.js';
import { until } from '../../support/wait.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 30, 12, 0, 0);
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'siprec');

let root = '';

/** Writes the files the reference server leaves for a finished recording started `ageDays` before NOW. */
function writeRecording(id: string, ageDays: number, orgId: string | undefined, opts: { summary?: boolean; journal?: boolean } = {}): string {
  const startedAt = NOW - ageDays * DAY;
  const dir = join(root, new Date(startedAt).toISOString().slice(0, 10));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id}.wav`), Buffer.alloc(44));
  writeFileSync(join(dir, `${id}.metadata.1.xml`), readFileSync(join(FIXTURES, 'metadata-initial.xml')));
  writeFileSync(join(dir, `${id}.metadata.2.xml`), readFileSync(join(FIXTURES, 'metadata-final.xml')));
  writeFileSync(join(dir, `${id}.metadata.xml`), readFileSync(join(FIXTURES, 'metadata-final.xml')));
  if (opts.summary !== false) {
    writeFileSync(join(dir, `${id}.json`), JSON.stringify({ recordingId: id, startedAt: new Date(startedAt).toISOString(), call: orgId === undefined ? undefined : { direction: 'inbound', tenant: orgId } }));
  }
  if (opts.journal) writeFileSync(join(dir, `${id}.open`), JSON.stringify({ recordingId: id, startedAtMs: startedAt }));
  return dir;
}

function filesOf(id: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.split('/').pop()!.startsWith(`${id}.`));
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'srs-retention-'));
});
afterEach(() => {
  chmodSync(root, 0o755);
  for (const d of existsSync(root) ? readdirSync(root) : []) chmodSync(join(root, d), 0o755);
  rmSync(root, { recursive: true, force: true });
});

describe('recording retention (R-08)', () => {
  it('MUST delete every file of a free-plan recording older than 30 days and keep younger ones and paid-plan ones (R-08)', async () => {
    const oldDir = writeRecording('old-free', 31, 'free-org');
    writeRecording('young-free', 29, 'free-org');
    writeRecording('old-paid', 400, 'paid-org');
    const clock = new FakeClock(NOW);
    const plans: Record<string, 'free' | 'paid'> = { 'free-org': 'free', 'paid-org': 'paid' };
    const { logger, lines } = captureLogger('info');
    const retention = new RecordingRetention({ recordingsDir: root, policy: planRetention(async (org) => plans[org], { days: 0, byOrg: {} }), clock, timers: clock, logger });
    const report = await retention.start();
    await retention.close();

    expect(report.deleted.map((d) => d.recordingId)).toEqual(['old-free']);
    expect(filesOf('old-free')).toEqual([]);
    expect(existsSync(oldDir), 'the emptied day folder is removed').toBe(false);
    expect(filesOf('young-free')).toHaveLength(5);
    expect(filesOf('old-paid')).toHaveLength(5);
    const line = lines.find((l) => l.msg === 'recording deleted: older than its retention');
    expect(line).toMatchObject({ level: 30, srsRecordingId: 'old-free', orgId: 'free-org', ageDays: 31, retentionDays: 30 });
  });

  it('MUST take the configured default for organisations without a plan, per-organisation overrides above it, and 0 = keep', async () => {
    writeRecording('a-10', 10, 'org-a');
    writeRecording('b-10', 10, 'org-b');
    writeRecording('c-100', 100, 'org-c');
    writeRecording('none-10', 10, undefined, { summary: false }); // organisation from its metadata (tenant 'acme')
    const clock = new FakeClock(NOW);
    const retention = new RecordingRetention({ recordingsDir: root, policy: configRetention({ days: 7, byOrg: { 'org-b': 30, 'org-c': 0 } }), clock, timers: clock });
    const report = await retention.runOnce();
    expect(report.deleted.map((d) => [d.recordingId, d.orgId, d.retentionDays])).toEqual([
      ['a-10', 'org-a', 7],
      ['none-10', 'acme', 7],
    ]);
    expect(filesOf('b-10')).toHaveLength(5);
    expect(filesOf('c-100')).toHaveLength(5);
  });

  it('MUST apply an override above the plan, and never touch a recording still being written', async () => {
    writeRecording('free-override', 40, 'free-org');
    writeRecording('active', 40, 'other-free', { journal: true });
    const clock = new FakeClock(NOW);
    const retention = new RecordingRetention({
      recordingsDir: root,
      policy: planRetention(async () => 'free', { days: 0, byOrg: { 'free-org': 60 } }),
      isActive: (id) => id === 'active',
      clock,
      timers: clock,
    });
    const report = await retention.runOnce();
    expect(report.deleted).toEqual([]);
    expect(filesOf('free-override')).toHaveLength(5);
    expect(filesOf('active')).toHaveLength(6);
  });

  it('MUST run at start and then every interval (default hourly), deleting what aged past its retention meanwhile', async () => {
    writeRecording('ages', 7 - 0.5 / 24, 'org'); // 30 min short of 7 days
    const clock = new FakeClock(NOW);
    const retention = new RecordingRetention({ recordingsDir: root, policy: configRetention({ days: 7, byOrg: {} }), clock, timers: clock });
    expect((await retention.start()).deleted).toEqual([]);
    expect(filesOf('ages')).toHaveLength(5);
    clock.advance(29 * 60_000);
    await retention.runOnce(); // a run between the timer's: still 1 min short of 7 days
    expect(filesOf('ages')).toHaveLength(5);
    clock.advance(31 * 60_000); // the hourly run fires
    await until(() => filesOf('ages').length === 0, 'the timed run to delete the recording', 5000, 10); // the timer's run, not ours
    expect(filesOf('ages')).toEqual([]);
    expect(retention.deletedRecordings).toBe(1);
    await retention.close();
    expect(clock.pending, 'close() stops the timer').toBe(0);
  });

  it('MUST count and log at warn a file it cannot delete, keep the recording listed, and retry on the next run', async () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions: make the deletion fail another way (a directory where a file is expected)
      const dir = writeRecording('stuck', 40, 'org');
      rmSync(join(dir, 'stuck.wav'));
      mkdirSync(join(dir, 'stuck.wav'));
      writeFileSync(join(dir, 'stuck.wav', 'inner'), 'x');
    } else {
      const dir = writeRecording('stuck', 40, 'org');
      chmodSync(dir, 0o555);
    }
    const clock = new FakeClock(NOW);
    const { logger, lines } = captureLogger();
    const retention = new RecordingRetention({ recordingsDir: root, policy: configRetention({ days: 30, byOrg: {} }), clock, timers: clock, logger });
    const report = await retention.runOnce();
    expect(report.deleted).toEqual([]);
    expect(report.failed).toBeGreaterThan(0);
    expect(retention.failedDeletions).toBe(report.failed);
    expect(filesOf('stuck').some((f) => f.endsWith('stuck.json')), 'the summary stays so the next run retries').toBe(true);
    const warn = lines.find((l) => l.msg === 'retention: could not delete a recording file');
    expect(warn).toMatchObject({ level: 40, srsRecordingId: 'stuck' });
  });
});
