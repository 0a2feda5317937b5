import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApplication, type Application } from '../../../src/app/application.js';
import { buildConfig } from '../../../src/config/load-config.js';
import { writeRtpHeader } from '../../../src/media/rtp/rtp-header.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { sampleValue } from '../../support/prometheus-text.js';
import { sleep } from '../../support/wait.js';

// Ports 35000-35299 belong to this file (observability range 35000-35999).
const SIP_PORT = 35060;
const TOKEN = 'observability-test-token-0123456789';
const P = 'siprec_b2bua_';

function sendUdp(sock: dgram.Socket, data: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(data, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

describe('observability through the running application', () => {
  let app: Application;
  let dir: string;
  let peer: dgram.Socket;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'obs-'));
    const config = buildConfig({
      log: { level: 'silent' },
      sip: { contacts: [`sip:127.0.0.1:${SIP_PORT};transport=udp,tcp`] },
      drachtio: { port: 35022 },
      admin: { port: 0, token: TOKEN },
      // two media workers, as on a 2-core machine by default (media.workers = cores)
      media: { portMin: 35200, portMax: 35299, workers: 2 },
      store: { sqlitePath: join(dir, 'settings.db') },
      srs: { enabled: false },
      events: { file: join(dir, 'events', 'recording-events.jsonl') },
    });
    app = await startApplication(config, silentLogger);
    peer = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(35100, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    peer?.close();
    await app?.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${app.adminUrl}/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    return res.text();
  };

  it('refuses /v1/metrics without the admin bearer token', async () => {
    const res = await fetch(`${app.adminUrl}/v1/metrics`);
    expect(res.status).toBe(401);
  });

  it('exposes the embedded engine figures: the connected app and malformed SIP dropped', async () => {
    const before = await scrape();
    expect(sampleValue(before, `${P}sip_connected_apps`)).toBe(1);
    const dropped0 = sampleValue(before, `${P}sip_malformed_total`, { action: 'dropped' })!;
    for (let i = 0; i < 3; i++) await sendUdp(peer, Buffer.from(`\x00\x01 not sip at all ${i}\r\n\r\n`), SIP_PORT);
    await sleep(100);
    const after = await scrape();
    expect(sampleValue(after, `${P}sip_malformed_total`, { action: 'dropped' })).toBe(dropped0 + 3);
    expect(sampleValue(after, `${P}sip_messages_total`, { direction: 'in' })).toBeGreaterThanOrEqual(3);
  });

  it('exposes media figures from the worker: sessions, RTP packets in/out and drops by reason', async () => {
    const session = await app.media.createSession({ rtcpIntervalMs: 0 });
    try {
      await session.setRemote('a', { address: '127.0.0.1', port: 35100 });
      await session.setRemote('b', { address: '127.0.0.1', port: 35102 });
      const packet = Buffer.alloc(172, 0xff);
      for (let seq = 1; seq <= 20; seq++) {
        writeRtpHeader(packet, { payloadType: 0, seq, timestamp: seq * 160, ssrc: 0xabcdef });
        await sendUdp(peer, packet, session.local.a.rtpPort);
      }
      await sendUdp(peer, Buffer.from([0x80, 0x00]), session.local.a.rtpPort); // malformed
      await sleep(150);
      const text = await scrape();
      expect(sampleValue(text, `${P}media_sessions`)).toBe(1);
      expect(sampleValue(text, `${P}media_workers`, { state: 'running' })).toBe(2);
      // each worker answers with its own V8 heap: a few MB, not the main thread's
      const workerHeap = sampleValue(text, `${P}media_worker_heap_bytes`) ?? 0;
      expect(workerHeap).toBeGreaterThan(2 * 2 ** 20);
      expect(workerHeap).toBeLessThan(2 * 200 * 2 ** 20);
      // the test command builds the batched UDP addon: auto takes it
      expect(sampleValue(text, `${P}media_socket_io`, { path: 'native' })).toBe(1);
      expect(sampleValue(text, `${P}rtp_packets_total`, { direction: 'in' })).toBe(20);
      expect(sampleValue(text, `${P}rtp_packets_total`, { direction: 'out' })).toBe(20);
      expect(sampleValue(text, `${P}rtp_dropped_total`, { reason: 'malformed' })).toBe(1);
      expect(sampleValue(text, `${P}rtp_packets_total`, { direction: 'dropped' })).toBe(1);
      expect(sampleValue(text, `${P}media_ports_in_use`)).toBe(2);
    } finally {
      await session.close();
    }
    const closed = await scrape();
    expect(sampleValue(closed, `${P}media_sessions`)).toBe(0);
    expect(sampleValue(closed, `${P}rtp_packets_total`, { direction: 'in' })).toBe(20); // counters outlive the session
  });

  it('exposes the process figures (event-loop lag) and what the call layer reports through app.metrics and app.recordingEvents', async () => {
    app.metrics.setCallStatsSource(() => ({ activeCalls: 2, recordingsActive: 1, recordingsPaused: 1 }));
    app.metrics.calls.callStarted('inbound-pstn');
    app.metrics.calls.announcementPlayed('compliance');
    app.recordingEvents.record({ event: 'started', callId: 'call-obs', siprecSessionId: 'rec-obs' });
    const text = await scrape();
    expect(sampleValue(text, `${P}nodejs_eventloop_lag_p99_seconds`)).toBeGreaterThanOrEqual(0);
    expect(sampleValue(text, `${P}active_calls`)).toBe(2);
    expect(sampleValue(text, `${P}recordings`, { state: 'paused' })).toBe(1);
    expect(sampleValue(text, `${P}calls_total`, { direction: 'inbound-pstn' })).toBe(1);
    expect(sampleValue(text, `${P}announcements_played_total`, { kind: 'compliance' })).toBe(1);
    await sleep(50);
    const lines = readFileSync(join(dir, 'events', 'recording-events.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ event: 'started', callId: 'call-obs', siprecSessionId: 'rec-obs' });
    expect(sampleValue(await scrape(), `${P}recording_event_log_total`, { sink: 'file', outcome: 'written' })).toBe(1);
  });
});
