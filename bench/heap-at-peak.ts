/**
 * What a live call holds in the product's main thread (`npm run bench:heap -- --at-peak`): a heap
 * snapshot with the product idle after a warm-up, then one while --calls calls at --rate are all up
 * (each --call-seconds long), and the difference per concurrent call: by kind (constructor, closure,
 * string, array role, ArrayBuffer backing store), the biggest ArrayBuffer sizes, and the string
 * groups by their first characters (a SIP message kept whole by a header value sliced from it shows
 * here), and what holds it: each new object charged to the nearest named-class object that
 * dominates it (bench/heap-owners.ts). V8 runs a full GC before each snapshot, so this is live
 * memory, not garbage; the snapshot stalls the product for a few seconds, so calls of that moment
 * may fail (a measurement, not a load step). Media workers and the recording server's worker have heaps of their own, not in it.
 */
import { readFileSync } from 'node:fs';
import { parseSnapshot, totals } from './heap-snapshot-diff.js';
import { chargeToOwners } from './heap-owners.js';

interface RawStrings {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size per group of strings (first 40 characters) and per ArrayBuffer backing-store size. */
function stringsAndBuffers(text: string): { strings: Map<string, number>; buffers: Map<number, number> } {
  const raw = JSON.parse(text) as RawStrings;
  const f = raw.snapshot.meta.node_fields;
  const types = raw.snapshot.meta.node_types[0];
  const [n, t, nm, sz] = [f.length, f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const strings = new Map<string, number>();
  const buffers = new Map<number, number>();
  for (let i = 0; i < raw.nodes.length; i += n) {
    const type = types[raw.nodes[i + t]!];
    const name = raw.strings[raw.nodes[i + nm]!] ?? '';
    const size = raw.nodes[i + sz]!;
    if (type === 'string') {
      const key = name.slice(0, 40).replace(/\s+/g, ' ');
      strings.set(key, (strings.get(key) ?? 0) + size);
    } else if (type === 'native' && name.includes('ArrayBufferData')) {
      buffers.set(size, (buffers.get(size) ?? 0) + 1);
    }
  }
  return { strings, buffers };
}

const kB = (bytes: number): string => (bytes / 1024).toFixed(2);

/** The report: growth from the idle snapshot to the peak one, per concurrent call. */
export function peakReport(idlePath: string, peakPath: string, concurrentCalls: number, top = 25): string {
  const idleText = readFileSync(idlePath, 'utf8');
  const peakText = readFileSync(peakPath, 'utf8');
  const idleSnapshot = parseSnapshot(idleText);
  const peakSnapshot = parseSnapshot(peakText);
  const t0 = totals(idleSnapshot);
  const t1 = totals(peakSnapshot);
  const rows = [...t1].map(([kind, v]) => ({ kind, count: v.count - (t0.get(kind)?.count ?? 0), size: v.size - (t0.get(kind)?.size ?? 0) }));
  rows.sort((a, b) => b.size - a.size);
  const growth = rows.reduce((s, r) => s + r.size, 0);
  const out = [
    `live main-thread heap growth from idle to ${concurrentCalls} concurrent calls: ${(growth / 2 ** 20).toFixed(1)} MB, ${kB(growth / concurrentCalls)} kB per call`,
    '',
    '| kind | kB per call | objects per call |',
    '|---|---|---|',
    ...rows.slice(0, top).map((r) => `| ${r.kind} | ${kB(r.size / concurrentCalls)} | ${(r.count / concurrentCalls).toFixed(1)} |`),
  ];
  const owners = chargeToOwners(peakSnapshot, new Set(idleSnapshot.ids));
  out.push('', '| held by (nearest dominating owner) | kB per call | owners per call |', '|---|---|---|');
  for (const o of owners.slice(0, top)) out.push(`| ${o.owner} | ${kB(o.bytes / concurrentCalls)} | ${(o.instances / concurrentCalls).toFixed(2)} |`);
  const s0 = stringsAndBuffers(idleText);
  const s1 = stringsAndBuffers(peakText);
  const strings = [...s1.strings].map(([k, v]) => [k, v - (s0.strings.get(k) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
  out.push('', '| strings starting with | kB per call |', '|---|---|');
  for (const [k, v] of strings.slice(0, 12)) out.push(`| \`${k.replace(/\|/g, '\\|')}\` | ${kB(v / concurrentCalls)} |`);
  const buffers = [...s1.buffers].map(([size, n]) => [size, n - (s0.buffers.get(size) ?? 0)] as const).filter(([, n]) => n > 0);
  buffers.sort((a, b) => b[0] * b[1] - a[0] * a[1]);
  out.push('', '| ArrayBuffer backing store | new ones per call | kB per call |', '|---|---|---|');
  for (const [size, n] of buffers.slice(0, 8)) out.push(`| ${size} bytes | ${(n / concurrentCalls).toFixed(2)} | ${kB((size * n) / concurrentCalls)} |`);
  return out.join('\n');
}
