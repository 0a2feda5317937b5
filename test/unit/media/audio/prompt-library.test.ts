import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureLogger } from '../../../support/capture-logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../../src/common/errors.js';
import { decodeG711, encodeG711 } from '../../../../src/media/audio/g711.js';
import { PROMPT_NAMES, PromptLibrary } from '../../../../src/media/audio/prompt-library.js';
import { encodeWavG711, encodeWavPcm16 } from '../../../../src/media/audio/wav.js';
import { goertzelPower } from '../../../support/goertzel.js';
import { sine } from '../../../support/tone-source.js';

const PROMPTS = fileURLToPath(new URL('../../../../prompts', import.meta.url));
const LANGS = ['de', 'en', 'es', 'fr', 'sv'];

async function flush(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('PromptLibrary with the shipped prompts/ (R-11, R-12, R-18)', () => {
  const lib = PromptLibrary.load(PROMPTS, {});

  it('MUST load every prompt in en, sv, de, fr and es', () => {
    expect(lib.languages()).toEqual(expect.arrayContaining(LANGS));
    for (const lang of LANGS) {
      for (const name of PROMPT_NAMES) {
        const p = lib.get(name, lang);
        expect(p.language).toBe(lang);
        expect(lib.has(name, lang)).toBe(true);
        expect(p.durationMs).toBeGreaterThan(500);
        expect(p.durationMs).toBeLessThan(5000);
      }
    }
  });

  it('MUST be speech normalised near -3 dBFS peak, not silence, and differ between languages', () => {
    for (const lang of LANGS) {
      const pcm = lib.get('compliance', lang).pcm;
      const peak = pcm.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(peak).toBeGreaterThan(20000); // -3 dBFS = 23197
      expect(peak).toBeLessThan(24000);
    }
    expect(lib.get('compliance', 'en').pcm.length).not.toBe(lib.get('compliance', 'sv').pcm.length);
  });

  it('MUST precompute 160-byte 20 ms frames in both laws that decode back to the prompt', () => {
    const p = lib.get('recording-paused', 'fr');
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const frames = p.frames(codec);
      expect(frames).toBe(p.frames(codec)); // computed once
      expect(frames.length).toBe(Math.ceil(p.pcm.length / 160));
      expect(frames.every((f) => f.length === 160)).toBe(true);
      const back = decodeG711(codec, frames[10]!);
      const ref = p.pcm.subarray(1600, 1760);
      let err = 0;
      let sig = 0;
      ref.forEach((v, i) => {
        sig += v * v;
        err += (v - back[i]!) ** 2;
      });
      expect(10 * Math.log10(sig / Math.max(1, err))).toBeGreaterThan(25);
    }
  });

  it('MUST find a language by region tag (sv-SE, de_DE) and fall back to English with one warning per language', async () => {
    const { logger, lines } = captureLogger();
    const withLog = PromptLibrary.load(PROMPTS, { logger });
    expect(withLog.get('compliance', 'sv-SE').language).toBe('sv');
    expect(withLog.get('compliance', 'de_DE').language).toBe('de');
    expect(withLog.get('compliance', 'nl').language).toBe('en');
    expect(withLog.get('recording-started', 'nl').language).toBe('en');
    expect(withLog.get('compliance', 'it').language).toBe('en');
    await flush();
    const warns = lines.filter((l) => l.level === 40);
    expect(warns.map((w) => w.language)).toEqual(['nl', 'it']);
  });
});

describe('PromptLibrary loading rules', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'prompts-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function makeSet(root: string, lang: string, names: readonly string[] = PROMPT_NAMES): void {
    mkdirSync(join(root, lang), { recursive: true });
    for (const n of names) writeFileSync(join(root, lang, `${n}.wav`), encodeWavPcm16(sine(lang === 'en' ? 440 : 1000, 100, -6)));
  }

  it('a prompt missing in one language MUST fall back to English with a warning at load', async () => {
    const root = join(dir, 'partial');
    makeSet(root, 'en');
    makeSet(root, 'sv', ['compliance']);
    const { logger, lines } = captureLogger();
    const lib = PromptLibrary.load(root, { logger });
    expect(lib.get('compliance', 'sv').language).toBe('sv');
    const fb = lib.get('recording-started', 'sv');
    expect(fb.language).toBe('en');
    expect(goertzelPower(fb.pcm, 440)).toBeGreaterThan(goertzelPower(fb.pcm, 1000));
    await flush();
    expect(lines.some((l) => l.language === 'sv' && l.prompt === 'recording-started')).toBe(true);
  });

  it('a requested language without a directory MUST load (warning) and fall back to English', async () => {
    const root = join(dir, 'requested');
    makeSet(root, 'en');
    const { logger, lines } = captureLogger();
    const lib = PromptLibrary.load(root, { languages: ['fi'], logger });
    expect(lib.languages()).toEqual(['en']);
    expect(lib.get('compliance', 'fi').language).toBe('en');
    await flush();
    expect(lines.some((l) => l.language === 'fi')).toBe(true);
  });

  it('MUST refuse to start (AUDIO_PROMPT_MISSING) without a complete English set or without the directory', () => {
    const root = join(dir, 'no-en');
    makeSet(root, 'en', ['compliance']);
    for (const d of [root, join(dir, 'does-not-exist')]) {
      try {
        PromptLibrary.load(d, {});
        expect.fail('should throw');
      } catch (err) {
        expect(isAppError(err, 'AUDIO_PROMPT_MISSING'), String(err)).toBe(true);
      }
    }
  });

  it('MUST refuse a prompt file in the wrong format (AUDIO_WAV_INVALID names the file)', () => {
    const root = join(dir, 'bad');
    makeSet(root, 'en');
    writeFileSync(join(root, 'en', 'compliance.wav'), encodeWavPcm16(sine(440, 100), 44100));
    try {
      PromptLibrary.load(root, {});
      expect.fail('should throw');
    } catch (err) {
      expect(isAppError(err, 'AUDIO_WAV_INVALID')).toBe(true);
      expect((err as Error).message).toContain('compliance.wav');
    }
  });

  it('MUST accept operator recordings stored as 8 kHz mu-law or A-law WAV', () => {
    const root = join(dir, 'mulaw');
    makeSet(root, 'en');
    mkdirSync(join(root, 'de'));
    const tone = sine(1400, 100, -6);
    writeFileSync(join(root, 'de', 'compliance.wav'), encodeWavG711('mulaw', encodeG711('PCMU', tone)));
    writeFileSync(join(root, 'de', 'recording-started.wav'), encodeWavG711('alaw', encodeG711('PCMA', tone)));
    const lib = PromptLibrary.load(root, { languages: ['de'] });
    for (const name of ['compliance', 'recording-started'] as const) {
      const p = lib.get(name, 'de');
      expect(p.language).toBe('de');
      expect(p.pcm.length).toBe(800);
      expect(goertzelPower(p.pcm, 1400)).toBeGreaterThan(0.2);
    }
  });
});
