/**
 * Keys written more than once in one JSON object of a text, e.g. `{"component":"a","component":"b"}`.
 * JSON.parse keeps the last value silently, so a test that reads log lines with it cannot see the
 * duplicate; this scanner reads the text itself. Paths are dotted (`req.headers.host`); [] when none.
 */
export function duplicateJsonKeys(text: string): string[] {
  const duplicates: string[] = [];
  const stack: Array<{ keys: Set<string> | undefined; path: string; pending: string | undefined }> = [];
  let i = 0;
  const readString = (): string => {
    let out = '';
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        out += text.slice(i, i + 2);
        i += 2;
      } else out += text[i++];
    }
    i++; // closing quote
    return out;
  };
  while (i < text.length) {
    const c = text[i]!;
    const top = stack.at(-1);
    if (c === '{' || c === '[') {
      const path = top ? (top.keys ? `${top.path}${top.path ? '.' : ''}${top.pending ?? ''}` : top.path) : '';
      stack.push({ keys: c === '{' ? new Set() : undefined, path, pending: undefined });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === '"') {
      const s = readString();
      let j = i;
      while (text[j] === ' ' || text[j] === '\n' || text[j] === '\t' || text[j] === '\r') j++;
      if (top?.keys && text[j] === ':') {
        if (top.keys.has(s)) duplicates.push(`${top.path}${top.path ? '.' : ''}${s}`);
        top.keys.add(s);
        top.pending = s;
      }
    } else i++;
  }
  return duplicates;
}
