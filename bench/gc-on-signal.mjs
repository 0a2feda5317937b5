/**
 * Benchmark-only preload for the product process (bench/load-setup.ts, exposeGc): with node's
 * --expose-gc, SIGUSR2 runs a full garbage collection, so the soak benchmark compares heap and RSS
 * after a collection rather than whenever V8 last chose to collect. Never used by `npm start`.
 * SIGUSR1 is left alone (node reserves it for the inspector; bench/load-heap.ts uses it for
 * --heapsnapshot-signal). Plain JavaScript: the product runs compiled, and its worker threads
 * inherit this preload, so it must load without a TypeScript loader.
 */
const gc = globalThis.gc;
if (gc) process.on('SIGUSR2', () => gc());
