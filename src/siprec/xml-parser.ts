import { AppError } from '../common/errors.js';

/**
 * A small, strict, namespace-aware XML parser for SIPREC bodies (metadata and snapshot requests).
 *
 * Supports: the XML declaration and processing instructions (skipped), comments (skipped), CDATA,
 * the five predefined entities and numeric character references, `xmlns` / `xmlns:p` declarations.
 * Refuses: DOCTYPE (no entity expansion, no external fetches), unbalanced or mismatched tags,
 * undeclared prefixes, duplicate attributes, text outside the root element.
 * Malformed input throws AppError SIPREC_XML_MALFORMED (the SRS answers 400).
 */
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface XmlElement {
  /** Local name (without prefix). */
  readonly name: string;
  /** Namespace URI ('' when none). */
  readonly ns: string;
  /** Qualified name as written (`b2b:call`). */
  readonly qname: string;
  /**
   * Attributes keyed by the name as written (`aor`, `xml:lang`, `b2b:x`); `xmlns*` declarations
   * are not included.
   */
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

/** Maximum element nesting accepted (defensive bound). */
const MAX_DEPTH = 64;

export function parseXml(input: string): XmlElement {
  return new Parser(input).parseDocument();
}

/** Child elements of `el` with the given local name and namespace. */
export function childrenNamed(el: XmlElement, name: string, ns: string): XmlElement[] {
  return el.children.filter((c) => c.name === name && c.ns === ns);
}

/** The first child with the given local name and namespace, if any. */
export function childNamed(el: XmlElement, name: string, ns: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name && c.ns === ns);
}

function fail(detail: string): never {
  throw new AppError('SIPREC_XML_MALFORMED', detail);
}

const NAME_RE = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

/** XML white space (section 2.3 S): space, tab, CR, LF; per character code, not a regex per character. */
function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A character a name is read over: ASCII letters, digits, `_ . : -` (NAME_RE then checks the shape). */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x3a) || c === 0x5f || c === 0x2e || c === 0x2d;
}

class Parser {
  #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }

