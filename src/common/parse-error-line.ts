/**
 * A YAML or JSON syntax error as one line with its line and column, for start-up errors
 * (`line 3, column 5: Map keys must be unique`): the parsers' own messages span several lines
 * (yaml prints a code frame) or, for JSON, carry an offset or the whole text instead of a line.
 * Pure: no I/O.
 */
import { parseDocument } from 'yaml';

interface YamlLikeError {
  readonly message: string;
  readonly linePos?: readonly { readonly line: number; readonly col: number }[];
}

/** `line L, column C: <what>` for an error thrown by yaml's parse() or JSON.parse() on `text`. */
export function parseErrorLine(err: unknown, text: string): string {
  const e = (err ?? {}) as YamlLikeError;
  const first = String(e.message ?? err).split('\n')[0]!.trim();
  if (e.linePos?.[0]) return `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
  // JSON.parse: 'Unexpected token ... in JSON at position 12' or 'Unexpected token '}', "<the text>" is not valid JSON'
  const what = first.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '');
  const position = /position (\d+)/.exec(first);
  if (position) return `${lineColumn(text, Number(position[1]))}: ${what}`;
  // no offset: the YAML parser (a JSON superset) locates the same fault
  const located = parseDocument(text).errors[0]?.linePos?.[0];
  if (located) return `line ${located.line}, column ${located.col}: ${what}`;
  return what === '' ? 'syntax error' : what;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}
