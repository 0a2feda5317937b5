import {
  createRecordingMetadata,
  endPause,
  finaliseRecordingMetadata,
  recordMediaProblem,
  recordAnnouncement,
  replaceParticipant,
  startPause,
  type RecordingMetadataModel,
} from '../../../src/siprec/index.js';

/** Fixed ids and times shared by the golden tests (the same ids as the spec example). */
export const IDS = {
  group: 'E3LTPjB+TVCwmMEUjLS7Xw==',
  session: '2a3OYhkUSjq/YXVWwLUaVw==',
  pstn: '9+IeICMeTSCEAfOKo5v9lA==',
  user: 'djgpxXbIQmOuDgkEwQqJHQ==',
  transferTarget: 'q83vEjRWeJCrze8SNFZ4kA==',
  stream1: 'yQwWETlMRkSHb3bXudickA==',
  stream2: 'Sg+b1TOLSJ2jt/x4i+cE5A==',
} as const;

export const T0 = Date.UTC(2025, 2, 4, 10, 15, 2, 120);
export const at = (ms: number): number => T0 + ms;

/** The initial snapshot of an inbound PSTN call with a compliance announcement. */
export function initialModel(): RecordingMetadataModel {
  const m = createRecordingMetadata({
    groupId: IDS.group,
    sessionId: IDS.session,
    streamIds: { label1: IDS.stream1, label2: IDS.stream2 },
    sipSessionId: 'ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2',
    startTime: T0,
    other: { id: IDS.pstn, aor: 'sip:+4930123456@trunk.carrier.example', name: '+4930123456' },
    user: {
      id: IDS.user,
      aor: 'sip:alice@pbx.acme.example',
      name: 'Alice Agent',
      platform: { serviceProvider: 'acme-sp', externalGroup: 'acme-berlin', externalIdentifier: 'alice@acme.example', externalType: 'BroadWorks' },
    },
    userAssociateTime: at(5930),
    call: { direction: 'inbound', trunkCallId: 'a84b4c76e66710@gw1.carrier.example', tenant: 'acme', location: 'berlin-hq', recordingMode: 'always-pause-resume' },
    broadWorks: {
      version: '3.0',
      extTrackingId: '152463:1',
      serviceProviderId: 'acme-sp',
      groupId: 'acme-berlin',
      userId: 'alice@acme.example',
      callId: 'callhalf-177056759:5',
      callType: 'termCall',
      callingPartyNumber: 'sip:+4930123456@trunk.carrier.example',
      calledPartyNumber: 'sip:alice@pbx.acme.example',
      recordingType: 'always-pause-resume',
    },
  });
  recordAnnouncement(m, {
    kind: 'compliance',
    target: 'pstn',
    participant: IDS.pstn,
    media: 'compliance-de.wav',
    phase: 'pre-answer',
    language: 'de',
    start: at(180),
    end: at(5780),
    result: 'played',
  });
  return m;
}

/** A later snapshot: paused and resumed, a skipped start announcement, reminder tone. */
export function midCallModel(): RecordingMetadataModel {
  const m = initialModel();
  recordAnnouncement(m, { kind: 'start', target: 'pstn', result: 'skipped', reason: 'precedence-compliance' });
  startPause(m, at(60_000));
  recordAnnouncement(m, { kind: 'pause', target: 'all', media: 'beep', phase: 'mid-call', start: at(60_010), end: at(60_210), result: 'played' });
  endPause(m, at(90_000));
  recordAnnouncement(m, { kind: 'resume', target: 'all', media: 'beep', phase: 'mid-call', start: at(90_010), end: at(90_210), result: 'played' });
  recordAnnouncement(m, { kind: 'reminder-tone', target: 'all', phase: 'mid-call', start: at(110_000), end: at(110_300), result: 'played' });
  return m;
}

/** The user's phone sent its RTP from behind a NAT the relay refused (strict latching): stream 2 is silent, and says why. */
export function silentStreamModel(): RecordingMetadataModel {
  const m = initialModel();
  recordMediaProblem(m, { kind: 'silent-stream', label: '2', reason: 'hijack', since: at(6_000), detected: at(11_000), dropped: 250, sdp: '192.0.2.2:4000', source: '192.0.2.2:4000' });
  finaliseRecordingMetadata(m, at(30_000));
  return m;
}

/** The recording server answered 4.5 s after the answer; the SRC kept 3 s: both streams miss 1.5 s (b2b:lost-start). */
export function lostStartModel(): RecordingMetadataModel {
  const m = initialModel();
  for (const label of ['1', '2']) recordMediaProblem(m, { kind: 'lost-start', label, reason: 'recording-server-late', since: at(1_000), detected: at(2_500) });
  finaliseRecordingMetadata(m, at(30_000));
  return m;
}

/** After a transfer: the user leaves, a new party takes label 2 (R-13: no new compliance prompt). */
export function transferredModel(): RecordingMetadataModel {
  const m = midCallModel();
  replaceParticipant(m, IDS.user, { id: IDS.transferTarget, aor: 'sip:bob@pbx.acme.example', name: 'Bob Agent' }, at(200_000));
  return m;
}

/** The final complete snapshot sent before BYE. */
export function finalModel(): RecordingMetadataModel {
  const m = transferredModel();
  finaliseRecordingMetadata(m, at(397_880));
  return m;
}
