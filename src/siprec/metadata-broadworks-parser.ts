import { AppError } from '../common/errors.js';
import { parseXsDateTime } from './siprec-ids.js';
import { childNamed, childrenNamed, parseXml, type XmlElement } from './xml-parser.js';
import { parseBroadWorks, parseParticipant, parseSession } from './metadata-element-parser.js';
import { SIPREC_DRAFT_NS, SIPREC_DRAFT_ROOT } from './metadata-broadworks.js';
import { B2BUA_EXTENSION_NS, type MetadataSession, type RecordingMetadataModel } from './metadata-types.js';

/**
 * Reads a draft-era `<recording_metadata>` document (the 'broadworks' dialect, R-41; shape in
 * src/siprec/metadata-broadworks.ts) into the same RecordingMetadataModel the RFC 7865 parser
 * gives, so the recording server's summaries and metadata history work for both shapes.
 *
 * Lenient like the RFC 7865 parser: unknown elements and extensions are skipped, `<recording>`
 * and the `extensiondata` ids are not kept (they carry nothing the model needs). Documents from a
 * BroadWorks platform itself (no `b2b:` extensions, `urn:uuid:` ids, one `<send>` per stream, a
 * timezone offset instead of Z) read the same way. Structural checks belong to
 * validateBroadWorksMetadata() (src/siprec/metadata-broadworks-validator.ts).
 */
export function isDraftEraRoot(root: XmlElement): boolean {
  return root.name === SIPREC_DRAFT_ROOT && root.ns === SIPREC_DRAFT_NS;
}

const D = SIPREC_DRAFT_NS;
const X = B2BUA_EXTENSION_NS;

function time(el: XmlElement, name: string): number | undefined {
  const c = childNamed(el, name, D);
  return c ? parseXsDateTime(c.text.trim()) : undefined;
}

function times(el: XmlElement): { associateTime?: number; disassociateTime?: number } {
  const out: { associateTime?: number; disassociateTime?: number } = {};
  const a = time(el, 'associate-time');
  const d = time(el, 'disassociate-time');
  if (a !== undefined) out.associateTime = a;
  if (d !== undefined) out.disassociateTime = d;
  return out;
}

/** Stream ids of every `<send>` (or `<recv>`): `<id>` children, or the element's own text. */
function streamIds(el: XmlElement, name: 'send' | 'recv'): string[] {
  return childrenNamed(el, name, D).flatMap((s) => {
    const ids = childrenNamed(s, 'id', D).map((i) => i.text.trim());
    return ids.length > 0 ? ids : s.text.trim() === '' ? [] : [s.text.trim()];
  });
}

/** `<extensiondata>` children of the root in our namespace, by parent id (documents order). */
function b2bExtensions(root: XmlElement): Map<string, XmlElement[]> {
  const out = new Map<string, XmlElement[]>();
  for (const ext of childrenNamed(root, 'extensiondata', D)) {
    const parent = ext.attrs.get('parent');
    if (parent === undefined || !ext.children.some((c) => c.ns === X)) continue;
    out.set(parent, [...(out.get(parent) ?? []), ext]);
  }
  return out;
}

function parseDraftSession(el: XmlElement, exts: readonly XmlElement[]): MetadataSession {
  const group = el.attrs.get('group');
  const s: MetadataSession = {
    id: el.attrs.get('id') ?? '',
    sipSessionIds: exts.flatMap((e) => childrenNamed(e, 'sipSessionID', X).map((c) => c.text.trim())),
    groupRefs: group === undefined ? [] : [group],
  };
  const start = time(el, 'start-time');
  const stop = time(el, 'stop-time');
  if (start !== undefined) s.startTime = start;
  if (stop !== undefined) s.stopTime = stop;
  for (const ext of exts) {
    // the b2b: children are the ones the rfc7865 dialect writes inside <session>
    const { call, announcements, pauses, mediaProblems } = parseSession(ext);
    if (call) s.call = call;
    if (announcements) s.announcements = announcements;
    if (pauses) s.pauses = pauses;
    if (mediaProblems) s.mediaProblems = mediaProblems;
  }
  return s;
}

/** Builds the model from an already parsed `<recording_metadata>` element. */
export function broadWorksMetadataFromElement(root: XmlElement): RecordingMetadataModel {
  if (!isDraftEraRoot(root)) {
    throw new AppError('SIPREC_METADATA_INVALID', `root element is {${root.ns}}${root.name}, expected {${D}}${SIPREC_DRAFT_ROOT}`);
  }
  const exts = b2bExtensions(root);
  const extOf = (id: string): XmlElement[] => exts.get(id) ?? [];
  const sessions = childrenNamed(root, 'session', D);
  const participants = childrenNamed(root, 'participant', D);
  const model: RecordingMetadataModel = {
    datamode: childNamed(root, 'dataMode', D)?.text.trim() === 'partial' ? 'partial' : 'complete',
    groups: childrenNamed(root, 'group', D).map((g) => ({ id: g.attrs.get('id') ?? '', ...times(g) })),
    sessions: sessions.map((s) => parseDraftSession(s, extOf(s.attrs.get('id') ?? ''))),
    participants: participants.map((p) => {
      const nameIds: Array<{ aor: string; names: Array<{ text: string; lang?: string }> }> = [];
      for (const c of p.children) {
        if (c.ns !== D) continue;
        if (c.name === 'aor') nameIds.push({ aor: c.text.trim(), names: [] });
        else if (c.name === 'name' && nameIds.length > 0) {
          const lang = c.attrs.get('xml:lang');
          nameIds[nameIds.length - 1]!.names.push(lang === undefined ? { text: c.text } : { text: c.text, lang });
        }
      }
      const id = p.attrs.get('id') ?? '';
      const platform = extOf(id)
        .map((e) => parseParticipant(e).platform)
        .find((x) => x !== undefined);
      return platform ? { id, nameIds, platform } : { id, nameIds };
    }),
    streams: childrenNamed(root, 'stream', D).map((s) => ({
      id: s.attrs.get('id') ?? '',
      sessionId: s.attrs.get('session') ?? '',
      label: childNamed(s, 'label', D)?.text.trim() ?? '',
    })),
    sessionRecordingAssocs: sessions.map((s) => ({ sessionId: s.attrs.get('id') ?? '', ...times(s) })),
    participantSessionAssocs: participants.flatMap((p) => {
      const sessionId = p.attrs.get('session');
      return sessionId === undefined ? [] : [{ participantId: p.attrs.get('id') ?? '', sessionId, ...times(p) }];
    }),
    participantStreamAssocs: participants.flatMap((p) => {
      const send = streamIds(p, 'send');
      const recv = streamIds(p, 'recv');
      return send.length + recv.length === 0 ? [] : [{ participantId: p.attrs.get('id') ?? '', send, recv, ...times(p) }];
    }),
  };
  const bw = parseBroadWorks(root);
  if (bw) model.broadWorks = bw;
  return model;
}

/** Parses a draft-era document; throws SIPREC_XML_MALFORMED / SIPREC_METADATA_INVALID. */
export function parseBroadWorksMetadata(xml: string): RecordingMetadataModel {
  return broadWorksMetadataFromElement(parseXml(xml));
}
