import type { Clock } from '../../common/clock.js';
import type { LegId } from '../../media/media-session-types.js';
import type { Logger } from '../../observability/logger.js';
import type { AnnouncementNote, CallMedia, PromptSource } from '../call-ports.js';
import { announce } from './announce.js';

/**
 * Task R-12: the outbound compliance announcement, after the answer, to the PSTN party only (leg
 * B), `delaySeconds` later when the delay is on (so that it does not talk over the greeting).
 * at most once per call, even when the prompt is cut short (`claim`). Never rejects.
 */
export interface PostAnswerContext {
  readonly media: CallMedia;
  readonly prompts: PromptSource;
  readonly clock: Clock;
  readonly log: Logger;
  /** The PSTN party's leg. */
  readonly target: LegId;
  readonly language: string;
  /** 0 = at once. */
  readonly delaySeconds: number;
  /** Runs fn after ms unless the call has ended (the session's timers). */
  readonly after: (ms: number, fn: () => void) => void;
  /** True when it may play now (call connected, not played yet); marks it played. */
  readonly claim: () => boolean;
  /** Where its note goes (R-31: the call's recordings). */
  readonly note: (n: AnnouncementNote) => void;
}

export async function postAnswerCompliance(ctx: PostAnswerContext): Promise<void> {
  const play = async (): Promise<void> => {
    if (!ctx.claim()) return;
    const req = { kind: 'compliance', prompt: 'compliance', language: ctx.language, target: ctx.target, audience: 'pstn', phase: 'post-answer' } as const;
    ctx.note(await announce(ctx.media, ctx.prompts, ctx.clock, ctx.log, req));
  };
  if (ctx.delaySeconds > 0) ctx.after(ctx.delaySeconds * 1000, () => void play());
  else await play();
}
