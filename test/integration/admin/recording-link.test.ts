/**
 * A recorded call and its recording, linked: the product as `npm start` runs it (in-process
 * reference recording server), the SIPp pack's PSTN caller and user callee, and while the call is
 * in progress GET /v1/calls shows, per recording session, the SIPREC client's session id, the
 * SIPREC dialog's Call-ID, the recording server's answer, and the reference server's recording id
 * and file names (which exist on disk). The recording event log and the log lines carry the same
 * ids under the same names, and no log line of the product carries a key twice.
 *
 * Ports 45500-45999.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingLink } from '../../../src/call/recording-link.js';
import { duplicateJsonKeys } from '../../support/json-keys.js';
import { portBlock, sippPorts } from '../../support/ports.js';
import { makeTestAudio, ROOT, startDemoCall, startProductProcess, withTimeout, writeDemoProvisioning, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 45500, to: 45999 }, 0, 500);
const [sip, drachtio, admin, srs] = block.take(4) as [number, number, number, number];
block.take(block.base % 2 === 0 ? 0 : 1); // the RTP ranges start on even ports
const mediaMin = block.take(100)[0]!;
const srsRtpMin = block.take(40)[0]!;
const callee = sippPorts(block);
const carrier = sippPorts(block);
const P = { sip, drachtio, admin, mediaMin, mediaMax: mediaMin + 99, srs, srsRtpMin, srsRtpMax: srsRtpMin + 39 };

let dir = '';
let app: ProductProcess | undefined;
const logLines: string[] = [];

interface CallView {
  id: string;
  callId: string;
  recording: { state: string };
  recordings: RecordingLink[];
}

/** The keys of the "Log keys" table of docs/observability.md (first column, in backticks). */
function documentedLogKeys(): Set<string> {
  const doc = readFileSync(join(ROOT, 'docs', 'observability.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Log keys'));
  const table = section.slice(0, section.indexOf('\n## ', 5) > 0 ? section.indexOf('\n## ', 5) : undefined);
  const keys = new Set<string>();
  for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) for (const m of row.split('|')[1]!.matchAll(/`([^`]+)`/g)) keys.add(m[1]!);
  return keys;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function liveCalls(): Promise<CallView[]> {
  const res = await fetch(`http://127.0.0.1:${P.admin}/v1/calls`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as { calls: CallView[] }).calls : [];
}

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'recording-link-'));
  makeTestAudio(dir);
  const provisioningFile = writeDemoProvisioning(dir, { callee: callee.port, carrier: carrier.port, srs: P.srs });
  app = await startProductProcess({
    dir,
    ports: P,
    provisioningFile,
    logLevel: 'debug',
    readyTimeoutMs: 45_000, // tsx compiles the product first; slow on a busy machine
    env: { RECORDING_EVENTS_FILE: join(dir, 'events.jsonl') },
    onLine: (line) => {
      if (line.startsWith('{')) logLines.push(line);
    },
  });
}, 60_000);

