/**
 * What links a call to its recordings (src/call/recording-link.ts): the SIPREC port's link over the
 * SIPREC client with a fake recording server, and the call snapshot's
 * `recordings` list, one entry per recording session (two for an internal call between two recorded
 * users, R-10), next to the existing `recording` field.
 */
import { describe, expect, it } from 'vitest';
import { SiprecRecordingPort } from '../../../src/call/siprec-recording-port.js';
import type { RecordingFileNames } from '../../../src/call/recording-link.js';
import type { RecordingStartRequest } from '../../../src/call/call-ports.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { FakeSrsConnector } from '../../fakes/fake-srs-connector.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';
import { flush, setup } from './call-harness-unit.js';

const request: RecordingStartRequest = {
  callId: 'call-1@pbx',
  direction: 'inbound-pstn',
  orgId: 'acme',
  locationId: 'hq',
  mode: 'always',
  userSide: 'callee',
  provider: {
    id: 'srs',
    recordingServers: [{ uri: 'sip:srs@192.0.2.10:5090', transport: 'udp' }],
    failurePolicy: 'proceedWithoutAnnouncement',
    dialect: 'rfc7865',
    srtp: false,
  } as unknown as RecordingStartRequest['provider'],
  other: { aor: 'tel:+15559990000' },
  user: { aor: 'sip:alice@acme.example' },
  local: { address: '127.0.0.1', label1Port: 30000, label2Port: 30002 },
};

const FILES: RecordingFileNames = { dir: '/rec/2025-03-01', wav: 'r-7.wav', summary: 'r-7.json', metadata: 'r-7.metadata.xml', metadataHistory: ['r-7.metadata.1.xml'] };

function port(locate?: (id: string) => RecordingFileNames | undefined) {
  const clock = new FakeClock();
  const connector = new FakeSrsConnector();
  const p = new SiprecRecordingPort({ connector, clock, timers: clock, ...(locate ? { locateFiles: locate } : {}) });
  return { p, connector };
}

describe('the recording link of a SIPREC recording session', () => {
  it('MUST name the session before the recording server answers, and add the SIPREC Call-ID, the answer, the server recording id and its files after its 200', async () => {
    const asked: string[] = [];
    const { p, connector } = port((id) => (asked.push(id), id === 'r-7' ? FILES : undefined));
    expect(p.link()).toBeUndefined();
    p.start(request);
    const before = p.link()!;
    expect(before).toMatchObject({ state: 'inviting', siprecCallId: null, srs: null, srsRecordingId: null, files: null });
    expect(before.siprecSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(before.metadata.sessionId).not.toBe(before.metadata.groupId);
    const dialog = connector.last.answer();
    dialog.answer = { status: 200, contact: 'sip:srs@192.0.2.10:5090', source: '192.0.2.10:5090', srsRecordingId: 'r-7' };
    await flush();
    const after = p.link()!;
    expect(after).toMatchObject({
      siprecSessionId: before.siprecSessionId,
      metadata: before.metadata,
      state: 'active',
      siprecCallId: dialog.callId,
      srs: { status: 200, target: 'sip:srs@192.0.2.10:5090;transport=udp', attempt: 0, contact: 'sip:srs@192.0.2.10:5090', source: '192.0.2.10:5090' },
      srsRecordingId: 'r-7',
      files: FILES,
    });
    expect(after.srs!.streams).toEqual([
      { label: '1', accepted: true, address: '127.0.0.9', port: 40000, payloadType: 0 },
      { label: '2', accepted: true, address: '127.0.0.9', port: 40002, payloadType: 0 },
    ]);
    expect(asked).toEqual(['r-7']);
    // the metadata the server received names the same RFC 7865 session
    expect(connector.last.request.body.body).toContain(`session session_id="${before.metadata.sessionId}"`);
  });

  it('MUST leave the server recording id and the files null for a server that names no recording', async () => {
    const { p, connector } = port(() => FILES);
    p.start(request);
    connector.last.answer();
    await flush();
    expect(p.link()).toMatchObject({ state: 'active', srs: { status: 200, contact: null, source: null }, srsRecordingId: null, files: null });
  });
});

describe('the call snapshot lists every recording session of the call', () => {
  it('MUST list one link per recorded user of an internal call (R-10) and keep the `recording` field', async () => {
    const t = setup(makeSnapshot({ alice: { enabled: true, mode: 'always' }, bob: { enabled: true, mode: 'always' } }));
    t.fromUser('alice@acme.example', '+15550002002');
    await flush();
    t.signaling.answer();
    await flush();
    for (const rp of t.recording.ports) rp.establish();
    await flush();
    const [call] = t.manager.list();
    expect(call!.recording).toMatchObject({ state: 'recording' });
    expect(call!.recordings).toHaveLength(2);
    const ids = call!.recordings.map((r) => r.siprecSessionId);
    expect(new Set(ids).size).toBe(2);
    for (const r of call!.recordings) expect(r).toMatchObject({ state: 'active', srs: { status: 200 }, srsRecordingId: expect.stringMatching(/^fake-recording-/) });
  });
});
