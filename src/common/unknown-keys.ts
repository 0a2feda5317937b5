/**
 * Unknown keys in a document an operator wrote (the config file, the provisioning file). A misspelt
 * key (`calls.maxConcurentCalls`) must refuse the start, not be ignored: the operator would believe
 * a limit is on. Each unknown key is reported with its path and the nearest known key of its level,
 * e.g. `calls.maxConcurentCalls: unknown key; did you mean calls.maxConcurrentCalls?`.
 * Pure: no I/O.
 */

/**
 * The keys a document may hold. 'value': anything (a scalar, or a list / mapping whose keys are
 * the operator's own, such as `calls.trunkTargets`); a mapping: exactly these keys, each with its
 * own shape; a one-element tuple: a list whose items have that shape.
 */
export type KeyShape = 'value' | KeyMap | readonly [KeyShape];

export interface KeyMap {
  readonly [key: string]: KeyShape;
}

/** One problem per unknown key or misplaced type, each `path: ...`; [] when the document fits. Null / absent values fit any shape. */
export function findUnknownKeys(value: unknown, shape: KeyShape, path = ''): string[] {
  if (shape === 'value' || value === undefined || value === null) return [];
  if (isList(shape)) {
    if (!Array.isArray(value)) return [`${path || '(top level)'}: must be a list`];
    return value.flatMap((item, i) => findUnknownKeys(item, shape[0], `${path}[${i}]`));
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path || '(top level)'}: must be a mapping`];
  const known = Object.keys(shape);
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const childShape = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (childShape === undefined) {
      const near = nearestKey(key, known);
      problems.push(near === undefined ? `${at}: unknown key` : `${at}: unknown key; did you mean ${path ? `${path}.${near}` : near}?`);
    } else {
      problems.push(...findUnknownKeys(child, childShape, at));
    }
  }
  return problems;
}

/** The known key closest to `key` (Levenshtein distance, case-insensitive; the first of equals wins), or undefined when there is none. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = levenshtein(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, substitute one character) that turn a into b. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

function isList(shape: KeyMap | readonly [KeyShape]): shape is readonly [KeyShape] {
  return Array.isArray(shape);
}
