import type { PromptName } from '../../media/audio/prompt-library.js';
import type { InjectTarget, LegId } from '../../media/media-session-types.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { AnnouncementNote, CallMedia, PromptSource } from '../call-ports.js';

/**
 * Task: play one prompt (R-11/R-12 compliance, R-16 start/stop, R-18 pause/resume) and report it
 * for the metadata (R-31). Prompts go only to the parties' legs; the media plane never forks them
 * (R-15). Legs that cannot take injected audio (no G.711) are left out; when none remains the
 * announcement is reported `skipped` with reason 'codec'. Never rejects.
 */
export interface AnnounceRequest {
  readonly kind: AnnouncementNote['kind'];
  readonly prompt: PromptName;
  readonly language: string;
  readonly target: InjectTarget;
  /** 'pstn' | 'user' | 'all' for the metadata. */
  readonly audience: string;
  readonly phase: NonNullable<AnnouncementNote['phase']>;
}

export async function announce(
  media: Pick<CallMedia, 'canInject' | 'playPrompt'>,
  prompts: PromptSource,
  clock: Clock,
  log: Logger,
  req: AnnounceRequest,
): Promise<AnnouncementNote> {
  const legs: LegId[] = req.target === 'both' ? ['a', 'b'] : [req.target];
  const able = legs.filter((l) => media.canInject(l));
  const base = { kind: req.kind, target: req.audience, phase: req.phase, media: req.prompt, language: req.language };
  if (able.length === 0) {
    log.warn({ prompt: req.prompt, legs }, 'announcement skipped: no G.711 codec on the target legs');
    return { ...base, result: 'skipped', reason: 'codec' };
  }
  const target: InjectTarget = able.length === 2 ? 'both' : able[0]!;
  const start = clock.now();
  try {
    const prompt = prompts.get(req.prompt, req.language);
    const result = await media.playPrompt(target, prompt);
    const ends = result.legs.map((l) => l.endedAt);
    const completed = result.legs.some((l) => l.reason === 'completed');
    log.info({ prompt: req.prompt, language: prompt.language, target, completed }, 'announcement played');
    return {
      ...base,
      language: prompt.language,
      result: completed ? 'played' : 'skipped',
      start: result.legs[0]?.startedAt ?? start,
      end: ends.length > 0 ? Math.max(...ends) : clock.now(),
      ...(completed ? {} : { reason: result.legs[0]?.reason ?? 'closed' }),
    };
  } catch (err) {
    log.warn({ err, prompt: req.prompt }, 'announcement failed');
    return { ...base, result: 'skipped', reason: 'failed' };
  }
}
