import { isAppError } from '../common/errors.js';
import { isXsDateTime } from './siprec-ids.js';
import { parseXml, type XmlElement } from './xml-parser.js';
import { SIPREC_DRAFT_NS, SIPREC_DRAFT_ROOT } from './metadata-broadworks.js';
import { ANNOUNCEMENT_KINDS, B2BUA_EXTENSION_NS, BROADWORKS_NS } from './metadata-types.js';

/**
 * Structural rules of the draft-era `<recording_metadata>` document (the 'broadworks' dialect,
 * R-41), as the BroadWorks captures show it; there is no published schema to validate against, so
 * these rules play its part (tests run them on every document the dialect produces, the SRS on every
 * such document it receives):
 *
 * - root `{urn:ietf:params:xml:ns:siprec}recording_metadata`;
 * - children in order: dataMode (1), recording (0..1), group*, session*, participant*, stream*,
 *   extensiondata*; each element's own children in the order below, known names only;
 * - every element has its `id`; references resolve (complete documents): group@recording,
 *   session@group, participant@session, stream@session, send/recv `<id>`s to streams,
 *   extensiondata@parent to any element; ids unique;
 * - dataMode complete|partial; stream mode separate|mixed; labels present and unique; times are
 *   xs:dateTime with a timezone;
 * - extensiondata holds only elements of other namespaces; the BroadWorks block has its required
 *   children (extTrackingID ... recordingType, callType origCall|termCall with both numbers);
 *   our announcements carry a known kind, played|skipped and an id.
 */
export interface DraftIssue {
  path: string;
  message: string;
}

const D = SIPREC_DRAFT_NS;

/** Allowed children of each draft element, in document order ('+' = repeatable). */
const ORDER: Record<string, readonly string[]> = {
  [SIPREC_DRAFT_ROOT]: ['dataMode', 'recording', 'group+', 'session+', 'participant+', 'stream+', 'extensiondata+'],
  recording: ['requestor', 'type'],
  group: ['initiator', 'associate-time', 'disassociate-time'],
  session: ['start-time', 'stop-time', 'associate-time', 'disassociate-time'],
  participant: ['aor+', 'name+', 'send+', 'recv+', 'associate-time', 'disassociate-time'],
  send: ['id+'],
  recv: ['id+'],
  stream: ['label', 'mode', 'associate-time', 'disassociate-time'],
};
const TIMES = new Set(['associate-time', 'disassociate-time', 'start-time', 'stop-time']);
const BW_REQUIRED = ['extTrackingID', 'serviceProviderID', 'groupID', 'userID', 'callID', 'callType', 'recordingType'];

