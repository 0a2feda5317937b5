/**
 * Runnable reference recording server.
 *
 *   node --import tsx src/srs/main.ts [options]
 *
 *   --drachtio host:port        drachtio endpoint to connect to (default 127.0.0.1:9022)
 *   --secret s                  its shared secret (default cymru)
 *   --engine <sip-contact>      start the embedded SIP engine in-process with this contact, e.g.
 *                               "sip:127.0.0.1:5080;transport=udp,tcp" (the app then connects to it)
 *   --rtp-address a             media address (default 127.0.0.1)
 *   --rtp-ports from-to         RTP port range (default 40000-40999)
 *   --recordings-dir d          recordings root (default ./recordings)
 *   --min-free-mb n             refuse new recordings (503) under n MB free in it (default 200, 0 = off)
 *   --startup-check m           recordings root not writable at start: refuse (exit, default) | degraded
 *   --no-require-siprec         accept INVITEs without Require: siprec
 *   --no-srtp                   refuse RTP/SAVP offers (488) instead of decrypting SDES-SRTP
 *   --fault spec                none | no-answer | reject[:status] | slow-answer[:ms] | bye-after[:ms]
 *   --tls-key f / --tls-cert f  PEM key and certificate of the engine's TLS transport (an --engine
 *                               contact with ;transport=tls or sips:), default sip.tlsKeyFile / tlsCertFile
 *   --tls-ca f                  PEM CAs that verify TLS peers (default sip.tlsCaFile)
 *   --retention-days n          keep recordings n days, 0 = keep (default srs.retentionDays, 0)
 *   --retention-org org=days    retention of one organisation, repeatable (default srs.retentionByOrg)
 *   --retention-interval s      seconds between clean-ups (default srs.retentionIntervalSeconds, 3600)
 *   --http-port n               recordings read API on this port, 0 = off (default srs.httpPort, 0)
 *   --http-host h / --http-token t  its address and bearer token (default srs.httpHost / srs.httpToken)
 *   --media-workers n           worker threads receiving the RTP and writing the WAVs, 0 = main thread
 *                               (default srs.mediaWorkers, 1)
 *
 * The defaults of the TLS, retention and HTTP flags come from the product configuration
 * (CONFIG_FILE and the environment, src/config: SRS_RETENTION_DAYS, SRS_HTTP_PORT, ...); the flags win.
 * SIGINT/SIGTERM: BYE every active recording, finalise the files, stop the clean-up and the HTTP
 * API, disconnect, stop the engine.
 */
import Srf from 'drachtio-srf';
import { readFileSync } from 'node:fs';
import { isAppError } from '../common/errors.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../observability/logger.js';
import type { SrsFaultOptions } from './srs-fault-options.js';
import { resolveSrsOptions, type SrsOptions } from './srs-options.js';
import { SrsApp } from './srs-app.js';
import { startRecordingsHttpServer } from '../admin/recordings-server.js';
import { RecordingRetention, configRetention } from './retention.js';

export function parseFault(spec: string): SrsFaultOptions {
  const [mode, arg] = spec.split(':');
  const n = arg === undefined ? undefined : Number(arg);
  if (n !== undefined && !Number.isFinite(n)) throw new RangeError(`bad fault argument in '${spec}'`);
  switch (mode) {
    case 'none':
      return { mode: 'none' };
    case 'no-answer':
      return { mode: 'no-answer' };
    case 'reject':
      return n === undefined ? { mode: 'reject' } : { mode: 'reject', status: n };
    case 'slow-answer':
      return n === undefined ? { mode: 'slow-answer' } : { mode: 'slow-answer', delayMs: n };
    case 'bye-after':
      return n === undefined ? { mode: 'bye-after' } : { mode: 'bye-after', afterMs: n };
    default:
      throw new RangeError(`unknown fault '${spec}'`);
  }
}

/** The standalone server's flags beyond SrsOptions; unset ones take the configuration's value. */
export interface SrsStandaloneFlags {
  tlsKeyFile?: string;
  tlsCertFile?: string;
  tlsCaFile?: string;
  retentionDays?: number;
  retentionByOrg?: Record<string, number>;
  retentionIntervalSeconds?: number;
  httpPort?: number;
  httpHost?: string;
  httpToken?: string;
  mediaWorkers?: number;
}

export interface SrsCommandLine {
  options: SrsOptions;
  engineContact: string | undefined;
  standalone: SrsStandaloneFlags;
}

function wholeNumber(flag: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new RangeError(`${flag} wants a whole number ${min}..${max}`);
  return n;
}

