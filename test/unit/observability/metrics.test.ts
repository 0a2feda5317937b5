import { describe, expect, it } from 'vitest';
import { createMetrics, labelValue } from '../../../src/observability/metrics.js';
import type { EngineFigures, EventLogFigures, MediaFigures } from '../../../src/observability/metrics-types.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

const P = 'siprec_b2bua_';

function engineFigures(over: Partial<EngineFigures> = {}): EngineFigures {
  return {
    messagesReceived: 120,
    messagesSent: 118,
    malformedDropped: 7,
    badRequestsAnswered: 3,
    retransmissionsSent: 5,
    retransmissionsAbsorbed: 9,
    activeServerTransactions: 4,
    activeClientTransactions: 2,
    activeDialogs: 6,
    connectedApps: 1,
    natFlowRequests: 8,
    ...over,
  };
}

function mediaFigures(over: Partial<MediaFigures> = {}): MediaFigures {
  return {
    sessions: 3,
    sessionsOpened: 10,
    forksActive: 2,
    forksPaused: 1,
    rtpIn: 5000,
    rtpInBytes: 860000,
    rtpOut: 4900,
    rtpGenerated: 250,
    rtpForked: 4800,
    rtpForkedBytes: 825600,
    dropped: { malformed: 11, hijack: 12, unlatched: 13, foreignSsrc: 16, unknownPayloadType: 17, relayCodec: 18, rewrite: 14, forkCodec: 15 },
    withheld: { prompt: 40, forkPaused: 60 },
    forkBuffer: { sent: 700, overflowed: 31, discarded: 32 },
    rtcpIn: 21,
    rtcpOut: 22,
    sendErrors: 2,
    latches: { sdp: 30, learned: 31, relatched: 32 },
    silentLegs: { hijack: 33, 'payload-type': 34, 'foreign-ssrc': 0, malformed: 0, unlatched: 0, 'none-received': 35 },
    workers: 2,
    workersFailed: 1,
    socketIo: 'dgram',
    portsInUse: 8,
    portCapacity: 5000,
    workerHeapBytes: 12_345_678,
    ...over,
  };
}

