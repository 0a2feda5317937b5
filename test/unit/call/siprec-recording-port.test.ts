import { describe, expect, it } from 'vitest';
import type { RecordingStartRequest } from '../../../src/call/call-ports.js';
import { SiprecRecordingPort } from '../../../src/call/siprec-recording-port.js';
import { resolveProvider } from '../../../src/policy/effective-settings.js';
import { parseSiprecBody } from '../../../src/siprec/multipart.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { answerFor, FakeSrsConnector } from '../../fakes/fake-srs-connector.js';
import { makeSnapshot } from '../policy/snapshot-builder.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
};

function request(dialect: 'rfc7865' | 'broadworks' = 'rfc7865'): RecordingStartRequest {
  const provider = { ...resolveProvider(makeSnapshot().providers[0]!), dialect };
  return {
    callId: 'call-1',
    direction: 'inbound-pstn',
    orgId: 'acme',
    locationId: 'hq',
    mode: 'always',
    userSide: 'callee',
    provider,
    other: { aor: 'tel:+15559990000' },
    user: { aor: 'sip:alice@acme.example', name: 'Alice', platform: { serviceProvider: 'sp', externalGroup: 'grp', externalIdentifier: 'ext-alice', externalType: 'BroadWorks' } },
    local: { address: '127.0.0.1', label1Port: 26004, label2Port: 26006 },
  };
}

let n = 0;
const newId = (): string => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

describe('SiprecRecordingPort (RecordingPort over the SIPREC client)', () => {
  it('MUST send both participants, the platform information and earlier announcements in the first INVITE (R-31, R-33)', async () => {
    const clock = new FakeClock();
    const connector = new FakeSrsConnector();
    const port = new SiprecRecordingPort({ connector, clock, timers: clock, newId });
    port.announcement({ kind: 'compliance', target: 'pstn', result: 'played', phase: 'pre-answer', language: 'es' });
    port.start(request());
    await flush();
    const sent = connector.last.request;
    expect(sent.target).toContain('sip:srs@127.0.0.1:5090');
    const xml = parseSiprecBody(sent.body.contentType, sent.body.body).metadata ?? '';
    expect(xml).toContain('tel:+15559990000');
    expect(xml).toContain('sip:alice@acme.example');
    expect(xml).toContain('ext-alice');
    expect(xml).toMatch(/compliance/);
    const sdp = parseSiprecBody(sent.body.contentType, sent.body.body).sdp ?? '';
    expect(sdp).toMatch(/m=audio 26004 [\s\S]*a=label:1/);
    expect(sdp).toMatch(/m=audio 26006 [\s\S]*a=label:2/);
  });

  it('MUST report the recording server streams per label on established and the R-40 policy on failure', async () => {
    const clock = new FakeClock();
    const connector = new FakeSrsConnector();
    const port = new SiprecRecordingPort({ connector, clock, timers: clock, newId });
    const events: unknown[] = [];
    port.on('established', (t) => events.push(t));
    port.start(request());
    await flush();
    connector.last.answer(answerFor(connector.last.request.body, { ports: [41000, 41002] }));
    await flush();
    expect(events[0]).toMatchObject({ label1: { accepted: true, port: 41000 }, label2: { accepted: true, port: 41002 } });

    const failing = new FakeSrsConnector();
    const p2 = new SiprecRecordingPort({ connector: failing, clock, timers: clock, newId, session: { attemptTimeoutMs: 1000, startDeadlineMs: 5000 } });
    const failures: unknown[] = [];
    p2.on('failed', (f) => failures.push(f));
    p2.start(request());
    await flush();
    failing.last.reject(503); // first server: 503, the client fails over to the backup
    await flush();
    expect(failures).toHaveLength(0);
    expect(failing.invites).toHaveLength(2);
    failing.last.reject(503);
    await flush();
    expect(failures[0]).toMatchObject({ policy: 'proceedWithAnnouncement', phase: 'start' });
  });

  it('MUST add the BroadWorks block in that dialect (R-41)', async () => {
    const clock = new FakeClock();
    const connector = new FakeSrsConnector();
    const port = new SiprecRecordingPort({ connector, clock, timers: clock, newId });
    port.start(request('broadworks'));
    await flush();
    const xml = parseSiprecBody(connector.last.request.body.contentType, connector.last.request.body.body).metadata ?? '';
    expect(xml).toContain('termCall');
    expect(xml).toContain('ext-alice');
  });
});
