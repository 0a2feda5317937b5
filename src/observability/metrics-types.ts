/**
 * The narrow interfaces between the planes and the metrics registry (src/observability/metrics.ts),
 * so that no plane imports prom-client:
 *   - CallMetrics: counters the call layer increments as things happen;
 *   - MetricsSources: figures read at scrape time (engine, media, call layer, event log).
 * Source shapes are structural subsets of the planes' own stats types (EngineStats,
 * MediaPlaneStats), so observability imports no other plane.
 */
import type { CallDirection } from '../policy/call-decision-types.js';

/** The `direction` label: the policy's call direction, or 'unclassified' for calls ended before classification. */
export type CallDirectionLabel = CallDirection | 'unclassified';

/**
 * Counters the call layer increments (metric names in docs/observability.md). Never throws; free
 * text in `reason`/`kind` is turned into a bounded label value (lower case, [a-z0-9_.:-], at most
 * 64 characters, at most 64 distinct values per metric, then 'other').
 */
export interface CallMetrics {
  /** A call was admitted (siprec_b2bua_calls_total{direction}). */
  callStarted(direction: CallDirectionLabel): void;
  /** An admitted call ended (siprec_b2bua_calls_ended_total{direction,reason}), e.g. 'bye-caller', 'bye-callee', 'cancel', 'failed'. */
  callEnded(direction: CallDirectionLabel, reason: string): void;
  /** An INVITE was refused before a call existed (siprec_b2bua_calls_rejected_total{reason}), e.g. 'not-provisioned', 'overload'. */
  callRejected(reason: string): void;
  /**
   * A request from the network refused by access control before any transaction existed
   * (siprec_b2bua_sip_requests_refused_total{method,reason,action}, method in lower case; src/sip/access-gate.ts): reason
   * 'source-denied' | 'source-not-allowed' | 'rate-limited', action 'reject' (answered) | 'drop' (silence).
   */
  requestRefused?(method: string, reason: string, action: 'reject' | 'drop'): void;
  /**
   * An X-Balancer-Source header that was not believed (siprec_b2bua_balancer_source_ignored_total{reason};
   * src/sip/balancer-source.ts): reason 'untrusted-sender' (not from calls.trustedBalancers) | 'malformed'.
   */
  balancerSourceIgnored?(reason: string): void;
  /** siprec_b2bua_recording_events_total{event="started"}: the recording server accepted (RFC 7866 session established). */
  recordingStarted(): void;
  recordingPaused(): void;
  recordingResumed(): void;
  /** siprec_b2bua_recording_events_total{event="stopped"} and siprec_b2bua_recordings_stopped_total{reason}, e.g. 'call-ended', 'user-request', 'party-left'. */
  recordingStopped(reason: string): void;
  /** siprec_b2bua_recording_events_total{event="failed"} and siprec_b2bua_recording_failures_total{reason}, e.g. 'srs-unavailable', 'srs-lost'. */
  recordingFailed(reason: string): void;
  /** The recording session moved to the next recording server (siprec_b2bua_srs_failovers_total). */
  srsFailover(): void;
  /** An announcement, tone or beep was played (siprec_b2bua_announcements_played_total{kind}): AnnouncementNote kinds 'compliance', 'start', 'stop', 'pause', 'resume', 'reminder-tone'. */
  announcementPlayed(kind: string): void;
}

/** CallMetrics that count nothing (tests, tools). */
export const noopCallMetrics: CallMetrics = Object.freeze({
  callStarted: () => {},
  callEnded: () => {},
  callRejected: () => {},
  recordingStarted: () => {},
  recordingPaused: () => {},
  recordingResumed: () => {},
  recordingStopped: () => {},
  recordingFailed: () => {},
  srsFailover: () => {},
  announcementPlayed: () => {},
});

/** Current figures of the call layer, read at scrape time. */
export interface CallStats {
  /** Calls admitted and not yet ended. */
  activeCalls: number;
  /** Calls whose recording is established and running / paused. */
  recordingsActive: number;
  recordingsPaused: number;
  /** Calls still up whose recording failed (recording failure policy R-40 let them continue). Default 0. */
  recordingsFailed?: number;
}

/** Supplied by the call layer; must be cheap and synchronous. */
export type CallStatsSource = () => CallStats;

/** What metrics read of the embedded SIP engine (a subset of src/engine EngineStats). */
export interface EngineFigures {
  messagesReceived: number;
  messagesSent: number;
  malformedDropped: number;
  badRequestsAnswered: number;
  retransmissionsSent: number;
  retransmissionsAbsorbed: number;
  activeServerTransactions: number;
  activeClientTransactions: number;
  activeDialogs: number;
  connectedApps: number;
  /** In-dialog requests sent to a NATed peer's flow instead of its Contact (sip.natContacts); absent: not counted. */
  natFlowRequests?: number;
  /** TCP/TLS connections open, the cap in force, refused at accept, closed idle or slow (docs/hardening.md "Connections"); absent: not counted. */
  connectionsOpen?: number;
  maxConnections?: number;
  connectionsRefusedPerSource?: number;
  connectionsRefusedGlobal?: number;
  connectionsClosedIdle?: number;
  connectionsClosedSlow?: number;
}

