import { AppError, isAppError } from '../common/errors.js';
import { isMetadataId, isXsDateTime } from './siprec-ids.js';
import { parseXml, type XmlElement } from './xml-parser.js';
import { isDraftEraRoot } from './metadata-broadworks-parser.js';
import { validateBroadWorksMetadataElement } from './metadata-broadworks-validator.js';
import { ANNOUNCEMENT_KINDS, B2BUA_EXTENSION_NS, RECORDING_NS, type MetadataDialect } from './metadata-types.js';

/**
 * Structural validator for RFC 7865 metadata documents (section 6 schema), used by tests on every
 * document we produce and by the SRS to refuse malformed metadata with 400. It checks:
 *
 * - the root is `{urn:ietf:params:xml:ns:recording:1}recording`;
 * - the xs:sequence order of every RFC element's children (extensions in other namespaces only
 *   after the RFC children), cardinalities, unknown RFC-namespace elements;
 * - required attributes; ids are base64 of 16 bytes; times are xs:dateTime with Z or +hh:mm;
 * - `datamode` is complete|partial; ids are unique per kind; stream labels unique;
 * - references resolve (complete documents only: a partial one may point into earlier ones):
 *   group-ref, stream session_id, *assoc participant_id/session_id, send/recv stream ids;
 * - our extension (`b2b:announcement` kind/result/times/participant and the reminder tone's count and
 *   intervalSeconds, `b2b:pause` times, `b2b:silent-stream` / `b2b:lost-start` label/reason/times).
 *
 * Dialect 'broadworks' checks a draft-era `<recording_metadata>` document by its own rules
 * (src/siprec/metadata-broadworks-validator.ts), and still accepts a trailing `<extensiondata>` in
 * the recording namespace of an RFC 7865 document.
 */
export interface MetadataIssue {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Default 'rfc7865': `<extensiondata>` in the recording namespace is refused. */
  dialect?: MetadataDialect;
}

interface Child {
  name: string;
  min: number;
  max: number;
}

const one = (name: string): Child => ({ name, min: 1, max: 1 });
const opt = (name: string): Child => ({ name, min: 0, max: 1 });
const many = (name: string): Child => ({ name, min: 0, max: Infinity });

const SEQUENCES: Record<string, Child[]> = {
  recording: [
    opt('datamode'),
    many('group'),
    many('session'),
    many('participant'),
    many('stream'),
    many('sessionrecordingassoc'),
    many('participantsessionassoc'),
    many('participantstreamassoc'),
  ],
  group: [opt('associate-time'), opt('disassociate-time')],
  session: [many('sipSessionID'), many('group-ref'), opt('start-time'), opt('stop-time')],
  participant: [many('nameID')],
  nameID: [many('name')],
  stream: [one('label')],
  sessionrecordingassoc: [opt('associate-time'), opt('disassociate-time')],
  participantsessionassoc: [opt('associate-time'), opt('disassociate-time')],
  participantstreamassoc: [many('send'), many('recv'), opt('associate-time'), opt('disassociate-time')],
};
const TIME_ELEMENTS = new Set(['associate-time', 'disassociate-time', 'start-time', 'stop-time']);
const ID_TEXT_ELEMENTS = new Set(['group-ref', 'send', 'recv']);

class Checker {
  readonly issues: MetadataIssue[] = [];
  constructor(readonly dialect: MetadataDialect) {}

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Checks order/cardinality of RFC children of `el`, recursing into RFC children. */
  sequence(el: XmlElement, path: string): void {
    const spec = SEQUENCES[el.name] ?? [];
    const counts = new Map<string, number>();
    let pos = 0;
    let sawExtension = false;
    el.children.forEach((c, i) => {
      const cpath = `${path}/${c.qname}[${i + 1}]`;
      if (c.ns !== RECORDING_NS) {
        if (c.ns === '') this.add(cpath, 'element in no namespace');
        sawExtension = true;
        return;
      }
      if (el.name === 'recording' && c.name === 'extensiondata' && this.dialect === 'broadworks') {
        sawExtension = true;
        return;
      }
      if (sawExtension) this.add(cpath, `<${c.name}> after an extension element (extensions go last)`);
      let j = pos;
      while (j < spec.length && spec[j]!.name !== c.name) j++;
      if (j === spec.length) {
        if (spec.some((s) => s.name === c.name)) this.add(cpath, `<${c.name}> out of order in <${el.name}> (xs:sequence)`);
        else this.add(cpath, `unknown element <${c.name}> in <${el.name}>`);
        return;
      }
      pos = j;
      const n = (counts.get(c.name) ?? 0) + 1;
      counts.set(c.name, n);
      if (n > spec[j]!.max) this.add(cpath, `<${c.name}> may appear at most ${spec[j]!.max} time(s) in <${el.name}>`);
      this.leaf(c, cpath);
      if (SEQUENCES[c.name]) this.sequence(c, cpath);
    });
    for (const s of spec) {
      if ((counts.get(s.name) ?? 0) < s.min) this.add(path, `<${el.name}> lacks required <${s.name}>`);
    }
  }

