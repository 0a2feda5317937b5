/**
 * The element readers of an RFC 7865 document (session, participant, announcements, the BroadWorks
 * extension) that both metadata parsers use: metadata-parser.ts for `<recording>` and
 * metadata-broadworks-parser.ts for the draft-era `<recording_metadata>`. Lenient about what they
 * do not know; structural checks belong to the validators.
 */
import { parseXsDateTime } from './siprec-ids.js';
import { childNamed, childrenNamed, type XmlElement } from './xml-parser.js';
import {
  ANNOUNCEMENT_KINDS,
  B2BUA_EXTENSION_NS,
  BROADWORKS_NS,
  RECORDING_NS,
  type AnnouncementKind,
  type AnnouncementRecord,
  type BroadWorksRecordingInfo,
  type CallDirection,
  type MetadataParticipant,
  type MetadataSession,
} from './metadata-types.js';

const R = RECORDING_NS;
const X = B2BUA_EXTENSION_NS;

function time(el: XmlElement | undefined): number | undefined {
  return el ? parseXsDateTime(el.text.trim()) : undefined;
}
function attrTime(el: XmlElement, name: string): number | undefined {
  const v = el.attrs.get(name);
  return v === undefined ? undefined : parseXsDateTime(v);
}
/** A non-negative integer attribute; anything else reads as absent (the validator reports it). */
function attrCount(el: XmlElement, name: string): number | undefined {
  const v = el.attrs.get(name);
  return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
}
/** The trimmed texts of the `name` children (RFC 7865 namespace). */
export const texts = (el: XmlElement, name: string): string[] => childrenNamed(el, name, R).map((c) => c.text.trim());
/** associate-time / disassociate-time children as epoch ms. */
export function assocTimes(el: XmlElement): { associateTime?: number; disassociateTime?: number } {
  const out: { associateTime?: number; disassociateTime?: number } = {};
  const a = time(childNamed(el, 'associate-time', R));
  const d = time(childNamed(el, 'disassociate-time', R));
  if (a !== undefined) out.associateTime = a;
  if (d !== undefined) out.disassociateTime = d;
  return out;
}
/** Copies defined values only, so parsed objects deep-equal the ones the model helpers build. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

function parseAnnouncement(el: XmlElement): AnnouncementRecord {
  const kind = el.attrs.get('kind') ?? '';
  const result = el.attrs.get('result');
  return defined({
    id: el.attrs.get('id') ?? '',
    kind: (ANNOUNCEMENT_KINDS as readonly string[]).includes(kind) ? (kind as AnnouncementKind) : ('compliance' as const),
    target: el.attrs.get('target') ?? '',
    participant: el.attrs.get('participant'),
    media: el.attrs.get('media'),
    phase: el.attrs.get('phase'),
    language: el.attrs.get('language'),
    start: attrTime(el, 'start'),
    end: attrTime(el, 'end'),
    last: attrTime(el, 'last'),
    count: attrCount(el, 'count'),
    intervalSeconds: attrCount(el, 'intervalSeconds'),
    result: result === 'skipped' ? 'skipped' : 'played',
    reason: el.attrs.get('reason'),
  } satisfies AnnouncementRecord);
}

/** A `<session>`'s fields and our `b2b:` children (the broadworks parser reads its extensiondata with it). */
export function parseSession(el: XmlElement): MetadataSession {
  const s: MetadataSession = {
    id: el.attrs.get('session_id') ?? '',
    sipSessionIds: texts(el, 'sipSessionID'),
    groupRefs: texts(el, 'group-ref'),
  };
  const start = time(childNamed(el, 'start-time', R));
  const stop = time(childNamed(el, 'stop-time', R));
  if (start !== undefined) s.startTime = start;
  if (stop !== undefined) s.stopTime = stop;
  const call = childNamed(el, 'call', X);
  if (call) {
    s.call = defined({
      direction: (call.attrs.get('direction') ?? 'inbound') as CallDirection,
      trunkCallId: call.attrs.get('trunkCallId'),
      tenant: call.attrs.get('tenant'),
      location: call.attrs.get('location'),
      recordingMode: call.attrs.get('recordingMode'),
    });
  }
  const anns = childNamed(el, 'announcements', X);
  if (anns) s.announcements = childrenNamed(anns, 'announcement', X).map(parseAnnouncement);
  const pauses = childNamed(el, 'pauses', X);
  if (pauses) {
    s.pauses = childrenNamed(pauses, 'pause', X).map((p) => defined({ start: attrTime(p, 'start') ?? 0, end: attrTime(p, 'end') }));
  }
  const problems = childNamed(el, 'media-problems', X);
  if (problems) {
    const kinds = ['silent-stream', 'lost-start'] as const;
    const listed = problems.children.filter((c) => c.ns === X && (kinds as readonly string[]).includes(c.name));
    s.mediaProblems = listed.map((p) => {
      const dropped = p.attrs.get('dropped');
      return defined({
        kind: p.name as (typeof kinds)[number],
        label: p.attrs.get('label') ?? '',
        reason: p.attrs.get('reason') ?? '',
        since: attrTime(p, 'since') ?? 0,
        detected: attrTime(p, 'detected') ?? 0,
        dropped: dropped === undefined || !/^\d+$/.test(dropped) ? undefined : Number(dropped),
        sdp: p.attrs.get('sdp'),
        source: p.attrs.get('source'),
      });
    });
  }
  return s;
}

