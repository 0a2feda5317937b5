/**
 * The recordings read API over real HTTP (docs/admin-api.md "Recordings"): the standalone recording
 * server's own port (src/admin/recordings-server.ts, bearer token) and the admin API's plugin for the
 * in-process server. Recordings are written with the server's own RecordingStore into a temporary
 * directory. Ports: 43500-43599.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../../src/admin/admin-server.js';
import { openSqliteRepository, type SqlitePolicyRepository } from '../../../src/policy/store/sqlite-repository.js';
import { recordingsPlugin } from '../../../src/admin/plugins/recordings-plugin.js';
import { RecordingStore } from '../../../src/srs/recording-store.js';
import { startRecordingsHttpServer, type RecordingsHttpServer } from '../../../src/admin/recordings-server.js';
import { portBlock } from '../../support/ports.js';

const ports = portBlock({ from: 43500, to: 43999 }, 0, 100);
const TOKEN = 'recordings-token-0123';
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'siprec');
const DOC1 = readFileSync(join(FIXTURES, 'metadata-initial.xml'), 'utf8');
const DOC2 = readFileSync(join(FIXTURES, 'metadata-final.xml'), 'utf8');

let dir = '';
let standalone: RecordingsHttpServer;
let admin: AdminServer;
let adminUrl = '';
let repo: SqlitePolicyRepository;
/** The WAV bytes of recording r-acme-1 (a header and a counting pattern). */
let wavBytes: Buffer;

async function writeRecording(id: string, startedAt: string, org: string, userAor: string, wav: Buffer, finished = true): Promise<void> {
  const store = new RecordingStore(dir);
  const files = await store.create(id, Date.parse(startedAt));
  await files.markOpen({ callId: `call-${id}`, sampleRate: 8000, channels: 2 });
  await files.appendMetadata(DOC1);
  await files.appendMetadata(DOC2);
  writeFileSync(files.wavPath, wav);
  if (!finished) return;
  await files.writeSummary({
    recordingId: id,
    callId: `call-${id}`,
    startedAt,
    stoppedAt: new Date(Date.parse(startedAt) + 60_000).toISOString(),
    durationMs: 60_000,
    endReason: 'bye-from-src',
    call: { direction: 'inbound', tenant: org },
    participants: [
      { id: 'p1', aor: 'sip:+15550001000@carrier.example', name: undefined },
      { id: 'p2', aor: userAor, name: 'User' },
    ],
    streams: [
      { label: '1', srtp: true, packets: 10 },
      { label: '2', srtp: true, packets: 10 },
    ],
    metadataDocuments: 2,
    wav: { file: `${id}.wav`, frames: 100, durationMs: 12, channels: 2, sampleRate: 8000 },
  });
}

/** A GET with the path sent exactly as written (fetch would resolve '..' and '%2e%2e' segments first). */
function rawGet(base: string, path: string): Promise<{ status: number; contentType: string | undefined }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'recordings-api-'));
  wavBytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  await writeRecording('r-acme-1', '2025-03-04T10:00:00.000Z', 'acme', 'sip:alice@pbx.acme.example', wavBytes);
  await writeRecording('r-acme-2', '2025-03-05T09:00:00.000Z', 'acme', 'sip:bob@pbx.acme.example', Buffer.alloc(44));
  await writeRecording('r-other-1', '2025-03-05T11:00:00.000Z', 'other', 'sip:alice@pbx.other.example', Buffer.alloc(44));
  await writeRecording('r-open', '2025-03-05T12:00:00.000Z', 'acme', 'sip:carol@pbx.acme.example', Buffer.alloc(44), false);
  standalone = await startRecordingsHttpServer({ recordingsDir: dir, host: '127.0.0.1', port: ports.next(), token: TOKEN });
  repo = openSqliteRepository({ path: join(dir, 'settings.db') });
  admin = await createAdminServer({ repository: repo, host: '127.0.0.1', port: ports.next(), token: TOKEN, extraPlugins: [recordingsPlugin(dir)] });
  adminUrl = (await admin.listen()).url;
});

