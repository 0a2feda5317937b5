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
  // signalling link to the drachtio server
  SIGNALING_UNAVAILABLE: { message: 'drachtio server unavailable', sipStatus: 503 },
  // engine (embedded SIP engine)
  ENGINE_FRAME_INVALID: { message: 'invalid drachtio frame' },
  ENGINE_AUTH_FAILED: { message: 'incorrect secret' },
  ENGINE_NO_DIALOG: { message: 'unable to find dialog for dialog id provided', sipStatus: 481 },
  ENGINE_UNKNOWN_TRANSACTION: { message: 'unknown transaction', sipStatus: 481 },
  ENGINE_TRANSPORT_UNAVAILABLE: { message: 'requested protocol/transport not available', sipStatus: 503 },
  ENGINE_SIP_MALFORMED: { message: 'malformed SIP message', sipStatus: 400 },
  ENGINE_SIP_TOO_LARGE: { message: 'SIP message too large', sipStatus: 513 },
  ENGINE_CONTACT_INVALID: { message: 'invalid SIP contact' },
  ENGINE_LISTEN_FAILED: { message: 'engine could not bind its SIP or admin listeners' },
  // siprec (pure metadata/multipart/SDP codecs) and srs (reference recording server)
  SIPREC_XML_MALFORMED: { message: 'malformed XML', sipStatus: 400 },
  SIPREC_METADATA_INVALID: { message: 'invalid recording metadata', sipStatus: 400 },
  SIPREC_MULTIPART_MALFORMED: { message: 'malformed multipart body', sipStatus: 400 },
  SIPREC_SDP_INVALID: { message: 'invalid recording SDP', sipStatus: 400 },
  SIPREC_SDP_UNACCEPTABLE: { message: 'recording SDP not acceptable', sipStatus: 488 },
  SIPREC_REQUIRE_MISSING: { message: 'request does not require siprec', sipStatus: 420 },
  SRS_NO_RTP_PORTS: { message: 'no free RTP ports', sipStatus: 503 },
  SRS_RECORDINGS_DIR_UNWRITABLE: { message: 'recordings directory is not writable', sipStatus: 503 },
  SRS_LOW_DISK_SPACE: { message: 'free disk space under srs.minFreeMb', sipStatus: 503 },
  SRS_DISK_ERROR: { message: 'disk error while recording', sipStatus: 503 },
  SRS_MEDIA_WORKER_FAILED: { message: 'the recording server\'s media worker failed', sipStatus: 503 },
  RECORDING_ID_INVALID: { message: 'not a valid recording id', httpStatus: 400 },
  RECORDING_NOT_FOUND: { message: 'no such recording', httpStatus: 404 },
  RECORDING_QUERY_INVALID: { message: 'invalid recordings query', httpStatus: 400 },
  RECORDING_RANGE_NOT_SATISFIABLE: { message: 'range not satisfiable', httpStatus: 416 },
  // siprec client (SRC side of RFC 7866, src/siprec/client)
  SIPREC_CLIENT_OPTIONS_INVALID: { message: 'invalid recording session options' },
  SIPREC_CLIENT_SRS_UNAVAILABLE: { message: 'no recording server accepted the recording session' },
  SIPREC_CLIENT_SRS_LOST: { message: 'the recording session was lost mid-call' },
  // policy (settings model, R-01..R-20) and admin API
  POLICY_NOT_FOUND: { message: 'not found', httpStatus: 404 },
  POLICY_ALREADY_EXISTS: { message: 'already exists', httpStatus: 409 },
  POLICY_INVALID: { message: 'invalid setting', httpStatus: 400 },
  POLICY_REFERENCE_INVALID: { message: 'referenced entity does not exist', httpStatus: 422 },
  POLICY_ADDRESS_IN_USE: { message: 'number or identity already in use', httpStatus: 409 },
  POLICY_IN_USE: { message: 'still in use', httpStatus: 409 },
  POLICY_DELAY_OUT_OF_RANGE: { message: 'compliance announcement delay out of range (1-60 s)', httpStatus: 400 },
  POLICY_TONE_INTERVAL_OUT_OF_RANGE: { message: 'repeat tone interval out of range (10-90 s)', httpStatus: 400 },
  POLICY_LICENCE_REQUIRED: { message: 'recording requires a Professional or Basic calling licence', httpStatus: 422 },
  POLICY_TERMS_NOT_ACCEPTED: { message: "the provider's terms of use must be accepted first", httpStatus: 422 },
  POLICY_REGION_RESTRICTED: { message: "provider not available in the organisation's region", httpStatus: 422 },
  POLICY_CONFIRMATION_REQUIRED: { message: 'turning recording off for the whole organisation must be confirmed', httpStatus: 422 },
  POLICY_PROVIDER_REQUIRED: { message: 'a recording provider is required at the location or organisation', httpStatus: 422 },
  POLICY_STORE_FAILED: { message: 'settings store failure', httpStatus: 500 },
  POLICY_PROVISIONING_FILE_INVALID: { message: 'invalid provisioning file' },
  PROVISIONING_FAILED: { message: 'provider auto-provisioning failed', httpStatus: 502 },
  ADMIN_UNAUTHORIZED: { message: 'missing or wrong bearer token', httpStatus: 401 },
  ADMIN_CSRF_REJECTED: { message: 'a console write without its session\'s CSRF token', httpStatus: 403 },
  ADMIN_STREAMS_FULL: { message: 'too many live event streams open', httpStatus: 503 },
  ADMIN_LOGIN_THROTTLED: { message: 'too many wrong tokens from this address', httpStatus: 429 },
  ADMIN_VALIDATION_FAILED: { message: 'request does not match the schema', httpStatus: 400 },
  ADMIN_ROUTE_NOT_FOUND: { message: 'no such route', httpStatus: 404 },
  ADMIN_INTERNAL: { message: 'internal error', httpStatus: 500 },
  // call layer (src/call, B2BUA)
  CALL_NOT_FOUND: { message: 'no such live call', httpStatus: 404 },
  CALL_CONTROL_REFUSED: { message: 'recording control not possible on this call', httpStatus: 409 },
  CALL_REGISTRY_UNAVAILABLE: { message: 'live-call registry unavailable', httpStatus: 503 },
  CALL_OWNER_UNREACHABLE: { message: 'the node that owns the call did not answer', httpStatus: 502 },
  // media: audio (prompts, WAV)
  AUDIO_WAV_INVALID: { message: 'invalid or unsupported WAV file' },
  AUDIO_PROMPT_MISSING: { message: 'required prompt missing' },
  // media plane (core)
  MEDIA_PORTS_EXHAUSTED: { message: 'no free RTP port in the configured range', sipStatus: 503, httpStatus: 503 },
  MEDIA_BIND_FAILED: { message: 'could not bind an RTP/RTCP socket', sipStatus: 503, httpStatus: 503 },
  MEDIA_CODEC_NOT_INJECTABLE: { message: 'cannot inject audio into this leg: its codec is not PCMU/PCMA', httpStatus: 409 },
  MEDIA_SESSION_UNKNOWN: { message: 'unknown media session' },
  MEDIA_WORKER_FAILED: { message: 'media worker failed', sipStatus: 500, httpStatus: 500 },
  MEDIA_INVALID_ARGUMENT: { message: 'invalid media argument', httpStatus: 400 },
  // observability (recording event log)
  EVENT_LOG_UNAVAILABLE: { message: 'recording event log file cannot be opened for appending' },
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