export function validateBroadWorksMetadataElement(root: XmlElement): DraftIssue[] {
  const issues: DraftIssue[] = [];
  const add = (path: string, message: string): void => void issues.push({ path, message });
  if (root.name !== SIPREC_DRAFT_ROOT || root.ns !== D) {
    add('/', `root must be {${D}}${SIPREC_DRAFT_ROOT}, got {${root.ns}}${root.name}`);
    return issues;
  }

  const order = (el: XmlElement, path: string): void => {
    const spec = ORDER[el.name] ?? [];
    const names = spec.map((s) => s.replace('+', ''));
    let pos = 0;
    const seen = new Map<string, number>();
    el.children.forEach((c, i) => {
      const p = `${path}/${c.qname}[${i + 1}]`;
      if (c.ns !== D) return add(p, `element of another namespace outside <extensiondata>`);
      const j = names.indexOf(c.name);
      if (j < 0) return add(p, `unknown element <${c.name}> in <${el.name}>`);
      // participant: aor and name alternate ((aor, name*)*), everything else keeps the order
      const alternating = el.name === 'participant' && j <= 1 && pos <= 1;
      if (j < pos && !alternating) add(p, `<${c.name}> out of order in <${el.name}>`);
      pos = Math.max(pos, j);
      const n = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, n);
      if (n > 1 && !spec[j]!.endsWith('+')) add(p, `<${c.name}> may appear once in <${el.name}>`);
      if (TIMES.has(c.name) && !isXsDateTime(c.text.trim())) add(p, `'${c.text.trim()}' is not an xs:dateTime with timezone`);
      if (ORDER[c.name]) order(c, p);
    });
    if (el.name === SIPREC_DRAFT_ROOT && !seen.has('dataMode')) add(path, 'lacks <dataMode>');
    if (el.name === 'stream' && !seen.has('label')) add(path, 'stream lacks <label>');
    if ((el.name === 'send' || el.name === 'recv') && !seen.has('id')) add(path, `<${el.name}> lacks <id>`);
    if (el.name === 'participant' && !seen.has('aor')) add(path, 'participant lacks <aor>');
  };
  order(root, `/${SIPREC_DRAFT_ROOT}`);

  const text = (el: XmlElement, name: string): string | undefined => el.children.find((c) => c.ns === D && c.name === name)?.text.trim();
  const mode = text(root, 'dataMode');
  if (mode !== undefined && mode !== 'complete' && mode !== 'partial') add('/dataMode', `dataMode '${mode}' is not complete|partial`);
  const complete = mode !== 'partial';

  const kids = (name: string): Array<[XmlElement, string]> =>
    root.children.flatMap((c, i) => (c.ns === D && c.name === name ? [[c, `/${SIPREC_DRAFT_ROOT}/${c.qname}[${i + 1}]`] as [XmlElement, string]] : []));
  const all = new Set<string>();
  const ids = (name: string): Set<string> => {
    const set = new Set<string>();
    for (const [el, path] of kids(name)) {
      const id = el.attrs.get('id');
      if (!id) add(path, `<${name}> lacks id`);
      else if (all.has(id)) add(path, `duplicate id ${id}`);
      else {
        all.add(id);
        set.add(id);
      }
    }
    return set;
  };
  const recordings = ids('recording');
  const groups = ids('group');
  const sessions = ids('session');
  const participants = ids('participant');
  const streams = ids('stream');
  ids('extensiondata');
  const ref = (el: XmlElement, path: string, attr: string, set: Set<string>, required: boolean): void => {
    const v = el.attrs.get(attr);
    if (v === undefined) {
      if (required) add(path, `<${el.name}> lacks ${attr}`);
    } else if (complete && !set.has(v)) add(path, `${el.name}@${attr} ${v} does not resolve`);
  };
  for (const [el, path] of kids('group')) ref(el, path, 'recording', recordings, false);
  for (const [el, path] of kids('session')) ref(el, path, 'group', groups, false);
  for (const [el, path] of kids('participant')) {
    ref(el, path, 'session', sessions, false);
    for (const sr of el.children.filter((c) => c.ns === D && (c.name === 'send' || c.name === 'recv'))) {
      for (const id of sr.children.filter((c) => c.ns === D && c.name === 'id')) {
        if (complete && !streams.has(id.text.trim())) add(path, `${sr.name} stream ${id.text.trim()} does not resolve`);
      }
    }
  }
  const labels = new Set<string>();
  for (const [el, path] of kids('stream')) {
    ref(el, path, 'session', sessions, true);
    const label = text(el, 'label');
    if (label === '') add(path, 'empty stream label');
    else if (label !== undefined && labels.has(label)) add(path, `duplicate stream label ${label}`);
    if (label) labels.add(label);
    const m = text(el, 'mode');
    if (m !== undefined && m !== 'separate' && m !== 'mixed') add(path, `stream mode '${m}' is not separate|mixed`);
  }
  for (const [el, path] of kids('extensiondata')) {
    ref(el, path, 'parent', all, true);
    if (el.children.length === 0) add(path, 'empty <extensiondata>');
    el.children.forEach((c, i) => checkExtension(c, `${path}/${c.qname}[${i + 1}]`, participants, complete, add));
  }
  return issues;
}

function checkExtension(el: XmlElement, path: string, participants: Set<string>, complete: boolean, add: (p: string, m: string) => void): void {
  if (el.ns === D || el.ns === '') return add(path, 'extensiondata must hold elements of another namespace');
  if (el.ns === BROADWORKS_NS && el.name === 'broadWorksRecordingMetadata') {
    const has = (name: string): XmlElement | undefined => el.children.find((c) => c.ns === BROADWORKS_NS && c.name === name);
    if (!el.attrs.get('version')) add(path, 'broadWorksRecordingMetadata lacks version');
    for (const name of BW_REQUIRED) if (!has(name)) add(path, `broadWorksRecordingMetadata lacks <${name}>`);
    const call = has('callType')?.children[0];
    if (has('callType') && (!call || (call.name !== 'origCall' && call.name !== 'termCall'))) add(path, 'callType must hold origCall or termCall');
    for (const name of ['callingPartyNumber', 'calledPartyNumber']) {
      if (call && !call.children.some((c) => c.name === name)) add(path, `${call.name} lacks <${name}>`);
    }
    return;
  }
  if (el.ns !== B2BUA_EXTENSION_NS || el.name !== 'announcements') return;
  el.children.forEach((a, i) => {
    const p = `${path}/${a.qname}[${i + 1}]`;
    const kind = a.attrs.get('kind') ?? '';
    if (!(ANNOUNCEMENT_KINDS as readonly string[]).includes(kind)) add(p, `announcement kind '${kind}' is not one of ${ANNOUNCEMENT_KINDS.join('|')}`);
    const result = a.attrs.get('result');
    if (result !== 'played' && result !== 'skipped') add(p, `announcement result '${result ?? ''}' is not played|skipped`);
    if (!a.attrs.get('id')) add(p, 'announcement lacks id');
    for (const name of ['start', 'end', 'last']) {
      const v = a.attrs.get(name);
      if (v !== undefined && !isXsDateTime(v)) add(p, `${name} '${v}' is not an xs:dateTime with timezone`);
    }
    const part = a.attrs.get('participant');
    if (part !== undefined && complete && !participants.has(part)) add(p, `participant ${part} does not resolve`);
  });
}

/** Parses and checks a draft-era document; returns the issues (empty = valid). */
export function validateBroadWorksMetadata(xml: string): DraftIssue[] {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (isAppError(err, 'SIPREC_XML_MALFORMED')) return [{ path: '/', message: err.message }];
    throw err;
  }
  return validateBroadWorksMetadataElement(root);
}
