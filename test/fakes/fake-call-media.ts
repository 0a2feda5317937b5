/**
 * A CallMedia (the call layer's view of a MediaSession) that records every command. Prompts end at
 * once unless `holdPrompts` is set; then the test ends them with `endPrompts()`.
 */
import { TypedEmitter } from '../../src/common/typed-emitter.js';
import type { CallMedia, MediaFactory } from '../../src/call/call-ports.js';
import type { Prompt } from '../../src/media/audio/prompt-library.js';
import type { ToneSpec } from '../../src/media/audio/tones.js';
import type {
  ForkOptions,
  InjectTarget,
  LegId,
  LocalRtpAddress,
  MediaSessionEvents,
  PromptEndReason,
  PromptResult,
  RemoteMedia,
} from '../../src/media/media-session-types.js';

type ForkOp = 'prepareFork' | 'startFork' | 'pauseFork' | 'resumeFork' | 'stopFork';

export interface PlayedPrompt {
  target: InjectTarget;
  name: string;
  language: string;
  at: number;
}

export class FakeCallMedia extends TypedEmitter<MediaSessionEvents> implements CallMedia {
  readonly local = {
    a: { address: '127.0.0.1', rtpPort: 26000, rtcpPort: 26001 },
    b: { address: '127.0.0.1', rtpPort: 26002, rtcpPort: 26003 },
  };
  readonly remotes: Array<{ leg: LegId; remote: RemoteMedia }> = [];
  readonly prompts: PlayedPrompt[] = [];
  readonly beeps: Array<{ tone: ToneSpec; target: InjectTarget }> = [];
  readonly log: string[] = [];
  fork: ForkOptions | undefined;
  reminderMs: number | undefined;
  /** The last watchSilence period (0 = not watching). */
  silenceWatchMs = 0;
  /** The options the factory created this session with. */
  options: Parameters<MediaFactory['createSession']>[0] = { label: '' };
  holdPrompts = false;
  closeCount = 0;
  injectable: Record<LegId, boolean> = { a: true, b: true };
  #pending: Array<(reason: PromptEndReason) => void> = [];
  #now: () => number;

  constructor(now: () => number = () => 0) {
    super();
    this.#now = now;
  }

  async setRemote(leg: LegId, remote: RemoteMedia): Promise<void> {
    this.remotes.push({ leg, remote });
  }
  canInject(leg: LegId): boolean {
    return this.injectable[leg];
  }
  playPrompt(target: InjectTarget, prompt: Prompt): Promise<PromptResult> {
    const at = this.#now();
    this.prompts.push({ target, name: prompt.name, language: prompt.language, at });
    this.log.push(`prompt:${prompt.name}:${target}`);
    const legs: LegId[] = target === 'both' ? ['a', 'b'] : [target];
    return new Promise((resolve) => {
      const done = (reason: PromptEndReason): void =>
        resolve({ playbackId: this.prompts.length, legs: legs.map((leg) => ({ leg, startedAt: at, endedAt: this.#now(), reason, framesSent: 10 })) });
      if (this.holdPrompts) this.#pending.push(done);
      else queueMicrotask(() => done('completed'));
    });
  }
  /** End every held prompt. */
  endPrompts(reason: PromptEndReason = 'completed'): void {
    const p = this.#pending;
    this.#pending = [];
    for (const done of p) done(reason);
  }
  get promptsPlaying(): number {
    return this.#pending.length;
  }
  async stopPrompt(): Promise<void> {
    this.endPrompts('stopped');
  }
  async startReminderTone(intervalMs: number): Promise<void> {
    this.reminderMs = intervalMs;
    this.log.push(`reminder:on:${intervalMs}`);
  }
  async stopReminderTone(): Promise<void> {
    this.reminderMs = undefined;
    this.log.push('reminder:off');
  }
  async watchSilence(ms: number): Promise<void> {
    this.silenceWatchMs = ms;
    this.log.push(`watchSilence:${ms}`);
  }
  async beep(tone: ToneSpec, target: InjectTarget = 'both'): Promise<LegId[]> {
    this.beeps.push({ tone, target });
    this.log.push(`beep:${target}`);
    return target === 'both' ? ['a', 'b'] : [target];
  }
  /** Fork commands with their fork id, in order ('main' when the caller named none); `log` has the bare command ('startFork'). */
  readonly forkCalls: Array<{ op: ForkOp; forkId: string }> = [];
  /** The last startFork options per fork id (`fork` is the last one of any fork). */
  readonly forks = new Map<string, ForkOptions>();
  #forkCall(op: ForkOp, forkId: string | undefined): string {
    const id = forkId ?? 'main';
    this.forkCalls.push({ op, forkId: id });
    this.log.push(op);
    return id;
  }
  async prepareFork(forkId?: string): Promise<[LocalRtpAddress, LocalRtpAddress]> {
    const id = this.#forkCall('prepareFork', forkId);
    // a distinct pair of ports per fork: 26004.. for the first fork prepared, +4 for each further one
    const n = [...new Set(this.forkCalls.filter((c) => c.op === 'prepareFork').map((c) => c.forkId))].indexOf(id);
    const base = 26004 + 4 * n;
    return [
      { address: '127.0.0.1', rtpPort: base, rtcpPort: base + 1 },
      { address: '127.0.0.1', rtpPort: base + 2, rtcpPort: base + 3 },
    ];
  }
  /** When set, startFork() resolves only on releaseForkStart() (a slow media worker). */
  holdForkStart = false;
  #forkStarted: (() => void) | undefined;
  async startFork(options: ForkOptions): Promise<void> {
    this.fork = options;
    this.forks.set(this.#forkCall('startFork', options.forkId), options);
    if (this.holdForkStart) await new Promise<void>((resolve) => (this.#forkStarted = resolve));
  }
  releaseForkStart(): void {
    this.#forkStarted?.();
  }
  async pauseFork(options: { silence?: boolean; forkId?: string } = {}): Promise<void> {
    this.#forkCall('pauseFork', options.forkId);
  }
  async resumeFork(forkId?: string): Promise<void> {
    this.#forkCall('resumeFork', forkId);
  }
  async stopFork(forkId?: string): Promise<void> {
    this.#forkCall('stopFork', forkId);
  }
  async close(): Promise<void> {
    this.closeCount++;
    this.endPrompts('closed');
  }
}

export function fakeMediaFactory(now?: () => number): MediaFactory & { sessions: FakeCallMedia[] } {
  const sessions: FakeCallMedia[] = [];
  return {
    sessions,
    createSession: async (options) => {
      const m = new FakeCallMedia(now);
      m.options = options;
      sessions.push(m);
      return m;
    },
  };
}
