/**
 * End to end, R-41: the product as `npm start` runs it, with the demo provider switched to the
 * 'broadworks' dialect (and alice given BroadWorks platform information), records a PSTN call to
 * alice on the in-process reference recording server. A small UDP relay in front of that server
 * keeps a copy of the recording INVITE, so the test sees what went on the wire: the draft-era
 * shape (metadata part first, `;src` Contact, no `Require: siprec`) with the header hygiene every
 * SIPREC INVITE has (From with a user part, Supported, Accept). The server accepts it and what it
 * stored parses to the call's participants, announcements and BroadWorks block.
 *
 * Ports: 42500-42799 (42800-42999: test/integration/srs/srs-broadworks.test.ts).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../../src/siprec/metadata-parser.js';
import { validateMetadata } from '../../../src/siprec/metadata-validator.js';
import { parseMultipartMixed } from '../../../src/siprec/multipart.js';
import { portBlock } from '../../support/ports.js';
import {
  makeTestAudio,
  recordingFiles,
  runPackSipp,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type ProductProcess,
} from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { sleep } from '../../support/wait.js';

const block = portBlock({ from: 42500, to: 42799 }, 0, 300);
const [sip, drachtio, admin, srs, relay] = block.take(6) as [number, number, number, number, number];
const media = block.take(100); // starts even (RTP on even ports)
const srsRtp = block.take(100);
const [callee, calleeControl, carrier, carrierControl] = block.take(4) as [number, number, number, number];
const calleeMedia = block.take(6)[0]!;
const carrierMedia = block.take(6)[0]!;
const P = { sip, drachtio, admin, mediaMin: media[0]!, mediaMax: media.at(-1)!, srs, srsRtpMin: srsRtp[0]!, srsRtpMax: srsRtp.at(-1)! };

/** Forwards UDP between the product and the recording server, keeping every datagram the product sent. */
async function startRelay(port: number, target: number): Promise<{ seen: string[]; close(): void }> {
  const seen: string[] = [];
  const sock: Socket = createSocket('udp4');
  let product: RemoteInfo | undefined;
  sock.on('message', (msg, from) => {
    if (from.port === target) {
      if (product) sock.send(msg, product.port, product.address);
      return;
    }
    product = from;
    seen.push(msg.toString('utf8'));
    sock.send(msg, target, '127.0.0.1');
  });
  await new Promise<void>((res) => sock.bind(port, '127.0.0.1', res));
  return { seen, close: () => sock.close() };
}

const header = (msg: string, name: string): string | undefined => {
  const head = msg.split('\r\n\r\n')[0]!;
  return head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
};

let dir = '';
let app: ProductProcess | undefined;
let wire: Awaited<ReturnType<typeof startRelay>> | undefined;

beforeAll(async () => {
  assertSippInstalled();
  dir = mkdtempSync(join(tmpdir(), 'broadworks-product-'));
  makeTestAudio(dir);
  const file = writeDemoProvisioning(dir, { callee, carrier, srs: relay });
  let text = readFileSync(file, 'utf8');
  const provider = '        profile: custom\n';
  const alice = `        sipIdentities: ["alice@127.0.0.1:${callee}"]\n`;
  if (!text.includes(provider) || !text.includes(alice)) throw new Error('config/demo-provisioning.yaml changed shape');
  text = text.replace(provider, `${provider}        dialect: broadworks\n`);
  text = text.replace(
    alice,
    `${alice}        platformInfo: { serviceProvider: demo-sp, externalGroup: demo-group, externalIdentifier: alice@demo.example, externalType: BroadWorks }\n`,
  );
  writeFileSync(file, text);
  wire = await startRelay(relay, srs);
  app = await startProductProcess({ dir, ports: P, provisioningFile: file, logLevel: 'info', readyTimeoutMs: 45_000 });
}, 60_000);

