/**
 * Minimal reproducers of what the SIP fuzzer (sip-fuzz.test.ts) found: requests the engine accepts
 * and hands to the app byte for byte although drachtio-srf cannot parse them. srf then logs
 * "unable to parse incoming message" and drops the request, so the caller never gets a final
 * response (an INVITE hangs after 100 Trying). Each is finding N in the engine findings list.
 *
 * The requirement for each: the caller gets a final response within 2 s: either 400 from the
 * engine (nothing delivered to the app), or the app's answer to a message the engine normalised,
 * and srf never fails to parse what the engine sent it.
 * Ports: 31400-31499 (the top of hardening block 0).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSipPeer, rawRequest, sendResponse, startHarness, type EngineHarness } from '../../support/engine-harness.js';
import { PortBlock } from '../../support/ports.js';
import { HARDENING_PORTS } from './hardening-ports.js';

const ports = new PortBlock({ from: HARDENING_PORTS.from + 400, to: HARDENING_PORTS.from + 499 }, 0, 100);
let harness: EngineHarness;
const appSaw: string[] = [];
const srfParseFailures: string[] = [];
const consoleError = console.error;

beforeAll(async () => {
  console.error = (...args: unknown[]): void => {
    const text = args.map(String).join(' ');
    const at = text.indexOf('unable to parse incoming message: ');
    if (at < 0) return consoleError(...args);
    srfParseFailures.push(text.slice(at + 34));
  };
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  const app = await harness.connectApp({ routes: ['options'] });
  app.handle('options', (req, res) => {
    appSaw.push(req.get('Call-ID'));
    sendResponse(res, 200);
  });
});

afterAll(async () => {
  console.error = consoleError;
  await harness?.close();
});

/** A valid OPTIONS from `peer` as latin1 text, so single bytes can be spliced in. */
function options(peer: RawSipPeer, callId: string): string {
  return rawRequest({
    method: 'OPTIONS',
    uri: `sip:probe@${harness.target}`,
    callId,
    branch: `z9hG4bK-${callId}`,
    fromTag: 'repro',
    cseq: 1,
    local: { port: peer.localPort, transport: 'UDP' },
  });
}

/** Sends `bytes` and returns the final response's status line, or 'no final response'. */
async function finalResponse(peer: RawSipPeer, bytes: Buffer, callId: string): Promise<string> {
  const from = peer.received.length;
  await peer.send(bytes);
  try {
    const msg = await peer.waitFor((m) => /^SIP\/2\.0 [2-6]\d\d/.test(m) && m.includes(callId), 2000, 'a final response', from);
    return msg.split('\r\n')[0]!;
  } catch {
    return 'no final response';
  }
}

interface Repro {
  finding: number;
  name: string;
  build(valid: string): string;
}

const REPROS: Repro[] = [
  {
    finding: 10,
    name: 'a UDP request whose header section is not ended by an empty line (no CRLFCRLF at all)',
    build: (valid) => valid.replace(/\r\n\r\n$/, '\r\n'),
  },
  {
    finding: 11,
    name: 'a header name preceded by a UTF-8 BOM (EF BB BF), which String.trim() strips',
    build: (valid) => valid.replace('\r\nMax-Forwards:', '\r\n\xef\xbb\xbfMax-Forwards:'),
  },
  {
    finding: 12,
    name: 'a bare LF starting a header line inside a CRLF message ("...\\r\\n\\nCSeq: ...")',
    build: (valid) => valid.replace('\r\nCSeq:', '\r\n\nCSeq:'),
  },
  {
    finding: 13,
    name: "a request line with the version in lower case ('sip/2.0'; RFC 3261 7.1 allows it, srf's parser does not)",
    build: (valid) => valid.replace(' SIP/2.0\r\n', ' sip/2.0\r\n'),
  },
  {
    finding: 14,
    name: 'a Request-URI containing control characters (form feed) and raw 8-bit bytes',
    build: (valid) => valid.replace('OPTIONS sip:probe@', 'OPTIONS sip:pro\x0cbe\x01\xe9\xff@'),
  },
  {
    finding: 14,
    name: 'a bare CR inside the request line (finding 2 covers header lines only)',
    build: (valid) => valid.replace('OPTIONS sip:probe@', 'OPTIONS sip:probe@\r\r'),
  },
];

describe('engine fuzz findings: every request handed to the app is one drachtio-srf can parse', () => {
  for (const repro of REPROS) {
    it(`finding ${repro.finding}: ${repro.name} MUST get a final response (400, or the app's answer), never be dropped inside the app`, async () => {
      const peer = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
      try {
        const callId = `repro-${repro.finding}-${Date.now()}`;
        const failuresBefore = srfParseFailures.length;
        const bytes = Buffer.from(repro.build(options(peer, callId)), 'latin1');
        const status = await finalResponse(peer, bytes, callId);
        const srfFailed = srfParseFailures.slice(failuresBefore).some((f) => f.includes(callId));
        expect({ status: status === 'no final response' ? status : 'final', srfFailed }, `got ${status}`).toEqual({ status: 'final', srfFailed: false });
        if (status.startsWith('SIP/2.0 200')) expect(appSaw).toContain(callId);
        else expect(appSaw).not.toContain(callId);
      } finally {
        await peer.close();
      }
    });
  }

  it('control: the same OPTIONS unmodified reaches the app and gets its 200', async () => {
    const peer = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    try {
      const callId = `repro-control-${Date.now()}`;
      expect(await finalResponse(peer, Buffer.from(options(peer, callId), 'latin1'), callId)).toBe('SIP/2.0 200 OK');
      expect(appSaw).toContain(callId);
    } finally {
      await peer.close();
    }
  });
});