/** A `<participant>`'s fields and its `b2b:platform` (also read from broadworks extensiondata). */
export function parseParticipant(el: XmlElement): MetadataParticipant {
  const p: MetadataParticipant = {
    id: el.attrs.get('participant_id') ?? '',
    nameIds: childrenNamed(el, 'nameID', R).map((n) => ({
      aor: n.attrs.get('aor') ?? '',
      names: childrenNamed(n, 'name', R).map((nm) => defined({ text: nm.text, lang: nm.attrs.get('xml:lang') })),
    })),
  };
  const platform = childNamed(el, 'platform', X);
  if (platform) {
    p.platform = {
      serviceProvider: platform.attrs.get('serviceProvider') ?? '',
      externalGroup: platform.attrs.get('externalGroup') ?? '',
      externalIdentifier: platform.attrs.get('externalIdentifier') ?? '',
      externalType: platform.attrs.get('externalType') ?? 'BroadWorks',
    };
  }
  return p;
}

/** The BroadWorks block of any `<extensiondata>` child of the root (either document shape). */
export function parseBroadWorks(root: XmlElement): BroadWorksRecordingInfo | undefined {
  for (const ext of root.children.filter((c) => c.name === 'extensiondata')) {
    const bw = childNamed(ext, 'broadWorksRecordingMetadata', BROADWORKS_NS);
    if (!bw) continue;
    const v = (el: XmlElement | undefined, name: string): string | undefined =>
      el ? childNamed(el, name, BROADWORKS_NS)?.text.trim() : undefined;
    const callTypeEl = childNamed(bw, 'callType', BROADWORKS_NS);
    const call = callTypeEl?.children.find((c) => c.name === 'origCall' || c.name === 'termCall');
    return defined({
      version: bw.attrs.get('version') ?? '',
      extTrackingId: v(bw, 'extTrackingID') ?? '',
      serviceProviderId: v(bw, 'serviceProviderID') ?? '',
      groupId: v(bw, 'groupID') ?? '',
      userId: v(bw, 'userID') ?? '',
      callId: v(bw, 'callID') ?? '',
      callType: call?.name === 'termCall' ? ('termCall' as const) : ('origCall' as const),
      callingPartyNumber: v(call, 'callingPartyNumber') ?? '',
      calledPartyNumber: v(call, 'calledPartyNumber') ?? '',
      dialedDigits: v(call, 'dialedDigits'),
      recordingType: v(bw, 'recordingType') ?? '',
    });
  }
  return undefined;
}