  leaf(c: XmlElement, path: string): void {
    const text = c.text.trim();
    if (TIME_ELEMENTS.has(c.name) && !isXsDateTime(text)) this.add(path, `'${text}' is not an xs:dateTime with timezone (use Z)`);
    if (ID_TEXT_ELEMENTS.has(c.name) && !isMetadataId(text)) this.add(path, `'${text}' is not a base64 16-byte id`);
    if (c.name === 'datamode' && text !== 'complete' && text !== 'partial') this.add(path, `datamode '${text}' is not complete|partial`);
    if (c.name === 'label' && text === '') this.add(path, 'empty stream label');
    if (c.name === 'nameID' && !c.attrs.get('aor')) this.add(path, 'nameID lacks aor');
  }

  idAttr(el: XmlElement, path: string, name: string): string | undefined {
    const v = el.attrs.get(name);
    if (v === undefined) {
      this.add(path, `<${el.name}> lacks required attribute ${name}`);
      return undefined;
    }
    if (!isMetadataId(v)) this.add(path, `${name} '${v}' is not a base64 16-byte id`);
    return v;
  }
}

/** Validates an already parsed document. */
export function validateMetadataElement(root: XmlElement, options: ValidateOptions = {}): MetadataIssue[] {
  const ck = new Checker(options.dialect ?? 'rfc7865');
  // the broadworks dialect is the draft-era <recording_metadata> document, checked by its own rules
  if (ck.dialect === 'broadworks' && isDraftEraRoot(root)) return validateBroadWorksMetadataElement(root);
  if (root.name !== 'recording' || root.ns !== RECORDING_NS) {
    ck.add('/', `root must be {${RECORDING_NS}}recording, got {${root.ns}}${root.name}`);
    return ck.issues;
  }
  ck.sequence(root, '/recording');

  const R = RECORDING_NS;
  const kids = (name: string): Array<[XmlElement, string]> =>
    root.children.flatMap((c, i) => (c.ns === R && c.name === name ? [[c, `/recording/${c.qname}[${i + 1}]`] as [XmlElement, string]] : []));
  const complete = (root.children.find((c) => c.ns === R && c.name === 'datamode')?.text.trim() ?? 'complete') === 'complete';

  const declared = (kind: string, attr: string): Set<string> => {
    const ids = new Set<string>();
    for (const [el, path] of kids(kind)) {
      const id = ck.idAttr(el, path, attr);
      if (id === undefined) continue;
      if (ids.has(id) && complete) ck.add(path, `duplicate ${attr} ${id}`);
      ids.add(id);
    }
    return ids;
  };
  const groups = declared('group', 'group_id');
  const sessions = declared('session', 'session_id');
  const participants = declared('participant', 'participant_id');
  const streams = declared('stream', 'stream_id');

  const ref = (set: Set<string>, id: string | undefined, path: string, what: string): void => {
    if (complete && id !== undefined && isMetadataId(id) && !set.has(id)) ck.add(path, `${what} ${id} does not resolve`);
  };

  for (const [el, path] of kids('session')) {
    el.children.filter((c) => c.ns === R && c.name === 'group-ref').forEach((g) => ref(groups, g.text.trim(), path, 'group-ref'));
    for (const ext of el.children.filter((c) => c.ns === B2BUA_EXTENSION_NS)) checkExtension(ck, ext, `${path}/${ext.qname}`, participants, complete);
  }
  const labels = new Set<string>();
  for (const [el, path] of kids('stream')) {
    ref(sessions, ck.idAttr(el, path, 'session_id'), path, 'stream session_id');
    const label = el.children.find((c) => c.ns === R && c.name === 'label')?.text.trim();
    if (label !== undefined && complete) {
      if (labels.has(label)) ck.add(path, `duplicate stream label ${label}`);
      labels.add(label);
    }
  }
  for (const [el, path] of kids('sessionrecordingassoc')) ref(sessions, ck.idAttr(el, path, 'session_id'), path, 'session_id');
  for (const [el, path] of kids('participantsessionassoc')) {
    ref(participants, ck.idAttr(el, path, 'participant_id'), path, 'participant_id');
    ref(sessions, ck.idAttr(el, path, 'session_id'), path, 'session_id');
  }
  for (const [el, path] of kids('participantstreamassoc')) {
    ref(participants, ck.idAttr(el, path, 'participant_id'), path, 'participant_id');
    for (const c of el.children.filter((x) => x.ns === R && (x.name === 'send' || x.name === 'recv'))) {
      ref(streams, c.text.trim(), path, `${c.name} stream`);
    }
  }
  for (const p of kids('participant')) {
    for (const ext of p[0].children.filter((c) => c.ns === B2BUA_EXTENSION_NS)) checkExtension(ck, ext, `${p[1]}/${ext.qname}`, participants, complete);
  }
  return ck.issues;
}

