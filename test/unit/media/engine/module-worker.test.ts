/**
 * startModuleWorker (src/media/engine/module-worker.ts): the one way media and recording-server
 * workers start, on a TypeScript entry under tsx, with a small young generation.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startModuleWorker, WORKER_YOUNG_GENERATION_MB } from '../../../../src/media/engine/module-worker.js';

describe('startModuleWorker', () => {
  it(`MUST run a TypeScript entry with its workerData, and cap the worker's young generation at ${WORKER_YOUNG_GENERATION_MB} MB`, async () => {
    const caller = new URL('../../../fixtures/workers/caller.ts', import.meta.url).href;
    const worker = startModuleWorker(caller, 'heap-report', 'heap-report-test', { hello: 'worker' });
    try {
      const [msg] = (await once(worker, 'message')) as [{ echo: unknown; newSpaceBytes: number }];
      expect(msg.echo).toEqual({ hello: 'worker' });
      expect(worker.resourceLimits?.maxYoungGenerationSizeMb).toBe(WORKER_YOUNG_GENERATION_MB);
      // V8's default would let it grow to 32 MB (16 MB semi-spaces); the cap bounds it for good
      expect(msg.newSpaceBytes).toBeLessThanOrEqual(WORKER_YOUNG_GENERATION_MB * 2 ** 20);
    } finally {
      await worker.terminate();
    }
  });

  // V8's memory reducer starts 8 s after an isolate's heap grows, and takes an isolate that
  // allocates little for an idle one: without the fix this worker ran two or three full,
  // compacting collections between 8 and 11 s (a media worker's packets waited 8-33 ms on each)
  it('MUST start workers without the memory reducer: a worker that allocates little runs no full collection on its own', async () => {
    const caller = new URL('../../../fixtures/workers/caller.ts', import.meta.url).href;
    const worker = startModuleWorker(caller, 'gc-report', 'gc-report-test', { ms: 12_000 });
    try {
      const [msg] = (await once(worker, 'message')) as [{ major: number }];
      expect(msg.major).toBe(0);
    } finally {
      await worker.terminate();
    }
  }, 30_000);
});
