/**
 * The metrics registry (Prometheus text exposition format, served by the admin API at
 * GET /v1/metrics). Every metric is listed in docs/observability.md.
 *
 *   - a private prom-client Registry (never the global one), so tests and embedded uses can hold
 *     several without name clashes;
 *   - Node.js process metrics and event-loop lag (collectDefaultMetrics with
 *     eventLoopMonitoringPrecision: monitorEventLoopDelay percentiles as gauges);
 *   - counters the call layer increments through CallMetrics (it never imports prom-client);
 *   - figures read at scrape time from injected sources (engine, media plane, call layer, event
 *     log, in-process reference recording server): scrape() reads every source once, then renders, so one scrape costs one media request
 *     per worker. Counters read from a source are exposed as counters (their value is the source's
 *     running total). A source that throws is counted (metrics_source_errors_total) and its metrics
 *     are left out of that scrape.
 */
import { readdir } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger.js';
import type {
  CallDirectionLabel,
  CallMetrics,
  CallStats,
  CallStatsSource,
  EngineFigures,
  EventLogFigures,
  MediaFigures,
  MetricsSources,
  SettingsStoreFigures,
  LiveCallRegistryFigures,
  SrsFigures,
} from './metrics-types.js';

export interface MetricsOptions {
  /** Prefix of every metric name. Default 'siprec_b2bua_'. */
  prefix?: string;
  /** Node.js process and event-loop metrics (prom-client default metrics). Default true. */
  defaultMetrics?: boolean;
  /** Resolution of the event-loop delay histogram, ms. Default 10. */
  eventLoopMonitoringPrecision?: number;
  /** Distinct values a free-text label (reason, kind) may take per metric before 'other'. Default 64. */
  maxLabelValues?: number;
  logger?: Logger;
}

export const METRICS_DEFAULTS = Object.freeze({ prefix: 'siprec_b2bua_', eventLoopMonitoringPrecision: 10, maxLabelValues: 64 });

export interface Metrics {
  /** The private registry (tests may read single metrics from it). */
  readonly registry: Registry;
  /** What the call layer increments. */
  readonly calls: CallMetrics;
  /** The Content-Type of scrape() output. */
  readonly contentType: string;
  /** Set (or replace) the call layer's figures after construction. */
  setCallStatsSource(source: CallStatsSource | undefined): void;
  /** Read every source once and render the registry in the Prometheus text format. */
  scrape(): Promise<string>;
  /** Drop every metric (idempotent). Later CallMetrics calls are ignored. */
  close(): void;
}

interface Snapshot {
  engine: EngineFigures | undefined;
  media: MediaFigures | undefined;
  calls: CallStats | undefined;
  eventLog: EventLogFigures | undefined;
  srs: SrsFigures | undefined;
  settingsStore: SettingsStoreFigures | undefined;
  liveCallRegistry: LiveCallRegistryFigures | undefined;
}

const LABEL_UNSAFE = /[^a-z0-9_.:-]+/g;

/** A free-text label value made safe and short: lower case, [a-z0-9_.:-], at most 64 characters, 'unknown' when empty. */
export function labelValue(text: unknown): string {
  const s = String(text ?? '')
    .toLowerCase()
    .replace(LABEL_UNSAFE, '_')
    .slice(0, 64);
  return s === '' || s === '_' ? 'unknown' : s;
}