function checkExtension(ck: Checker, el: XmlElement, path: string, participants: Set<string>, complete: boolean): void {
  const time = (name: string, node: XmlElement, p: string): void => {
    const v = node.attrs.get(name);
    if (v !== undefined && !isXsDateTime(v)) ck.add(p, `${name} '${v}' is not an xs:dateTime with timezone (use Z)`);
  };
  if (el.name === 'announcements') {
    el.children.forEach((a, i) => {
      const p = `${path}/${a.qname}[${i + 1}]`;
      if (a.name !== 'announcement') return;
      const kind = a.attrs.get('kind');
      if (!kind || !(ANNOUNCEMENT_KINDS as readonly string[]).includes(kind)) ck.add(p, `announcement kind '${kind ?? ''}' is not one of ${ANNOUNCEMENT_KINDS.join('|')}`);
      const result = a.attrs.get('result');
      if (result !== 'played' && result !== 'skipped') ck.add(p, `announcement result '${result ?? ''}' is not played|skipped`);
      if (!a.attrs.get('id')) ck.add(p, 'announcement lacks id');
      time('start', a, p);
      time('end', a, p);
      time('last', a, p);
      for (const name of ['count', 'intervalSeconds']) {
        const v = a.attrs.get(name);
        if (v !== undefined && !/^[1-9]\d*$/.test(v)) ck.add(p, `announcement ${name} '${v}' is not a positive integer`);
      }
      if (kind === 'reminder-tone' && result === 'played' && a.attrs.get('count') !== undefined && !a.attrs.get('start')) ck.add(p, 'reminder-tone with a count lacks start (its first play)');
      const part = a.attrs.get('participant');
      if (part !== undefined) {
        if (!isMetadataId(part)) ck.add(p, `participant '${part}' is not a base64 16-byte id`);
        else if (complete && !participants.has(part)) ck.add(p, `participant ${part} does not resolve`);
      }
    });
  } else if (el.name === 'pauses') {
    el.children.forEach((a, i) => {
      const p = `${path}/${a.qname}[${i + 1}]`;
      if (!a.attrs.get('start')) ck.add(p, 'pause lacks start');
      time('start', a, p);
      time('end', a, p);
    });
  } else if (el.name === 'media-problems') {
    el.children.forEach((a, i) => {
      const p = `${path}/${a.qname}[${i + 1}]`;
      if (a.name !== 'silent-stream' && a.name !== 'lost-start') return;
      const label = a.attrs.get('label');
      if (label !== '1' && label !== '2') ck.add(p, `${a.name} label '${label ?? ''}' is not 1|2`);
      if (!a.attrs.get('reason')) ck.add(p, `${a.name} lacks reason`);
      if (!a.attrs.get('since')) ck.add(p, `${a.name} lacks since`);
      if (a.name === 'lost-start' && !a.attrs.get('detected')) ck.add(p, 'lost-start lacks detected (the end of the missing audio)');
      time('since', a, p);
      time('detected', a, p);
      const dropped = a.attrs.get('dropped');
      if (dropped !== undefined && !/^\d+$/.test(dropped)) ck.add(p, `${a.name} dropped '${dropped}' is not a count`);
    });
  } else if (el.name === 'call') {
    const d = el.attrs.get('direction');
    if (d !== 'inbound' && d !== 'outbound' && d !== 'internal') ck.add(path, `call direction '${d ?? ''}' is not inbound|outbound|internal`);
  }
}

/** Parses and validates; returns the issues (empty = valid). Malformed XML is one issue at '/'. */
export function validateMetadata(xml: string, options: ValidateOptions = {}): MetadataIssue[] {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (isAppError(err, 'SIPREC_XML_MALFORMED')) return [{ path: '/', message: err.message }];
    throw err;
  }
  return validateMetadataElement(root, options);
}

/** Throws SIPREC_METADATA_INVALID (or SIPREC_XML_MALFORMED) listing the first issues. */
export function assertValidMetadata(xml: string, options: ValidateOptions = {}): void {
  const root = parseXml(xml);
  const issues = validateMetadataElement(root, options);
  if (issues.length > 0) {
    throw new AppError('SIPREC_METADATA_INVALID', issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}
