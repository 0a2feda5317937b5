import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaPlane } from '../../../src/media/media-plane.js';
import type { MediaSession } from '../../../src/media/media-session.js';
import type { LatchNotice, SilentLegNotice } from '../../../src/media/media-session-types.js';
import { writeReceiverReport } from '../../../src/media/rtp/rtcp.js';
import { MEDIA_CORE_PORTS } from '../../support/media-ports.js';
import { SOCKET_IO_PATHS, socketIoPortBlock } from '../../support/socket-io.js';
import { RtpPeer } from '../../support/rtp-peer.js';
import { sleep, until } from '../../support/wait.js';
const LOCAL = '127.0.0.1';

/** Latching modes and the silent-leg watch over real UDP: a phone behind NAT is a peer whose SDP names another port. */
describe.each(SOCKET_IO_PATHS)('media latching (sdp / auto / first-source) and the silent-leg watch (%s socket I/O)', (io) => {
  const block = socketIoPortBlock(io, MEDIA_CORE_PORTS, 10, 100, 4);
  const [planeMin] = block.take(30);
  let plane: MediaPlane;
  const cleanup: Array<() => unknown> = [];

  beforeAll(async () => {
    plane = await MediaPlane.start({ portMin: planeMin!, portMax: planeMin! + 29, socketIo: io, workers: 0 });
    expect(plane.socketIo).toBe(io);
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  afterAll(async () => {
    await plane?.close();
  });

  async function peers(n: number): Promise<RtpPeer[]> {
    const out: RtpPeer[] = [];
    for (let i = 0; i < n; i++) {
      const p = await RtpPeer.open(block.take(2)[0]!);
      cleanup.push(() => p.close());
      out.push(p);
    }
    return out;
  }

  async function session(opts: Parameters<MediaPlane['createSession']>[0]): Promise<{ s: MediaSession; latched: LatchNotice[]; silent: SilentLegNotice[] }> {
    const s = await plane.createSession(opts);
    cleanup.unshift(() => s.close());
    const latched: LatchNotice[] = [];
    const silent: SilentLegNotice[] = [];
    s.on('latched', (e) => latched.push(e));
    s.on('silent', (e) => silent.push(e));
    return { s, latched, silent };
  }

  const frame = (v: number): Buffer => Buffer.alloc(160, v);

  it('auto (the default) MUST latch onto the source a phone behind NAT really sends from, relay both ways, and refuse a third source', async () => {
    const [sdpA, natted, b, intruder] = await peers(4);
    const { s, latched } = await session({});
    // A's SDP names sdpA's port; its RTP comes from `natted` (what a NAT router does)
    await s.setRemote('a', { address: LOCAL, port: sdpA!.port });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    const toA = { address: LOCAL, port: s.local.a.rtpPort };
    natted!.sendPacket(frame(0x11), toA);
    await sleep(30);
    intruder!.sendPacket(frame(0x22), toA);
    b!.sendPacket(frame(0x33), { address: LOCAL, port: s.local.b.rtpPort });
    await sleep(60);
    expect(latched.filter((e) => e.leg === 'a')).toEqual([{ leg: 'a', address: LOCAL, port: natted!.port, how: 'learned', sdpAddress: LOCAL, sdpPort: sdpA!.port }]);
    expect(latched.filter((e) => e.leg === 'b').map((e) => e.how)).toEqual(['sdp']);
    expect(b!.received.map((p) => p.payload[0])).toEqual([0x11]);
    expect(natted!.received.map((p) => p.payload[0])).toEqual([0x33]);
    expect(sdpA!.received).toHaveLength(0);
    const stats = await s.getStats();
    expect(stats.a.hijackDropped).toBe(1);
    expect(stats.a.remote).toEqual({ address: LOCAL, port: natted!.port });
  });

  it('sdp (strict) MUST drop media from any source but the SDP address, as before', async () => {
    const [sdpA, natted, b] = await peers(3);
    const { s, latched } = await session({ latching: { a: 'sdp' } });
    await s.setRemote('a', { address: LOCAL, port: sdpA!.port });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    natted!.sendPacket(frame(0x11), { address: LOCAL, port: s.local.a.rtpPort });
    await sleep(50);
    expect(b!.received).toHaveLength(0);
    expect(latched.filter((e) => e.leg === 'a')).toEqual([]);
    expect((await s.getStats()).a.hijackDropped).toBe(1);
  });

  it('MUST NOT latch onto a source whose packets carry a payload type the leg did not negotiate', async () => {
    const [sdpA, garbage, natted, b] = await peers(4);
    const { s, latched } = await session({});
    await s.setRemote('a', { address: LOCAL, port: sdpA!.port, payloadTypes: [{ pt: 0, name: 'PCMU' }] });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    const toA = { address: LOCAL, port: s.local.a.rtpPort };
    garbage!.sendPacket(frame(0x44), toA, { pt: 96 });
    await sleep(20);
    natted!.sendPacket(frame(0x11), toA);
    await sleep(50);
    expect(latched.filter((e) => e.leg === 'a').map((e) => e.port)).toEqual([natted!.port]);
    expect(b!.received.map((p) => p.payload[0])).toEqual([0x11]);
    expect((await s.getStats()).a.unknownPayloadTypeDropped).toBe(1);
  });

  it('MUST count RTCP from a source that has not latched yet as unlatched, not as a hijack', async () => {
    const [sdpA, b] = await peers(2);
    const early = dgram.createSocket('udp4');
    await new Promise<void>((r) => early.bind(block.next(), LOCAL, () => r()));
    cleanup.push(() => early.close());
    const { s } = await session({});
    await s.setRemote('a', { address: '127.0.0.2', port: sdpA!.port });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    const rr = Buffer.alloc(8);
    writeReceiverReport(rr, 0, 0x1234, []);
    early.send(rr, s.local.a.rtcpPort, LOCAL);
    await sleep(50);
    const stats = (await s.getStats()).a;
    expect({ hijack: stats.hijackDropped, unlatched: stats.unlatchedDropped }).toEqual({ hijack: 0, unlatched: 1 });
  });

  it('MUST latch RTCP on its own and send its reports to the port the leg sends RTCP from', async () => {
    const [sdpA, natted, b] = await peers(3);
    const rtcpSource = dgram.createSocket('udp4');
    await new Promise<void>((r) => rtcpSource.bind(block.next(), LOCAL, () => r()));
    const reports: Buffer[] = [];
    rtcpSource.on('message', (m) => reports.push(m));
    cleanup.push(() => rtcpSource.close());
    const { s } = await session({ rtcpIntervalMs: 100 });
    await s.setRemote('a', { address: LOCAL, port: sdpA!.port });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    natted!.sendPacket(frame(0x11), { address: LOCAL, port: s.local.a.rtpPort });
    const rr = Buffer.alloc(8);
    writeReceiverReport(rr, 0, 0x1234, []);
    rtcpSource.send(rr, s.local.a.rtcpPort, LOCAL);
    await until(() => reports.length >= 1, 'an RTCP report at A', 2000);
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports[0]![1]).toBe(201); // RR: nothing was sent to A yet
    expect(sdpA!.rtcpReceived).toHaveLength(0);
    expect((await s.getStats()).a.rtcpReceived).toBe(1);
  });

  it('watchSilence MUST report a leg whose media is all dropped as hijack once, while the other leg talks; never the talking leg', async () => {
    const [sdpA, wrongSource, b] = await peers(3);
    const { s, silent } = await session({ latching: { a: 'sdp' } });
    await s.setRemote('a', { address: LOCAL, port: sdpA!.port });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    await s.watchSilence(300);
    const toA = { address: LOCAL, port: s.local.a.rtpPort };
    const toB = { address: LOCAL, port: s.local.b.rtpPort };
    for (let i = 0; i < 40; i++) {
      wrongSource!.sendPacket(frame(0x11), toA);
      b!.sendPacket(frame(0x33), toB);
      await sleep(20);
    }
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatchObject({ leg: 'a', reason: 'hijack', sdp: { address: LOCAL, port: sdpA!.port }, refused: { address: LOCAL, port: wrongSource!.port } });
    expect(silent[0]!.dropped.hijack).toBeGreaterThan(0);
    expect(silent[0]!.silentForMs).toBeGreaterThanOrEqual(300);
    const totals = await plane.stats();
    expect(totals.silentLegs.hijack).toBeGreaterThanOrEqual(1);
  });

  it('watchSilence MUST say none-received for a leg that sends nothing, and report nothing when both are silent or after watchSilence(0)', async () => {
    const [a, b] = await peers(2);
    const { s, silent } = await session({});
    await s.setRemote('a', { address: LOCAL, port: a!.port });
    await s.setRemote('b', { address: LOCAL, port: b!.port });
    await s.watchSilence(200);
    await sleep(450); // both silent (e.g. both on hold): nothing to report
    expect(silent).toEqual([]);
    const toB = { address: LOCAL, port: s.local.b.rtpPort };
    for (let i = 0; i < 20; i++) {
      b!.sendPacket(frame(0x33), toB);
      await sleep(20);
    }
    expect(silent.map((e) => [e.leg, e.reason])).toEqual([['a', 'none-received']]);

    const other = await session({});
    const [c, d] = await peers(2);
    await other.s.setRemote('a', { address: LOCAL, port: c!.port });
    await other.s.setRemote('b', { address: LOCAL, port: d!.port });
    await other.s.watchSilence(200);
    await other.s.watchSilence(0);
    for (let i = 0; i < 20; i++) {
      d!.sendPacket(frame(0x33), { address: LOCAL, port: other.s.local.b.rtpPort });
      await sleep(20);
    }
    expect(other.silent).toEqual([]);
  });
});
