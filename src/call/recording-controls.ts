/**
 * R-17 user controls, pure: DTMF feature codes (RFC 4733 digits from the media plane, or SIP INFO
 * dtmf-relay digits) and the SIP INFO recording-control body. Never throws on odd input.
 *
 * Default feature codes (CallLayerOptions.featureCodes):
 *   *1 start   *2 stop   *3 pause   *4 resume
 * Digits of one code must follow each other within `interDigitTimeoutMs` (default 3000 ms).
 *
 * SIP INFO bodies understood (RFC 6086 INFO, no Info-Package needed):
 *   Content-Type: application/dtmf-relay          Signal=*\r\nDuration=160   (one digit per INFO)
 *   Content-Type: application/dtmf                 *                           (one digit per INFO)
 *   Content-Type: application/vnd.recording-control+json   {"action":"pause"}  (start|stop|pause|resume)
 */
export type RecordingAction = 'start' | 'stop' | 'pause' | 'resume';
export const RECORDING_ACTIONS: readonly RecordingAction[] = ['start', 'stop', 'pause', 'resume'];

export const DEFAULT_FEATURE_CODES: Readonly<Record<string, RecordingAction>> = { '*1': 'start', '*2': 'stop', '*3': 'pause', '*4': 'resume' };
export const DEFAULT_INTER_DIGIT_TIMEOUT_MS = 3000;
export const RECORDING_CONTROL_CONTENT_TYPE = 'application/vnd.recording-control+json';

/** Collects digits into feature codes. */
export class FeatureCodeMatcher {
  readonly #codes: ReadonlyMap<string, RecordingAction>;
  readonly #timeoutMs: number;
  #buffer = '';
  #lastAt = -Infinity;

  constructor(codes: Readonly<Record<string, RecordingAction>> = DEFAULT_FEATURE_CODES, interDigitTimeoutMs = DEFAULT_INTER_DIGIT_TIMEOUT_MS) {
    this.#codes = new Map(Object.entries(codes).filter(([code]) => /^[0-9*#A-D]+$/.test(code)));
    this.#timeoutMs = interDigitTimeoutMs;
  }

  /** Feed one digit (monotonic ms); returns the action when a code completes. */
  push(digit: string, atMs: number): RecordingAction | undefined {
    const d = digit.toUpperCase();
    if (!/^[0-9*#A-D]$/.test(d)) return undefined;
    if (atMs - this.#lastAt > this.#timeoutMs) this.#buffer = '';
    this.#lastAt = atMs;
    this.#buffer += d;
    if (!this.#isPrefix(this.#buffer)) this.#buffer = this.#isPrefix(d) ? d : '';
    const action = this.#codes.get(this.#buffer);
    if (action) this.#buffer = '';
    return action;
  }

  #isPrefix(s: string): boolean {
    for (const code of this.#codes.keys()) if (code.startsWith(s)) return true;
    return false;
  }
}

export type InfoControl = { kind: 'digit'; digit: string } | { kind: 'action'; action: RecordingAction } | { kind: 'unknown' };

/** What a SIP INFO carries for the recording controls. */
export function parseInfoControl(contentType: string | undefined, body: string): InfoControl {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/dtmf-relay') {
    const m = /^\s*signal\s*=\s*([0-9*#A-Da-d])\s*$/im.exec(body);
    return m ? { kind: 'digit', digit: m[1]!.toUpperCase() } : { kind: 'unknown' };
  }
  if (type === 'application/dtmf') {
    const d = body.trim();
    return /^[0-9*#A-Da-d]$/.test(d) ? { kind: 'digit', digit: d.toUpperCase() } : { kind: 'unknown' };
  }
  if (type === RECORDING_CONTROL_CONTENT_TYPE) {
    try {
      const parsed = JSON.parse(body) as { action?: unknown };
      const action = parsed?.action;
      if (typeof action === 'string' && (RECORDING_ACTIONS as readonly string[]).includes(action)) return { kind: 'action', action: action as RecordingAction };
    } catch {
      // fall through
    }
  }
  return { kind: 'unknown' };
}
