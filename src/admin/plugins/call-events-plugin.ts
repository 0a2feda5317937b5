import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { CallSummary } from '../../call/call-session.js';
import { AppError } from '../../common/errors.js';
import type { AdminPlugin } from '../admin-options.js';

/** What the feed needs of the call layer (CallManager: list() and its `changes` emitter). */
export interface CallFeedSource {
  /** With several nodes (cluster-calls.ts) a read of the shared registry; a failed read skips that message (logged). */
  list(): CallSummary[] | Promise<CallSummary[]>;
  readonly changes: {
    on(event: 'changed', fn: (callId: string) => void): unknown;
    off(event: 'changed', fn: (callId: string) => void): unknown;
  };
}

export interface CallEventsOptions {
  /** Changes within this window are sent as one snapshot; default 100 ms. */
  readonly debounceMs?: number;
  /**
   * A comment line keeps proxies from closing an idle stream, and the list is compared with the
   * last one sent (announcements and media problems change it without a call event); default 5000 ms.
   */
  readonly keepAliveMs?: number;
  /** Most streams open at once; one more answers 503 ADMIN_STREAMS_FULL; default 50. */
  readonly maxStreams?: number;
}

export const CALL_EVENTS_DEFAULTS = Object.freeze({ debounceMs: 100, keepAliveMs: 5000, maxStreams: 50 });

/**
 * Live calls as server-sent events (HTML Living Standard, "Server-sent events"):
 *
 *   GET /v1/calls/events     text/event-stream; each message is `event: calls` with
 *                            `data: { "calls": [...] }`, the same list GET /v1/calls answers,
 *                            sent at once, then whenever a call starts, changes state, has a
 *                            recording event or ends (and on the keep-alive check when it differs)
 *
 * Authenticated like every route (bearer header or the console's session cookie; EventSource
 * sends the cookie). The web console's live-calls screen reads it instead of polling.
 */
export function callEventsPlugin(source: CallFeedSource, opts: CallEventsOptions = {}): AdminPlugin {
  return { name: 'call-events', register: (app) => registerCallEvents(app, source, opts) };
}

/** Adds GET /calls/events to a scope (calls-plugin.ts does, when the call layer has `changes`). */
export function registerCallEvents(app: FastifyInstance, source: CallFeedSource, opts: CallEventsOptions = {}): void {
  const debounceMs = opts.debounceMs ?? CALL_EVENTS_DEFAULTS.debounceMs;
  const keepAliveMs = opts.keepAliveMs ?? CALL_EVENTS_DEFAULTS.keepAliveMs;
  const maxStreams = opts.maxStreams ?? CALL_EVENTS_DEFAULTS.maxStreams;
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });
  app.get('/calls/events', { schema: { summary: 'Live calls as server-sent events (each change sends the whole list)', tags: ['calls'] } as FastifySchema }, async (req, reply) => {
    if (streams.size >= maxStreams) throw new AppError('ADMIN_STREAMS_FULL', `${maxStreams} open`);
    reply.hijack();
    const res: ServerResponse = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let last = '';
    let pending: NodeJS.Timeout | undefined;
    let open = true;
    // one read at a time, in order: an older list never overwrites a newer one
    let sending: Promise<void> = Promise.resolve();
    const sendIfChanged = (): void => {
      pending = undefined;
      sending = sending.then(send);
    };
    const send = async (): Promise<void> => {
      let data: string;
      try {
        data = JSON.stringify({ calls: await source.list() });
      } catch (err) {
        req.log.warn({ err }, 'live calls feed: the list could not be read; next try on the next change or keep-alive');
        return;
      }
      if (!open || data === last) return;
      last = data;
      res.write(`event: calls\ndata: ${data}\n\n`);
    };
    const onChange = () => {
      pending ??= setTimeout(sendIfChanged, debounceMs);
    };
    const keepAlive = setInterval(() => {
      res.write(': keep-alive\n\n');
      sendIfChanged();
    }, keepAliveMs);
    const end = () => {
      if (!streams.delete(end)) return;
      open = false;
      clearInterval(keepAlive);
      if (pending) clearTimeout(pending);
      source.changes.off('changed', onChange);
      res.end();
    };
    streams.add(end);
    source.changes.on('changed', onChange);
    req.raw.once('close', end);
    res.write('retry: 2000\n\n');
    sendIfChanged();
  });
}