/** What metrics read of the media plane (a subset of src/media MediaPlaneStats). */
export interface MediaFigures {
  sessions: number;
  sessionsOpened: number;
  forksActive: number;
  forksPaused: number;
  rtpIn: number;
  rtpInBytes: number;
  rtpOut: number;
  rtpGenerated: number;
  rtpForked: number;
  rtpForkedBytes: number;
  dropped: { malformed: number; hijack: number; unlatched: number; foreignSsrc: number; unknownPayloadType: number; relayCodec: number; rewrite: number; forkCodec: number };
  withheld: { prompt: number; forkPaused: number };
  /** Packets of the forks' start buffers (media.forkBufferMs): sent, overflowed (lost), discarded. */
  forkBuffer?: { sent: number; overflowed: number; discarded: number };
  rtcpIn: number;
  rtcpOut: number;
  sendErrors: number;
  latches: { sdp: number; learned: number; relatched: number };
  silentLegs: Record<'hijack' | 'payload-type' | 'foreign-ssrc' | 'malformed' | 'unlatched' | 'none-received', number>;
  workers: number;
  workersFailed: number;
  /** The media workers' socket I/O: 'native' (batched addon) or 'dgram'. */
  socketIo?: 'native' | 'dgram';
  portsInUse: number;
  portCapacity: number;
  /** The media worker threads' V8 heaps (total bytes, summed); absent without worker threads. */
  workerHeapBytes?: number | undefined;
}

/** What metrics read of the recording event log (src/observability/recording-events.ts). */
export interface EventLogFigures {
  /** Events accepted by record(). */
  recorded: number;
  /** Lines appended to the file. */
  fileWritten: number;
  /** Events not written to the file (write error, or the write buffer was full). */
  fileDropped: number;
  /** Events the webhook acknowledged (2xx). */
  webhookDelivered: number;
  /** Events dropped from a full webhook queue (oldest first). */
  webhookDropped: number;
  /** Events given up after the last retry, or refused with a 4xx. */
  webhookFailed: number;
  /** POST attempts that were retried. */
  webhookRetries: number;
  /** Events waiting for the webhook now. */
  webhookQueued: number;
}

/**
 * What metrics read of the in-process reference recording server (src/srs SrsApp and the embedded
 * engine it runs behind), so that a leak there shows as well as one in the B2BUA.
 */
export interface SrsFigures {
  /** Recordings the server is receiving now (SrsApp.recordings().size). */
  recordingsActive: number;
  /** Recordings a crash left open that start-up repaired, and those it could not (SrsApp.recoveredCounts). */
  recordingsRecovered: number;
  recordingRepairsFailed: number;
  /** Recordings closed with an empty channel, and recordings that lost audio (SrsApp.incompleteCounts); absent: not counted. */
  recordingsEmptyChannel?: number;
  recordingsLostAudio?: number;
  /** Recordings failed or refused because of the disk, by reason (SrsApp.failedCounts); absent: not counted. */
  recordingsFailed?: Readonly<Record<string, number>>;
  /** Recordings the retention clean-up deleted, and files it could not delete (RecordingRetention); absent: no clean-up. */
  retentionDeleted?: number;
  retentionFailures?: number;
  /** Its media workers' V8 heaps and ArrayBuffers, summed (SrsApp.workerMemory); absent: media in the main thread. */
  workerHeapBytes?: number;
  workerArrayBufferBytes?: number;
  /** Its engine's dialogs and transactions (EngineStats). */
  activeDialogs: number;
  activeServerTransactions: number;
  activeClientTransactions: number;
}

/**
 * What metrics read of the settings store (src/policy/store): the call path's snapshot cache and,
 * with a PostgreSQL store, the listener of settings changes made on other nodes (docs/policy.md
 * "Settings database").
 */
export interface SettingsStoreFigures {
  /** Reloads of the settings that failed (store unreachable); calls kept the settings loaded last. */
  loadFailures: number;
  /** Reads answered with the settings loaded last because a reload failed. */
  staleReads: number;
  /** PostgreSQL only (absent with SQLite): notifications of settings changes received. */
  changeNotifications?: number;
  /** Times the listening connection was lost, and reopened. */
  listenerConnectionsLost?: number;
  listenerReconnects?: number;
  /** 1 while LISTEN is in effect, else 0. */
  listenerUp?: number;
}

/**
 * What metrics read of the live-call registry (several nodes on one database: src/call/live-call-registry.ts,
 * docs/scaling.md) and of the forwarding of actions to other nodes (src/admin/cluster-calls.ts).
 */
export interface LiveCallRegistryFigures {
  heartbeatFailures: number;
  writeFailures: number;
  /** Dead nodes this node deleted. */
  nodesPurged: number;
  /** Times this node wrote all its calls again (after a failure, or after other nodes took it for dead). */
  resyncs: number;
  /** 1 while the last heartbeat succeeded, else 0. */
  up: number;
  /** Actions on calls of other nodes forwarded, and those that failed (CALL_OWNER_UNREACHABLE). */
  forwarded: number;
  forwardFailures: number;
}

/** Where scrape-time figures come from; every source is optional. */
export interface MetricsSources {
  /** The embedded SIP engine (absent with an external drachtio-server). */
  engine?: () => EngineFigures;
  /** The media plane: one cheap request per worker (MediaPlane.stats()). */
  media?: () => Promise<MediaFigures>;
  /** The call layer (can also be set later with Metrics.setCallStatsSource). */
  calls?: CallStatsSource;
  eventLog?: () => EventLogFigures;
  /** The in-process reference recording server; undefined (metrics left out) when it is not running. */
  srs?: () => SrsFigures | undefined | Promise<SrsFigures | undefined>;
  /** The settings store's cache and change listener. */
  settingsStore?: () => SettingsStoreFigures;
  /** The live-call registry (only with several nodes on one database); undefined = metrics left out. */
  liveCallRegistry?: () => LiveCallRegistryFigures | undefined;
}
