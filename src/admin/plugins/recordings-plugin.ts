import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors.js';
import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  findRecording,
  listRecordings,
  metadataHistory,
  readSummary,
  type RecordingQuery,
} from '../../srs/recording-catalog.js';
import type { RecordingEventHistory } from '../../observability/recording-event-types.js';
import type { AdminPlugin } from '../admin-options.js';
import { defineRoute } from '../admin-route.js';
import { errorResponseSchema } from '../admin-schemas.js';

/**
 * The recordings the reference recording server wrote (docs/admin-api.md "Recordings"), read only:
 *
 *   GET /v1/recordings?from&to&org&user&limit&offset   finished recordings, newest first
 *   GET /v1/recordings/{id}                            its summary (recording-summary.ts)
 *   GET /v1/recordings/{id}/metadata                   every metadata document received, in order
 *   GET /v1/recordings/{id}/metadata/{n}               document n (1 = the INVITE's), application/xml
 *   GET /v1/recordings/{id}/audio                      the 2-channel WAV, audio/wav; Range: bytes=...
 *                                                      answered 206 (RFC 9110 section 14), 416 outside
 *   GET /v1/recordings/{id}/events                     the recording event log's entries of the recording
 *                                                      (start with the server that answered and the
 *                                                      failover attempt, pauses, a lost link, stop) as
 *                                                      this process still holds them in memory
 *
 * Served by the admin API when the recording server runs in-process and by the standalone server
 * (src/admin/recordings-server.ts). A recording is listed once its summary is written (it has ended).
 * Ids that are not safe file names answer 400 RECORDING_ID_INVALID, unknown ones 404
 * RECORDING_NOT_FOUND: no id reaches outside its day folder.
 */

/** A parsed `Range` header: the byte span to send, or unsatisfiable (416); undefined = the whole file. */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One `bytes=` range (RFC 9110 section 14.1.2): `a-b`, `a-`, `-n`. A header that is not one valid
 * byte range (several ranges, another unit, bad syntax) is ignored: the whole file is sent (section 14.2).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (last < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

/** from / to: an ISO 8601 date or date-time, or epoch milliseconds. */
function timeParam(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new AppError('RECORDING_QUERY_INVALID', `${name}=${value} is not an ISO 8601 time or epoch ms`);
  return ms;
}

function intParam(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new AppError('RECORDING_QUERY_INVALID', `${name}=${value} must be a whole number ${min}..${max}`);
  return n;
}

export function recordingQuery(q: Record<string, string>): RecordingQuery {
  const query: RecordingQuery = {
    fromMs: timeParam('from', q.from),
    toMs: timeParam('to', q.to),
    orgId: q.org || undefined,
    user: q.user || undefined,
    limit: intParam('limit', q.limit, 1, MAX_LIST_LIMIT) ?? DEFAULT_LIST_LIMIT,
    offset: intParam('offset', q.offset, 0, Number.MAX_SAFE_INTEGER) ?? 0,
  };
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as RecordingQuery;
}

const idParams = (names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', minLength: 1, maxLength: 256 }])),
});

async function sendWav(recordingsDir: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { recordingId } = req.params as { recordingId: string };
  const rec = await findRecording(recordingsDir, recordingId);
  if (!rec.hasWav) throw new AppError('RECORDING_NOT_FOUND', `${recordingId}: no audio`);
  const path = join(rec.dir, `${rec.recordingId}.wav`);
  const size = (await stat(path)).size;
  const rangeHeader = req.headers.range;
  const range = parseByteRange(typeof rangeHeader === 'string' ? rangeHeader : undefined, size);
  reply.header('accept-ranges', 'bytes');
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    throw new AppError('RECORDING_RANGE_NOT_SATISFIABLE', `${rangeHeader} of ${size} bytes`);
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  reply.header('content-type', 'audio/wav');
  reply.header('content-length', String(Math.max(0, end - start + 1)));
  reply.header('content-disposition', `inline; filename="${rec.recordingId}.wav"`);
  if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
  else reply.code(200);
  if (size === 0) return reply.send('');
  return reply.send(createReadStream(path, { start, end }));
}

