/**
 * The tests' one toolbox for waiting: a plain pause, a poll for a condition, a poll for a value.
 *
 * Prefer `until` over `sleep` + assertion: a poll ends as soon as the condition holds and fails with
 * a message naming what did not happen, where a fixed pause is either too long or, on a loaded
 * machine, too short. Keep `sleep` for waits that are part of the scenario (hold a call up 2 s so
 * audio is recorded; leave a quiet gap to prove nothing arrives).
 *
 * Defaults: timeout 5000 ms, poll step 20 ms. A timeout throws
 * `timed out after <timeoutMs> ms waiting for <what>`; `what` may be a function, called at the
 * timeout, when the message should describe the state at that moment (output so far, processes).
 */

/** What a wait is for: a fixed text, or one made at the timeout. */
export type WaitingFor = string | (() => string);

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` (sync or async) every `stepMs` until it returns true; throws
 * `timed out after <timeoutMs> ms waiting for <what>` if it has not by `timeoutMs`.
 * The check runs once more at the deadline, so a condition that becomes true during the last
 * step still counts. An exception thrown by `check` propagates at once.
 */
export async function until(check: () => boolean | Promise<boolean>, what: WaitingFor, timeoutMs = 5000, stepMs = 20): Promise<void> {
  await untilValue(async () => ((await check()) ? true : undefined), what, timeoutMs, stepMs);
}

/**
 * Polls `probe` (sync or async) every `stepMs` and resolves with the first value that is not
 * `undefined`; throws `timed out after <timeoutMs> ms waiting for <what>` if none came by `timeoutMs`.
 * The probe runs once more at the deadline. An exception thrown by `probe` propagates at once.
 */
export async function untilValue<T>(probe: () => T | undefined | Promise<T | undefined>, what: WaitingFor, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(Math.min(stepMs, left));
  }
}
