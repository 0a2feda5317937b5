/**
 * Starts a worker thread on an ES module entry next to the caller, the same way whether the
 * process runs the TypeScript sources or a compiled build: under a TypeScript runner (source `.ts`
 * files, tests and `npm start` via tsx) the worker registers tsx before importing its entry;
 * compiled builds load the `.js` entry directly. Used by the media plane's workers
 * (engine-link.ts) and the reference recording server's media workers (src/srs/srs-media-pool.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

/**
 * The young generation of a worker's heap, MB. Media and recording workers allocate little per
 * packet, but V8 grows a new isolate's young generation to its default cap (32 MB) under any steady
 * allocation, and never gives it back: with one worker per core plus the recording server's, that
 * was most of the RSS the load benchmark counted per call (docs/benchmarks.md). 4 MB keeps
 * scavenges cheap and rare (a few a second at full load) and the memory flat.
 */
export const WORKER_YOUNG_GENERATION_MB = 4;

let memoryReducerOff = false;

/**
 * V8's memory reducer off for the isolates created from now on: the workers. It takes an isolate
 * that allocates little for an idle one and shrinks its heap with full, compacting collections,
 * up to three after each regular one. A media worker allocates almost nothing per packet, so it
 * always looks idle, and each of those collections stopped its packets for 8-33 ms
 * (docs/benchmarks.md, "Media plane"). A worker's heap is small and steady; there is nothing to
 * give back. The flag is read when an isolate's heap is set up: the main thread, already running,
 * keeps its reducer, which returns memory after a burst of calls.
 */
function turnMemoryReducerOff(): void {
  if (memoryReducerOff) return;
  setFlagsFromString('--no-memory-reducer');
  memoryReducerOff = true;
}

/** The ESM entry of tsx's register API (its package exports map, `import` condition). */
function tsxEsmApiUrl(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const rel = pkg.exports['./esm/api']?.import.default ?? './dist/esm/api/index.mjs';
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/**
 * A worker running `<basename>.ts` or `<basename>.js` next to `callerUrl` (the caller's
 * import.meta.url), whichever extension the caller itself has; `workerData` reaches the entry as
 * worker_threads' workerData.
 */
export function startModuleWorker(callerUrl: string, basename: string, name: string, workerData?: unknown): Worker {
  turnMemoryReducerOff();
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  const entry = new URL(`./${basename}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
  if (entry.pathname.endsWith('.ts')) {
    const code = `import(${JSON.stringify(tsxEsmApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    return new Worker(code, { eval: true, name, workerData, resourceLimits });
  }
  return new Worker(entry, { name, workerData, resourceLimits });
}
