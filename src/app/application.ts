/**
 * The composition root: builds every plane from the frozen Config, wires them, and tears them
 * down in reverse order. The only module that imports every plane; nothing imports app/.
 *
 *   start:  [embedded engine] -> signalling link -> ...planes...
 *   close:  planes (reverse) -> signalling link -> [embedded engine]
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createAdminServer, type AdminServer } from '../admin/admin-server.js';
import { callsPlugin } from '../admin/plugins/calls-plugin.js';
import { clusterLiveCalls } from '../admin/cluster-calls.js';
import { recordingsPlugin } from '../admin/plugins/recordings-plugin.js';
import { CallManager } from '../call/call-manager.js';
import { LiveCallRegistry } from '../call/live-call-registry.js';
import { PostgresLiveCalls } from '../call/store/postgres-live-calls.js';
import { siprecRecordingFactory } from '../call/siprec-recording-port.js';
import { systemClock, systemTimers } from '../common/clock.js';
import { metricsPlugin } from '../admin/plugins/metrics-plugin.js';
import type { Config, NatContactsMode } from '../config/config-types.js';
import { startEngine, type Engine, type EngineOptions, type NatFlowPolicy, type TlsSettings } from '../engine/index.js';
import { PromptLibrary } from '../media/audio/prompt-library.js';
import { MediaPlane } from '../media/media-plane.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { LiveCallRegistryFigures, SettingsStoreFigures, SrsFigures } from '../observability/metrics-types.js';
import { openRecordingEventLog, type RecordingEventLog } from '../observability/recording-events.js';
import type { PolicySnapshot } from '../policy/policy-types.js';
import { SettingsService } from '../policy/settings-service.js';
import type { PolicyRepository } from '../policy/policy-repository.js';
import { openSettingsStore } from '../policy/store/open-settings-store.js';
import { PostgresSettingsChanges } from '../policy/store/postgres-settings-changes.js';
import { applyProvisioningFileIfChanged, type SettingsStore } from '../policy/store/provisioning-file-state.js';
import { SnapshotCache } from '../policy/store/snapshot-cache.js';
import { AccessControl } from '../sip/access-control.js';
import { accessGate } from '../sip/access-gate.js';
import { knownSourceRole, sourceMatches } from '../sip/admission.js';
import { DigestAuthenticator } from '../sip/digest-auth.js';
import { DigestLockout } from '../sip/digest-lockout.js';
import { readDigestCredentialsFile } from '../sip/digest-credentials-file.js';
import { SrfSignalingPort } from '../sip/leg.js';
import { SignalingConnection } from '../sip/signaling-connection.js';
import { DrachtioSrsConnector } from '../sip/srs-connector.js';
import { resolveSrsOptions } from '../srs/srs-options.js';
import { SrsApp } from '../srs/srs-app.js';
import { RecordingRetention, planRetention } from '../srs/retention.js';

export interface Application {
  /** The embedded engine, when no external drachtio-server is configured. */
  readonly engine: Engine | undefined;
  readonly signaling: SignalingConnection;
  readonly media: MediaPlane;
  readonly prompts: PromptLibrary;
  /** The settings store: the SQLite file, or the PostgreSQL database of store.databaseUrl. */
  readonly repository: SettingsStore;
  readonly admin: AdminServer;
  /** The in-process reference recording server (srs.enabled), with its own engine. */
  readonly srs: { readonly engine: Engine; readonly app: SrsApp } | undefined;
  /**
   * Prometheus metrics (GET /v1/metrics). The call layer gets `metrics.calls` (CallMetrics) and
   * registers its figures with `metrics.setCallStatsSource(() => ({ activeCalls, ... }))`.
   */
  readonly metrics: Metrics;
  /** The recording event log (config events.*); the call layer calls `recordingEvents.record({...})`. */
  readonly recordingEvents: RecordingEventLog;
  /** The call layer: every INVITE becomes a recorded (or not) B2BUA call (src/call/). */
  readonly calls: CallManager;
  /** Where the admin API listens (port resolved when 0 was configured). */
  readonly adminUrl: string;
  /** Idempotent; resolves when every plane has closed. */
  close(): Promise<void>;
}

