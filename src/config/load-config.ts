import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../common/errors.js';
import { parseErrorLine } from '../common/parse-error-line.js';
import { findUnknownKeys, type KeyMap } from '../common/unknown-keys.js';
import { LATCHING_MODES, NAT_CONTACTS_MODES, type Config, type ConfigInput, type LatchingMode } from './config-types.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const DEFAULT_CONFIG: Config = {
  log: { level: 'info' },
  sip: { contacts: ['sip:127.0.0.1:5060;transport=udp,tcp'], tlsKeyFile: undefined, tlsCertFile: undefined, tlsCaFile: undefined, tlsVerify: true, natContacts: 'user-agents',
    maxConnections: 0, maxConnectionsPerSource: 50, idleConnectionSeconds: 32, messageDeadlineSeconds: 10 },
  drachtio: { host: undefined, port: 9022, secret: 'cymru' },
  admin: { host: '127.0.0.1', port: 8080, token: undefined, provisioningUrl: undefined },
  store: { sqlitePath: 'data/settings.db', databaseUrl: undefined, provisioningFile: undefined },
  cluster: { nodeId: undefined, adminUrl: undefined, heartbeatMs: 2000, missedHeartbeats: 3, forwardTimeoutMs: 5000 },
  media: {
    portMin: 40000,
    portMax: 49999,
    address: '127.0.0.1',
    promptsDir: 'prompts',
    latching: 'auto',
    latchingTrunk: undefined,
    latchingTrusted: undefined,
    latchingUserAgent: undefined,
    latchingByTrunk: {},
    silenceAlarmSeconds: 5,
    forkBufferMs: 3000,
    workers: availableParallelism(),
    socketIo: 'auto',
    ioUring: 'auto',
    workerNice: 0,
  },
  srs: { enabled: true, sipUri: 'sip:srs@127.0.0.1:5090', rtpPortMin: 50000, rtpPortMax: 54999, recordingsDir: 'recordings', minFreeMb: 200, startupCheck: 'refuse',
    retentionDays: 0, retentionByOrg: {}, retentionIntervalSeconds: 3600, httpPort: 0, httpHost: '127.0.0.1', httpToken: undefined, mediaWorkers: 1 },
  events: { file: undefined, webhookUrl: undefined, webhookToken: undefined, queueSize: 1000 },
  calls: {
    trustedSources: [],
    trustedBalancers: [],
    open: false,
    userProxy: undefined,
    trunkTargets: {},
    featureCodes: { '*1': 'start', '*2': 'stop', '*3': 'pause', '*4': 'resume' },
    ringTimeoutMs: 120_000,
    maxConcurrentCalls: 0,
    rateLimitPerSource: 0,
    rateLimitBurst: 0,
    drainSeconds: 30,
    deny: [],
    digestRealm: undefined,
    digestCredentialsFile: undefined,
    digestAlgorithms: ['MD5'],
    digestNonceSeconds: 300,
    digestMaxFailures: 5,
    digestLockoutSeconds: 60,
  },
};

type Env = Readonly<Record<string, string | undefined>>;

/** Reads CONFIG_FILE (if set) then the environment, validates everything, and returns a frozen Config. */
export function loadConfig(env: Env = process.env): Config {
  const fromFile = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  return buildConfig(mergeInput(fromFile, inputFromEnv(env)));
}

function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `cannot read CONFIG_FILE ${path}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `${path} ${parseErrorLine(err, text)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AppError('CONFIG_INVALID', `${path} is not an object`);
  const unknown = findUnknownKeys(parsed, configKeys());
  if (unknown.length > 0) throw new AppError('CONFIG_INVALID', `${path}: ${unknown.join('; ')}`);
  return parsed as ConfigInput;
}

/**
 * The keys a config file may hold: the sections and keys of DEFAULT_CONFIG, two levels deep (a
 * key's value is not looked into: `calls.trunkTargets` holds the operator's own names). Unknown
 * environment variables are not keys and stay ignored.
 */
