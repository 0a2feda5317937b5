import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Default 'info'. */
  level?: LevelWithSilent;
  /** Base fields on every line (e.g. { component: 'engine' }). */
  base?: Record<string, unknown>;
  /** Where lines go; default stdout (tests pass a stream to read them). */
  destination?: DestinationStream;
}

/** Field names that can carry a secret, wherever they sit: top level and up to three levels deep. */
const SECRET_KEYS = ['secret', 'token', 'password', 'authorization', 'proxy-authorization', 'cookie', 'webhookToken', 'ha1Md5', 'ha1Sha256'] as const;

/**
 * The redaction paths (pino/fast-redact syntax): each secret key at depth 1 to 4, e.g.
 * `config.drachtio.secret`, `req.headers.authorization`; keys that are not identifiers in brackets.
 */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const dot = k.startsWith('[') ? '' : '.';
  return [k, `*${dot}${k}`, `*.*${dot}${k}`, `*.*.*${dot}${k}`];
});

/**
 * JSON logs on stdout (pino). Secrets never reach a log line: the redaction list covers every
 * config and header field that can carry one (the shared secret, admin and webhook tokens,
 * Authorization headers), up to four levels deep, so a whole Config or a request's headers may be
 * logged.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: options.base ?? {},
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A per-call child logger: every line carries the call id and, once known, the recording id. */
export function callLogger(parent: Logger, callId: string, recordingId?: string): Logger {
  return parent.child(recordingId ? { callId, recordingId } : { callId });
}

/** A logger that prints nothing (tests, benchmarks). */
export const silentLogger: Logger = pino({ level: 'silent' });
