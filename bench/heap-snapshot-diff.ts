/**
 * Compares V8 heap snapshots (`.heapsnapshot` JSON, as written by node --heapsnapshot-signal or
 * v8.writeHeapSnapshot) taken of one process, to tell a per-call leak from warm-up growth
 * (bench/load-heap.ts; also runnable alone:
 * `node --max-old-space-size=8192 --import tsx bench/heap-snapshot-diff.ts S0 S1 [S2 ...]`).
 *
 * Two views, both by "kind" (node type and constructor or function name; strings, numbers and
 * code only by type):
 *  - totals: count and self size per kind in each snapshot, deltas against the first. A leak of
 *    something per call grows in proportion to the calls between snapshots; warm-up stops.
 *  - survivors (the three-snapshot technique): objects that did not exist in the first snapshot
 *    and are still alive in the last, split by the snapshot in which they first appear. V8 keeps an
 *    object's id for the life of the process, so an object allocated during round k and still
 *    referenced after the last round is counted in column k; a leak fills every column alike. For
 *    the largest kinds, sample retainer paths in the last snapshot (shortest path from the GC
 *    roots, weak edges skipped) name the collection that holds them.
 *
 * Each snapshot JSON must fit in one string (V8: about 512 MB, a heap of roughly 100 MB).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** One parsed snapshot, flattened to the fields the comparison needs. */
export interface Snapshot {
  /** Per node (index = node ordinal): V8's stable object id. */
  ids: Float64Array;
  /** Per node: its kind (see kindOf). */
  kinds: string[];
  selfSizes: Float64Array;
  /** Edges of node i are firstEdge[i] .. firstEdge[i + 1] - 1. */
  firstEdge: Uint32Array;
  edgeTo: Uint32Array;
  edgeLabel: string[];
  edgeWeak: Uint8Array;
}

const BY_TYPE_ONLY = new Set(['string', 'concatenated string', 'sliced string', 'number', 'bigint', 'symbol']);

/**
 * A node's kind: `type:name` (object constructor, closure name, hidden/array role); `(type)` for
 * strings and numbers; code by its role: `code:system / X` (FeedbackVector, ScopeInfo, ...),
 * `code:(role)` (`(code deopt data)`, `(code relocation info)`, `(source position table)`, ...),
 * `code:(builtin)`, and `code:(function code)` for the compiled code of one function (named after it).
 */
export function kindOf(type: string, name: string): string {
  if (BY_TYPE_ONLY.has(type)) return `(${type})`;
  if (type === 'code') {
    if (name.startsWith('system /')) return `code:${name}`;
    if (/^\((\S+ )?builtin/.test(name)) return 'code:(builtin)';
    const role = /^\(([^)]*)\)/.exec(name);
    return role ? `code:(${role[1]!.replace(/^code for .*/, 'code for a function')})` : 'code:(function code)';
  }
  return `${type}:${name.length > 80 ? `${name.slice(0, 77)}...` : name}`;
}

/** Embedder (native, synthetic) nodes get new ids in every snapshot, so only V8 heap objects can be followed across snapshots. */
export const NOT_FOLLOWED = /^(native|synthetic):/;

/** Parses snapshot JSON text (node_fields and edge_fields read from its meta, so field order may vary). */
export function parseSnapshot(text: string): Snapshot {
  const raw = JSON.parse(text) as RawSnapshot;
  const meta = raw.snapshot.meta;
  const nf = meta.node_fields.length;
  const nType = meta.node_fields.indexOf('type');
  const nName = meta.node_fields.indexOf('name');
  const nId = meta.node_fields.indexOf('id');
  const nSize = meta.node_fields.indexOf('self_size');
  const nEdges = meta.node_fields.indexOf('edge_count');
  const ef = meta.edge_fields.length;
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = raw.nodes.length / nf;
  const ids = new Float64Array(count);
  const kinds: string[] = new Array<string>(count);
  const selfSizes = new Float64Array(count);
  const firstEdge = new Uint32Array(count + 1);
  const edgeCount = raw.edges.length / ef;
  const edgeTo = new Uint32Array(edgeCount);
  const edgeLabel: string[] = new Array<string>(edgeCount);
  const edgeWeak = new Uint8Array(edgeCount);
  let e = 0;
  for (let i = 0; i < count; i++) {
    const o = i * nf;
    ids[i] = raw.nodes[o + nId]!;
    kinds[i] = kindOf(nodeTypes[raw.nodes[o + nType]!] ?? '?', raw.strings[raw.nodes[o + nName]!] ?? '');
    selfSizes[i] = raw.nodes[o + nSize]!;
    firstEdge[i] = e;
    e += raw.nodes[o + nEdges]!;
  }
  firstEdge[count] = e;
  for (let j = 0; j < edgeCount; j++) {
    const o = j * ef;
    const type = edgeTypes[raw.edges[o + eType]!] ?? '?';
    const nameOrIndex = raw.edges[o + eName]!;
    edgeTo[j] = raw.edges[o + eTo]! / nf;
    edgeWeak[j] = type === 'weak' || type === 'shortcut' ? 1 : 0;
    edgeLabel[j] = type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : (raw.strings[nameOrIndex] ?? '?');
  }
  return { ids, kinds, selfSizes, firstEdge, edgeTo, edgeLabel, edgeWeak };
}