export async function startApplication(config: Config, logger: Logger): Promise<Application> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    while (closers.length > 0) {
      const next = closers.pop()!;
      try {
        await next();
      } catch (err) {
        logger.error({ err }, 'error while closing');
      }
    }
  };
  // The trunks as the SIP side needs them, refreshed at start and on every settings change: the
  // engine's NAT policy (sip.natContacts tells trunks apart), its connection caps (privileged
  // sources) and the access control of every request (deny list, per-source rate limit;
  // src/sip/access-gate.ts: the engine's request gate, or srf middleware with an external
  // drachtio-server), where trunks and trusted sources (by address and port) have buckets of their own.
  const peers: { snapshots: readonly PolicySnapshot[] } = { snapshots: [] };
  const access = new AccessControl(
    {
      deny: config.calls.deny,
      ...(config.calls.maxConcurrentCalls > 0 ? { maxConcurrentCalls: config.calls.maxConcurrentCalls } : {}),
      ...(config.calls.rateLimitPerSource > 0
        ? { rateLimit: { ratePerSecond: config.calls.rateLimitPerSource, burst: config.calls.rateLimitBurst || 2 * config.calls.rateLimitPerSource } }
        : {}),
    },
    systemClock,
  );
  const refusals: { count?: (method: string, reason: string, action: 'reject' | 'drop') => void } = {}; // metrics, once they exist
  const requestGate = accessGate(
    access,
    // a balancer in front (calls.trustedBalancers) carries every carrier's traffic: limited in a bucket of its own, as a trunk
    (address, port) =>
      knownSourceRole(peers.snapshots, address, port, { trustedSources: [...config.calls.trustedSources, ...config.calls.trustedBalancers] }) !== undefined,
    (request, reason, action) => refusals.count?.(request.method, reason, action),
  );
  try {
    let engine: Engine | undefined;
    if (config.drachtio.host === undefined) {
      engine = await startEngine({
        sipContacts: [...config.sip.contacts],
        adminHost: '127.0.0.1',
        adminPort: config.drachtio.port,
        secret: config.drachtio.secret,
        logger: logger.child({ component: 'engine' }),
        tls: engineTls(config.sip),
        natFlow: natFlowPolicy(config.sip.natContacts, () => peers.snapshots),
        ...connectionOptions(config, () => peers.snapshots),
        requestGate,
      });
      closers.push(() => engine!.close());
    }
    const signaling = await SignalingConnection.connect({
      host: config.drachtio.host ?? '127.0.0.1',
      port: config.drachtio.port,
      secret: config.drachtio.secret,
      logger,
    });
    closers.push(() => signaling.close());

    const prompts = PromptLibrary.load(config.media.promptsDir, { logger });
    const media = await MediaPlane.start({
      portMin: config.media.portMin,
      portMax: config.media.portMax,
      address: config.media.address,
      forkBufferMs: config.media.forkBufferMs,
      workers: config.media.workers,
      socketIo: config.media.socketIo,
      ioUring: config.media.ioUring,
      workerNice: config.media.workerNice,
      prompts,
      logger: logger.child({ component: 'media' }),
    });
    closers.push(() => media.close());

    const storeLogger = logger.child({ component: 'settings-store' });
    const opened = await openSettingsStore({ sqlitePath: config.store.sqlitePath, databaseUrl: config.store.databaseUrl, logger: storeLogger });
    const repository = opened.store;
    closers.push(() => repository.close());
    logger.info({ store: opened.kind, location: opened.location }, 'settings store open');
    const policy = new SnapshotCache(repository, { logger: storeLogger });
    if (config.store.provisioningFile) {
      // applied only when its content changed since it was last applied: API changes survive a restart (docs/policy.md)
      const file = config.store.provisioningFile;
      const outcome = await applyProvisioningFileIfChanged(new SettingsService({ repository }), repository, file);
      if (outcome.applied) logger.info({ file, result: outcome.result, previouslyAppliedAt: outcome.previous?.appliedAt }, 'provisioning file applied (content changed since it was last applied)');
      else logger.info({ file, appliedAt: outcome.previous.appliedAt }, 'provisioning file unchanged since it was last applied: not re-applied, changes made through the admin API are kept');
    }
    // the SIP side reads its own copy of the settings: loading the call layer's cache here would
    // fill it before the first call needs it
    const peerSettings = new SnapshotCache(repository, { logger: storeLogger });
    const refreshPeers = async (): Promise<void> => {
      try {
        peerSettings.invalidate();
        peers.snapshots = await peerSettings.snapshots();
      } catch (err) {
        logger.warn({ err }, 'could not load the trunks for NAT handling, connection caps and access control; the last ones stay in use');
      }
    };
    await refreshPeers();
    const settingsChanged = (): void => {
      policy.invalidate();
      void refreshPeers();
    };
    // writes made through any node sharing the database (this one too) drop the cached settings at once
    const changes = config.store.databaseUrl === undefined ? undefined : await PostgresSettingsChanges.start({ url: config.store.databaseUrl, onChange: settingsChanged, logger: storeLogger });
    if (changes) closers.push(() => changes.close());
    const recordingEvents = await openRecordingEventLog({
      file: config.events.file,
      webhook: config.events.webhookUrl ? { url: config.events.webhookUrl, token: config.events.webhookToken, queueSize: config.events.queueSize } : undefined,
      logger: logger.child({ component: 'recording-events' }),
    });
    closers.push(() => recordingEvents.close());
    const srsRef: { current?: { engine: Engine; app: SrsApp } } = {}; // the recording server starts last; read at scrape time
    const retentionRef: { current?: RecordingRetention } = {};
    const liveCallRegistryRef: { current?: () => LiveCallRegistryFigures } = {}; // several nodes: set once the registry exists
    const metrics = createMetrics(
      {
        engine: engine ? () => engine!.stats() : undefined,
        media: () => media.stats(),
        eventLog: () => recordingEvents.stats(),
        srs: () => srsRef.current && srsFigures(srsRef.current, retentionRef.current),
        settingsStore: () => settingsStoreFigures(policy, changes),
        liveCallRegistry: () => liveCallRegistryRef.current?.(),
      },
      { logger: logger.child({ component: 'metrics' }) },
    );
    closers.push(() => metrics.close());
    refusals.count = (method, reason, action) => {
      metrics.calls.requestRefused?.(method, reason, action);
      if (method === 'INVITE') metrics.calls.callRejected(reason);
    };

    // Digest authentication of user agents (off unless calls.digestRealm is set); the file is read once, never logged.
    const digest =
      config.calls.digestRealm === undefined || config.calls.digestCredentialsFile === undefined
        ? undefined
        : new DigestAuthenticator(
            {
              realm: config.calls.digestRealm,
              users: readDigestCredentialsFile(config.calls.digestCredentialsFile),
              algorithms: config.calls.digestAlgorithms,
              nonceSeconds: config.calls.digestNonceSeconds,
            },
            systemClock,
          );
    if (digest) logger.info({ realm: digest.realm, algorithms: digest.algorithms, users: digest.userCount }, 'digest authentication of user agents on');

    // The call layer: every INVITE becomes a recorded (or not) B2BUA call.
    const signalingPort = new SrfSignalingPort(signaling.srf, {
      logger,
      trustedBalancers: config.calls.trustedBalancers,
      onBalancerSourceIgnored: (reason) => metrics.calls.balancerSourceIgnored?.(reason),
    });
    // keep-alive pings get 200 (not the SIP server's 503), and 503 once the calls drain (Retry-After: the drain time left)
    signalingPort.answerOptions(() => !calls.draining, () => calls.retryAfterSec);
    signalingPort.answerUnservedMethods();
    if (!engine) signalingPort.gateRequests(requestGate);
    const calls: CallManager = new CallManager({
      signaling: signalingPort,
      policy,
      media,
      prompts,
      recording: siprecRecordingFactory({
        connector: new DrachtioSrsConnector(signaling.srf, { logger }),
        clock: systemClock,
        timers: systemTimers,
        logger,
        // the call's recording link names the files when the in-process recording server holds the recording
        locateFiles: (srsRecordingId) => srsRef.current?.app.store.locate(srsRecordingId),
      }),
      access,
      options: {
        admission: { trustedSources: config.calls.trustedSources, open: config.calls.open },
        routing: { userProxy: config.calls.userProxy, trunkTargets: config.calls.trunkTargets },
        featureCodes: config.calls.featureCodes,
        ringTimeoutMs: config.calls.ringTimeoutMs,
        latching: {
          default: config.media.latching,
          ...(config.media.latchingTrunk ? { trunk: config.media.latchingTrunk } : {}),
          ...(config.media.latchingTrusted ? { trusted: config.media.latchingTrusted } : {}),
          ...(config.media.latchingUserAgent ? { userAgent: config.media.latchingUserAgent } : {}),
          byTrunk: config.media.latchingByTrunk,
        },
        silenceAlarmMs: config.media.silenceAlarmSeconds * 1000,
      },
      ...(digest
        ? {
            digest,
            digestLockout: new DigestLockout({ maxFailures: config.calls.digestMaxFailures, lockoutMs: config.calls.digestLockoutSeconds * 1000 }, systemClock),
          }
        : {}),
      logger,
      metrics: metrics.calls,
      events: recordingEvents,
    }).attach();
    closers.push(() => calls.close());
    metrics.setCallStatsSource(() => calls.stats());
    // several nodes on one database: every node's live calls are listed and controlled through any node (docs/scaling.md)
    const registry = config.store.databaseUrl === undefined ? undefined : await startLiveCallRegistry(config, calls, logger, closers);
    const clusterCalls = registry
      ? clusterLiveCalls({ local: calls, registry, token: config.admin.token, forwardTimeoutMs: config.cluster.forwardTimeoutMs, logger: logger.child({ component: 'admin' }) })
      : undefined;
    if (registry && clusterCalls) liveCallRegistryRef.current = () => ({ ...registry.stats(), up: registry.stats().up ? 1 : 0, ...clusterCalls.stats() });

    const admin = await createAdminServer({
      repository,
      host: config.admin.host,
      port: config.admin.port,
      token: config.admin.token,
      logger: logger.child({ component: 'admin' }),
      provisioning: { defaultBaseUrl: config.admin.provisioningUrl ?? null },
      onSettingsChanged: settingsChanged,
      extraPlugins: [
        metricsPlugin(metrics),
        callsPlugin(clusterCalls ?? calls),
        ...(config.srs.enabled ? [recordingsPlugin(config.srs.recordingsDir, recordingEvents)] : []),
      ],
    });
    closers.push(() => admin.close());
    const { url: adminUrl } = await admin.listen();
    logger.info({ url: adminUrl }, 'admin API listening');
    if (registry) {
      // the heartbeat starts once the admin API answers: other nodes forward actions on this node's calls to it
      await registry.start(config.cluster.adminUrl ?? adminUrl);
      closers.push(() => registry.close());
    }

    const srs = config.srs.enabled ? await startReferenceSrs(config, logger, closers) : undefined;
    srsRef.current = srs;
    if (srs) retentionRef.current = startRetention(config, repository, srs.app, logger, closers);

    let closed: Promise<void> | undefined;
    return {
      srs,
      engine,
      signaling,
      media,
      prompts,
      repository,
      admin,
      metrics,
      recordingEvents,
      calls,
      adminUrl,
      close: () => (closed ??= close()),
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The live-call registry in the database of DATABASE_URL (src/call/live-call-registry.ts): opened
 * here, started once the admin API listens. Node id NODE_ID, default `<hostname>-<pid>`.
 */
async function startLiveCallRegistry(config: Config, calls: CallManager, logger: Logger, closers: Array<() => Promise<void> | void>): Promise<LiveCallRegistry> {
  const store = await PostgresLiveCalls.open({ url: config.store.databaseUrl!, logger: logger.child({ component: 'live-call-registry' }) });
  closers.push(() => store.close());
  if (config.cluster.adminUrl === undefined && ['0.0.0.0', '::'].includes(config.admin.host)) {
    logger.warn({ adminHost: config.admin.host }, 'NODE_ADMIN_URL unset while the admin API listens on every address: other nodes are given an address they may not reach; set NODE_ADMIN_URL');
  }
  return new LiveCallRegistry({
    nodeId: config.cluster.nodeId ?? `${hostname()}-${process.pid}`,
    store,
    calls,
    liveness: { heartbeatMs: config.cluster.heartbeatMs, missedHeartbeats: config.cluster.missedHeartbeats },
    logger,
  });
}

/** The settings store's figures for metrics: the call path's cache, and the change listener with PostgreSQL. */
function settingsStoreFigures(cache: SnapshotCache, changes: PostgresSettingsChanges | undefined): SettingsStoreFigures {
  const c = cache.stats();
  const l = changes?.stats();
  return {
    loadFailures: c.loadFailures,
    staleReads: c.staleReads,
    ...(l ? { changeNotifications: l.notifications, listenerConnectionsLost: l.connectionsLost, listenerReconnects: l.reconnects, listenerUp: l.listening ? 1 : 0 } : {}),
  };
}

/**
 * The reference recording server of the embedded setup: a drachtio app of its own behind a second
 * embedded engine listening on srs.sipUri, so its INVITE route never competes with the B2BUA's.
 * A `sips:` or `;transport=tls` URI listens on TLS only, with the sip.tls* key and certificate.
 */
async function startReferenceSrs(
  config: Config,
  logger: Logger,
  closers: Array<() => Promise<void> | void>,
): Promise<{ engine: Engine; app: SrsApp }> {
  const uri = /^sips?:(?:[^@;]*@)?([^:;]+)(?::(\d+))?/.exec(config.srs.sipUri);
  const host = uri?.[1] ?? '127.0.0.1';
  const tls = /^sips:/i.test(config.srs.sipUri) || /;transport=tls\b/i.test(config.srs.sipUri);
  const port = Number(uri?.[2] ?? (tls ? 5061 : 5060));
  // one `component` per line: SrsApp binds 'srs' itself, its engine 'srs-engine' (createLogger keeps one value per key)
  const log = logger.child({ component: 'srs' });
  const engine = await startEngine({
    sipContacts: [tls ? `sips:${host}:${port};transport=tls` : `sip:${host}:${port};transport=udp,tcp`],
    adminHost: '127.0.0.1',
    adminPort: 0,
    secret: config.drachtio.secret,
    logger: logger.child({ component: 'srs-engine' }),
    ...(tls ? { tls: engineTls(config.sip) } : {}),
  });
  closers.push(() => engine.close());
  const signaling = await SignalingConnection.connect({ ...engine.adminAddress, secret: config.drachtio.secret, logger: log });
  closers.push(() => signaling.close());
  const app = new SrsApp(
    signaling.srf,
    resolveSrsOptions({
      drachtio: { ...engine.adminAddress, secret: config.drachtio.secret },
      rtpAddress: config.media.address,
      rtpPorts: { from: config.srs.rtpPortMin, to: config.srs.rtpPortMax },
      recordingsDir: config.srs.recordingsDir,
      minFreeMb: config.srs.minFreeMb,
      startupCheck: config.srs.startupCheck,
      mediaWorkers: config.srs.mediaWorkers,
    }),
    { logger },
  );
  // srs.startupCheck: an unwritable recordings directory refuses the start (one line naming it) or degrades
  await app.checkStorage();
  app.attach();
  closers.push(() => app.close());
  log.info({ sipUri: config.srs.sipUri, recordingsDir: config.srs.recordingsDir }, 'reference recording server ready');
  return { engine, app };
}

/**
 * The in-process recording server's retention clean-up: an organisation's srs.retentionByOrg
 * entry, else the plan of the provider its service settings select (free: 30 days, paid: kept),
 * else srs.retentionDays. First run once the start-up repair is done, then every srs.retentionIntervalSeconds.
 */
function startRetention(config: Config, repository: PolicyRepository, app: SrsApp, logger: Logger, closers: Array<() => Promise<void> | void>): RecordingRetention {
  const planOf = async (orgId: string) => {
    const org = await repository.getOrganisation(orgId);
    const providerId = org?.serviceSettings.providerId;
    if (!providerId) return undefined;
    return (await repository.providers.get(orgId, providerId))?.plan;
  };
  const retention = new RecordingRetention({
    recordingsDir: config.srs.recordingsDir,
    policy: planRetention(planOf, { days: config.srs.retentionDays, byOrg: config.srs.retentionByOrg }),
    intervalMs: config.srs.retentionIntervalSeconds * 1000,
    isActive: (id) => app.recordings().has(id),
    after: app.recovery,
    logger: logger.child({ component: 'srs' }),
  });
  void retention.start();
  closers.push(() => retention.close());
  return retention;
}

/** What metrics read of the reference recording server (siprec_b2bua_srs_* gauges). */
async function srsFigures(srs: { engine: Engine; app: SrsApp }, retention: RecordingRetention | undefined): Promise<SrsFigures> {
  const e = srs.engine.stats();
  const memory = await srs.app.workerMemory();
  return {
    ...(memory ? { workerHeapBytes: memory.heapBytes, workerArrayBufferBytes: memory.arrayBufferBytes } : {}),
    recordingsActive: srs.app.recordings().size,
    recordingsFailed: Object.fromEntries(srs.app.failedCounts),
    recordingsEmptyChannel: srs.app.incompleteCounts.emptyChannel,
    recordingsLostAudio: srs.app.incompleteCounts.lostAudio,
    recordingsRecovered: srs.app.recoveredCounts.repaired,
    recordingRepairsFailed: srs.app.recoveredCounts.failed,
    activeDialogs: e.activeDialogs,
    activeServerTransactions: e.activeServerTransactions,
    activeClientTransactions: e.activeClientTransactions,
    ...(retention ? { retentionDeleted: retention.deletedRecordings, retentionFailures: retention.failedDeletions } : {}),
  };
}

/**
 * sip.natContacts as the embedded engine's per-peer NAT mode (src/engine/nat-flow.ts). 'all': every
 * peer's in-dialog requests go to its flow. Otherwise trunks keep drachtio-server's NAT detection
 * (treated exactly as behind a real drachtio-server) and every other peer gets its flow
 * ('user-agents') or its Contact as written ('off', RFC 3261). Read per new dialog from the last
 * loaded settings.
 */
export function natFlowPolicy(mode: NatContactsMode, snapshots: () => readonly PolicySnapshot[]): NatFlowPolicy {
  if (mode === 'all') return () => 'flow';
  const others = mode === 'off' ? 'contact' : 'flow';
  return (peer) => (knownSourceRole(snapshots(), peer.host, peer.port) === 'trunk' ? 'detect' : others);
}

/**
 * The embedded engine's connection limits (sip.maxConnections..., docs/hardening.md "Connections").
 * The file-descriptor budget leaves one descriptor per RTP/RTCP port of the media plane and of the
 * in-process recording server, so a flood of connections cannot take the sockets calls need.
 * Privileged sources (exempt from the per-source cap, and the only ones allowed into the last tenth
 * of the global cap) are the trunks' source addresses and calls.trustedSources, matched by address
 * only: a connection's source port is ephemeral, and a TCP source address cannot be spoofed.
 */
export function connectionOptions(
  config: Config,
  snapshots: () => readonly PolicySnapshot[],
): Pick<EngineOptions, 'maxConnections' | 'reservedFds' | 'maxConnectionsPerSource' | 'privilegedSource' | 'idleConnectionMs' | 'messageDeadlineMs'> {
  const hostOnly = (entry: string): string => entry.trim().replace(/^(\[[^\]]+\]|[^:]+):\d+$/, '$1');
  return {
    maxConnections: config.sip.maxConnections,
    reservedFds: config.media.portMax - config.media.portMin + 1 + (config.srs.enabled ? config.srs.rtpPortMax - config.srs.rtpPortMin + 1 : 0),
    maxConnectionsPerSource: config.sip.maxConnectionsPerSource,
    privilegedSource: (host) =>
      [...config.calls.trustedSources, ...config.calls.trustedBalancers].some((e) => sourceMatches(hostOnly(e), host, 0)) ||
      snapshots().some((s) => s.trunks.some((t) => t.sourceAddresses.some((e) => sourceMatches(hostOnly(e), host, 0)))),
    idleConnectionMs: config.sip.idleConnectionSeconds * 1000,
    messageDeadlineMs: config.sip.messageDeadlineSeconds * 1000,
  };
}

/** The embedded engine's TLS settings from SIP_TLS_KEY_FILE / SIP_TLS_CERT_FILE / SIP_TLS_CA_FILE (undefined: no TLS). */
function engineTls(sip: Config['sip']): TlsSettings | undefined {
  if (sip.tlsKeyFile === undefined || sip.tlsCertFile === undefined) return undefined;
  return {
    key: readFileSync(sip.tlsKeyFile),
    cert: readFileSync(sip.tlsCertFile),
    ca: sip.tlsCaFile === undefined ? undefined : readFileSync(sip.tlsCaFile),
    rejectUnauthorized: sip.tlsVerify,
  };
}
