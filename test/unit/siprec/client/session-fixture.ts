import { createRecordingMetadata, type RecordingMetadataModel } from '../../../../src/siprec/index.js';
import { RecordingSession } from '../../../../src/siprec/client/recording-session.js';
import type { RecordingSessionOptions } from '../../../../src/siprec/client/recording-session-options.js';
import type { RecordingSessionEvents } from '../../../../src/siprec/client/recording-session-types.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { FakeSrsConnector } from '../../../fakes/fake-srs-connector.js';

/** Fixed metadata ids (base64 of 16 bytes) for the client tests. */
export const CLIENT_IDS = {
  group: 'AAECAwQFBgcICQoLDA0ODw==',
  session: 'EBESExQVFhcYGRobHB0eHw==',
  pstn: 'ICEiIyQlJicoKSorLC0uLw==',
  user: 'MDEyMzQ1Njc4OTo7PD0+Pw==',
  transferTarget: 'QEFCQ0RFRkdISUpLTE1OTw==',
  stream1: 'UFFSU1RVVldYWVpbXF1eXw==',
  stream2: 'YGFiY2RlZmdoaWprbG1ubw==',
} as const;

export function clientModel(startTime: number): RecordingMetadataModel {
  return createRecordingMetadata({
    groupId: CLIENT_IDS.group,
    sessionId: CLIENT_IDS.session,
    streamIds: { label1: CLIENT_IDS.stream1, label2: CLIENT_IDS.stream2 },
    sipSessionId: 'call-1@pbx.example',
    startTime,
    other: { id: CLIENT_IDS.pstn, aor: 'sip:+4930123456@trunk.example' },
    user: { id: CLIENT_IDS.user, aor: 'sip:alice@pbx.example', name: 'Alice' },
  });
}

export const TARGETS = [{ uri: 'sip:srs@10.0.0.1:5060' }, { uri: 'sip:srs@10.0.0.2:5060' }, { uri: 'sip:srs@10.0.0.3:5060' }];

/** Every event the session emitted, in order, as [name, ...args]. */
export type EventLog = Array<[keyof RecordingSessionEvents, ...unknown[]]>;

export function makeSession(over: Partial<RecordingSessionOptions> = {}) {
  const clock = new FakeClock();
  const connector = new FakeSrsConnector();
  const metadata = clientModel(clock.now());
  const session = new RecordingSession({
    connector,
    targets: TARGETS,
    metadata,
    media: { address: '127.0.0.1', ports: { label1: 20000, label2: 20002 } },
    failurePolicy: 'endCallWithAnnouncement',
    sessionId: 'rec-1',
    sdpSessionId: '4242',
    clock,
    timers: clock,
    random: () => 0,
    ...over,
  });
  const events: EventLog = [];
  const names: Array<keyof RecordingSessionEvents> = [
    'state',
    'established',
    'attemptFailed',
    'targetsChanged',
    'paused',
    'resumed',
    'refused',
    'snapshotRequested',
    'failed',
    'stopped',
  ];
  for (const name of names) session.on(name, (...args: unknown[]) => events.push([name, ...args]));
  const of = (name: keyof RecordingSessionEvents) => events.filter((e) => e[0] === name).map((e) => e.slice(1));
  return { clock, connector, metadata, session, events, of };
}

/** Lets promise callbacks run (the fakes settle through promises). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A session already established on the first target; returns the fake dialog too. */
export async function establishedSession(over: Partial<RecordingSessionOptions> = {}) {
  const ctx = makeSession(over);
  const outcome = ctx.session.start();
  const dialog = ctx.connector.last.answer();
  await flush();
  return { ...ctx, dialog, outcome };
}
