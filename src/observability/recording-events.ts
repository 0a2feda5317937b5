/**
 * The recording event log (docs/observability.md): one entry per recording lifecycle step
 * (started, paused, resumed, stopped, failed, with reasons), appended as a JSON line to a file
 * and/or POSTed to a webhook (src/observability/event-webhook.ts). record() never blocks and never
 * throws: the file write is asynchronous with a bounded write buffer (beyond it entries are dropped
 * and counted), the webhook has a bounded queue that drops the oldest entry.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../common/errors.js';
import { systemClock, type Clock, type Timers } from '../common/clock.js';
import { EventWebhook, type EventWebhookOptions, type WebhookPoster } from './event-webhook.js';
import type { Logger } from './logger.js';
import type { EventLogFigures } from './metrics-types.js';
import type { RecordingEventHistory, RecordingEventInput, RecordingEventRecord, RecordingEventSink } from './recording-event-types.js';

export interface RecordingEventLogOptions {
  /** Append JSON lines here (the directory is created); default none. */
  file?: string;
  /** Bytes the file's write buffer may hold before entries are dropped. Default 1 MiB. */
  fileBufferBytes?: number;
  /** POST entries here (see EventWebhookOptions for queue, retries and their defaults); default none. */
  webhook?: Omit<EventWebhookOptions, 'poster' | 'clock' | 'timers' | 'logger'>;
  /** Entries kept in memory for eventsOf() (the recordings API's /events), the oldest dropped first. Default 5000; 0 keeps none. */
  historySize?: number;
  /** Replace the HTTP client (default fetch). */
  poster?: WebhookPoster;
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
}

export const RECORDING_EVENT_LOG_DEFAULTS = Object.freeze({ fileBufferBytes: 1024 * 1024, historySize: 5000 });

export interface RecordingEventLog extends RecordingEventSink, RecordingEventHistory {
  /** Counters for the metrics registry (MetricsSources.eventLog). */
  stats(): EventLogFigures;
  /** Idempotent: flushes the file, gives the webhook its close time (EventWebhook.close). */
  close(): Promise<void>;
}

/** The JSON form of one entry (keys in a fixed order; undefined fields left out). */
export function toRecord(seq: number, input: RecordingEventInput, now: number): RecordingEventRecord {
  const at = typeof input.at === 'number' && Number.isFinite(input.at) ? input.at : now;
  return {
    seq,
    time: new Date(at).toISOString(),
    event: input.event,
    callId: String(input.callId),
    ...(input.siprecSessionId !== undefined ? { siprecSessionId: String(input.siprecSessionId) } : {}),
    ...(input.siprecCallId !== undefined ? { siprecCallId: String(input.siprecCallId) } : {}),
    ...(input.srsRecordingId !== undefined ? { srsRecordingId: String(input.srsRecordingId) } : {}),
    ...(input.reason !== undefined ? { reason: String(input.reason) } : {}),
    ...(input.detail !== undefined ? { detail: input.detail } : {}),
    ...(input.recording !== undefined ? { recording: input.recording } : {}),
  };
}

async function openAppend(path: string): Promise<WriteStream> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  } catch (err) {
    throw new AppError('EVENT_LOG_UNAVAILABLE', path, { cause: err });
  }
}

/** Opens the configured sinks; rejects EVENT_LOG_UNAVAILABLE when the file cannot be opened for appending. */
export async function openRecordingEventLog(options: RecordingEventLogOptions = {}): Promise<RecordingEventLog> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const bufferBytes = options.fileBufferBytes ?? RECORDING_EVENT_LOG_DEFAULTS.fileBufferBytes;
  let file = options.file !== undefined ? await openAppend(options.file) : undefined;
  let fileBroken = false;
  file?.on('error', (err) => {
    if (!fileBroken) logger?.error({ err, file: options.file }, 'recording event log file failed; further entries are dropped');
    fileBroken = true;
  });
  const webhook = options.webhook
    ? new EventWebhook({ ...options.webhook, poster: options.poster, clock, timers: options.timers, logger })
    : undefined;
  const counts = { recorded: 0, fileWritten: 0, fileDropped: 0 };
  const historySize = Math.max(0, options.historySize ?? RECORDING_EVENT_LOG_DEFAULTS.historySize);
  const history: RecordingEventRecord[] = [];
  let seq = 0;
  let closed = false;
  let closing: Promise<void> | undefined;

  const writeLine = (line: string): void => {
    if (file === undefined) return;
    if (fileBroken || file.writableLength > bufferBytes) {
      counts.fileDropped++;
      return;
    }
    file.write(line, (err) => {
      if (err) counts.fileDropped++;
      else counts.fileWritten++;
    });
  };

  return {
    record(input) {
      if (closed) return;
      try {
        const rec = toRecord(++seq, input, clock.now());
        counts.recorded++;
        const line = `${JSON.stringify(rec)}\n`;
        writeLine(line);
        webhook?.push(rec);
        if (historySize > 0) {
          history.push(rec);
          if (history.length > historySize) history.shift();
        }
      } catch (err) {
        logger?.warn({ err, callId: input?.callId }, 'recording event could not be recorded');
      }
    },
    eventsOf({ srsRecordingId, siprecCallId }) {
      return history.filter((r) => r.srsRecordingId === srsRecordingId || (siprecCallId !== undefined && r.siprecCallId === siprecCallId));
    },
    stats() {
      const w = webhook?.stats();
      return {
        ...counts,
        webhookDelivered: w?.delivered ?? 0,
        webhookDropped: w?.dropped ?? 0,
        webhookFailed: w?.failed ?? 0,
        webhookRetries: w?.retries ?? 0,
        webhookQueued: w?.queued ?? 0,
      };
    },
    close() {
      closed = true;
      closing ??= (async () => {
        const f = file;
        file = undefined;
        await Promise.all([
          webhook?.close(),
          f && !fileBroken ? new Promise<void>((resolve) => f.end(() => resolve())) : f?.destroy(),
        ]);
      })();
      return closing;
    },
  };
}