afterAll(async () => {
  await app?.kill();
  wire?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('broadworks dialect end to end (R-41)', () => {
  it('MUST record a call in the BroadWorks shape that the reference recording server accepts and reads back', async () => {
    const party = runPackSipp(dir, 'user-callee', { port: callee, controlPort: calleeControl, mediaPort: calleeMedia });
    await sleep(300);
    const caller = runPackSipp(dir, 'pstn-caller', {
      remote: `127.0.0.1:${sip}`,
      service: '+15550002001',
      port: carrier,
      controlPort: carrierControl,
      mediaPort: carrierMedia,
      pauseMs: 3000,
    });
    const c = await withTimeout(caller.done, 40_000, 'caller');
    expect(c.code, c.describe).toBe(0);
    const e = await withTimeout(party.done, 10_000, 'callee');
    expect(e.code, e.describe).toBe(0);

    // what the server stored: recordings/<date>/<id>.wav, .json and every metadata document
    const recordingsDir = join(dir, 'recordings');
    let files: string[] = [];
    for (let i = 0; i < 80; i++) {
      files = recordingFiles(recordingsDir);
      if (files.some((f) => f.endsWith('.json'))) break;
      await sleep(100);
    }
    expect(files.filter((f) => f.endsWith('.wav')), `${files.join('\n')}\n${app!.log().slice(-3000)}`).toHaveLength(1);
    const docs = files.filter((f) => /\.metadata\.\d+\.xml$/.test(f)).sort((a, b) => Number(/(\d+)\.xml$/.exec(a)![1]) - Number(/(\d+)\.xml$/.exec(b)![1]));
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const f of docs) {
      const xml = readFileSync(f, 'utf8');
      expect(xml).toContain('<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"');
      expect(validateMetadata(xml, { dialect: 'broadworks' })).toEqual([]);
    }
    const last = parseMetadata(readFileSync(docs.at(-1)!, 'utf8'));
    expect(last.participants).toHaveLength(2);
    // label 1 is the PSTN caller (pack pstn-caller.xml From), label 2 the recorded user
    const sender = (label: string) => {
      const stream = last.streams.find((s) => s.label === label)!;
      const id = last.participantStreamAssocs.find((a) => a.send.includes(stream.id))!.participantId;
      return last.participants.find((p) => p.id === id)!;
    };
    expect(sender('1').nameIds[0]!.aor).toContain('+15559990000');
    const alice = sender('2');
    expect(alice?.platform).toEqual({ serviceProvider: 'demo-sp', externalGroup: 'demo-group', externalIdentifier: 'alice@demo.example', externalType: 'BroadWorks' });
    expect(last.streams.map((s) => s.label)).toEqual(['1', '2']);
    expect(last.participantStreamAssocs.map((a) => a.send.length)).toEqual([1, 1]);
    const compliance = last.sessions[0]!.announcements?.find((a) => a.kind === 'compliance');
    expect(compliance, JSON.stringify(last.sessions[0]!.announcements)).toMatchObject({ result: 'played', target: 'pstn' });
    expect(last.sessions[0]!.stopTime).toBeDefined();
    expect(last.broadWorks).toMatchObject({ serviceProviderId: 'demo-sp', groupId: 'demo-group', userId: 'alice@demo.example', callType: 'termCall' });
    const summary = JSON.parse(readFileSync(files.find((f) => f.endsWith('.json'))!, 'utf8')) as { metadataDocuments: number; participants: Array<{ aor: string }> };
    expect(summary.metadataDocuments).toBe(docs.length);
    expect(summary.participants).toHaveLength(2);

    // what went on the wire: the recording INVITE in the BroadWorks shape
    const invite = wire!.seen.find((m) => m.startsWith('INVITE '))!;
    expect(invite, wire!.seen.map((m) => m.split('\r\n')[0]).join('\n')).toBeDefined();
    expect(header(invite, 'Require') ?? '').not.toMatch(/siprec/i);
    expect(header(invite, 'Contact')).toMatch(/^<sip:src@127\.0\.0\.1:\d+>;src$/);
    expect(header(invite, 'From')).toMatch(/^<sip:src@127\.0\.0\.1(:\d+)?>;tag=/);
    expect(header(invite, 'Supported')).toBe('timer, 100rel');
    expect(header(invite, 'Accept')).toBe('application/sdp, application/rs-metadata+xml, application/rs-metadata-request, multipart/mixed');
    const body = invite.slice(invite.indexOf('\r\n\r\n') + 4);
    const parts = parseMultipartMixed(header(invite, 'Content-Type')!, body);
    expect(parts.map((p) => p.mediaType)).toEqual(['application/rs-metadata+xml', 'application/sdp']);
    expect(parts[0]!.disposition).toBe('recording-session');
  }, 60_000);
});
