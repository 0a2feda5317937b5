/**
 * A tiny deterministic XML writer: two-space indentation, attributes in the order given, LF line
 * ends, `<x/>` for empty elements. Byte-for-byte stable output is what the golden tests pin.
 */
export type XmlAttrs = ReadonlyArray<readonly [name: string, value: string | number | undefined]>;

export interface XmlNode {
  readonly name: string;
  readonly attrs?: XmlAttrs;
  /** Either text content or child elements (mixed content is not needed for SIPREC). */
  readonly text?: string;
  readonly children?: ReadonlyArray<XmlNode | undefined | false>;
}

export function escapeXmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/** Serialises a document: the XML declaration, then the root element, then a final LF. */
export function writeXmlDocument(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  writeNode(root, 0, out);
  return out.join('');
}

function writeNode(node: XmlNode, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  let open = `${pad}<${node.name}`;
  for (const [k, v] of node.attrs ?? []) {
    if (v === undefined) continue;
    open += ` ${k}="${escapeXmlAttr(String(v))}"`;
  }
  const kids = (node.children ?? []).filter((c): c is XmlNode => !!c);
  if (node.text !== undefined && node.text !== '') {
    out.push(`${open}>${escapeXmlText(node.text)}</${node.name}>\n`);
  } else if (kids.length === 0) {
    out.push(`${open}/>\n`);
  } else {
    out.push(`${open}>\n`);
    for (const k of kids) writeNode(k, depth + 1, out);
    out.push(`${pad}</${node.name}>\n`);
  }
}