/**
 * Registers the routes on `app` (under whatever prefix the caller gives, /v1 for both servers).
 * `events`: the call layer's recording event log, when it runs in this process (the admin API of
 * the product); without it (the standalone server) /events answers `{ kept: false, events: [] }`.
 */
export function registerRecordingRoutes(app: FastifyInstance, recordingsDir: string, events?: RecordingEventHistory): void {
  const tags = ['recordings'];
  defineRoute(app, {
    method: 'GET',
    url: '/recordings',
    tags,
    summary: 'Finished recordings, newest first: ?from&to (ISO 8601 or epoch ms, start time in [from, to)), org, user, limit (default 100, max 1000), offset',
    handler: async ({ query }) => {
      const q = recordingQuery(query);
      const page = await listRecordings(recordingsDir, q);
      return { total: page.total, limit: q.limit, offset: q.offset, recordings: page.recordings };
    },
  });
  defineRoute(app, {
    method: 'GET',
    url: '/recordings/:recordingId',
    tags,
    summary: 'The summary of one recording',
    handler: async ({ params }) => {
      const rec = await findRecording(recordingsDir, params.recordingId!);
      const summary = await readSummary(rec);
      if (!summary) throw new AppError('RECORDING_NOT_FOUND', `${params.recordingId}: summary unreadable`);
      return summary;
    },
  });
  defineRoute(app, {
    method: 'GET',
    url: '/recordings/:recordingId/metadata',
    tags,
    summary: 'Every metadata document the recording server received for the recording, in order',
    handler: async ({ params }) => {
      const rec = await findRecording(recordingsDir, params.recordingId!);
      const documents = await Promise.all(
        metadataHistory(rec).map(async ({ index, file }) => ({ index, xml: await readFile(join(rec.dir, file), 'utf8') })),
      );
      return { recordingId: rec.recordingId, documents };
    },
  });
  defineRoute(app, {
    method: 'GET',
    url: '/recordings/:recordingId/events',
    tags,
    summary:
      'Recording event log entries of the recording, oldest first: the server that answered and its failover attempt, pauses, a lost link, the stop',
    handler: async ({ params }) => {
      const rec = await findRecording(recordingsDir, params.recordingId!);
      if (!events) return { recordingId: rec.recordingId, kept: false, events: [] };
      const summary = await readSummary(rec);
      return { recordingId: rec.recordingId, kept: true, events: events.eventsOf({ srsRecordingId: rec.recordingId, ...(summary ? { siprecCallId: summary.callId } : {}) }) };
    },
  });
  app.route({
    method: 'GET',
    url: '/recordings/:recordingId/metadata/:index',
    schema: { summary: 'One metadata document (1 = the first received), application/xml', tags, params: idParams(['recordingId', 'index']), response: { '4XX': errorResponseSchema } },
    handler: async (req, reply) => {
      const { recordingId, index } = req.params as { recordingId: string; index: string };
      if (!/^\d{1,6}$/.test(index)) throw new AppError('RECORDING_QUERY_INVALID', `metadata index ${JSON.stringify(index.slice(0, 20))}`);
      const rec = await findRecording(recordingsDir, recordingId);
      const doc = metadataHistory(rec).find((d) => d.index === Number(index));
      if (!doc) throw new AppError('RECORDING_NOT_FOUND', `${recordingId}: no metadata document ${index}`);
      return reply.type('application/xml; charset=utf-8').send(await readFile(join(rec.dir, doc.file), 'utf8'));
    },
  });
  app.route({
    method: 'GET',
    url: '/recordings/:recordingId/audio',
    schema: { summary: 'The 2-channel WAV (audio/wav); a single Range: bytes=... is answered 206', tags, params: idParams(['recordingId']), response: { '4XX': errorResponseSchema } },
    handler: (req, reply) => sendWav(recordingsDir, req, reply),
  });
}

/** The admin API plugin of the in-process recording server's recordings; `events`: the product's recording event log. */
export function recordingsPlugin(recordingsDir: string, events?: RecordingEventHistory): AdminPlugin {
  return {
    name: 'recordings',
    register(app) {
      registerRecordingRoutes(app, recordingsDir, events);
    },
  };
}
