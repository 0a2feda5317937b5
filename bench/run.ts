/**
 * `npm run bench <name> [-- flags]`: runs one benchmark by name (the same as `npm run bench:<name>`),
 * or lists them when no name is given. Each benchmark prints its own figures and ratios.
 *
 *   engine  bench/engine-bench.ts  SIP engine vs drachtio-server anchors (UAS and B2BUA ramps)
 *   media   bench/media-bench.ts   media plane vs rtpengine, recorded calls side by side
 *   media-alloc bench/media-alloc.ts  bytes the packet path allocates per packet, per socket I/O path
 *   load    bench/load-bench.ts    the whole product under SIPp load (ramp; --soak-minutes N: soak; --nodes 1,2,3: several nodes behind Kamailio)
 *   heap    bench/load-heap.ts     heap snapshots across rounds of calls (per-call leak check)
 *   connections bench/connection-flood.ts  TCP connections a flood holds while the carrier still calls
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES: Record<string, { file: string; nodeArgs: string[] }> = {
  engine: { file: 'engine-bench.ts', nodeArgs: [] },
  media: { file: 'media-bench.ts', nodeArgs: [] },
  'media-alloc': { file: 'media-alloc.ts', nodeArgs: [] },
  load: { file: 'load-bench.ts', nodeArgs: [] },
  heap: { file: 'load-heap.ts', nodeArgs: ['--max-old-space-size=8192'] },
  connections: { file: 'connection-flood.ts', nodeArgs: [] },
};

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHES[name];
if (!bench) {
  if (name !== undefined) console.error(`unknown benchmark '${name}'`);
  console.error(`usage: npm run bench <${Object.keys(BENCHES).join('|')}> [-- flags]`);
  process.exit(name === undefined ? 0 : 2);
}
const file = fileURLToPath(new URL(bench.file, import.meta.url));
const r = spawnSync(process.execPath, [...bench.nodeArgs, '--import', 'tsx', file, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
