/**
 * The prompt set: loaded once at start-up from <dir>/<lang>/<name>.wav,
 * decoded to 8 kHz linear PCM and cut into 20 ms mu-law and A-law frames, so playing a prompt costs
 * no conversion on the packet path.
 *
 * Files are what scripts/make-prompts.sh writes (8 kHz mono 16-bit PCM WAV) or any 8 kHz mono
 * mu-law/A-law WAV; anything else stops start-up with AUDIO_WAV_INVALID. English is the fallback
 * language and must be complete (AUDIO_PROMPT_MISSING otherwise); a language, or a single prompt of
 * a language, that is missing falls back to English with one warning per language.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../observability/logger.js';
import { G711_SILENCE, encodeG711, type G711Codec } from './g711.js';
import { decodeWav8kMono } from './wav.js';

export const PROMPT_NAMES = ['compliance', 'recording-started', 'recording-stopped', 'recording-paused', 'recording-resumed'] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

/** The language every other one falls back to. */
export const FALLBACK_LANGUAGE = 'en';
/** Samples per 20 ms frame at 8 kHz. */
export const SAMPLES_PER_FRAME = 160;

export interface Prompt {
  name: PromptName;
  /** The language of the audio (the fallback language when the requested one was missing). */
  language: string;
  /** 8 kHz 16-bit linear PCM. */
  pcm: Int16Array;
  durationMs: number;
  /** 160-byte 20 ms frames, precomputed once; the last one padded with silence. Do not modify. */
  frames(codec: G711Codec): readonly Buffer[];
}

export interface PromptLibraryOptions {
  /** Languages to load; default every subdirectory of dir. English is always loaded. */
  languages?: string[];
  /** Warnings for fallbacks go here; default none. */
  logger?: Logger;
}

class LoadedPrompt implements Prompt {
  readonly name: PromptName;
  readonly language: string;
  readonly pcm: Int16Array;
  readonly durationMs: number;
  readonly #frames: Record<G711Codec, readonly Buffer[]>;

  constructor(name: PromptName, language: string, pcm: Int16Array) {
    this.name = name;
    this.language = language;
    this.pcm = pcm;
    this.durationMs = (pcm.length * 1000) / 8000;
    this.#frames = { PCMU: cutFrames('PCMU', pcm), PCMA: cutFrames('PCMA', pcm) };
  }

  frames(codec: G711Codec): readonly Buffer[] {
    return this.#frames[codec];
  }
}

/** Encode PCM and cut it into 20 ms frames (views of one buffer), padding the tail with silence. */
export function cutFrames(codec: G711Codec, pcm: Int16Array): readonly Buffer[] {
  const count = Math.ceil(pcm.length / SAMPLES_PER_FRAME);
  const all = Buffer.alloc(count * SAMPLES_PER_FRAME, G711_SILENCE[codec]);
  encodeG711(codec, pcm, all.subarray(0, pcm.length));
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) frames.push(all.subarray(i * SAMPLES_PER_FRAME, (i + 1) * SAMPLES_PER_FRAME));
  return Object.freeze(frames);
}

function normaliseLanguage(language: string): string {
  return language.trim().replace(/_/g, '-').toLowerCase();
}

export class PromptLibrary {
  /** language -> name -> prompt (only prompts that exist in that language's own directory). */
  readonly #prompts: Map<string, Map<PromptName, Prompt>>;
  readonly #logger: Logger | undefined;
  readonly #warned = new Set<string>();

  private constructor(prompts: Map<string, Map<PromptName, Prompt>>, logger: Logger | undefined) {
    this.#prompts = prompts;
    this.#logger = logger;
  }

  /**
   * Read <dir>/<lang>/<name>.wav for every language and prompt name. Synchronous: call once at
   * start-up. Throws AUDIO_PROMPT_MISSING (no dir, or an English prompt missing) or
   * AUDIO_WAV_INVALID (a file in the wrong format).
   */
  static load(dir: string, opts: PromptLibraryOptions = {}): PromptLibrary {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AppError('AUDIO_PROMPT_MISSING', `prompt directory ${dir} not found`);
    const requested = opts.languages
      ? opts.languages.map(normaliseLanguage)
      : readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => normaliseLanguage(d.name))
          .sort();
    const languages = [...new Set([FALLBACK_LANGUAGE, ...requested])];
    const prompts = new Map<string, Map<PromptName, Prompt>>();
    for (const language of languages) {
      const langDir = join(dir, language);
      if (!existsSync(langDir)) {
        if (language === FALLBACK_LANGUAGE) throw new AppError('AUDIO_PROMPT_MISSING', `fallback language directory ${langDir} not found`);
        opts.logger?.warn({ language, fallback: FALLBACK_LANGUAGE }, 'prompt language not installed; its prompts fall back to English');
        continue;
      }
      const byName = new Map<PromptName, Prompt>();
      for (const name of PROMPT_NAMES) {
        const file = join(langDir, `${name}.wav`);
        if (!existsSync(file)) {
          if (language === FALLBACK_LANGUAGE) throw new AppError('AUDIO_PROMPT_MISSING', `${file} not found (English is the fallback and must be complete)`);
          opts.logger?.warn({ language, prompt: name, fallback: FALLBACK_LANGUAGE }, 'prompt missing; falls back to English');
          continue;
        }
        const pcm = decodeWav8kMono(readFileSync(file), file);
        byName.set(name, new LoadedPrompt(name, language, pcm));
      }
      prompts.set(language, byName);
    }
    return new PromptLibrary(prompts, opts.logger);
  }

  /**
   * The prompt in the language asked for ('sv', 'sv-SE' and 'sv_SE' all find 'sv'), else English,
   * with one warning per requested language that needed the fallback.
   */
  get(name: PromptName, language: string): Prompt {
    const lang = normaliseLanguage(language);
    const primary = lang.split('-')[0] ?? lang;
    const hit = this.#prompts.get(lang)?.get(name) ?? this.#prompts.get(primary)?.get(name);
    if (hit) return hit;
    const fallback = this.#prompts.get(FALLBACK_LANGUAGE)?.get(name);
    if (!fallback) throw new AppError('AUDIO_PROMPT_MISSING', `${name} (${FALLBACK_LANGUAGE})`); // load() guarantees it; defensive
    const key = `${lang}`;
    if (!this.#warned.has(key)) {
      this.#warned.add(key);
      this.#logger?.warn({ language, prompt: name, fallback: FALLBACK_LANGUAGE }, 'no prompt in this language; using English');
    }
    return fallback;
  }

  /** True when the prompt exists in that language itself (no fallback). */
  has(name: PromptName, language: string): boolean {
    const lang = normaliseLanguage(language);
    return this.#prompts.get(lang)?.has(name) ?? this.#prompts.get(lang.split('-')[0] ?? lang)?.has(name) ?? false;
  }

  /** The languages loaded (each with at least its own directory), sorted. */
  languages(): string[] {
    return [...this.#prompts.keys()].sort();
  }
}
