/**
 * A drachtio-server process the engine harness starts itself when DRACHTIO_BIN names a binary, so the
 * engine conformance files run against the reference server with one command and no shared state:
 *
 *   DRACHTIO_BIN=/path/to/drachtio npm run test:engine-parity
 *
 * Each harness gets its own server on the harness's SIP and app ports, with the same shrunk RFC 3261
 * timers the embedded harness uses (drachtio-server reads them from `drachtio.sip.timers` in its
 * config file; there is no command-line flag), so timer tests read one set of values on both. The
 * server logs to a file next to its config in a temporary folder; the folder is removed on stop
 * unless the server failed, and its log tail goes into the error message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait.js';

export interface DrachtioServerOptions {
  readonly bin: string;
  readonly host: string;
  readonly sipPort: number;
  readonly adminPort: number;
  readonly secret: string;
  /** Transports of the SIP contact, e.g. 'udp,tcp'. */
  readonly transports: string;
  readonly timers: { readonly t1: number; readonly t2: number; readonly t4: number };
  /** Emit CDR events to apps (`<cdrs>true</cdrs>`). Default false, as drachtio-server's own default. */
  readonly cdrs?: boolean;
}

export interface DrachtioServerProcess {
  readonly pid: number;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** SIGTERM, then SIGKILL after 3 s; removes the temporary folder. Idempotent. */
  stop(): Promise<void>;
}

/** The configuration file drachtio-server reads with `-f`: app port and secret, one SIP contact, timers, console logging. */
export function drachtioConfigXml(o: DrachtioServerOptions): string {
  const { t1, t2, t4 } = o.timers;
  return [
    '<drachtio>',
    `  <admin port="${o.adminPort}" secret="${o.secret}">${o.host}</admin>`,
    '  <sip>',
    `    <contacts><contact>sip:${o.host}:${o.sipPort};transport=${o.transports}</contact></contacts>`,
    `    <timers><t1>${t1}</t1><t2>${t2}</t2><t4>${t4}</t4><t1x64>${64 * t1}</t1x64></timers>`,
    '  </sip>',
    `  <cdrs>${o.cdrs ? 'true' : 'false'}</cdrs>`,
    '  <logging><console/><sofia-loglevel>3</sofia-loglevel><loglevel>info</loglevel></logging>',
    '</drachtio>',
    '',
  ].join('\n');
}

const canConnect = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

/** Starts the server and resolves once its app port accepts connections (at most `readyMs`, default 10 s). */
export async function startDrachtioServer(o: DrachtioServerOptions, readyMs = 10_000): Promise<DrachtioServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'drachtio-server-'));
  const configFile = join(dir, 'drachtio.conf.xml');
  const logFile = join(dir, 'drachtio.log');
  writeFileSync(configFile, drachtioConfigXml(o));
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(o.bin, ['-f', configFile, '--stdout'], { stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = `exited (code ${code}, signal ${signal})`;
      resolve();
    });
    child.once('error', (err) => {
      exit = `could not start: ${err.message}`;
      resolve();
    });
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exit === undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyMs;
  const fail = async (why: string): Promise<never> => {
    const tail = log().slice(-2000);
    await stop();
    throw new Error(`drachtio-server (${o.bin}) ${why}; log tail:\n${tail}`);
  };
  while (!(await canConnect(o.host, o.adminPort))) {
    if (exit !== undefined) await fail(exit);
    if (Date.now() > deadline) await fail(`not listening on ${o.host}:${o.adminPort} after ${readyMs} ms`);
    await sleep(50);
  }
  // Another process may hold the app port: then ours fails to bind and exits, while the probe above
  // reached the other listener. Alive a moment later and no bind failure in its log means it is ours.
  await sleep(150);
  if (exit !== undefined) await fail(exit);
  if (/address already in use/i.test(log())) await fail(`could not bind its ports (${o.adminPort}, ${o.sipPort})`);
  return { pid: child.pid ?? 0, log, stop };
}
