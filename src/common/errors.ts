/**
 * The one registry of error codes. Every thrown AppError carries a code from here, with the SIP
 * status and HTTP status that code maps to where it can reach a peer. docs/errors.md documents the
 * same list; test/unit/common/errors.test.ts checks the two agree.
 *
 * Planes add their codes here (grouped by prefix) rather than inventing their own Error classes.
 */
export interface ErrorSpec {
  /** Human-readable summary; the detail passed at the throw site is appended. */
  readonly message: string;
  /** SIP status to answer with when this error ends a SIP transaction. */
  readonly sipStatus?: number;
  /** HTTP status for the admin API. */
  readonly httpStatus?: number;
}

export const ERROR_CODES = {
  // configuration
  CONFIG_INVALID: { message: 'invalid configuration', httpStatus: 500 },
  // common
  CLOSED: { message: 'object is closed', httpStatus: 409 },
  ILLEGAL_STATE_TRANSITION: { message: 'illegal state transition' },
  // engine (embedded SIP engine)
  ENGINE_FRAME_INVALID: { message: 'invalid drachtio frame' },
  ENGINE_AUTH_FAILED: { message: 'incorrect secret' },
  ENGINE_NO_DIALOG: { message: 'unable to find dialog for dialog id provided', sipStatus: 481 },
  ENGINE_UNKNOWN_TRANSACTION: { message: 'unknown transaction', sipStatus: 481 },
  ENGINE_TRANSPORT_UNAVAILABLE: { message: 'requested protocol/transport not available', sipStatus: 503 },
  ENGINE_SIP_MALFORMED: { message: 'malformed SIP message', sipStatus: 400 },
  ENGINE_SIP_TOO_LARGE: { message: 'SIP message too large', sipStatus: 513 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly sipStatus: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(detail ? `${spec.message}: ${detail}` : spec.message, options);
    this.name = 'AppError';
    this.code = code;
    this.sipStatus = spec.sipStatus;
    this.httpStatus = spec.httpStatus;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