export function parseSrsArgs(argv: readonly string[]): SrsCommandLine {
  const o = resolveSrsOptions();
  let engineContact: string | undefined;
  const standalone: SrsStandaloneFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--drachtio': {
        const [host, port] = value().split(':');
        o.drachtio = { ...o.drachtio, host: host!, port: Number(port ?? 9022) };
        break;
      }
      case '--secret':
        o.drachtio = { ...o.drachtio, secret: value() };
        break;
      case '--engine':
        engineContact = value();
        break;
      case '--rtp-address':
        o.rtpAddress = value();
        break;
      case '--rtp-ports': {
        const [from, to] = value().split('-').map(Number);
        if (!Number.isInteger(from) || !Number.isInteger(to)) throw new RangeError('--rtp-ports wants from-to');
        o.rtpPorts = { from: from!, to: to! };
        break;
      }
      case '--recordings-dir':
        o.recordingsDir = value();
        break;
      case '--min-free-mb': {
        const n = Number(value());
        if (!Number.isFinite(n) || n < 0) throw new RangeError('--min-free-mb wants a number of MB >= 0');
        o.minFreeMb = n;
        break;
      }
      case '--startup-check': {
        const m = value();
        if (m !== 'refuse' && m !== 'degraded') throw new RangeError('--startup-check wants refuse or degraded');
        o.startupCheck = m;
        break;
      }
      case '--no-require-siprec':
        o.requireSiprec = false;
        break;
      case '--no-srtp':
        o.srtp = false;
        break;
      case '--fault':
        o.faults = parseFault(value());
        break;
      case '--tls-key':
        standalone.tlsKeyFile = value();
        break;
      case '--tls-cert':
        standalone.tlsCertFile = value();
        break;
      case '--tls-ca':
        standalone.tlsCaFile = value();
        break;
      case '--retention-days':
        standalone.retentionDays = wholeNumber(a, value(), 0);
        break;
      case '--retention-org': {
        const [org, days] = value().split('=');
        if (!org || days === undefined) throw new RangeError('--retention-org wants orgId=days');
        standalone.retentionByOrg = { ...standalone.retentionByOrg, [org]: wholeNumber(a, days, 0) };
        break;
      }
      case '--retention-interval':
        standalone.retentionIntervalSeconds = wholeNumber(a, value(), 1);
        break;
      case '--http-port':
        standalone.httpPort = wholeNumber(a, value(), 0, 65535);
        break;
      case '--http-host':
        standalone.httpHost = value();
        break;
      case '--http-token':
        standalone.httpToken = value();
        break;
      case '--media-workers':
        standalone.mediaWorkers = wholeNumber(a, value(), 0, 16);
        break;
      default:
        throw new RangeError(`unknown option ${a}`);
    }
  }
  return { options: o, engineContact, standalone };
}

async function main(): Promise<void> {
  const { options, engineContact, standalone } = parseSrsArgs(process.argv.slice(2));
  const config = loadConfig();
  const flags = { ...config.sip, ...config.srs, ...standalone };
  const logger = createLogger({ base: { component: 'srs-main' } });
  options.mediaWorkers = flags.mediaWorkers;
  let engine: { close(): Promise<void> } | undefined;
  if (engineContact) {
    const { startEngine } = await import('../engine/index.js');
    const tls =
      flags.tlsKeyFile === undefined || flags.tlsCertFile === undefined
        ? undefined
        : {
            key: readFileSync(flags.tlsKeyFile),
            cert: readFileSync(flags.tlsCertFile),
            ...(flags.tlsCaFile === undefined ? {} : { ca: readFileSync(flags.tlsCaFile) }),
            rejectUnauthorized: config.sip.tlsVerify,
          };
    const e = await startEngine({
      sipContacts: [engineContact],
      adminHost: options.drachtio.host,
      adminPort: options.drachtio.port,
      secret: options.drachtio.secret,
      logger,
      ...(tls ? { tls } : {}),
    });
    engine = e;
    options.drachtio = { ...options.drachtio, port: e.adminAddress.port };
  }
  const srf = new Srf();
  srf.on('error', (err: Error) => logger.warn({ err }, 'drachtio connection error'));
  const app = new SrsApp(srf, options, { logger });
  await app.checkStorage();
  app.attach();
  const retention = new RecordingRetention({
    recordingsDir: options.recordingsDir,
    policy: configRetention({ days: flags.retentionDays, byOrg: flags.retentionByOrg }),
    intervalMs: flags.retentionIntervalSeconds * 1000,
    isActive: (id) => app.recordings().has(id),
    after: app.recovery,
    logger,
  });
  void retention.start();
  const http =
    flags.httpPort > 0
      ? await startRecordingsHttpServer({ recordingsDir: options.recordingsDir, host: flags.httpHost, port: flags.httpPort, token: flags.httpToken, logger })
      : undefined;
  srf.on('connect', (err: Error, hostport: string) => {
    if (!err) logger.info({ hostport, recordingsDir: options.recordingsDir }, 'recording server ready');
  });
  void srf.connect(options.drachtio);
  const stop = async (): Promise<void> => {
    await app.close();
    await retention.close();
    await http?.close();
    srf.disconnect();
    await engine?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    console.error(isAppError(err) ? `${err.code}: ${err.message}` : err);
    process.exit(1);
  });
}