/** Count and total self size per kind. */
export function totals(s: Snapshot): Map<string, { count: number; size: number }> {
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.kinds.length; i++) {
    const t = out.get(s.kinds[i]!) ?? { count: 0, size: 0 };
    t.count++;
    t.size += s.selfSizes[i]!;
    out.set(s.kinds[i]!, t);
  }
  return out;
}

/**
 * Shortest retainer path from the snapshot's root (node 0) to each wanted node, breadth first over
 * strong edges: `root -> label -> Kind -> label -> ... -> Kind`.
 */
export function retainerPaths(s: Snapshot, wanted: ReadonlySet<number>): Map<number, string> {
  const n = s.kinds.length;
  const parent = new Int32Array(n).fill(-1);
  const viaEdge = new Int32Array(n).fill(-1);
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  parent[0] = 0;
  while (head < tail) {
    const i = queue[head++]!;
    for (let e = s.firstEdge[i]!; e < s.firstEdge[i + 1]!; e++) {
      if (s.edgeWeak[e]) continue;
      const to = s.edgeTo[e]!;
      if (parent[to] !== -1) continue;
      parent[to] = i;
      viaEdge[to] = e;
      queue[tail++] = to;
    }
  }
  const out = new Map<number, string>();
  for (const w of wanted) {
    if (parent[w] === -1) {
      out.set(w, '(unreachable from the roots by strong edges)');
      continue;
    }
    const steps: string[] = [];
    for (let i = w; i !== 0 && steps.length < 60; i = parent[i]!) steps.push(`${s.edgeLabel[viaEdge[i]!]} -> ${s.kinds[i]}`);
    out.set(w, ['root', ...steps.reverse()].join(' -> '));
  }
  return out;
}

export interface DiffOptions {
  /** Kinds to list (largest absolute count delta in the last snapshot first). Default 40. */
  top?: number;
  /** Kinds of survivors to show retainer paths for. Default 8. */
  pathKinds?: number;
  /** Sample paths per kind. Default 3. */
  pathsPerKind?: number;
  /** Label per snapshot in the tables. Default S0, S1, ... */
  labels?: string[];
}

