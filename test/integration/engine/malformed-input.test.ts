/**
 * Engine robustness: a corpus of malformed SIP sent over UDP and TCP. A request the engine can
 * answer (request line and a usable Via) must get 400 carrying that Via and the Call-ID if it had
 * one; anything else must get no answer. Nothing malformed may reach the app, the engine counts
 * every item (malformedDropped / badRequestsAnswered), and a normal call works afterwards.
 * The engine runs with maxMessageBytes 8192 so that "oversized" fits in a UDP datagram.
 * Against drachtio-server, the items marked with a divergence (docs/engine.md) expect its side.
 * Ports: block 5 of the conformance range (15750-15899).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawSipPeer,
  rawRequest,
  sendResponse,
  startHarness,
  testSdp,
  type EngineHarness,
  type TestApp,
} from '../../support/engine-harness.js';
import { expectedOn, type DivergenceId } from '../../support/engine-divergences.js';
import { ENGINE_CONFORMANCE_PORTS, portBlock, sippPorts } from '../../support/ports.js';
import { headerOf, runSipp, scenarioPath, type SippTransport } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const ports = portBlock(ENGINE_CONFORMANCE_PORTS, 5, 150);
const MAX_MESSAGE_BYTES = 8192;
let harness: EngineHarness;
let app: TestApp;
let appRequests = 0;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next(), maxMessageBytes: MAX_MESSAGE_BYTES });
  app = await harness.connectApp({ routes: ['invite'] });
  app.handle('invite', (req, res) => {
    appRequests++;
    app.srf.createUAS(req, res, { localSdp: testSdp(40400) }).catch(() => undefined);
  });
});

afterAll(async () => {
  await harness?.close();
});

/**
 * bad-request-or-silence: a request line the engine cannot parse, with Via and Call-ID intact: either is acceptable.
 * bad-request-without-call-id: 400 with the Via, and no Call-ID (the request had none, or the server lost it).
 * taken: the server takes it as a request and hands it to the app (a drachtio-server side only).
 */
type Outcome = 'bad-request' | 'bad-request-without-call-id' | 'silence' | 'too-large' | 'bad-request-or-silence' | 'taken';
type TcpOutcome = Outcome | 'bad-request-or-close' | 'skip';

interface CorpusItem {
  name: string;
  /** Expected engine reaction per transport. */
  udp: Outcome;
  tcp: TcpOutcome;
  /** Where drachtio-server reacts otherwise: the divergence and its reaction. */
  drachtio?: { divergence: DivergenceId; udp: Outcome; tcp: TcpOutcome };
  build(peer: RawSipPeer, ids: { callId: string; branch: string }): Buffer;
}

/** The reaction expected from the server under test. */
function expectedOutcome(item: CorpusItem, transport: 'UDP' | 'TCP'): TcpOutcome {
  const engine = transport === 'UDP' ? item.udp : item.tcp;
  if (!item.drachtio) return engine;
  return expectedOn(harness, item.drachtio.divergence, { engine, drachtio: transport === 'UDP' ? item.drachtio.udp : item.drachtio.tcp });
}

/** A valid INVITE from `peer`, as lines (start line first, body last). */
function validInvite(peer: RawSipPeer, ids: { callId: string; branch: string }, body = testSdp(40402)): string {
  return rawRequest({
    method: 'INVITE',
    uri: `sip:raw@${harness.target}`,
    callId: ids.callId,
    branch: ids.branch,
    fromTag: 'badtag',
    cseq: 1,
    local: { port: peer.localPort, transport: peer.transport },
    body,
  });
}

/** Removes the header `name` (whole line) from a serialized message. */
function without(msg: string, name: string): string {
  return msg.replace(new RegExp(`^${name}:[^\\r]*\\r\\n`, 'im'), '');
}

/** Replaces the value of header `name`. */
function withHeader(msg: string, name: string, value: string): string {
  return msg.replace(new RegExp(`^(${name}):[^\\r]*`, 'im'), `$1: ${value}`);
}

/** Deterministic pseudo-random bytes (xorshift), never starting like a SIP message. */
function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0x00;
  return out;
}

