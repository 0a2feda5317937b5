import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { parseXml } from '../../../src/siprec/index.js';

function malformed(xml: string): boolean {
  try {
    parseXml(xml);
    return false;
  } catch (err) {
    return isAppError(err, 'SIPREC_XML_MALFORMED');
  }
}

describe('parseXml', () => {
  it('resolves default and prefixed namespaces, attributes, entities and CDATA', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- c --><a xmlns="urn:x" xmlns:p="urn:p" k="1 &amp; 2"><p:b xml:lang="de">x &lt; y &#65;&#x42;<![CDATA[<raw>]]></p:b><c/></a>');
    expect(root).toMatchObject({ name: 'a', ns: 'urn:x' });
    expect(root.attrs.get('k')).toBe('1 & 2');
    const b = root.children[0]!;
    expect(b).toMatchObject({ name: 'b', ns: 'urn:p', qname: 'p:b', text: 'x < y AB<raw>' });
    expect(b.attrs.get('xml:lang')).toBe('de');
    expect(root.children[1]).toMatchObject({ name: 'c', ns: 'urn:x' });
  });

  it('refuses DOCTYPE, mismatched tags, undeclared prefixes, duplicate attributes, unknown entities and trailing content', () => {
    expect(malformed('<!DOCTYPE a [<!ENTITY x "y">]><a/>')).toBe(true);
    expect(malformed('<a><b></a></b>')).toBe(true);
    expect(malformed('<p:a/>')).toBe(true);
    expect(malformed('<a k="1" k="2"/>')).toBe(true);
    expect(malformed('<a>&nbsp;</a>')).toBe(true);
    expect(malformed('<a/><b/>')).toBe(true);
    expect(malformed('<a k=1/>')).toBe(true);
    expect(malformed('')).toBe(true);
    expect(malformed('<a>')).toBe(true);
  });

  it('takes XML white space (space, tab, CR, LF) between names and attributes, and no other space character', () => {
    const root = parseXml('\r\n\t<a\tk="1"\r\n  j = "2"\n><b\t/></a\r\n>\n');
    expect([...root.attrs]).toEqual([['k', '1'], ['j', '2']]);
    expect(root.children[0]).toMatchObject({ name: 'b' });
    expect(malformed('<a\u00a0k="1"/>')).toBe(true);
    expect(malformed('\u2003<a/>')).toBe(true);
    expect(malformed('<a k="1"\u00a0/>')).toBe(true);
  });
});
