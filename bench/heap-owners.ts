/**
 * Who holds the memory of a heap snapshot (bench/heap-at-peak.ts): each object's immediate
 * dominator is computed over strong edges (Cooper, Harvey and Kennedy's iterative algorithm on the
 * reverse postorder from the root), and each new object (one whose id the earlier snapshot did not
 * have) is charged to its nearest dominating "owner": an object of a named class of the product or
 * a library (CallSession, Dialog, ServerTransaction ...), not a plain Object, Array, Map or
 * closure. An object is dominated by X when every path from the GC roots to it passes through X,
 * so freeing X frees it: the charge is what dropping that owner would give back.
 */
import { NOT_FOLLOWED, type Snapshot } from './heap-snapshot-diff.js';

/** Constructors that hold things without saying whose they are: charged to their own owner. */
const NOT_OWNERS = new Set([
  'Object', 'Array', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'Promise', 'Error', 'Date', 'RegExp', 'Function',
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array',
  'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Buffer', 'FastBuffer', 'Arguments',
]);

/** An owner's kind (`object:Name` with a capitalised class name outside NOT_OWNERS), or undefined. */
export function ownerName(kind: string): string | undefined {
  const m = /^object:([A-Z][\w$]*)$/.exec(kind);
  return m && !NOT_OWNERS.has(m[1]!) ? m[1] : undefined;
}

/** Immediate dominator of each node reachable from node 0 over strong edges (-1: unreachable; the root's is itself). */
export function dominators(s: Snapshot): Int32Array {
  const n = s.kinds.length;
  // postorder by an explicit-stack depth-first walk
  const order = new Int32Array(n).fill(-1); // postorder number
  const post: number[] = [];
  const stack = new Int32Array(n);
  const nextEdge = new Uint32Array(n);
  const seen = new Uint8Array(n);
  let top = 0;
  stack[top++] = 0;
  seen[0] = 1;
  nextEdge[0] = s.firstEdge[0]!;
  while (top > 0) {
    const i = stack[top - 1]!;
    let pushed = false;
    while (nextEdge[i]! < s.firstEdge[i + 1]!) {
      const e = nextEdge[i]!++;
      if (s.edgeWeak[e]) continue;
      const j = s.edgeTo[e]!;
      if (seen[j]) continue;
      seen[j] = 1;
      nextEdge[j] = s.firstEdge[j]!;
      stack[top++] = j;
      pushed = true;
      break;
    }
    if (!pushed) {
      top--;
      order[i] = post.length;
      post.push(i);
    }
  }
  // predecessors of reachable nodes (CSR)
  const predCount = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    if (order[i] === -1) continue;
    for (let e = s.firstEdge[i]!; e < s.firstEdge[i + 1]!; e++) if (!s.edgeWeak[e]) predCount[s.edgeTo[e]! + 1]!++;
  }
  for (let i = 0; i < n; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Uint32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let i = 0; i < n; i++) {
    if (order[i] === -1) continue;
    for (let e = s.firstEdge[i]!; e < s.firstEdge[i + 1]!; e++) if (!s.edgeWeak[e]) preds[fill[s.edgeTo[e]!]!++] = i;
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const b = post[k]!;
      let next = -1;
      for (let p = predCount[b]!; p < predCount[b + 1]!; p++) {
        const q = preds[p]!;
        if (idom[q] === -1) continue;
        next = next === -1 ? q : intersect(q, next);
      }
      if (next !== -1 && idom[b] !== next) {
        idom[b] = next;
        changed = true;
      }
    }
  }
  return idom;
}

export interface OwnerCharge {
  /** The owner's class, or `(no owner)` when only the roots, plain objects and closures dominate. */
  owner: string;
  /** Self size of the new objects it dominates (its own included), bytes. */
  bytes: number;
  /** New instances of the owner itself. */
  instances: number;
}

/**
 * Charges each object of `s` whose id is not in `before` to its nearest dominating owner; largest
 * first. Embedder nodes (a native histogram, ...) get new ids in every snapshot and would all read
 * as new: they are left out (their growth shows in the kind totals).
 */
export function chargeToOwners(s: Snapshot, before: ReadonlySet<number>): OwnerCharge[] {
  const idom = dominators(s);
  const n = s.kinds.length;
  // owner[x]: the nearest owner at or above x in the dominator tree (-2: none), filled on demand
  const owner = new Int32Array(n).fill(-1);
  const path: number[] = [];
  const resolve = (i: number): number => {
    let x = i;
    while (owner[x] === -1 && x !== 0 && idom[x] !== -1) {
      path.push(x);
      x = idom[x]!;
    }
    let o = owner[x] !== -1 ? owner[x]! : ownerName(s.kinds[x]!) ? x : -2;
    owner[x] = o;
    // back down the path: each node takes the nearest owner above it, or itself if it is one
    for (let k = path.length - 1; k >= 0; k--) {
      const y = path[k]!;
      if (ownerName(s.kinds[y]!)) o = y;
      owner[y] = o;
    }
    path.length = 0;
    return owner[i]!;
  };
  const charges = new Map<string, OwnerCharge>();
  for (let i = 0; i < n; i++) {
    if (idom[i] === -1 || before.has(s.ids[i]!) || NOT_FOLLOWED.test(s.kinds[i]!)) continue;
    const o = resolve(i);
    const name = o >= 0 ? ownerName(s.kinds[o]!)! : '(no owner)';
    const c = charges.get(name) ?? { owner: name, bytes: 0, instances: 0 };
    c.bytes += s.selfSizes[i]!;
    if (o === i) c.instances++;
    charges.set(name, c);
  }
  return [...charges.values()].sort((a, b) => b.bytes - a.bytes);
}