const CORPUS: CorpusItem[] = [
  {
    name: 'broken start line (not a request line)',
    udp: 'bad-request-or-silence',
    tcp: 'skip',
    build: (p, ids) => Buffer.from(validInvite(p, ids).replace(/^[^\r]*/, 'THIS IS NOT SIP')),
  },
  { name: 'missing Via', udp: 'silence', tcp: 'silence', build: (p, ids) => Buffer.from(without(validInvite(p, ids), 'Via')) },
  {
    name: 'missing Call-ID',
    udp: 'bad-request-without-call-id',
    tcp: 'bad-request-without-call-id',
    build: (p, ids) => Buffer.from(without(validInvite(p, ids), 'Call-ID')),
  },
  { name: 'missing From', udp: 'bad-request', tcp: 'bad-request', build: (p, ids) => Buffer.from(without(validInvite(p, ids), 'From')) },
  { name: 'missing To', udp: 'bad-request', tcp: 'bad-request', build: (p, ids) => Buffer.from(without(validInvite(p, ids), 'To')) },
  { name: 'missing CSeq', udp: 'bad-request', tcp: 'bad-request', build: (p, ids) => Buffer.from(without(validInvite(p, ids), 'CSeq')) },
  {
    name: 'non-numeric CSeq',
    udp: 'bad-request',
    tcp: 'bad-request',
    build: (p, ids) => Buffer.from(withHeader(validInvite(p, ids), 'CSeq', 'abc INVITE')),
  },
  {
    name: 'non-numeric Content-Length',
    udp: 'bad-request',
    tcp: 'bad-request-or-close',
    build: (p, ids) => Buffer.from(withHeader(validInvite(p, ids), 'Content-Length', 'twelve')),
  },
  {
    name: 'lying Content-Length (longer than the datagram, RFC 3261 18.3)',
    udp: 'bad-request',
    tcp: 'skip',
    build: (p, ids) => Buffer.from(withHeader(validInvite(p, ids), 'Content-Length', '900')),
  },
  {
    name: `oversized message (> ${MAX_MESSAGE_BYTES} bytes)`,
    udp: 'silence',
    tcp: 'too-large',
    drachtio: { divergence: 'message-size-limit', udp: 'bad-request', tcp: 'bad-request-or-close' },
    build: (p, ids) => {
      const msg = validInvite(p, ids);
      const padding = `X-Padding: ${'a'.repeat(MAX_MESSAGE_BYTES)}\r\n`;
      return Buffer.from(msg.replace('Max-Forwards: 70\r\n', `Max-Forwards: 70\r\n${padding}`));
    },
  },
  { name: 'binary garbage', udp: 'silence', tcp: 'silence', build: () => garbage(600, 20260) },
  {
    name: 'NUL byte inside a header value',
    udp: 'bad-request',
    tcp: 'bad-request',
    drachtio: { divergence: 'bad-header-bytes', udp: 'bad-request-without-call-id', tcp: 'silence' },
    build: (p, ids) => Buffer.from(withHeader(validInvite(p, ids), 'Subject', 'hello\u0000world').replace(/^(Max-Forwards)/m, 'Subject: x\u0000y\r\n$1')),
  },
  {
    name: 'bare CR inside a header value (header injection)',
    udp: 'bad-request',
    tcp: 'bad-request',
    drachtio: { divergence: 'bad-header-bytes', udp: 'taken', tcp: 'taken' },
    build: (p, ids) => Buffer.from(validInvite(p, ids).replace(/^(Max-Forwards: 70)/m, 'Subject: hi\rX-Injected: yes\r\n$1')),
  },
];

interface Observation {
  answers: string[];
  closed: boolean;
  countedDelta: number | undefined;
}

async function sendItem(item: CorpusItem, transport: 'UDP' | 'TCP'): Promise<{ obs: Observation; ids: { callId: string; branch: string } }> {
  const target = { host: harness.sipHost, port: harness.sipPort };
  const peer = transport === 'UDP' ? await RawSipPeer.udp(ports.next(), target) : await RawSipPeer.tcp(ports.next(), target);
  const ids = { callId: `bad-${randomUUID()}`, branch: `z9hG4bK-bad-${randomUUID()}` };
  const counted = (): number | undefined => {
    const s = harness.stats();
    return s ? s.malformedDropped + s.badRequestsAnswered : undefined;
  };
  const before = counted();
  try {
    await peer.send(item.build(peer, ids));
    await sleep(Math.max(200, harness.timers.t1 * 2));
    const after = counted();
    return {
      obs: { answers: [...peer.received], closed: peer.closed, countedDelta: before === undefined || after === undefined ? undefined : after - before },
      ids,
    };
  } finally {
    await peer.close();
  }
}

