import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Default 'info'. */
  level?: LevelWithSilent;
  /** Base fields on every line (e.g. { component: 'engine' }). */
  base?: Record<string, unknown>;
}

/**
 * JSON logs on stdout (pino). Secrets never reach a log line: the redaction list covers every
 * config and header field that can carry one.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: options.base ?? {},
    redact: {
      paths: ['secret', '*.secret', 'token', '*.token', 'password', '*.password', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A per-call child logger: every line carries the call id and, once known, the recording id. */
export function callLogger(parent: Logger, callId: string, recordingId?: string): Logger {
  return parent.child(recordingId ? { callId, recordingId } : { callId });
}

/** A logger that prints nothing (tests, benchmarks). */
export const silentLogger: Logger = pino({ level: 'silent' });