/** Loads the snapshots one at a time (keeping only what the comparison needs) and returns the report text. */
export function diffSnapshots(paths: string[], options: DiffOptions = {}): string {
  if (paths.length < 2) throw new Error('need at least two snapshots');
  const top = options.top ?? 40;
  const labels = options.labels ?? paths.map((_, i) => `S${i}`);
  const all: Array<Map<string, { count: number; size: number }>> = [];
  /** object id -> index of the first snapshot it appears in (ids of S0 are not kept: they are not new). */
  const firstSeen = new Map<number, number>();
  let baseIds = new Set<number>();
  let last: Snapshot | undefined;
  for (let k = 0; k < paths.length; k++) {
    const s = parseSnapshot(readFileSync(paths[k]!, 'utf8'));
    all.push(totals(s));
    if (k === 0) baseIds = new Set(s.ids);
    else for (const id of s.ids) if (!baseIds.has(id) && !firstSeen.has(id)) firstSeen.set(id, k);
    last = s;
  }
  const lines: string[] = [];
  const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
  const sum = (m: Map<string, { count: number; size: number }>): { count: number; size: number } =>
    [...m.values()].reduce((a, b) => ({ count: a.count + b.count, size: a.size + b.size }), { count: 0, size: 0 });
  lines.push(`totals: ${all.map((m, k) => `${labels[k]} ${sum(m).count} nodes ${kb(sum(m).size)} kB`).join(', ')}`);
  lines.push(`growth per interval: ${all.slice(1).map((m, k) => `${labels[k]} -> ${labels[k + 1]} ${sum(m).count - sum(all[k]!).count} nodes ${kb(sum(m).size - sum(all[k]!).size)} kB`).join(', ')}`);
  lines.push('');
  lines.push(`kinds by count delta ${labels.at(-1)} - ${labels[0]} (count / self kB per snapshot as delta from ${labels[0]}):`);
  const base = all[0]!;
  const lastTotals = all.at(-1)!;
  const delta = (m: Map<string, { count: number; size: number }>, kind: string): { count: number; size: number } => ({
    count: (m.get(kind)?.count ?? 0) - (base.get(kind)?.count ?? 0),
    size: (m.get(kind)?.size ?? 0) - (base.get(kind)?.size ?? 0),
  });
  const kinds = [...new Set([...base.keys(), ...lastTotals.keys()])].filter((kind) =>
    all.slice(1).some((m) => delta(m, kind).count !== 0 || delta(m, kind).size !== 0),
  );
  kinds.sort((a, b) => Math.abs(delta(lastTotals, b).count) - Math.abs(delta(lastTotals, a).count) || Math.abs(delta(lastTotals, b).size) - Math.abs(delta(lastTotals, a).size));
  lines.push(`| kind | ${labels[0]} count | ${labels.slice(1).map((l) => `${l} - ${labels[0]}`).join(' | ')} |`);
  for (const kind of kinds.slice(0, top)) {
    const cells = all.slice(1).map((m) => {
      const d = delta(m, kind);
      return `${d.count >= 0 ? '+' : ''}${d.count} / ${d.size >= 0 ? '+' : ''}${kb(d.size)}`;
    });
    lines.push(`| ${kind} | ${base.get(kind)?.count ?? 0} | ${cells.join(' | ')} |`);
  }

  // survivors: alive in the last snapshot, absent from the first
  const s = last!;
  const byKind = new Map<string, { perRound: number[]; size: number; nodes: number[] }>();
  for (let i = 0; i < s.ids.length; i++) {
    const k = firstSeen.get(s.ids[i]!);
    if (k === undefined || NOT_FOLLOWED.test(s.kinds[i]!)) continue;
    const g = byKind.get(s.kinds[i]!) ?? { perRound: new Array<number>(paths.length).fill(0), size: 0, nodes: [] };
    g.perRound[k]!++;
    g.size += s.selfSizes[i]!;
    if (g.nodes.length < (options.pathsPerKind ?? 3)) g.nodes.push(i);
    byKind.set(s.kinds[i]!, g);
  }
  const groups = [...byKind.entries()].sort((a, b) => sumOf(b[1].perRound) - sumOf(a[1].perRound));
  const survivors = groups.reduce((a, [, g]) => a + sumOf(g.perRound), 0);
  const survivorBytes = groups.reduce((a, [, g]) => a + g.size, 0);
  lines.push('');
  lines.push(
    `survivors: V8 heap objects absent from ${labels[0]} and alive in ${labels.at(-1)}: ${survivors} (${kb(survivorBytes)} kB self), by the snapshot they first appear in ` +
      '(native and synthetic nodes left out: their ids change from one snapshot to the next):',
  );
  lines.push(`| kind | ${labels.slice(1).map((l) => `first in ${l}`).join(' | ')} | self kB |`);
  for (const [kind, g] of groups.slice(0, top)) lines.push(`| ${kind} | ${g.perRound.slice(1).join(' | ')} | ${kb(g.size)} |`);
  const pathKinds = groups.slice(0, options.pathKinds ?? 8);
  const paths0 = retainerPaths(s, new Set(pathKinds.flatMap(([, g]) => g.nodes)));
  lines.push('');
  lines.push(`sample retainer paths in ${labels.at(-1)} (shortest from the roots, strong edges):`);
  for (const [kind, g] of pathKinds) {
    lines.push(`- ${kind}`);
    for (const i of g.nodes) lines.push(`    ${paths0.get(i)}`);
  }
  return lines.join('\n');
}

function sumOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(diffSnapshots(process.argv.slice(2)));
}