describe('metrics registry', () => {
  it('exposes engine figures under Prometheus names: malformed SIP, messages, retransmissions, transactions, dialogs', async () => {
    const m = createMetrics({ engine: () => engineFigures() }, { defaultMetrics: false });
    const text = await m.scrape();
    const { types } = parsePrometheusText(text);
    expect(sampleValue(text, `${P}sip_malformed_total`, { action: 'dropped' })).toBe(7);
    expect(sampleValue(text, `${P}sip_malformed_total`, { action: 'answered' })).toBe(3);
    expect(types.get(`${P}sip_malformed_total`)).toBe('counter');
    expect(sampleValue(text, `${P}sip_messages_total`, { direction: 'in' })).toBe(120);
    expect(sampleValue(text, `${P}sip_messages_total`, { direction: 'out' })).toBe(118);
    expect(sampleValue(text, `${P}sip_retransmissions_total`, { kind: 'sent' })).toBe(5);
    expect(sampleValue(text, `${P}sip_retransmissions_total`, { kind: 'absorbed' })).toBe(9);
    expect(sampleValue(text, `${P}sip_transactions`, { role: 'server' })).toBe(4);
    expect(sampleValue(text, `${P}sip_transactions`, { role: 'client' })).toBe(2);
    expect(sampleValue(text, `${P}sip_dialogs`)).toBe(6);
    expect(types.get(`${P}sip_dialogs`)).toBe('gauge');
    expect(sampleValue(text, `${P}sip_connected_apps`)).toBe(1);
    expect(sampleValue(text, `${P}sip_nat_flow_requests_total`)).toBe(8);
  });

  it('reads the sources afresh at every scrape (counters follow the running totals)', async () => {
    let malformed = 1;
    const m = createMetrics({ engine: () => engineFigures({ malformedDropped: malformed }) }, { defaultMetrics: false });
    expect(sampleValue(await m.scrape(), `${P}sip_malformed_total`, { action: 'dropped' })).toBe(1);
    malformed = 42;
    expect(sampleValue(await m.scrape(), `${P}sip_malformed_total`, { action: 'dropped' })).toBe(42);
  });

  it('exposes media totals: RTP packets in/out/forked/dropped, drops and withheld packets by reason, sessions, forks, ports, workers', async () => {
    const m = createMetrics({ media: async () => mediaFigures() }, { defaultMetrics: false });
    const text = await m.scrape();
    const rtp = (direction: string) => sampleValue(text, `${P}rtp_packets_total`, { direction });
    expect([rtp('in'), rtp('out'), rtp('forked'), rtp('dropped')]).toEqual([5000, 4900, 4800, 11 + 12 + 13 + 16 + 17 + 18 + 14 + 15]);
    for (const [reason, v] of [['malformed', 11], ['hijack', 12], ['unlatched', 13], ['foreign_ssrc', 16], ['unknown_payload_type', 17], ['relay_codec', 18], ['rewrite', 14], ['fork_codec', 15]] as const) {
      expect(sampleValue(text, `${P}rtp_dropped_total`, { reason })).toBe(v);
    }
    expect(sampleValue(text, `${P}rtp_withheld_total`, { reason: 'prompt' })).toBe(40);
    expect(sampleValue(text, `${P}rtp_withheld_total`, { reason: 'fork_paused' })).toBe(60);
    for (const [outcome, v] of [['sent', 700], ['overflowed', 31], ['discarded', 32]] as const) {
      expect(sampleValue(text, `${P}rtp_fork_buffer_total`, { outcome })).toBe(v);
    }
    expect(sampleValue(text, `${P}rtp_bytes_total`, { direction: 'in' })).toBe(860000);
    expect(sampleValue(text, `${P}rtp_bytes_total`, { direction: 'forked' })).toBe(825600);
    expect(sampleValue(text, `${P}rtp_generated_packets_total`)).toBe(250);
    expect(sampleValue(text, `${P}rtcp_packets_total`, { direction: 'out' })).toBe(22);
    expect(sampleValue(text, `${P}rtp_send_errors_total`)).toBe(2);
    expect(sampleValue(text, `${P}media_sessions`)).toBe(3);
    expect(sampleValue(text, `${P}media_sessions_total`)).toBe(10);
    expect(sampleValue(text, `${P}media_forks`, { state: 'active' })).toBe(2);
    expect(sampleValue(text, `${P}media_forks`, { state: 'paused' })).toBe(1);
    expect(sampleValue(text, `${P}media_ports_in_use`)).toBe(8);
    expect(sampleValue(text, `${P}media_ports_capacity`)).toBe(5000);
    expect(sampleValue(text, `${P}media_workers`, { state: 'running' })).toBe(1);
    expect(sampleValue(text, `${P}media_workers`, { state: 'failed' })).toBe(1);
    expect(sampleValue(text, `${P}media_worker_heap_bytes`)).toBe(12_345_678);
    expect(sampleValue(text, `${P}media_socket_io`, { path: 'dgram' })).toBe(1);
    expect(text).not.toContain(`${P}media_socket_io{path="native"}`);
  });

  it('counts what the call layer reports through CallMetrics: calls by direction, endings, recordings, failovers, announcements by kind', async () => {
    const m = createMetrics({}, { defaultMetrics: false });
    const c = m.calls;
    c.callStarted('inbound-pstn');
    c.callStarted('inbound-pstn');
    c.callStarted('outbound-pstn');
    c.callEnded('inbound-pstn', 'bye-caller');
    c.callRejected('not-provisioned');
    c.recordingStarted();
    c.recordingStarted();
    c.recordingPaused();
    c.recordingResumed();
    c.recordingStopped('call-ended');
    c.recordingFailed('srs-unavailable');
    c.recordingFailed('srs-unavailable');
    c.recordingFailed('srs-lost');
    c.srsFailover();
    c.announcementPlayed('compliance');
    c.announcementPlayed('compliance');
    c.announcementPlayed('pause');
    const text = await m.scrape();
    expect(sampleValue(text, `${P}calls_total`, { direction: 'inbound-pstn' })).toBe(2);
    expect(sampleValue(text, `${P}calls_total`, { direction: 'outbound-pstn' })).toBe(1);
    expect(sampleValue(text, `${P}calls_ended_total`, { direction: 'inbound-pstn', reason: 'bye-caller' })).toBe(1);
    expect(sampleValue(text, `${P}calls_rejected_total`, { reason: 'not-provisioned' })).toBe(1);
    const events = (event: string) => sampleValue(text, `${P}recording_events_total`, { event });
    expect(['started', 'paused', 'resumed', 'stopped', 'failed'].map(events)).toEqual([2, 1, 1, 1, 3]);
    expect(sampleValue(text, `${P}recordings_stopped_total`, { reason: 'call-ended' })).toBe(1);
    expect(sampleValue(text, `${P}recording_failures_total`, { reason: 'srs-unavailable' })).toBe(2);
    expect(sampleValue(text, `${P}recording_failures_total`, { reason: 'srs-lost' })).toBe(1);
    expect(sampleValue(text, `${P}srs_failovers_total`)).toBe(1);
    expect(sampleValue(text, `${P}announcements_played_total`, { kind: 'compliance' })).toBe(2);
    expect(sampleValue(text, `${P}announcements_played_total`, { kind: 'pause' })).toBe(1);
  });

  it('reports zero for every recording event before the first one (so rate() works from the start)', async () => {
    const text = await createMetrics({}, { defaultMetrics: false }).scrape();
    for (const event of ['started', 'paused', 'resumed', 'stopped', 'failed']) {
      expect(sampleValue(text, `${P}recording_events_total`, { event })).toBe(0);
    }
    expect(sampleValue(text, `${P}srs_failovers_total`)).toBe(0);
  });

  it('reads active calls and recordings by state from the call-layer source, also when set after construction', async () => {
    const m = createMetrics({}, { defaultMetrics: false });
    expect(sampleValue(await m.scrape(), `${P}active_calls`)).toBeUndefined();
    m.setCallStatsSource(() => ({ activeCalls: 9, recordingsActive: 5, recordingsPaused: 2, recordingsFailed: 1 }));
    const text = await m.scrape();
    expect(sampleValue(text, `${P}active_calls`)).toBe(9);
    expect(sampleValue(text, `${P}recordings`, { state: 'active' })).toBe(5);
    expect(sampleValue(text, `${P}recordings`, { state: 'paused' })).toBe(2);
    expect(sampleValue(text, `${P}recordings`, { state: 'failed' })).toBe(1);
  });

  it('bounds free-text labels: unsafe characters replaced, at most maxLabelValues distinct values then "other"', async () => {
    const m = createMetrics({}, { defaultMetrics: false, maxLabelValues: 3 });
    for (const reason of ['A B', 'b', 'c', 'd', 'e']) m.calls.recordingFailed(reason);
    const text = await m.scrape();
    const reasons = parsePrometheusText(text)
      .samples.filter((s) => s.name === `${P}recording_failures_total`)
      .map((s) => [s.labels.reason, s.value]);
    expect(reasons).toEqual([['a_b', 1], ['b', 1], ['c', 1], ['other', 2]]);
    expect(labelValue('')).toBe('unknown');
    expect(labelValue('x'.repeat(100))).toHaveLength(64);
  });

  it('leaves out the metrics of an absent source, and counts a failing source without failing the scrape', async () => {
    const m = createMetrics(
      {
        media: () => Promise.reject(new Error('worker gone')),
        calls: () => {
          throw new Error('boom');
        },
      },
      { defaultMetrics: false },
    );
    const text = await m.scrape();
    expect(sampleValue(text, `${P}sip_malformed_total`, { action: 'dropped' })).toBeUndefined();
    expect(sampleValue(text, `${P}sip_dialogs`)).toBeUndefined();
    expect(sampleValue(text, `${P}rtp_packets_total`, { direction: 'in' })).toBeUndefined();
    expect(sampleValue(text, `${P}media_sessions`)).toBeUndefined();
    expect(sampleValue(text, `${P}active_calls`)).toBeUndefined();
    expect(sampleValue(text, `${P}metrics_source_errors_total`, { source: 'media' })).toBe(1);
    expect(sampleValue(text, `${P}metrics_source_errors_total`, { source: 'calls' })).toBe(1);
  });

  it('exposes the recording event log outcomes by sink', async () => {
    const figures: EventLogFigures = {
      recorded: 10,
      fileWritten: 10,
      fileDropped: 0,
      webhookDelivered: 7,
      webhookDropped: 2,
      webhookFailed: 1,
      webhookRetries: 4,
      webhookQueued: 3,
    };
    const text = await createMetrics({ eventLog: () => figures }, { defaultMetrics: false }).scrape();
    expect(sampleValue(text, `${P}recording_event_log_total`, { sink: 'file', outcome: 'written' })).toBe(10);
    expect(sampleValue(text, `${P}recording_event_log_total`, { sink: 'webhook', outcome: 'dropped' })).toBe(2);
    expect(sampleValue(text, `${P}recording_event_log_total`, { sink: 'webhook', outcome: 'retried' })).toBe(4);
    expect(sampleValue(text, `${P}recording_event_log_queue_length`)).toBe(3);
  });

  it('includes process metrics and event-loop lag percentiles, in a private registry (two instances never clash)', async () => {
    const a = createMetrics();
    const b = createMetrics();
    try {
      const text = await a.scrape();
      expect(sampleValue(text, `${P}nodejs_eventloop_lag_p99_seconds`)).toBeGreaterThanOrEqual(0);
      expect(sampleValue(text, `${P}nodejs_eventloop_lag_seconds`)).toBeGreaterThanOrEqual(0);
      expect(sampleValue(text, `${P}process_cpu_seconds_total`)).toBeGreaterThan(0);
      expect(await b.scrape()).toContain(`${P}nodejs_eventloop_lag_p99_seconds`);
    } finally {
      a.close();
      b.close();
    }
  });

  it('names every metric with the prefix and a HELP text; counters end in _total', async () => {
    const m = createMetrics({ engine: () => engineFigures(), media: async () => mediaFigures() }, { defaultMetrics: false });
    m.setCallStatsSource(() => ({ activeCalls: 0, recordingsActive: 0, recordingsPaused: 0 }));
    const { types, help } = parsePrometheusText(await m.scrape());
    expect(types.size).toBeGreaterThan(25);
    for (const [name, type] of types) {
      expect(name.startsWith(P)).toBe(true);
      expect(help.get(name)?.length ?? 0).toBeGreaterThan(10);
      if (type === 'counter') expect(name.endsWith('_total')).toBe(true);
    }
  });

  it('ignores CallMetrics calls after close()', async () => {
    const m = createMetrics({}, { defaultMetrics: false });
    m.close();
    expect(() => m.calls.callStarted('internal')).not.toThrow();
    m.close();
  });
});
