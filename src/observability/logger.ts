import { pino, symbols, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

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
    onChild: oneValuePerKey,
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/**
 * pino appends a child's bindings to its parent's, so a child that binds a key its parent already
 * bound (`component` of a plane, then of a part of it) would write that key twice on every line.
 * Every child of a createLogger logger keeps one value per key instead: the innermost (the most
 * specific component, the latest id). Runs once per child, never per line. The bindings are already
 * redacted JSON at this point, so re-serialising them keeps the redaction.
 */
function oneValuePerKey(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const bound = holder[symbols.chindingsSym];
  if (typeof bound !== 'string' || bound.length < 2) return;
  try {
    const merged = JSON.stringify(JSON.parse(`{${bound.slice(1)}}`) as Record<string, unknown>);
    holder[symbols.chindingsSym] = merged === '{}' ? '' : `,${merged.slice(1, -1)}`;
  } catch {
    // bindings pino could not write as plain JSON: left as they are
  }
}

/**
 * A per-call child logger: every line carries the call id (`callId`, leg A's SIP Call-ID) and, when
 * given, the SIPREC client's recording session id (`siprecSessionId`; docs/observability.md "Log keys").
 */
export function callLogger(parent: Logger, callId: string, siprecSessionId?: string): Logger {
  return parent.child(siprecSessionId ? { callId, siprecSessionId } : { callId });
}

/** A logger that prints nothing (tests, benchmarks). */
export const silentLogger: Logger = pino({ level: 'silent' });
