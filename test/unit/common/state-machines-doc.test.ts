import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CALL_TRANSITIONS, RECORDING_TRANSITIONS } from '../../../src/call/call-state.js';
import type { TransitionTable } from '../../../src/common/state-machine.js';
import { CLIENT_TXN_TRANSITIONS } from '../../../src/engine/client-transaction.js';
import { DIALOG_TRANSITIONS } from '../../../src/engine/dialog.js';
import { PROXY_BRANCH_TRANSITIONS } from '../../../src/engine/proxy-session.js';
import { SERVER_TXN_TRANSITIONS } from '../../../src/engine/server-transaction.js';
import { FORK_TRANSITIONS } from '../../../src/media/engine/fork-set.js';
import { MEDIA_PLANE_TRANSITIONS } from '../../../src/media/media-plane.js';
import { MEDIA_SESSION_TRANSITIONS } from '../../../src/media/media-session-state.js';
import { PACER_TRANSITIONS } from '../../../src/media/processors/prompt-pacer.js';
import { WEBHOOK_QUEUE_TRANSITIONS } from '../../../src/observability/event-webhook.js';
import { RECORDING_SESSION_TRANSITIONS } from '../../../src/siprec/client/recording-session-state.js';
import { SRS_RECORDING_TRANSITIONS } from '../../../src/srs/srs-recording.js';

/** Every lifecycle's table and the state its machine starts in. */
const LIFECYCLES: Record<string, { table: TransitionTable<string>; initial: string }> = {
  CALL_TRANSITIONS: { table: CALL_TRANSITIONS, initial: 'admitted' },
  RECORDING_TRANSITIONS: { table: RECORDING_TRANSITIONS, initial: 'idle' },
  RECORDING_SESSION_TRANSITIONS: { table: RECORDING_SESSION_TRANSITIONS, initial: 'idle' },
  SRS_RECORDING_TRANSITIONS: { table: SRS_RECORDING_TRANSITIONS, initial: 'receiving' },
  MEDIA_SESSION_TRANSITIONS: { table: MEDIA_SESSION_TRANSITIONS, initial: 'open' },
  FORK_TRANSITIONS: { table: FORK_TRANSITIONS, initial: 'prepared' },
  CLIENT_TXN_TRANSITIONS: { table: CLIENT_TXN_TRANSITIONS, initial: 'calling' },
  SERVER_TXN_TRANSITIONS: { table: SERVER_TXN_TRANSITIONS, initial: 'trying' },
  DIALOG_TRANSITIONS: { table: DIALOG_TRANSITIONS, initial: 'early' },
  PROXY_BRANCH_TRANSITIONS: { table: PROXY_BRANCH_TRANSITIONS, initial: 'waiting' },
  MEDIA_PLANE_TRANSITIONS: { table: MEDIA_PLANE_TRANSITIONS, initial: 'running' },
  PACER_TRANSITIONS: { table: PACER_TRANSITIONS, initial: 'idle' },
  WEBHOOK_QUEUE_TRANSITIONS: { table: WEBHOOK_QUEUE_TRANSITIONS, initial: 'idle' },
};

interface Drawn {
  edges: string[];
  initial: string[];
  finals: string[];
}