afterAll(async () => {
  await standalone?.close();
  await admin?.close();
  await repo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['standalone recording server', () => standalone.url],
  ['admin API (in-process recording server)', () => adminUrl],
])('recordings read API: %s', (_name, base) => {
  it('MUST refuse requests without the bearer token (401), like every admin route', async () => {
    const res = await fetch(`${base()}/v1/recordings`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ADMIN_UNAUTHORIZED');
  });

  it('MUST list finished recordings newest first, by organisation, user and time range, with paging', async () => {
    const all = (await (await get(base(), '/v1/recordings')).json()) as { total: number; recordings: Array<{ recordingId: string; orgId: string; srtp: boolean }> };
    expect(all.recordings.map((r) => r.recordingId), 'an open recording (no summary yet) is not listed').toEqual(['r-other-1', 'r-acme-2', 'r-acme-1']);
    expect(all.total).toBe(3);
    expect(all.recordings[0]).toMatchObject({ orgId: 'other', srtp: true, direction: 'inbound', durationMs: 60_000, metadataDocuments: 2 });

    const acme = (await (await get(base(), '/v1/recordings?org=acme')).json()) as { recordings: Array<{ recordingId: string }> };
    expect(acme.recordings.map((r) => r.recordingId)).toEqual(['r-acme-2', 'r-acme-1']);
    const alice = (await (await get(base(), '/v1/recordings?user=alice')).json()) as { recordings: Array<{ recordingId: string }> };
    expect(alice.recordings.map((r) => r.recordingId)).toEqual(['r-other-1', 'r-acme-1']);
    const aliceAor = (await (await get(base(), `/v1/recordings?user=${encodeURIComponent('sip:alice@pbx.acme.example')}`)).json()) as { recordings: Array<{ recordingId: string }> };
    expect(aliceAor.recordings.map((r) => r.recordingId)).toEqual(['r-acme-1']);
    const range = (await (await get(base(), '/v1/recordings?from=2025-03-05T00:00:00Z&to=2025-03-05T10:00:00Z')).json()) as { recordings: Array<{ recordingId: string }> };
    expect(range.recordings.map((r) => r.recordingId)).toEqual(['r-acme-2']);
    const page = (await (await get(base(), '/v1/recordings?limit=1&offset=1')).json()) as { total: number; recordings: Array<{ recordingId: string }> };
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.recordings.map((r) => r.recordingId)).toEqual(['r-acme-2']);
  });

  it('MUST refuse a bad query with 400 RECORDING_QUERY_INVALID', async () => {
    for (const q of ['from=yesterday', 'limit=0', 'limit=1001', 'offset=-1']) {
      const res = await get(base(), `/v1/recordings?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, q).toBe('RECORDING_QUERY_INVALID');
    }
  });

  it('MUST return one summary, and 404 for an unknown or still open recording', async () => {
    const res = await get(base(), '/v1/recordings/r-acme-1');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ recordingId: 'r-acme-1', call: { tenant: 'acme' }, metadataDocuments: 2 });
    for (const id of ['no-such-recording', 'r-open']) {
      const missing = await get(base(), `/v1/recordings/${id}`);
      expect(missing.status, id).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('RECORDING_NOT_FOUND');
    }
  });

  it('MUST refuse path traversal and bad ids with 400 (or 404 for a path that is no route)', async () => {
    for (const id of ['..', '%2e%2e', '..%2F..%2Fetc%2Fpasswd', '.hidden', 'a%2Fb', 'r-acme-1%00', 'a%20b', '-dash']) {
      for (const suffix of ['', '/metadata', '/audio']) {
        const res = await rawGet(base(), `/v1/recordings/${id}${suffix}`);
        expect(res.status, `${id}${suffix}`).toBe(400);
      }
    }
    for (const path of ['/v1/recordings/../../settings.db', '/v1/recordings/r-acme-1/../../settings.db', '/v1/recordings/r-acme-1/metadata/..%2F..%2Fsettings.db']) {
      const outside = await rawGet(base(), path);
      expect([400, 404], path).toContain(outside.status);
      expect(outside.contentType, path).toMatch(/^application\/json/);
    }
  });

  it('MUST return the metadata history: every document received, in order, and each one as application/xml', async () => {
    const res = await get(base(), '/v1/recordings/r-acme-1/metadata');
    const body = (await res.json()) as { documents: Array<{ index: number; xml: string }> };
    expect(body.documents.map((d) => d.index)).toEqual([1, 2]);
    expect(body.documents[0]!.xml).toBe(DOC1);
    expect(body.documents[1]!.xml).toBe(DOC2);
    const second = await get(base(), '/v1/recordings/r-acme-1/metadata/2');
    expect(second.status).toBe(200);
    expect(second.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(await second.text()).toBe(DOC2);
    expect((await get(base(), '/v1/recordings/r-acme-1/metadata/3')).status).toBe(404);
    expect((await get(base(), '/v1/recordings/r-acme-1/metadata/x')).status).toBe(400);
  });

  it('MUST serve the WAV with Content-Type audio/wav, its Content-Length, and Accept-Ranges', async () => {
    const res = await get(base(), '/v1/recordings/r-acme-1/audio');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('content-length')).toBe(String(wavBytes.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer()).equals(wavBytes)).toBe(true);
  });

  it('MUST answer a byte range with 206 and Content-Range (RFC 9110 section 14), for seeking', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=100-199', 100, 199],
      ['bytes=990-', 990, 999],
      ['bytes=-10', 990, 999],
      ['bytes=995-5000', 995, 999],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(base(), '/v1/recordings/r-acme-1/audio', { range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${wavBytes.length}`);
      expect(res.headers.get('content-length'), range).toBe(String(end - start + 1));
      expect(Buffer.from(await res.arrayBuffer()).equals(wavBytes.subarray(start, end + 1)), range).toBe(true);
    }
    const past = await get(base(), '/v1/recordings/r-acme-1/audio', { range: 'bytes=1000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${wavBytes.length}`);
    expect(((await past.json()) as { error: { code: string } }).error.code).toBe('RECORDING_RANGE_NOT_SATISFIABLE');
    const several = await get(base(), '/v1/recordings/r-acme-1/audio', { range: 'bytes=0-1,5-6' });
    expect(several.status, 'several ranges: the whole file').toBe(200);
    expect((await several.arrayBuffer()).byteLength).toBe(wavBytes.length);
  });
});
