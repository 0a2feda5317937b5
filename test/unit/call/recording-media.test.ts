/**
 * The media a call's recordings share (src/call/recording-media.ts): each recording's own fork, one
 * reminder tone for the call, one prompt at a time towards the legs.
 */
import { describe, expect, it } from 'vitest';
import { SharedRecordingMedia } from '../../../src/call/recording-media.js';
import type { Prompt } from '../../../src/media/audio/prompt-library.js';
import { FakeCallMedia } from '../../fakes/fake-call-media.js';
import { flush } from './call-harness-unit.js';

const prompt = (name: Prompt['name'], language = 'en-US'): Prompt => ({ name, language, pcm: new Int16Array(80), durationMs: 10, frames: () => [] });

describe('SharedRecordingMedia', () => {
  it('MUST send every fork command of a recording to its own fork id', async () => {
    const media = new FakeCallMedia();
    const shared = new SharedRecordingMedia(media);
    const alice = shared.viewFor('user-alice');
    const bob = shared.viewFor('user-bob');
    await alice.prepareFork();
    await bob.prepareFork();
    await alice.startFork({ targets: [{ address: '203.0.113.9', port: 40000 }, { address: '203.0.113.9', port: 40002 }] });
    await bob.pauseFork({ silence: true });
    await alice.resumeFork();
    await bob.stopFork();
    expect(media.forkCalls).toEqual([
      { op: 'prepareFork', forkId: 'user-alice' },
      { op: 'prepareFork', forkId: 'user-bob' },
      { op: 'startFork', forkId: 'user-alice' },
      { op: 'pauseFork', forkId: 'user-bob' },
      { op: 'resumeFork', forkId: 'user-alice' },
      { op: 'stopFork', forkId: 'user-bob' },
    ]);
  });

  it('MUST run one reminder tone while at least one recording wants it, at the shortest interval asked (R-19)', async () => {
    const media = new FakeCallMedia();
    const shared = new SharedRecordingMedia(media);
    const alice = shared.viewFor('user-alice');
    const bob = shared.viewFor('user-bob');
    await alice.startReminderTone(30_000);
    await bob.startReminderTone(20_000);
    expect(media.reminderMs).toBe(20_000);
    await bob.stopReminderTone(); // bob paused: alice still records
    expect(media.reminderMs).toBe(30_000);
    expect(shared.reminderToneRunning).toBe(true);
    await bob.stopReminderTone(); // twice: no change
    await alice.stopReminderTone();
    expect(media.reminderMs).toBeUndefined();
    expect(media.log.filter((l) => l.startsWith('reminder'))).toEqual(['reminder:on:30000', 'reminder:on:20000', 'reminder:on:30000', 'reminder:off']);
  });

  it('MUST play the same prompt asked by two recordings at once only once, and other prompts one after the other, never cutting each other', async () => {
    const media = new FakeCallMedia();
    media.holdPrompts = true;
    const shared = new SharedRecordingMedia(media);
    const alice = shared.viewFor('user-alice');
    const bob = shared.viewFor('user-bob');
    const a = alice.playPrompt('both', prompt('recording-started'));
    const b = bob.playPrompt('both', prompt('recording-started'));
    const c = bob.playPrompt('both', prompt('recording-started', 'fr-FR'));
    await flush();
    expect(media.prompts.map((p) => `${p.name}:${p.language}`)).toEqual(['recording-started:en-US']);
    media.endPrompts();
    await flush();
    expect(await a).toBe(await b);
    expect(media.prompts.map((p) => `${p.name}:${p.language}`)).toEqual(['recording-started:en-US', 'recording-started:fr-FR']);
    media.endPrompts();
    await expect(c).resolves.toMatchObject({ legs: [{ reason: 'completed' }, { reason: 'completed' }] });
  });
});