function configKeys(): KeyMap {
  const sections = Object.entries(DEFAULT_CONFIG).map(([section, values]) => [section, Object.fromEntries(Object.keys(values).map((k) => [k, 'value']))]);
  return Object.fromEntries(sections) as KeyMap;
}

function inputFromEnv(env: Env): ConfigInput {
  const str = (k: string): string | undefined => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const num = (k: string): number | undefined => (str(k) === undefined ? undefined : Number(str(k)));
  const bool = (k: string): boolean | undefined => {
    const v = str(k);
    return v === undefined ? undefined : /^(1|true|yes|on)$/i.test(v);
  };
  const drop = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    log: drop({ level: str('LOG_LEVEL') as Config['log']['level'] | undefined }),
    // a comma starts a new contact only before 'sip:'/'sips:', so ';transport=udp,tcp' stays in its contact
    sip: drop({
      contacts: str('SIP_CONTACTS')?.split(/,(?=\s*sips?:)/i).map((s) => s.trim()).filter(Boolean),
      tlsKeyFile: str('SIP_TLS_KEY_FILE'),
      tlsCertFile: str('SIP_TLS_CERT_FILE'),
      tlsCaFile: str('SIP_TLS_CA_FILE'),
      tlsVerify: bool('SIP_TLS_VERIFY'),
      natContacts: str('SIP_NAT_CONTACTS') as Config['sip']['natContacts'] | undefined,
      maxConnections: num('SIP_MAX_CONNECTIONS'),
      maxConnectionsPerSource: num('SIP_MAX_CONNECTIONS_PER_SOURCE'),
      idleConnectionSeconds: num('SIP_IDLE_CONNECTION_SECONDS'),
      messageDeadlineSeconds: num('SIP_MESSAGE_DEADLINE_SECONDS'),
    }),
    drachtio: drop({ host: str('DRACHTIO_HOST'), port: num('DRACHTIO_PORT'), secret: str('DRACHTIO_SECRET') }),
    admin: drop({ host: str('ADMIN_HOST'), port: num('ADMIN_PORT'), token: str('ADMIN_TOKEN'), provisioningUrl: str('PROVISIONING_URL') }),
    store: drop({ sqlitePath: str('SQLITE_PATH'), databaseUrl: str('DATABASE_URL'), provisioningFile: str('PROVISIONING_FILE') }),
    cluster: drop({
      nodeId: str('NODE_ID'),
      adminUrl: str('NODE_ADMIN_URL'),
      heartbeatMs: num('NODE_HEARTBEAT_MS'),
      missedHeartbeats: num('NODE_MISSED_HEARTBEATS'),
      forwardTimeoutMs: num('NODE_FORWARD_TIMEOUT_MS'),
    }),
    media: drop({
      portMin: num('MEDIA_PORT_MIN'),
      portMax: num('MEDIA_PORT_MAX'),
      address: str('MEDIA_ADDRESS'),
      promptsDir: str('PROMPTS_DIR'),
      latching: str('MEDIA_LATCHING') as LatchingMode | undefined,
      latchingTrunk: str('MEDIA_LATCHING_TRUNK') as LatchingMode | undefined,
      latchingTrusted: str('MEDIA_LATCHING_TRUSTED') as LatchingMode | undefined,
      latchingUserAgent: str('MEDIA_LATCHING_USER_AGENT') as LatchingMode | undefined,
      latchingByTrunk: pairs(str('MEDIA_LATCHING_BY_TRUNK')) as Config['media']['latchingByTrunk'] | undefined,
      silenceAlarmSeconds: num('MEDIA_SILENCE_ALARM_SECONDS'),
      forkBufferMs: num('MEDIA_FORK_BUFFER_MS'),
      workers: num('MEDIA_WORKERS'),
      socketIo: str('MEDIA_SOCKET_IO') as Config['media']['socketIo'] | undefined,
      ioUring: str('MEDIA_IO_URING') as Config['media']['ioUring'] | undefined,
      workerNice: num('MEDIA_WORKER_NICE'),
    }),
    srs: drop({
      enabled: bool('SRS_ENABLED'),
      sipUri: str('SRS_SIP_URI'),
      rtpPortMin: num('SRS_RTP_PORT_MIN'),
      rtpPortMax: num('SRS_RTP_PORT_MAX'),
      recordingsDir: str('RECORDINGS_DIR'),
      minFreeMb: num('SRS_MIN_FREE_MB'),
      startupCheck: str('SRS_STARTUP_CHECK') as Config['srs']['startupCheck'] | undefined,
      retentionDays: num('SRS_RETENTION_DAYS'),
      retentionByOrg: numberPairs(pairs(str('SRS_RETENTION_BY_ORG'))),
      retentionIntervalSeconds: num('SRS_RETENTION_INTERVAL_SECONDS'),
      httpPort: num('SRS_HTTP_PORT'),
      httpHost: str('SRS_HTTP_HOST'),
      httpToken: str('SRS_HTTP_TOKEN'),
      mediaWorkers: num('SRS_MEDIA_WORKERS'),
    }),
    events: drop({
      file: str('RECORDING_EVENTS_FILE'),
      webhookUrl: str('RECORDING_EVENTS_WEBHOOK_URL'),
      webhookToken: str('RECORDING_EVENTS_WEBHOOK_TOKEN'),
      queueSize: num('RECORDING_EVENTS_QUEUE_SIZE'),
    }),
    calls: drop({
      trustedSources: list(str('CALLS_TRUSTED_SOURCES')),
      trustedBalancers: list(str('CALLS_TRUSTED_BALANCERS')),
      open: bool('CALLS_OPEN'),
      userProxy: str('CALLS_USER_PROXY'),
      trunkTargets: pairs(str('CALLS_TRUNK_TARGETS')),
      featureCodes: pairs(str('CALLS_FEATURE_CODES')) as Config['calls']['featureCodes'] | undefined,
      ringTimeoutMs: num('CALLS_RING_TIMEOUT_MS'),
      maxConcurrentCalls: num('CALLS_MAX_CONCURRENT'),
      rateLimitPerSource: num('CALLS_RATE_LIMIT_PER_SOURCE'),
      rateLimitBurst: num('CALLS_RATE_LIMIT_BURST'),
      drainSeconds: num('CALLS_DRAIN_SECONDS'),
      deny: list(str('CALLS_DENY')),
      digestRealm: str('CALLS_DIGEST_REALM'),
      digestCredentialsFile: str('CALLS_DIGEST_CREDENTIALS_FILE'),
      digestAlgorithms: list(str('CALLS_DIGEST_ALGORITHMS')) as Config['calls']['digestAlgorithms'] | undefined,
      digestNonceSeconds: num('CALLS_DIGEST_NONCE_SECONDS'),
      digestMaxFailures: num('CALLS_DIGEST_MAX_FAILURES'),
      digestLockoutSeconds: num('CALLS_DIGEST_LOCKOUT_SECONDS'),
    }),
  };
}