export function createMetrics(sources: MetricsSources = {}, options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? METRICS_DEFAULTS.prefix;
  const maxLabelValues = options.maxLabelValues ?? METRICS_DEFAULTS.maxLabelValues;
  const logger = options.logger;
  const registry = new Registry();
  const registers = [registry];
  const n = (name: string): string => `${prefix}${name}`;
  let delayMonitor: IntervalHistogram | undefined;
  if (options.defaultMetrics ?? true) {
    const precisionMs = options.eventLoopMonitoringPrecision ?? METRICS_DEFAULTS.eventLoopMonitoringPrecision;
    collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: precisionMs });
    // prom-client counts open descriptors with a synchronous readdir of /proc/self/fd at every
    // scrape: with thousands of RTP sockets that stalled the event loop for milliseconds each time.
    // The same gauge, counted off the loop (the readdir runs in libuv's thread pool).
    if (registry.getSingleMetric(n('process_open_fds')) !== undefined) {
      registry.removeSingleMetric(n('process_open_fds'));
      new Gauge({
        name: n('process_open_fds'),
        help: 'Number of open file descriptors (sockets included).',
        registers,
        async collect() {
          try {
            this.set((await readdir('/proc/self/fd')).length);
          } catch {
            // not Linux: the gauge stays unset
          }
        },
      });
    }
    // monitorEventLoopDelay records the whole time between two runs of its timer, the precision
    // included: prom-client's lag percentiles read at least the precision (10 ms) on an idle loop.
    // This gauge is the part beyond it, what a timer or an incoming message waited.
    const monitor = monitorEventLoopDelay({ resolution: precisionMs });
    monitor.enable();
    delayMonitor = monitor;
    const precisionNs = precisionMs * 1e6;
    new Gauge({
      name: n('eventloop_delay_seconds'),
      help: `Event-loop delay beyond the ${precisionMs} ms sampling timer since the previous scrape, by quantile (0.5, 0.99, 1 = max).`,
      labelNames: ['quantile'],
      registers,
      collect() {
        const at = (ns: number): number => (monitor.count > 0 ? Math.max(0, ns - precisionNs) / 1e9 : 0);
        this.set({ quantile: '0.5' }, at(monitor.percentile(50)));
        this.set({ quantile: '0.99' }, at(monitor.percentile(99)));
        this.set({ quantile: '1' }, at(monitor.max));
        monitor.reset();
      },
    });
  }

  let callSource = sources.calls;
  let snap: Snapshot = { engine: undefined, media: undefined, calls: undefined, eventLog: undefined, srs: undefined, settingsStore: undefined, liveCallRegistry: undefined };
  let closed = false;

  // ------------------------------------------------------------------ bounded free-text labels
  const seen = new Map<string, Set<string>>();
  const bounded = (metric: string, text: unknown): string => {
    const v = labelValue(text);
    let set = seen.get(metric);
    if (set === undefined) seen.set(metric, (set = new Set()));
    if (set.has(v)) return v;
    if (set.size >= maxLabelValues) return 'other';
    set.add(v);
    return v;
  };
  const direction = (d: CallDirectionLabel): string => bounded('direction', d);

  // ------------------------------------------------------------------ counters the call layer increments
  const callsTotal = new Counter({ name: n('calls_total'), help: 'Calls admitted, by direction (rate() of it is the call rate).', labelNames: ['direction'], registers });
  const callsEnded = new Counter({ name: n('calls_ended_total'), help: 'Admitted calls that ended, by direction and reason.', labelNames: ['direction', 'reason'], registers });
  const callsRejected = new Counter({ name: n('calls_rejected_total'), help: 'INVITEs refused before a call existed, by reason.', labelNames: ['reason'], registers });
  const requestsRefused = new Counter({ name: n('sip_requests_refused_total'), help: 'Requests refused by access control (deny list, allow list, rate limit), by method, reason and action (reject = answered, drop = silence).', labelNames: ['method', 'reason', 'action'], registers });
  const balancerIgnored = new Counter({ name: n('balancer_source_ignored_total'), help: 'X-Balancer-Source headers not believed (from a sender that is not a trusted balancer, or malformed), by reason.', labelNames: ['reason'], registers });
  const recordingEvents = new Counter({ name: n('recording_events_total'), help: 'Recording lifecycle events: started, paused, resumed, stopped, failed.', labelNames: ['event'], registers });
  const recordingsStopped = new Counter({ name: n('recordings_stopped_total'), help: 'Recordings stopped, by reason.', labelNames: ['reason'], registers });
  const recordingFailures = new Counter({ name: n('recording_failures_total'), help: 'Recordings that failed (at start or mid-call), by reason.', labelNames: ['reason'], registers });
  const srsFailovers = new Counter({ name: n('srs_failovers_total'), help: 'Recording sessions moved to the next recording server.', registers });
  const announcements = new Counter({ name: n('announcements_played_total'), help: 'Announcements, tones and beeps played, by kind.', labelNames: ['kind'], registers });
  for (const event of ['started', 'paused', 'resumed', 'stopped', 'failed']) recordingEvents.inc({ event }, 0);

  const guard = (fn: () => void): void => {
    if (closed) return;
    try {
      fn();
    } catch (err) {
      logger?.warn({ err }, 'metrics: counter update failed');
    }
  };
  const calls: CallMetrics = {
    callStarted: (d) => guard(() => callsTotal.inc({ direction: direction(d) })),
    callEnded: (d, reason) => guard(() => callsEnded.inc({ direction: direction(d), reason: bounded('calls_ended', reason) })),
    callRejected: (reason) => guard(() => callsRejected.inc({ reason: bounded('calls_rejected', reason) })),
    requestRefused: (method, reason, action) =>
      guard(() => requestsRefused.inc({ method: bounded('refused_method', method), reason: bounded('refused_reason', reason), action: action === 'drop' ? 'drop' : 'reject' })),
    balancerSourceIgnored: (reason) => guard(() => balancerIgnored.inc({ reason: reason === 'malformed' ? 'malformed' : 'untrusted-sender' })),
    recordingStarted: () => guard(() => recordingEvents.inc({ event: 'started' })),
    recordingPaused: () => guard(() => recordingEvents.inc({ event: 'paused' })),
    recordingResumed: () => guard(() => recordingEvents.inc({ event: 'resumed' })),
    recordingStopped: (reason) =>
      guard(() => {
        recordingEvents.inc({ event: 'stopped' });
        recordingsStopped.inc({ reason: bounded('recordings_stopped', reason) });
      }),
    recordingFailed: (reason) =>
      guard(() => {
        recordingEvents.inc({ event: 'failed' });
        recordingFailures.inc({ reason: bounded('recording_failures', reason) });
      }),
    srsFailover: () => guard(() => srsFailovers.inc()),
    announcementPlayed: (kind) => guard(() => announcements.inc({ kind: bounded('announcements', kind) })),
  };

  // ------------------------------------------------------------------ figures read at scrape time
  type Pairs = Array<[Record<string, string>, number]>;
  /** Refills a metric from the snapshot at scrape time; a source that is absent leaves an unlabelled metric out. */
  const refill = (m: Gauge | Counter, labelNames: string[], values: Pairs | undefined, put: (labels: Record<string, string>, v: number) => void): void => {
    m.reset();
    if (values === undefined) {
      if (labelNames.length === 0) m.remove({});
      return;
    }
    for (const [labels, value] of values) put(labels, value);
  };
  /** A gauge whose values come from the snapshot; `read` returns [labels, value] pairs or undefined (source absent). */
  const gauge = (name: string, help: string, labelNames: string[], read: (s: Snapshot) => Pairs | undefined): void => {
    new Gauge({
      name: n(name),
      help,
      labelNames,
      registers,
      collect() {
        refill(this, labelNames, read(snap), (labels, v) => this.set(labels, v));
      },
    });
  };
  /** A counter whose value is a source's running total. */
  const total = (name: string, help: string, labelNames: string[], read: (s: Snapshot) => Pairs | undefined): void => {
    new Counter({
      name: n(name),
      help,
      labelNames,
      registers,
      collect() {
        refill(this, labelNames, read(snap), (labels, v) => this.inc(labels, Math.max(0, v)));
      },
    });
  };
  const one = (v: number | undefined): Pairs | undefined => (v === undefined ? undefined : [[{}, v]]);

  // call layer
  gauge('active_calls', 'Calls admitted and not yet ended.', [], (s) => one(s.calls?.activeCalls));
  gauge('recordings', 'Recordings of calls in progress, by state (active, paused, failed).', ['state'], (s) =>
    s.calls && [
      [{ state: 'active' }, s.calls.recordingsActive],
      [{ state: 'paused' }, s.calls.recordingsPaused],
      [{ state: 'failed' }, s.calls.recordingsFailed ?? 0],
    ],
  );

  // SIP engine
  total('sip_messages_total', 'SIP messages received and sent by the embedded engine.', ['direction'], (s) =>
    s.engine && [
      [{ direction: 'in' }, s.engine.messagesReceived],
      [{ direction: 'out' }, s.engine.messagesSent],
    ],
  );
  total('sip_malformed_total', 'Malformed or oversized SIP messages received by the embedded engine: answered 400/513 (action=answered) or dropped (action=dropped).', ['action'], (s) =>
    s.engine && [
      [{ action: 'dropped' }, s.engine.malformedDropped],
      [{ action: 'answered' }, s.engine.badRequestsAnswered],
    ],
  );
  total('sip_retransmissions_total', 'SIP retransmissions sent (kind=sent) and duplicates absorbed (kind=absorbed).', ['kind'], (s) =>
    s.engine && [
      [{ kind: 'sent' }, s.engine.retransmissionsSent],
      [{ kind: 'absorbed' }, s.engine.retransmissionsAbsorbed],
    ],
  );
  gauge('sip_transactions', 'Active SIP transactions, by role.', ['role'], (s) =>
    s.engine && [
      [{ role: 'server' }, s.engine.activeServerTransactions],
      [{ role: 'client' }, s.engine.activeClientTransactions],
    ],
  );
  total(
    'sip_nat_flow_requests_total',
    "In-dialog requests the embedded engine sent to a peer's flow (its source address and port, or its connection) instead of the Contact it wrote (NAT traversal, sip.natContacts).",
    [],
    (s) => one(s.engine?.natFlowRequests),
  );
  gauge('sip_connections', 'TCP/TLS connections the embedded engine has open (inbound and outbound).', [], (s) => one(s.engine?.connectionsOpen));
  gauge('sip_connections_max', 'The cap on TCP/TLS connections in force (sip.maxConnections, or the file-descriptor budget).', [], (s) => one(s.engine?.maxConnections));
  total('sip_connections_refused_total', 'TCP/TLS connections closed at accept: over the per-source cap (reason=per-source) or the global cap (reason=global).', ['reason'], (s) =>
    s.engine?.connectionsOpen === undefined ? undefined : [
      [{ reason: 'per-source' }, s.engine.connectionsRefusedPerSource ?? 0],
      [{ reason: 'global' }, s.engine.connectionsRefusedGlobal ?? 0],
    ],
  );
  total('sip_connections_closed_total', 'TCP/TLS connections the engine closed: idle without dialog or transaction (reason=idle), message not complete by the deadline (reason=slow).', ['reason'], (s) =>
    s.engine?.connectionsOpen === undefined ? undefined : [
      [{ reason: 'idle' }, s.engine.connectionsClosedIdle ?? 0],
      [{ reason: 'slow' }, s.engine.connectionsClosedSlow ?? 0],
    ],
  );
  gauge('sip_dialogs', 'Active SIP dialogs in the embedded engine.', [], (s) => one(s.engine?.activeDialogs));
  gauge('sip_connected_apps', 'Applications connected to the embedded engine.', [], (s) => one(s.engine?.connectedApps));

  // media plane
  total('rtp_packets_total', 'RTP packets: in (accepted from legs), out (sent to legs), forked (sent to recording servers), dropped (faults, see rtp_dropped_total).', ['direction'], (s) => {
    const m = s.media;
    if (m === undefined) return undefined;
    const d = m.dropped;
    return [
      [{ direction: 'in' }, m.rtpIn],
      [{ direction: 'out' }, m.rtpOut],
      [{ direction: 'forked' }, m.rtpForked],
      [{ direction: 'dropped' }, d.malformed + d.hijack + d.unlatched + d.foreignSsrc + d.unknownPayloadType + d.relayCodec + d.rewrite + d.forkCodec],
    ];
  });
  total('rtp_bytes_total', 'RTP bytes accepted from legs (in) and sent to recording servers (forked).', ['direction'], (s) =>
    s.media && [
      [{ direction: 'in' }, s.media.rtpInBytes],
      [{ direction: 'forked' }, s.media.rtpForkedBytes],
    ],
  );
  total('rtp_generated_packets_total', 'Prompt and tone frames generated towards legs (included in rtp_packets_total{direction="out"}).', [], (s) => one(s.media?.rtpGenerated));
  total('rtp_dropped_total', 'RTP/RTCP packets dropped, by reason: malformed, hijack (wrong source), unlatched (before SDP), foreign_ssrc (not the locked SSRC), unknown_payload_type (not negotiated), relay_codec (a codec the receiving leg did not negotiate), rewrite (duplicate/late), fork_codec.', ['reason'], (s) =>
    s.media && [
      [{ reason: 'malformed' }, s.media.dropped.malformed],
      [{ reason: 'hijack' }, s.media.dropped.hijack],
      [{ reason: 'unlatched' }, s.media.dropped.unlatched],
      [{ reason: 'foreign_ssrc' }, s.media.dropped.foreignSsrc],
      [{ reason: 'unknown_payload_type' }, s.media.dropped.unknownPayloadType],
      [{ reason: 'relay_codec' }, s.media.dropped.relayCodec],
      [{ reason: 'rewrite' }, s.media.dropped.rewrite],
      [{ reason: 'fork_codec' }, s.media.dropped.forkCodec],
    ],
  );
  total('rtp_latches_total', 'RTP sources latched by legs, by how: sdp (from the SDP address), learned (another source: NAT), relatched (the same stream from a new source after silence: NAT rebinding).', ['how'], (s) =>
    s.media && [
      [{ how: 'sdp' }, s.media.latches.sdp],
      [{ how: 'learned' }, s.media.latches.learned],
      [{ how: 'relatched' }, s.media.latches.relatched],
    ],
  );
  total('media_silent_legs_total', 'Answered legs that delivered no accepted RTP for media.silenceAlarmSeconds while the other leg did, by reason: hijack, payload_type, foreign_ssrc, malformed, unlatched, none_received.', ['reason'], (s) =>
    s.media && (Object.entries(s.media.silentLegs) as [string, number][]).map(([reason, n]) => [{ reason: reason.replace(/-/g, '_') }, n]),
  );
  total('rtp_withheld_total', 'RTP packets deliberately not passed on: prompt (a prompt replaced the relay), fork_paused (recording paused).', ['reason'], (s) =>
    s.media && [
      [{ reason: 'prompt' }, s.media.withheld.prompt],
      [{ reason: 'fork_paused' }, s.media.withheld.forkPaused],
    ],
  );
  total('rtp_fork_buffer_total', 'RTP packets of the forks\' start buffers (media.forkBufferMs, the audio between the answer and the recording server\'s answer): sent (at the fork\'s start), overflowed (lost: the recording server answered later than the buffer holds), discarded (the fork stopped before it started).', ['outcome'], (s) =>
    s.media?.forkBuffer && [
      [{ outcome: 'sent' }, s.media.forkBuffer.sent],
      [{ outcome: 'overflowed' }, s.media.forkBuffer.overflowed],
      [{ outcome: 'discarded' }, s.media.forkBuffer.discarded],
    ],
  );
  total('rtcp_packets_total', 'RTCP packets received from and sent to legs.', ['direction'], (s) =>
    s.media && [
      [{ direction: 'in' }, s.media.rtcpIn],
      [{ direction: 'out' }, s.media.rtcpOut],
    ],
  );
  total('rtp_send_errors_total', 'RTP/RTCP sends the operating system refused.', [], (s) => one(s.media?.sendErrors));
  gauge('media_sessions', 'Media sessions open (one per anchored call).', [], (s) => one(s.media?.sessions));
  total('media_sessions_total', 'Media sessions opened.', [], (s) => one(s.media?.sessionsOpened));
  gauge('media_forks', 'Recording forks by state (active, paused).', ['state'], (s) =>
    s.media && [
      [{ state: 'active' }, s.media.forksActive],
      [{ state: 'paused' }, s.media.forksPaused],
    ],
  );
  gauge('media_ports_in_use', 'RTP/RTCP port pairs in use.', [], (s) => one(s.media?.portsInUse));
  gauge('media_ports_capacity', 'RTP/RTCP port pairs in the configured range.', [], (s) => one(s.media?.portCapacity));
  gauge('media_workers', 'Media worker threads, by state (running, failed).', ['state'], (s) =>
    s.media && [
      [{ state: 'running' }, s.media.workers - s.media.workersFailed],
      [{ state: 'failed' }, s.media.workersFailed],
    ],
  );
  gauge(
    'media_worker_heap_bytes',
    "V8 heap of the media worker threads (total: live objects and headroom), summed; the main thread's is nodejs_heap_size_total_bytes. Absent without worker threads.",
    [],
    (s) => one(s.media?.workerHeapBytes),
  );
  gauge('media_socket_io', "The media workers' socket I/O: 1 for the path in use (native: the batched socket I/O addon, io_uring or recvmmsg/sendmmsg; dgram: node:dgram).", ['path'], (s) =>
    s.media?.socketIo === undefined ? undefined : [[{ path: s.media.socketIo }, 1]],
  );

  // recording event log
  total('recording_event_log_total', 'Recording event log entries, by sink (file, webhook) and outcome (written, delivered, dropped, failed, retried).', ['sink', 'outcome'], (s) =>
    s.eventLog && [
      [{ sink: 'file', outcome: 'written' }, s.eventLog.fileWritten],
      [{ sink: 'file', outcome: 'dropped' }, s.eventLog.fileDropped],
      [{ sink: 'webhook', outcome: 'delivered' }, s.eventLog.webhookDelivered],
      [{ sink: 'webhook', outcome: 'dropped' }, s.eventLog.webhookDropped],
      [{ sink: 'webhook', outcome: 'failed' }, s.eventLog.webhookFailed],
      [{ sink: 'webhook', outcome: 'retried' }, s.eventLog.webhookRetries],
    ],
  );
  gauge('recording_event_log_queue_length', 'Recording events waiting for the webhook.', [], (s) => one(s.eventLog?.webhookQueued));

  // in-process reference recording server
  gauge('srs_recordings', 'Recordings the in-process reference recording server is receiving now.', [], (s) => one(s.srs?.recordingsActive));
  total('srs_recordings_recovered_total', 'Recordings a crash left open that the reference recording server found at start, by outcome: repaired (WAV fixed, summary written), failed (logged at error, tried again at the next start).', ['outcome'], (s) =>
    s.srs && [
      [{ outcome: 'repaired' }, s.srs.recordingsRecovered],
      [{ outcome: 'failed' }, s.srs.recordingRepairsFailed],
    ],
  );
  total(
    'srs_recordings_failed_total',
    'Recordings the reference recording server failed or refused because of its disk, by reason: disk-full (ENOSPC), disk-io-error (EIO), recordings-dir-unwritable, low-free-space (under srs.minFreeMb).',
    ['reason'],
    (s) => {
      const failed = s.srs?.recordingsFailed;
      if (failed === undefined) return undefined;
      const reasons = new Set(['disk-full', 'disk-io-error', 'recordings-dir-unwritable', 'low-free-space', ...Object.keys(failed)]);
      return [...reasons].map((reason): [Record<string, string>, number] => [{ reason }, failed[reason] ?? 0]);
    },
  );
  total(
    'srs_recordings_incomplete_total',
    'Recordings the reference recording server closed incomplete, by reason: empty-channel (a stream received nothing), lost-audio (packets that arrived after their place in the WAV was written, or could not be placed); each is logged at warn and marked in its summary.',
    ['reason'],
    (s) =>
      s.srs?.recordingsEmptyChannel === undefined
        ? undefined
        : [
            [{ reason: 'empty-channel' }, s.srs.recordingsEmptyChannel],
            [{ reason: 'lost-audio' }, s.srs.recordingsLostAudio ?? 0],
          ],
  );
  total('srs_retention_deleted_total', 'Recordings the reference recording server deleted because they were older than the retention of their organisation (R-08).', [], (s) => one(s.srs?.retentionDeleted));
  total('srs_retention_failures_total', 'Recording files the retention clean-up could not delete (each logged at warn; tried again at the next run).', [], (s) => one(s.srs?.retentionFailures));
  gauge('srs_worker_heap_bytes', "The reference recording server's media workers' V8 heaps (live objects and headroom), summed.", [], (s) => one(s.srs?.workerHeapBytes));
  gauge('srs_worker_array_buffer_bytes', "The reference recording server's media workers' ArrayBuffers (recording timelines, WAV frame buffers, received packets), summed.", [], (s) => one(s.srs?.workerArrayBufferBytes));
  gauge('srs_sip_dialogs', "Active SIP dialogs in the reference recording server's engine.", [], (s) => one(s.srs?.activeDialogs));
  gauge('srs_sip_transactions', "Active SIP transactions in the reference recording server's engine, by role.", ['role'], (s) =>
    s.srs && [
      [{ role: 'server' }, s.srs.activeServerTransactions],
      [{ role: 'client' }, s.srs.activeClientTransactions],
    ],
  );

  // settings store (docs/policy.md "Settings database")
  total('settings_store_load_failures_total', 'Reloads of the settings that failed (store unreachable); calls kept the settings loaded last.', [], (s) => one(s.settingsStore?.loadFailures));
  total('settings_store_stale_reads_total', 'Reads of the settings answered with those loaded last because a reload failed.', [], (s) => one(s.settingsStore?.staleReads));
  total('settings_change_notifications_total', 'Settings changes heard from the shared PostgreSQL database (absent with SQLite).', [], (s) => one(s.settingsStore?.changeNotifications));
  total('settings_listener_connections_lost_total', 'Times the connection listening for settings changes on the shared PostgreSQL database was lost (absent with SQLite).', [], (s) => one(s.settingsStore?.listenerConnectionsLost));
  total('settings_listener_reconnects_total', 'Times it was reopened; each reloads every organisation (absent with SQLite).', [], (s) => one(s.settingsStore?.listenerReconnects));
  gauge('settings_listener_up', '1 while this node listens for settings changes on the shared PostgreSQL database, else 0 (absent with SQLite).', [], (s) => one(s.settingsStore?.listenerUp));

  // live calls across nodes (docs/scaling.md)
  total('live_call_registry_heartbeat_failures_total', 'Heartbeats of this node that could not be written to the live-call registry (absent with one node).', [], (s) => one(s.liveCallRegistry?.heartbeatFailures));
  total('live_call_registry_write_failures_total', 'Writes of call changes to the live-call registry that failed; repaired on the next heartbeat (absent with one node).', [], (s) => one(s.liveCallRegistry?.writeFailures));
  total('live_call_registry_nodes_purged_total', 'Nodes without a heartbeat this node deleted from the registry with their calls (absent with one node).', [], (s) => one(s.liveCallRegistry?.nodesPurged));
  total('live_call_registry_resyncs_total', 'Times this node wrote all its calls to the registry again (after a failure, or after being taken for dead) (absent with one node).', [], (s) => one(s.liveCallRegistry?.resyncs));
  gauge('live_call_registry_up', '1 while the last heartbeat of this node reached the registry, else 0 (absent with one node).', [], (s) => one(s.liveCallRegistry?.up));
  total('calls_forwarded_total', 'Actions on calls of other nodes forwarded to their owner (absent with one node).', [], (s) => one(s.liveCallRegistry?.forwarded));
  total('calls_forward_failures_total', 'Forwarded actions whose owner did not answer: CALL_OWNER_UNREACHABLE (absent with one node).', [], (s) => one(s.liveCallRegistry?.forwardFailures));

  const sourceErrors = new Counter({ name: n('metrics_source_errors_total'), help: 'Scrapes in which a figure source failed, by source.', labelNames: ['source'], registers });

  // ------------------------------------------------------------------ scrape
  const read = async <T>(name: string, fn: (() => T | Promise<T>) | undefined): Promise<T | undefined> => {
    if (fn === undefined) return undefined;
    try {
      return await fn();
    } catch (err) {
      sourceErrors.inc({ source: name });
      logger?.warn({ err, source: name }, 'metrics: source failed');
      return undefined;
    }
  };

  return {
    registry,
    calls,
    contentType: registry.contentType,
    setCallStatsSource(source) {
      callSource = source;
    },
    async scrape() {
      const [engine, media, callStats, eventLog, srs, settingsStore, liveCallRegistry] = await Promise.all([
        read('engine', sources.engine),
        read('media', sources.media),
        read('calls', callSource),
        read('event_log', sources.eventLog),
        read('srs', sources.srs),
        read('settings_store', sources.settingsStore),
        read('live_call_registry', sources.liveCallRegistry),
      ]);
      snap = { engine, media, calls: callStats, eventLog, srs, settingsStore, liveCallRegistry };
      return registry.metrics();
    },
    close() {
      if (closed) return;
      closed = true;
      delayMonitor?.disable();
      registry.clear();
    },
  };
}