  parseDocument(): XmlElement {
    this.#skipMisc();
    if (this.#s.startsWith('<!DOCTYPE', this.#i)) fail('DOCTYPE is not allowed');
    if (this.#s[this.#i] !== '<') fail('no root element');
    const root = this.#parseElement(new Map([['xml', XML_NS]]), 0);
    this.#skipMisc();
    if (this.#i < this.#s.length) fail(`content after the root element at offset ${this.#i}`);
    return root;
  }

  /** Skips whitespace, comments and processing instructions between top-level constructs. */
  #skipMisc(): void {
    for (;;) {
      this.#skipWs();
      if (this.#s.startsWith('<?', this.#i)) {
        const end = this.#s.indexOf('?>', this.#i + 2);
        if (end < 0) fail('unterminated processing instruction');
        this.#i = end + 2;
      } else if (this.#s.startsWith('<!--', this.#i)) {
        const end = this.#s.indexOf('-->', this.#i + 4);
        if (end < 0) fail('unterminated comment');
        this.#i = end + 3;
      } else return;
    }
  }

  #readName(): string {
    const start = this.#i;
    while (this.#i < this.#s.length && isNameChar(this.#s.charCodeAt(this.#i))) this.#i++;
    const name = this.#s.slice(start, this.#i);
    if (!NAME_RE.test(name)) fail(`bad name '${name}' at offset ${start}`);
    return name;
  }

  #skipWs(): void {
    while (this.#i < this.#s.length && isXmlSpace(this.#s.charCodeAt(this.#i))) this.#i++;
  }

  #parseElement(scope: ReadonlyMap<string, string>, depth: number): XmlElement {
    if (depth > MAX_DEPTH) fail('elements nested too deeply');
    this.#i++; // '<'
    const qname = this.#readName();
    const rawAttrs = new Map<string, string>();
    let selfClosing = false;
    for (;;) {
      const before = this.#i;
      this.#skipWs();
      const c = this.#s[this.#i];
      if (c === undefined) fail(`unterminated start tag <${qname}>`);
      if (c === '>') {
        this.#i++;
        break;
      }
      if (c === '/' && this.#s[this.#i + 1] === '>') {
        this.#i += 2;
        selfClosing = true;
        break;
      }
      if (before === this.#i) fail(`missing whitespace before attribute in <${qname}>`);
      const an = this.#readName();
      this.#skipWs();
      if (this.#s[this.#i] !== '=') fail(`attribute ${an} has no value`);
      this.#i++;
      this.#skipWs();
      const q = this.#s[this.#i];
      if (q !== '"' && q !== "'") fail(`attribute ${an} value is not quoted`);
      const end = this.#s.indexOf(q, this.#i + 1);
      if (end < 0) fail(`unterminated attribute ${an}`);
      const raw = this.#s.slice(this.#i + 1, end);
      if (raw.includes('<')) fail(`'<' in attribute ${an}`);
      if (rawAttrs.has(an)) fail(`duplicate attribute ${an}`);
      rawAttrs.set(an, decodeEntities(raw).replace(/[\t\n\r]/g, ' '));
      this.#i = end + 1;
    }

    let localScope: Map<string, string> | undefined;
    const attrs = new Map<string, string>();
    for (const [an, v] of rawAttrs) {
      if (an === 'xmlns') (localScope ??= new Map(scope)).set('', v);
      else if (an.startsWith('xmlns:')) (localScope ??= new Map(scope)).set(an.slice(6), v);
      else attrs.set(an, v);
    }
    const ns = localScope ?? scope;
    for (const an of attrs.keys()) {
      const colon = an.indexOf(':');
      if (colon > 0 && !ns.has(an.slice(0, colon))) fail(`undeclared prefix in attribute ${an}`);
    }
    const colon = qname.indexOf(':');
    const prefix = colon > 0 ? qname.slice(0, colon) : '';
    const uri = ns.get(prefix);
    if (prefix && uri === undefined) fail(`undeclared prefix ${prefix}`);
    const el: XmlElement = { name: colon > 0 ? qname.slice(colon + 1) : qname, ns: uri ?? '', qname, attrs, children: [], text: '' };
    if (selfClosing) return el;

    let text = '';
    for (;;) {
      const lt = this.#s.indexOf('<', this.#i);
      if (lt < 0) fail(`unterminated element <${qname}>`);
      const chunk = this.#s.slice(this.#i, lt);
      if (chunk.includes(']]>')) fail("']]>' in text");
      text += decodeEntities(chunk);
      this.#i = lt;
      if (this.#s.startsWith('</', lt)) {
        this.#i += 2;
        const closing = this.#readName();
        this.#skipWs();
        if (this.#s[this.#i] !== '>') fail(`bad end tag </${closing}`);
        this.#i++;
        if (closing !== qname) fail(`end tag </${closing}> does not match <${qname}>`);
        el.text = text;
        return el;
      }
      if (this.#s.startsWith('<!--', lt)) {
        const end = this.#s.indexOf('-->', lt + 4);
        if (end < 0) fail('unterminated comment');
        this.#i = end + 3;
      } else if (this.#s.startsWith('<![CDATA[', lt)) {
        const end = this.#s.indexOf(']]>', lt + 9);
        if (end < 0) fail('unterminated CDATA');
        text += this.#s.slice(lt + 9, end);
        this.#i = end + 3;
      } else if (this.#s.startsWith('<?', lt)) {
        const end = this.#s.indexOf('?>', lt + 2);
        if (end < 0) fail('unterminated processing instruction');
        this.#i = end + 2;
      } else if (this.#s.startsWith('<!', lt)) {
        fail('markup declaration inside an element');
      } else {
        el.children.push(this.#parseElement(ns, depth + 1));
      }
    }
  }
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) fail(`unterminated entity reference '${whole}'`);
    if (ref.startsWith('#x') || ref.startsWith('#X')) {
      const cp = Number.parseInt(ref.slice(2), 16);
      if (!/^[0-9a-fA-F]+$/.test(ref.slice(2)) || cp > 0x10ffff) fail(`bad character reference &${ref};`);
      return String.fromCodePoint(cp);
    }
    if (ref.startsWith('#')) {
      const cp = Number.parseInt(ref.slice(1), 10);
      if (!/^\d+$/.test(ref.slice(1)) || cp > 0x10ffff) fail(`bad character reference &${ref};`);
      return String.fromCodePoint(cp);
    }
    const v = NAMED[ref];
    if (v === undefined) fail(`unknown entity &${ref};`);
    return v;
  });
}