function list(value: string | undefined): string[] | undefined {
  return value?.split(',').map((s) => s.trim()).filter(Boolean);
}

/** 'a=b, c=d' -> { a: 'b', c: 'd' }; an item without '=' maps to '' and is reported by validation. */
function pairs(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const item of list(value) ?? []) {
    const eq = item.indexOf('=');
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** pairs() with numeric values ('' or text becomes NaN and is reported by validation). */
function numberPairs(value: Record<string, string> | undefined): Record<string, number> | undefined {
  return value === undefined ? undefined : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === '' ? Number.NaN : Number(v)]));
}

function mergeInput(a: ConfigInput, b: ConfigInput): ConfigInput {
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ConfigInput>) {
    out[key] = { ...(a[key] ?? {}), ...(b[key] ?? {}) };
  }
  return out as ConfigInput;
}

/** Applies defaults to an input and validates it; every problem is listed in one CONFIG_INVALID error. */
export function buildConfig(input: ConfigInput): Config {
  const c = {} as Record<keyof Config, unknown>;
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof Config)[]) {
    c[key] = Object.freeze({ ...DEFAULT_CONFIG[key], ...(input[key] ?? {}) });
  }
  const config = c as unknown as Config;
  const problems: string[] = [];
  const port = (name: string, v: number, allowZero = false): void => {
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) problems.push(`${name} must be a port number (got ${v})`);
  };
  if (!LOG_LEVELS.includes(config.log.level as (typeof LOG_LEVELS)[number])) {
    problems.push(`log.level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (config.sip.contacts.length === 0) problems.push('sip.contacts needs at least one contact');
  if ((config.sip.tlsKeyFile === undefined) !== (config.sip.tlsCertFile === undefined)) {
    problems.push('sip.tlsKeyFile and sip.tlsCertFile (SIP_TLS_KEY_FILE, SIP_TLS_CERT_FILE) go together');
  }
  for (const contact of config.sip.contacts) {
    if (!/^sips?:[^;]+(;.*)?$/.test(contact)) problems.push(`sip.contacts: '${contact}' is not a SIP URI`);
  }
  port('drachtio.port', config.drachtio.port);
  if (!config.drachtio.secret) problems.push('drachtio.secret must not be empty');
  port('admin.port', config.admin.port, true);
  if (!config.admin.token && !['127.0.0.1', 'localhost', '::1'].includes(config.admin.host)) {
    problems.push('admin.host may be a non-loopback address only when admin.token is set');
  }
  if (config.admin.provisioningUrl !== undefined && !/^https?:\/\/./.test(config.admin.provisioningUrl)) {
    problems.push(`admin.provisioningUrl '${config.admin.provisioningUrl}' is not an http(s) URL`);
  }
  if (config.store.databaseUrl !== undefined && !/^postgres(ql)?:\/\/./.test(config.store.databaseUrl)) {
    problems.push('store.databaseUrl (DATABASE_URL) must be a postgres:// or postgresql:// URL');
  }
  if (config.cluster.nodeId !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(config.cluster.nodeId)) {
    problems.push(`cluster.nodeId (NODE_ID) must be 1-128 letters, digits, '.', '_', ':' or '-' (got '${config.cluster.nodeId}')`);
  }
  if (config.cluster.adminUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(config.cluster.adminUrl)) {
    problems.push(`cluster.adminUrl (NODE_ADMIN_URL) must be an http(s) base URL such as http://10.0.0.5:8080 (got '${config.cluster.adminUrl}')`);
  }
  for (const [key, min] of [['heartbeatMs', 100], ['missedHeartbeats', 1], ['forwardTimeoutMs', 100]] as const) {
    if (!Number.isInteger(config.cluster[key]) || config.cluster[key] < min) problems.push(`cluster.${key} must be a whole number >= ${min} (got ${String(config.cluster[key])})`);
  }
  if (config.calls.userProxy !== undefined && !/^sips?:./.test(config.calls.userProxy)) {
    problems.push(`calls.userProxy '${config.calls.userProxy}' is not a SIP URI`);
  }
  for (const [trunk, target] of Object.entries(config.calls.trunkTargets)) {
    if (!/^[^\s:;]+(:\d{1,5})?(;.*)?$/.test(target)) problems.push(`calls.trunkTargets: '${trunk}=${target}' needs host[:port]`);
  }
  for (const [code, action] of Object.entries(config.calls.featureCodes)) {
    if (!/^[0-9*#A-D]{1,8}$/.test(code)) problems.push(`calls.featureCodes: '${code}' is not a DTMF sequence`);
    if (!['start', 'stop', 'pause', 'resume'].includes(action)) problems.push(`calls.featureCodes: '${code}=${action}' is not start|stop|pause|resume`);
  }
  for (const key of ['maxConcurrentCalls', 'rateLimitPerSource', 'rateLimitBurst', 'drainSeconds'] as const) {
    if (!Number.isFinite(config.calls[key]) || config.calls[key] < 0) problems.push(`calls.${key} must be a number >= 0 (0 = off)`);
  }
  if (!Number.isInteger(config.calls.ringTimeoutMs) || config.calls.ringTimeoutMs < 1000) {
    problems.push('calls.ringTimeoutMs must be a whole number of ms >= 1000');
  }
  if (config.calls.digestRealm !== undefined) {
    if (config.calls.digestRealm === '' || /["\\\r\n]/.test(config.calls.digestRealm)) problems.push('calls.digestRealm must not contain quotes, backslashes or line breaks');
    if (!config.calls.digestCredentialsFile) problems.push('calls.digestCredentialsFile (CALLS_DIGEST_CREDENTIALS_FILE) is required when calls.digestRealm is set');
  }
  const algorithms = config.calls.digestAlgorithms;
  if (!Array.isArray(algorithms) || algorithms.length === 0 || algorithms.some((a) => a !== 'MD5' && a !== 'SHA-256') || new Set(algorithms).size !== algorithms.length) {
    problems.push(`calls.digestAlgorithms must list 'MD5' and/or 'SHA-256' once each (got ${JSON.stringify(algorithms)})`);
  }
  if (!Number.isInteger(config.calls.digestMaxFailures) || config.calls.digestMaxFailures < 0) {
    problems.push('calls.digestMaxFailures must be a whole number >= 0 (0 = no lockout)');
  }
  if (!Number.isInteger(config.calls.digestLockoutSeconds) || config.calls.digestLockoutSeconds < 1) {
    problems.push('calls.digestLockoutSeconds must be a whole number of seconds >= 1');
  }
  if (!Number.isInteger(config.calls.digestNonceSeconds) || config.calls.digestNonceSeconds < 1) {
    problems.push('calls.digestNonceSeconds must be a whole number of seconds >= 1');
  }
  port('media.portMin', config.media.portMin);
  port('media.portMax', config.media.portMax);
  if (config.media.portMin % 2 !== 0) problems.push('media.portMin must be even (RTP on even, RTCP on odd ports)');
  if (config.media.portMax - config.media.portMin < 3) problems.push('media.portMax must be above media.portMin');
  const latching = (name: string, v: unknown, optional: boolean): void => {
    if (optional && v === undefined) return;
    if (!LATCHING_MODES.includes(v as LatchingMode)) problems.push(`${name} must be one of ${LATCHING_MODES.join(', ')} (got ${String(v)})`);
  };
  latching('media.latching', config.media.latching, false);
  latching('media.latchingTrunk', config.media.latchingTrunk, true);
  latching('media.latchingTrusted', config.media.latchingTrusted, true);
  latching('media.latchingUserAgent', config.media.latchingUserAgent, true);
  for (const [trunk, mode] of Object.entries(config.media.latchingByTrunk)) latching(`media.latchingByTrunk.${trunk}`, mode, false);
  if (!Number.isFinite(config.media.silenceAlarmSeconds) || config.media.silenceAlarmSeconds < 0) {
    problems.push('media.silenceAlarmSeconds must be a number >= 0 (0 = off)');
  }
  if (!Number.isInteger(config.media.forkBufferMs) || config.media.forkBufferMs < 0 || config.media.forkBufferMs > 60_000) {
    problems.push(`media.forkBufferMs must be a whole number of ms from 0 (off) to 60000 (got ${String(config.media.forkBufferMs)})`);
  }
  if (!Number.isInteger(config.media.workers) || config.media.workers < 1 || config.media.workers > 64) {
    problems.push(`media.workers must be a whole number of media worker threads from 1 to 64 (got ${String(config.media.workers)})`);
  }
  if (!Number.isInteger(config.media.workerNice) || config.media.workerNice < -20 || config.media.workerNice > 19) {
    problems.push(`media.workerNice must be a whole nice value from -20 to 19 (got ${String(config.media.workerNice)})`);
  }
  if (!['auto', 'native', 'dgram'].includes(config.media.socketIo)) {
    problems.push(`media.socketIo must be auto, native or dgram (got ${String(config.media.socketIo)})`);
  }
  if (!['auto', 'off'].includes(config.media.ioUring)) {
    problems.push(`media.ioUring must be auto or off (got ${String(config.media.ioUring)})`);
  }
  for (const key of ['maxConnections', 'maxConnectionsPerSource'] as const) {
    if (!Number.isInteger(config.sip[key]) || config.sip[key] < 0) problems.push(`sip.${key} must be a whole number >= 0 (0 = ${key === 'maxConnections' ? 'from the file-descriptor budget' : 'no cap'})`);
  }
  for (const key of ['idleConnectionSeconds', 'messageDeadlineSeconds'] as const) {
    if (!Number.isFinite(config.sip[key]) || config.sip[key] < 0) problems.push(`sip.${key} must be a number of seconds >= 0 (0 = off)`);
  }
  if (!NAT_CONTACTS_MODES.includes(config.sip.natContacts)) problems.push(`sip.natContacts must be one of ${NAT_CONTACTS_MODES.join(', ')} (got ${String(config.sip.natContacts)})`);
  port('srs.rtpPortMin', config.srs.rtpPortMin);
  port('srs.rtpPortMax', config.srs.rtpPortMax);
  if (config.srs.rtpPortMax - config.srs.rtpPortMin < 3) problems.push('srs.rtpPortMax must be above srs.rtpPortMin');
  if (!/^sips?:/.test(config.srs.sipUri)) problems.push(`srs.sipUri '${config.srs.sipUri}' is not a SIP URI`);
  if (config.srs.enabled && (/^sips:/i.test(config.srs.sipUri) || /;transport=tls\b/i.test(config.srs.sipUri)) && config.sip.tlsKeyFile === undefined) {
    problems.push(`srs.sipUri '${config.srs.sipUri}' listens on TLS: sip.tlsKeyFile and sip.tlsCertFile (SIP_TLS_KEY_FILE, SIP_TLS_CERT_FILE) are needed`);
  }
  if (!Number.isFinite(config.srs.minFreeMb) || config.srs.minFreeMb < 0) problems.push(`srs.minFreeMb must be a number of MB >= 0 (0 = off; got ${String(config.srs.minFreeMb)})`);
  if (!['refuse', 'degraded'].includes(config.srs.startupCheck)) problems.push(`srs.startupCheck must be refuse or degraded (got ${String(config.srs.startupCheck)})`);
  if (!Number.isFinite(config.srs.retentionDays) || config.srs.retentionDays < 0) problems.push(`srs.retentionDays must be a number of days >= 0 (0 = keep; got ${String(config.srs.retentionDays)})`);
  for (const [org, days] of Object.entries(config.srs.retentionByOrg ?? {})) {
    if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) problems.push(`srs.retentionByOrg: '${org}' needs a number of days >= 0 (0 = keep)`);
  }
  if (!Number.isFinite(config.srs.retentionIntervalSeconds) || config.srs.retentionIntervalSeconds < 1) problems.push('srs.retentionIntervalSeconds must be a number of seconds >= 1');
  port('srs.httpPort', config.srs.httpPort, true);
  if (!Number.isInteger(config.srs.mediaWorkers) || config.srs.mediaWorkers < 0 || config.srs.mediaWorkers > 16) {
    problems.push(`srs.mediaWorkers must be a whole number of recording server media worker threads from 0 to 16 (got ${String(config.srs.mediaWorkers)})`);
  }
  if (config.srs.httpPort > 0 && !config.srs.httpToken && !['127.0.0.1', 'localhost', '::1'].includes(config.srs.httpHost)) {
    problems.push('srs.httpHost may be a non-loopback address only when srs.httpToken is set');
  }
  if (config.events.webhookUrl !== undefined && !/^https?:\/\/./.test(config.events.webhookUrl)) {
    problems.push(`events.webhookUrl '${config.events.webhookUrl}' is not an http(s) URL`);
  }
  if (!Number.isInteger(config.events.queueSize) || config.events.queueSize < 1) {
    problems.push(`events.queueSize must be a positive integer (got ${config.events.queueSize})`);
  }
  if (problems.length > 0) throw new AppError('CONFIG_INVALID', problems.join('; '));
  return Object.freeze(config);
}