/** The mermaid blocks of docs/state-machines.md by the table their `%% table:` line names. */
function drawnMachines(): Map<string, Drawn[]> {
  const md = readFileSync(new URL('../../../docs/state-machines.md', import.meta.url), 'utf8');
  const out = new Map<string, Drawn[]>();
  for (const block of md.matchAll(/```mermaid\n([\s\S]*?)```/g)) {
    const lines = block[1]!.split('\n').map((l) => l.trim());
    const name = lines.map((l) => /^%% table: (\w+)$/.exec(l)?.[1]).find((n) => n !== undefined) ?? '(no table line)';
    const alias = new Map<string, string>();
    for (const l of lines) {
      const m = /^state "([^"]+)" as (\w+)$/.exec(l);
      if (m) alias.set(m[2]!, m[1]!);
    }
    const id = (s: string): string => alias.get(s) ?? s;
    const drawn: Drawn = { edges: [], initial: [], finals: [] };
    for (const l of lines) {
      const m = /^(\[\*\]|[\w-]+) --> (\[\*\]|[\w-]+)( *:.*)?$/.exec(l);
      if (!m) continue;
      if (m[1] === '[*]') drawn.initial.push(id(m[2]!));
      else if (m[2] === '[*]') drawn.finals.push(id(m[1]!));
      else drawn.edges.push(`${id(m[1]!)} -> ${id(m[2]!)}`);
    }
    out.set(name, [...(out.get(name) ?? []), drawn]);
  }
  return out;
}

function expected(table: TransitionTable<string>, initial: string): Drawn {
  const states = Object.keys(table);
  return {
    edges: states.flatMap((from) => table[from]!.map((to) => `${from} -> ${to}`)).sort(),
    initial: [initial],
    finals: states.filter((s) => table[s]!.length === 0).sort(),
  };
}

/** The block to paste into the doc when a table changed. */
function mermaidOf(name: string, table: TransitionTable<string>, initial: string): string {
  const ids = (s: string): string => s.replace(/-/g, '_');
  const states = Object.keys(table);
  return [
    '```mermaid',
    'stateDiagram-v2',
    `  %% table: ${name}`,
    ...states.filter((s) => s.includes('-')).map((s) => `  state "${s}" as ${ids(s)}`),
    `  [*] --> ${ids(initial)}`,
    ...states.flatMap((from) => table[from]!.map((to) => `  ${ids(from)} --> ${ids(to)}`)),
    ...states.filter((s) => table[s]!.length === 0).map((s) => `  ${ids(s)} --> [*]`),
    '```',
  ].join('\n');
}

describe('docs/state-machines.md draws every state-machine table, edge for edge', () => {
  const drawn = drawnMachines();

  it('names only known tables, each exactly once', () => {
    expect([...drawn.keys()].sort()).toEqual(Object.keys(LIFECYCLES).sort());
    for (const [name, blocks] of drawn) expect(blocks.length, name).toBe(1);
  });

  for (const [name, { table, initial }] of Object.entries(LIFECYCLES)) {
    it(`${name}: the same moves, start state and final states as the table`, () => {
      const block = drawn.get(name)?.[0];
      const got = block ? { edges: [...block.edges].sort(), initial: block.initial, finals: [...block.finals].sort() } : undefined;
      expect(got, `docs/state-machines.md should draw ${name} as:\n${mermaidOf(name, table, initial)}\n`).toEqual(expected(table, initial));
    });
  }
});

/**
 * Files allowed to hold a state field of their own, each with its reason. Everything else keeps its
 * state in a StateMachine (private, changed only by transition()).
 */
const OWN_STATE: Record<string, string> = {
  'src/common/state-machine.ts': 'the mechanism itself',
  'src/media/processors/source-latch.ts': 'a per-packet verdict, not a lifecycle: numeric latch states decided by the time passed in, pure and allocation-free on the packet path',
};

function sourceFiles(dir: string, root: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full, root);
    return e.name.endsWith('.ts') ? [full.slice(root.length + 1)] : [];
  });
}

describe('every state change goes through the one mechanism (docs/state-machines.md)', () => {
  it('no file outside common/state-machine.ts assigns a state field or declares a mutable one', () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url)).replace(/[\\/]$/, '');
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'), root)) {
      if (OWN_STATE[file.split('\\').join('/')] !== undefined) continue;
      const text = readFileSync(join(root, file), 'utf8');
      text.split('\n').forEach((line, i) => {
        const assigns = /(?:\.|#)state\s*=(?!=)/.test(line);
        const declares = /^\s+(?:readonly\s+)?#?state\s*:[^=;]+=(?!=)/.test(line);
        if (assigns || declares) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
