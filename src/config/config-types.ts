import type { LevelWithSilent } from 'pino';

/**
 * The product's configuration, read and validated once at start-up (src/config/load-config.ts) and
 * passed down frozen. Every field states its default; the environment variable that sets it is in
 * brackets. A config file (CONFIG_FILE, JSON or YAML, same shape) is read first; the environment wins.
 */
export interface Config {
  readonly log: {
    /** [LOG_LEVEL] default 'info'. */
    readonly level: LevelWithSilent;
  };
  readonly sip: {
    /** [SIP_CONTACTS, comma separated] default ['sip:127.0.0.1:5060;transport=udp,tcp']: where the embedded engine listens. */
    readonly contacts: readonly string[];
    /**
     * [SIP_TLS_KEY_FILE] / [SIP_TLS_CERT_FILE] unset by default: PEM key and certificate of the embedded
     * engine's TLS transport (RFC 3261 section 26.2; a 'sips:host:5061' contact in SIP_CONTACTS listens on it,
     * and requests to sips: / ;transport=tls recording servers go out over TLS). Set both or neither.
     */
    readonly tlsKeyFile: string | undefined;
    readonly tlsCertFile: string | undefined;
    /** [SIP_TLS_CA_FILE] unset by default (Node's bundled roots): PEM CAs that verify TLS peers. */
    readonly tlsCaFile: string | undefined;
    /** [SIP_TLS_VERIFY] default true: reject TLS peers whose certificate does not verify. */
    readonly tlsVerify: boolean;
    /**
     * [SIP_NAT_CONTACTS] default 'user-agents': whose requests are answered, and whose dialogs are sent
     * in-dialog requests, at the address and port (UDP) or the connection (TCP/TLS) their requests came
     * from rather than the Via / Contact they wrote (RFC 3581 rport + received; the flow reuse of
     * RFC 5626 section 4.3; Kamailio's fix_nated_contact). 'user-agents': every source that is not a
     * trunk; 'all': every source; 'off': Contact as written (embedded engine only; docs/nat.md).
     */
    readonly natContacts: NatContactsMode;
    /**
     * [SIP_MAX_CONNECTIONS] default 0: TCP/TLS connections the embedded engine keeps open at most; 0 = what
     * the file-descriptor budget allows (RLIMIT_NOFILE minus the media and recording-server RTP ports minus
     * 256, at least 64). A tenth of it is kept for trunks and trusted sources (docs/hardening.md "Connections").
     */
    readonly maxConnections: number;
    /** [SIP_MAX_CONNECTIONS_PER_SOURCE] default 50: connections at most from one address that is neither a trunk nor a trusted source; 0 = no cap. */
    readonly maxConnectionsPerSource: number;
    /** [SIP_IDLE_CONNECTION_SECONDS] default 32: a connection carrying no dialog or transaction is closed after this long without a message; 0 = never. */
    readonly idleConnectionSeconds: number;
    /** [SIP_MESSAGE_DEADLINE_SECONDS] default 10: a message over TCP/TLS must be complete this long after its first byte, else the connection is closed (slowloris); 0 = no deadline. */
    readonly messageDeadlineSeconds: number;
  };
  readonly drachtio: {
    /**
     * [DRACHTIO_HOST] unset by default: the app starts the embedded engine in-process and connects to it.
     * Set it to use an external drachtio-server instead (production, docker-compose.yml).
     */
    readonly host: string | undefined;
    /** [DRACHTIO_PORT] default 9022: the drachtio admin port (the embedded engine listens there too). */
    readonly port: number;
    /** [DRACHTIO_SECRET] default 'cymru' (drachtio-server's documented default). */
    readonly secret: string;
  };
  readonly admin: {
    /** [ADMIN_HOST] default '127.0.0.1'. Without a token the API refuses any other address. */
    readonly host: string;
    /** [ADMIN_PORT] default 8080. */
    readonly port: number;
    /** [ADMIN_TOKEN] unset by default: bearer token for the admin API. */
    readonly token: string | undefined;
    /** [PROVISIONING_URL] unset by default: base URL of the auto-provisioning endpoint for providers without their own. */
    readonly provisioningUrl: string | undefined;
  };
  readonly store: {
    /** [SQLITE_PATH] default 'data/settings.db'. */
    readonly sqlitePath: string;
    /**
     * [DATABASE_URL] unset by default: `postgres://user:password@host:port/database` puts the settings
     * in that PostgreSQL database instead of the SQLite file, shared by every node that names it
     * (docs/policy.md "Settings database"); sqlitePath is then unused.
     */
    readonly databaseUrl: string | undefined;
    /** [PROVISIONING_FILE] unset by default: YAML/JSON bootstrap, applied idempotently at start when its content changed since it was last applied (docs/policy.md). */
    readonly provisioningFile: string | undefined;
  };
  /**
   * Several nodes sharing the database of store.databaseUrl (docs/scaling.md "Live calls across
   * nodes"): each node registers itself there with a heartbeat and writes its live calls, so that
   * the admin API of any node lists and controls the calls of all. Unused without DATABASE_URL.
   */
  readonly cluster: {
    /** [NODE_ID] unset by default = `<hostname>-<pid>`: this node's name in the live-call registry (unique per node). */
    readonly nodeId: string | undefined;
    /**
     * [NODE_ADMIN_URL] unset by default = `http://<admin.host>:<admin port>`: this node's admin API as the
     * other nodes reach it (actions on its calls are forwarded there); set it when admin.host is 0.0.0.0 or behind NAT.
     */
    readonly adminUrl: string | undefined;
    /** [NODE_HEARTBEAT_MS] default 2000: how often the node writes its heartbeat. */
    readonly heartbeatMs: number;
    /** [NODE_MISSED_HEARTBEATS] default 3: a node whose heartbeat is older than this many intervals is dead: its calls are no longer listed and are deleted. */
    readonly missedHeartbeats: number;
    /** [NODE_FORWARD_TIMEOUT_MS] default 5000: how long an action forwarded to the node owning a call may take before it fails with CALL_OWNER_UNREACHABLE. */
    readonly forwardTimeoutMs: number;
  };
  readonly media: {
    /** [MEDIA_PORT_MIN] default 40000 (even). */
    readonly portMin: number;
    /** [MEDIA_PORT_MAX] default 49999. */
    readonly portMax: number;
    /** [MEDIA_ADDRESS] default '127.0.0.1': the address written into SDP and bound for RTP. */
    readonly address: string;
    /** [PROMPTS_DIR] default 'prompts'. */
    readonly promptsDir: string;
    /**
     * [MEDIA_LATCHING] default 'auto': how a leg's RTP source is learnt (docs/nat.md).
     * 'sdp': only from the address and port its SDP names (strict); 'auto': from the SDP address, or,
     * when nothing arrives from there, the first source sending valid RTP of a negotiated payload type;
     * 'first-source': the first source sending valid RTP, the SDP address being only a hint.
     * After latching, other sources are dropped (hijack protection) until a re-INVITE/UPDATE names a new address.
     */
    readonly latching: LatchingMode;
    /** [MEDIA_LATCHING_TRUNK] unset by default (= latching): the mode for legs towards / from trunks. */
    readonly latchingTrunk: LatchingMode | undefined;
    /** [MEDIA_LATCHING_TRUSTED] unset by default (= latching): the mode for legs towards / from trusted sources (PBX, SBC). */
    readonly latchingTrusted: LatchingMode | undefined;
    /** [MEDIA_LATCHING_USER_AGENT] unset by default (= latching): the mode for legs of other user agents (phones). */
    readonly latchingUserAgent: LatchingMode | undefined;
    /** [MEDIA_LATCHING_BY_TRUNK, 'trunkId=mode,...'] default {}: a mode for one trunk, above latchingTrunk. */
    readonly latchingByTrunk: Readonly<Record<string, LatchingMode>>;
    /**
     * [MEDIA_SILENCE_ALARM_SECONDS] default 5, 0 = off: after answer, a leg that delivers no accepted RTP
     * for this long while the other leg does is reported once (warn log, metric by reason, recording summary
     * and final metadata).
     */
    readonly silenceAlarmSeconds: number;
    /**
     * [MEDIA_FORK_BUFFER_MS] default 3000, 0 = off, at most 60000: each party's audio kept per recording
     * from the call's answer until the recording server answers, then sent to it, so the recording
     * starts at the answer (docs/media.md "Fork start buffer").
     */
    readonly forkBufferMs: number;
    /**
     * [MEDIA_WORKERS] default: the number of cores (os.availableParallelism()), 1 to 64: media worker
     * threads; each call's media runs on the least loaded one (docs/media.md "Shape").
     */
    readonly workers: number;
    /**
     * [MEDIA_SOCKET_IO] default 'auto': how the media workers do socket I/O (docs/media.md "Batched
     * socket I/O"). 'native': the batched socket I/O addon built by npm ci (start fails if it
     * did not build); 'dgram': node:dgram, one call per datagram; 'auto': native when built, else dgram.
     */
    readonly socketIo: 'auto' | 'native' | 'dgram';
    /**
     * [MEDIA_IO_URING] default 'auto': with native socket I/O, each media worker reads and sends
     * through an io_uring, one system call per wake or flush for all its sockets (docs/media.md
     * "Batched socket I/O"); the kernel refusing it (old kernel, sysctl, a seccomp profile) leaves
     * recvmmsg/sendmmsg, one call per socket, with one info line saying why. 'off': those always.
     */
    readonly ioUring: 'auto' | 'off';
    /**
     * [MEDIA_WORKER_NICE] default 0, -20 to 19: the scheduling nice value of each media worker
     * thread (docs/media.md "Worker priority"), as rtpengine's --priority. Below 0 needs
     * CAP_SYS_NICE; refused, the workers run at normal priority and one warn line says so.
     */
    readonly workerNice: number;
  };
  readonly srs: {
    /** [SRS_ENABLED] default true: run the reference recording server in-process (the default provider). */
    readonly enabled: boolean;
    /**
     * [SRS_SIP_URI] default 'sip:srs@127.0.0.1:5090': where the reference recording server takes SIPREC INVITEs
     * (UDP and TCP); a `sips:` or `;transport=tls` URI listens on TLS only, with sip.tlsKeyFile / tlsCertFile.
     */
    readonly sipUri: string;
    /** [SRS_RTP_PORT_MIN] default 50000. */
    readonly rtpPortMin: number;
    /** [SRS_RTP_PORT_MAX] default 54999 (1,250 recordings of two streams, as many as the default media range carries calls). */
    readonly rtpPortMax: number;
    /** [RECORDINGS_DIR] default 'recordings'. */
    readonly recordingsDir: string;
    /**
     * [SRS_MIN_FREE_MB] default 200, 0 = off: free space (MiB, statfs) the recordings directory must
     * have for a new recording; under it the recording is refused (503 to the SIPREC INVITE, the
     * provider's failure policy applies to the call), counted and logged at warn.
     */
    readonly minFreeMb: number;
    /**
     * [SRS_STARTUP_CHECK] default 'refuse': the recordings directory is checked writable at start;
     * 'refuse' = the process exits with one line naming the directory; 'degraded' = it starts, logs
     * the error and refuses every recording with 503 and the cause.
     */
    readonly startupCheck: 'refuse' | 'degraded';
    /**
     * [SRS_RETENTION_DAYS] default 0 = keep: days the reference recording server keeps a recording
     * (counted from its start) when neither retentionByOrg nor, in-process, the plan of the
     * organisation's provider (R-08: free 30 days, paid without limit) says otherwise (src/srs/retention.ts).
     */
    readonly retentionDays: number;
    /** [SRS_RETENTION_BY_ORG, 'orgId=days,...'] default {}: retention per organisation (0 = keep), above the plan and retentionDays. */
    readonly retentionByOrg: Readonly<Record<string, number>>;
    /** [SRS_RETENTION_INTERVAL_SECONDS] default 3600: how often the retention clean-up runs (first run at start). */
    readonly retentionIntervalSeconds: number;
    /**
     * [SRS_HTTP_PORT] default 0 = off: the standalone recording server (src/srs/main.ts) serves the
     * recordings read API (docs/admin-api.md "Recordings") on this port; in-process the admin API serves it.
     */
    readonly httpPort: number;
    /** [SRS_HTTP_HOST] default '127.0.0.1': address of that API; another address needs httpToken. */
    readonly httpHost: string;
    /** [SRS_HTTP_TOKEN] unset by default: bearer token that API requires (RFC 6750). */
    readonly httpToken: string | undefined;
    /**
     * [SRS_MEDIA_WORKERS] default 1, 0 to 16: worker threads that receive the recordings' RTP and
     * write their WAV files (src/srs/srs-media-pool.ts), so the main event loop keeps signalling
     * only; 0 = on the main thread.
     */
    readonly mediaWorkers: number;
  };
  /** The recording event log (started/paused/resumed/stopped/failed per call; docs/observability.md). */
  readonly events: {
    /** [RECORDING_EVENTS_FILE] unset by default: append the events here as JSON lines (directory created). */
    readonly file: string | undefined;
    /** [RECORDING_EVENTS_WEBHOOK_URL] unset by default: POST the events here (http or https), batched, retried with back-off. */
    readonly webhookUrl: string | undefined;
    /** [RECORDING_EVENTS_WEBHOOK_TOKEN] unset by default: sent as `Authorization: Bearer <token>` to the webhook. */
    readonly webhookToken: string | undefined;
    /** [RECORDING_EVENTS_QUEUE_SIZE] default 1000: events held for the webhook; beyond it the oldest are dropped (counted). */
    readonly queueSize: number;
  };
  /** Who may place calls and where leg B goes (src/sip/admission.ts, src/sip/b2bua-routing.ts; docs/call-flows.md). */
  readonly calls: {
    /** [CALLS_TRUSTED_SOURCES, comma separated 'host' or 'host:port'] default []: PBXs / user agents whose calls are accepted besides trunks. */
    readonly trustedSources: readonly string[];
    /**
     * [CALLS_TRUSTED_BALANCERS, comma separated 'host' or 'host:port'] default []: SIP load balancers
     * (e.g. Kamailio, deploy/kamailio/) whose X-Balancer-Source header gives the carrier's address for
     * admission (src/sip/balancer-source.ts); from any other sender that header is ignored and counted.
     */
    readonly trustedBalancers: readonly string[];
    /** [CALLS_OPEN] default false: accept calls from any source (the caller must still be a known user or trunk). */
    readonly open: boolean;
    /** [CALLS_USER_PROXY] unset by default: SIP URI of the PBX / registrar that reaches users; unset = each user's first SIP identity. */
    readonly userProxy: string | undefined;
    /** [CALLS_TRUNK_TARGETS, 'trunkId=host:port,...'] default {}: where outbound PSTN calls go per trunk; default the trunk's first source address. */
    readonly trunkTargets: Readonly<Record<string, string>>;
    /** [CALLS_FEATURE_CODES, '*1=start,*2=stop,*3=pause,*4=resume'] default those: R-17 DTMF feature codes. */
    readonly featureCodes: Readonly<Record<string, 'start' | 'stop' | 'pause' | 'resume'>>;
    /** [CALLS_RING_TIMEOUT_MS] default 120000: how long leg B may ring. */
    readonly ringTimeoutMs: number;
    /** [CALLS_MAX_CONCURRENT] default 0 = unlimited: further INVITEs get 503 with Retry-After. */
    readonly maxConcurrentCalls: number;
    /**
     * [CALLS_RATE_LIMIT_PER_SOURCE] default 0 = off: out-of-dialog requests (any method) per second per
     * source address (token bucket); trunks and trusted sources have a bucket of their own per address
     * and port (src/sip/access-gate.ts).
     */
    readonly rateLimitPerSource: number;
    /** [CALLS_RATE_LIMIT_BURST] default 0 = twice the rate: the bucket size. */
    readonly rateLimitBurst: number;
    /** [CALLS_DRAIN_SECONDS] default 30: on SIGTERM, how long calls in progress may run on before they are ended. */
    readonly drainSeconds: number;
    /** [CALLS_DENY, comma separated addresses or CIDRs] default []: sources always refused, silently (no answer to any request). */
    readonly deny: readonly string[];
    /**
     * [CALLS_DIGEST_REALM] unset by default = digest authentication off. When set, an INVITE from a source
     * that is neither a trunk nor a trusted source must carry digest credentials (RFC 3261 section 22.3):
     * 407 with a Proxy-Authenticate challenge in this realm; an authenticated user is admitted even when
     * `open` is false (src/sip/digest-auth.ts, docs/hardening.md).
     */
    readonly digestRealm: string | undefined;
    /**
     * [CALLS_DIGEST_CREDENTIALS_FILE] unset by default; required with digestRealm: YAML/JSON
     * `{ users: [{ username, password? | ha1Md5? | ha1Sha256?, identities? }] }`, read once at start.
     */
    readonly digestCredentialsFile: string | undefined;
    /**
     * [CALLS_DIGEST_ALGORITHMS, comma separated 'MD5' | 'SHA-256', most preferred first] default ['MD5']:
     * the first is challenged (SIPp 3.6.1 and many phones answer MD5 only); all listed are accepted.
     */
    readonly digestAlgorithms: readonly ('MD5' | 'SHA-256')[];
    /** [CALLS_DIGEST_NONCE_SECONDS] default 300: how long a nonce is valid before a stale=true challenge. */
    readonly digestNonceSeconds: number;
    /**
     * [CALLS_DIGEST_MAX_FAILURES] default 5; 0 = no lockout: failed digest authentications (wrong
     * password, unknown user) of one user within digestLockoutSeconds that lock the user out; a
     * source address is locked after 4 x as many (src/sip/digest-lockout.ts).
     */
    readonly digestMaxFailures: number;
    /**
     * [CALLS_DIGEST_LOCKOUT_SECONDS] default 60: the failure window and the first lockout; each
     * further lockout of the same user or source doubles it, up to 64 x.
     */
    readonly digestLockoutSeconds: number;
  };
}

/** RTP source latching of a leg (config media.latching; docs/nat.md). */
export type LatchingMode = 'sdp' | 'auto' | 'first-source';
export const LATCHING_MODES: readonly LatchingMode[] = ['sdp', 'auto', 'first-source'];

/** Which sources get NAT-aware signalling (config sip.natContacts). */
export type NatContactsMode = 'user-agents' | 'all' | 'off';
export const NAT_CONTACTS_MODES: readonly NatContactsMode[] = ['user-agents', 'all', 'off'];

export type ConfigInput = { readonly [K in keyof Config]?: Partial<Config[K]> };