function checkOutcome(item: CorpusItem, transport: 'UDP' | 'TCP', obs: Observation, ids: { callId: string; branch: string }): void {
  const expected = expectedOutcome(item, transport);
  const label = `${transport} ${item.name}: answers ${JSON.stringify(obs.answers.map((a) => a.split('\r\n')[0]))} closed=${obs.closed}`;
  if (expected === 'silence') {
    expect(obs.answers, label).toHaveLength(0);
  } else if (expected === 'too-large') {
    expect(obs.answers.map((a) => a.split(' ')[1]), label).toEqual(['513']);
  } else if (expected === 'taken') {
    expect(obs.answers[0]?.split('\r\n')[0], `${label}: taken as a request`).toMatch(/^SIP\/2\.0 1\d\d |^SIP\/2\.0 200 /);
  } else if (expected.startsWith('bad-request') && (!expected.startsWith('bad-request-or-') || obs.answers.length > 0)) {
    expect(obs.answers.length, label).toBeGreaterThanOrEqual(1);
    for (const answer of obs.answers) {
      expect(answer.split('\r\n')[0], label).toMatch(/^SIP\/2\.0 400 /);
      expect(headerOf(answer, 'Via', 'v'), `${label}: 400 carries the request's Via`).toContain(`branch=${ids.branch}`);
      const callId = expected === 'bad-request-without-call-id' ? undefined : ids.callId;
      expect(headerOf(answer, 'Call-ID', 'i'), `${label}: 400 carries the request's Call-ID, if any`).toBe(callId);
    }
  } else if (expected === 'bad-request-or-close') {
    expect(obs.closed, `${label}: no 400, so the connection must be closed`).toBe(true);
  }
  if (obs.countedDelta !== undefined) expect(obs.countedDelta, `${label}: counted in engine stats`).toBeGreaterThanOrEqual(1);
}

async function normalCall(transport: SippTransport): Promise<void> {
  const before = appRequests;
  const result = await runSipp({ scenario: scenarioPath('uac-call-bye'), remote: harness.target, ...sippPorts(ports), transport, timeoutSec: 10 });
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(1);
  expect(appRequests).toBe(before + 1);
}

describe('engine robustness: malformed SIP', () => {
  for (const transport of ['UDP', 'TCP'] as const) {
    it(`B8/C10 ${transport}: every malformed item gets 400 (with its Via, and its Call-ID if it had one) when answerable, else no answer; none reaches the app; all are counted; a normal call still works`, async () => {
      const before = appRequests;
      const failures: string[] = [];
      let taken = 0;
      for (const item of CORPUS) {
        const expected = expectedOutcome(item, transport);
        if (expected === 'skip') continue;
        const appBefore = appRequests;
        const { obs, ids } = await sendItem(item, transport);
        if (expected === 'taken') taken++;
        else if (appRequests !== appBefore) failures.push(`${transport} ${item.name}: reached the app`);
        try {
          checkOutcome(item, transport, obs, ids);
        } catch (err) {
          failures.push((err as Error).message.split('\n')[0]!);
        }
      }
      expect(failures, failures.join('\n')).toEqual([]);
      expect(appRequests, 'no malformed request reached the app (but those the server takes at a divergence)').toBe(before + taken);
      await normalCall(transport === 'UDP' ? 'u1' : 't1');
    });
  }

  it('B8 header folding is not header injection: a folded "Via:" line stays part of the previous value', async () => {
    const peer = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    let seenVias = -1;
    app.handle('invite', (req, res) => {
      seenVias = req.getParsedHeader('Via').length;
      sendResponse(res, 486);
    });
    try {
      const ids = { callId: `fold-${randomUUID()}`, branch: `z9hG4bK-fold-${randomUUID()}` };
      const msg = validInvite(peer, ids).replace(/^(Max-Forwards: 70)/m, 'Subject: folded\r\n Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKevil\r\n$1');
      await peer.send(msg);
      const busy = await peer.waitFor((m) => m.startsWith('SIP/2.0 486'), 3000, '486 to the folded INVITE');
      expect(busy.match(/^(Via|v)[ \t]*:/gim), 'the response has exactly our one Via').toHaveLength(1);
      expect(headerOf(busy, 'Via', 'v')).toContain(ids.branch);
      expect(seenVias).toBe(1);
    } finally {
      app.handle('invite', (req, res) => {
        appRequests++;
        app.srf.createUAS(req, res, { localSdp: testSdp(40400) }).catch(() => undefined);
      });
      await peer.close();
    }
  });
});
