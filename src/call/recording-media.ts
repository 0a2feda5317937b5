import type { Prompt } from '../media/audio/prompt-library.js';
import type { ToneSpec } from '../media/audio/tones.js';
import type { ForkOptions, InjectTarget, LegId, LocalRtpAddress, MediaSessionEvents, PromptResult } from '../media/media-session-types.js';
import type { CallMedia } from './call-ports.js';

/**
 * What one recording of a call uses of the call's media session (RecordingController's `media`):
 * its own fork, the prompts and beeps it plays, the reminder tone, and the session's events.
 */
export interface RecordingMedia
  extends Pick<CallMedia, 'canInject' | 'playPrompt' | 'beep' | 'prepareFork' | 'startFork' | 'pauseFork' | 'resumeFork' | 'stopFork' | 'startReminderTone' | 'stopReminderTone'> {
  on<K extends keyof MediaSessionEvents>(event: K, fn: (...args: MediaSessionEvents[K]) => void): unknown;
  off<K extends keyof MediaSessionEvents>(event: K, fn: (...args: MediaSessionEvents[K]) => void): unknown;
}

/**
 * The media a call's recordings share, and each recording's view of it (`viewFor`). A call can
 * carry several recordings (R-10: each recorded user of an internal call has one), all in the
 * same media session:
 *
 * - **Forks**: each recording forks the call under its own fork id (the media session keeps one
 *   fork per id), so pausing or stopping one recording never touches the other's streams.
 * - **Reminder tone (R-19)**: one tone heard by all parties, running while at least one recording
 *   is recording (not paused, not stopped); its interval is the shortest any of them asks for.
 * - **Prompts**: one prompt at a time towards the legs (a new prompt would cut the one playing).
 *   The same prompt in the same language to the same legs, asked by two recordings while it is
 *   playing or waiting, plays once and both get its result (e.g. two recordings starting together
 *   with the same start announcement, R-16); other prompts wait for the one playing.
 */
export class SharedRecordingMedia {
  readonly #media: CallMedia;
  readonly #tone = new Map<object, number>();
  #toneRunning: number | undefined;
  #toneChain: Promise<void> = Promise.resolve();
  #promptTail: Promise<unknown> = Promise.resolve();
  readonly #promptsInFlight = new Map<string, Promise<PromptResult>>();

  constructor(media: CallMedia) {
    this.#media = media;
  }

  /** The media as the recording with fork `forkId` sees it. */
  viewFor(forkId: string): RecordingMedia {
    const media = this.#media;
    const owner = {};
    return {
      canInject: (leg: LegId) => media.canInject(leg),
      playPrompt: (target: InjectTarget, prompt: Prompt) => this.#play(target, prompt),
      beep: (tone: ToneSpec, target?: InjectTarget) => media.beep(tone, target),
      prepareFork: (): Promise<[LocalRtpAddress, LocalRtpAddress]> => media.prepareFork(forkId),
      startFork: (options: ForkOptions) => media.startFork({ ...options, forkId }),
      pauseFork: (options?: { silence?: boolean }) => media.pauseFork({ ...options, forkId }),
      resumeFork: () => media.resumeFork(forkId),
      stopFork: () => media.stopFork(forkId),
      startReminderTone: (intervalMs: number) => this.#reminder(owner, intervalMs),
      stopReminderTone: () => this.#reminder(owner, undefined),
      on: (event, fn) => media.on(event, fn),
      off: (event, fn) => media.off(event, fn),
    };
  }

  /** True while the reminder tone runs (some recording is recording). */
  get reminderToneRunning(): boolean {
    return this.#toneRunning !== undefined;
  }

  /** `owner` wants the tone every `intervalMs` (undefined: no more); applied one change at a time. */
  #reminder(owner: object, intervalMs: number | undefined): Promise<void> {
    if (intervalMs === undefined) this.#tone.delete(owner);
    else this.#tone.set(owner, intervalMs);
    const run = this.#toneChain.then(async () => {
      const want = this.#tone.size > 0 ? Math.min(...this.#tone.values()) : undefined;
      if (want === this.#toneRunning) return;
      if (want === undefined) await this.#media.stopReminderTone();
      else await this.#media.startReminderTone(want);
      this.#toneRunning = want;
    });
    this.#toneChain = run.catch(() => undefined);
    return run;
  }

  #play(target: InjectTarget, prompt: Prompt): Promise<PromptResult> {
    const key = `${target}\n${prompt.name}\n${prompt.language}`;
    const joined = this.#promptsInFlight.get(key);
    if (joined) return joined;
    const run = this.#promptTail.then(() => this.#media.playPrompt(target, prompt));
    this.#promptTail = run.catch(() => undefined);
    this.#promptsInFlight.set(key, run);
    const done = (): void => {
      if (this.#promptsInFlight.get(key) === run) this.#promptsInFlight.delete(key);
    };
    run.then(done, done);
    return run;
  }
}