afterAll(async () => {
  await app?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('calls and their recordings are linked (admin API, event log, log lines)', () => {
  it('a recorded call in progress shows its recording session, the SIPREC Call-ID, the server answer and the reference server files; the event log and the logs carry the same ids', async () => {
    const { callee: calleeRun, caller: callerRun } = await startDemoCall(dir, { sipPort: P.sip, callee, carrier, pauseMs: 5000 });

    // while the call runs: its recording link, complete once the recording server answered
    let call: CallView | undefined;
    for (let i = 0; i < 60 && !call; i++) {
      // the link is complete at the recording server's 200; the recording state follows once the fork runs
      call = (await liveCalls()).find((c) => c.recordings[0]?.srsRecordingId && c.recordings[0].files && c.recording.state === 'recording');
      if (!call) await sleep(200);
    }
    expect(call, 'GET /v1/calls showed the recording link while the call ran').toBeDefined();
    const link = call!.recordings[0]!;
    expect(call!.recordings).toHaveLength(1);
    expect(call!.recording.state, 'the existing field is kept').toBe('recording');
    expect(link.siprecSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(link.metadata.sessionId).toMatch(/^[A-Za-z0-9+/_-]{22,24}={0,2}$/);
    expect(link.metadata.groupId).not.toBe(link.metadata.sessionId);
    expect(link.state).toBe('active');
    expect(link.siprecCallId).toBeTruthy();
    expect(link.siprecCallId).not.toBe(call!.callId);
    expect(link.srs).toMatchObject({ status: 200, attempt: 0 });
    expect(link.srs!.target).toContain(`127.0.0.1:${P.srs}`);
    expect(link.srs!.contact).toContain(`:${P.srs}`);
    expect(link.srs!.streams.map((s) => [s.label, s.accepted])).toEqual([
      ['1', true],
      ['2', true],
    ]);
    for (const s of link.srs!.streams) {
      expect(s.port).toBeGreaterThanOrEqual(P.srsRtpMin);
      expect(s.port).toBeLessThanOrEqual(P.srsRtpMax);
      expect([0, 8]).toContain(s.payloadType);
    }
    const id = link.srsRecordingId!;
    const files = link.files!;
    expect(files).toMatchObject({ wav: `${id}.wav`, summary: `${id}.json`, metadata: `${id}.metadata.xml` });
    expect(files.dir.startsWith(join(dir, 'recordings'))).toBe(true);
    expect(files.metadataHistory[0]).toBe(`${id}.metadata.1.xml`);
    for (const name of [files.wav, files.metadata, ...files.metadataHistory]) expect(existsSync(join(files.dir, name)), name).toBe(true);
    // the per-call view shows the same link
    const one = (await (await fetch(`http://127.0.0.1:${P.admin}/v1/calls/${call!.id}`)).json()) as CallView;
    expect(one.recordings[0]).toMatchObject({ siprecSessionId: link.siprecSessionId, siprecCallId: link.siprecCallId, srsRecordingId: id });

    const c = await callerRun.done;
    expect(c.code, c.describe).toBe(0);
    const e = await withTimeout(calleeRun.done, 10_000, 'callee');
    expect(e.code, e.describe).toBe(0);

    // the summary the reference server wrote names the same recording and SIPREC dialog
    const summaryPath = join(files.dir, files.summary);
    let summary: { recordingId: string; callId: string } | undefined;
    for (let i = 0; i < 50 && !summary; i++) {
      summary = readJson(summaryPath); // undefined while it is missing or half written
      if (!summary) await sleep(100);
    }
    expect(summary).toMatchObject({ recordingId: id, callId: link.siprecCallId });

    // the recording event log: started and stopped carry the same ids and the link
    let events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50; i++) {
      const path = join(dir, 'events.jsonl');
      // complete lines only: the product may be writing the last one
      events = existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      if (events.some((ev) => ev.event === 'stopped')) break;
      await sleep(100);
    }
    const ids = { callId: call!.callId, siprecSessionId: link.siprecSessionId, siprecCallId: link.siprecCallId, srsRecordingId: id };
    expect(events.map((ev) => ev.event)).toEqual(['started', 'stopped']);
    for (const ev of events) {
      expect(ev).toMatchObject(ids);
      expect(ev.recording).toMatchObject({ siprecSessionId: link.siprecSessionId, files: { wav: files.wav, summary: files.summary }, srs: { status: 200 } });
    }

    // the log lines: one name per concept, each key once per line
    await sleep(300);
    expect(logLines.length).toBeGreaterThan(20);
    const parsed = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const duplicated = new Map<string, string>(); // key -> the first line that repeats it
    for (const line of logLines) for (const key of duplicateJsonKeys(line)) if (!duplicated.has(key)) duplicated.set(key, line.slice(0, 300));
    expect(Object.fromEntries(duplicated), 'keys written twice on one line').toEqual({});
    expect(parsed.filter((l) => 'recordingId' in l), 'no ambiguous recordingId key').toEqual([]);
    const documented = documentedLogKeys();
    const undocumented = [...new Set(parsed.flatMap((l) => Object.keys(l)))].filter((k) => !documented.has(k)).sort();
    expect(undocumented, 'every key of these log lines is in docs/observability.md "Log keys"').toEqual([]);
    const client = parsed.filter((l) => l.component === 'siprec-client');
    expect(client.length).toBeGreaterThan(0);
    for (const l of client) expect(l).toMatchObject({ callId: call!.callId, siprecSessionId: link.siprecSessionId });
    expect(parsed.some((l) => l.msg === 'recording session established' && l.siprecCallId === link.siprecCallId && l.srsRecordingId === id)).toBe(true);
    // the call's own line names the recording it forks to
    const forking = parsed.find((l) => l.msg === 'recording established: forking');
    expect(forking).toMatchObject({ component: 'calls', ...ids });
    const server = parsed.filter((l) => l.srsRecordingId === id && l.component === 'srs');
    expect(server.length, 'the reference server logs the recording by srsRecordingId').toBeGreaterThan(0);
    for (const l of server) expect(l.siprecCallId).toBe(link.siprecCallId);
  }, 45_000);
});
