/**
 * Probes for the whole-product load benchmark (bench/load-bench.ts, bench/load-soak.ts): process
 * CPU, memory and file descriptors from /proc, the Prometheus text of GET /v1/metrics, and the
 * recordings the reference server writes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process and all its threads (/proc/<pid>/stat fields 14 and 15), seconds. */
export function cpuSeconds(pid: number): number {
  return parseCpu(readProc(`/proc/${pid}/stat`));
}

/** utime + stime of a process's main thread only (the event loop; its thread id is the pid), seconds. */
export function mainThreadCpuSeconds(pid: number): number {
  return parseCpu(readProc(`/proc/${pid}/task/${pid}/stat`));
}

/**
 * Seconds the product's main thread waited on the run queue: runnable but not running, because
 * other threads (media workers, V8's GC helpers, SIPp) held both cores (/proc/<pid>/task/<pid>/schedstat,
 * second field, ns; needs schedstats in the kernel, 0 without). Every such wait adds to the
 * event-loop delay, whatever the thread itself costs.
 */
export function mainThreadWaitSeconds(pid: number): number {
  const fields = readProc(`/proc/${pid}/task/${pid}/schedstat`).split(' ');
  return fields.length >= 2 ? Number(fields[1]) / 1e9 : 0;
}

function parseCpu(stat: string): number {
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU of a process tree (Kamailio's workers, PostgreSQL's backends), seconds: for `rootPid` and
 * every live descendant, utime + stime + cutime + cstime (/proc/<pid>/stat fields 14-17), so a
 * worker that exited and was reaped by its parent still counts. 0 once the root is gone.
 */
export function treeCpuSeconds(rootPid: number): number {
  const parents = new Map<number, number>();
  const stats = new Map<number, string[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(name), Number(fields[1]));
    stats.set(Number(name), fields);
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++) if (p === rootPid) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, f] of stats) if (inTree(pid)) sum += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return sum / CLK_TCK;
}

/** The whole machine's CPU time from /proc/stat: busy and total jiffies (all cores), for a busy share between two reads. */
export function machineCpu(): { busy: number; total: number } {
  const line = readProc('/proc/stat').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = v.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Current resident set size (VmRSS), MB; 0 once the process is gone. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * Open file descriptors of a process (/proc/<pid>/fd, every thread, the media worker included) and
 * how many of them are sockets (readlink gives 'socket:[inode]'); zeros once the process is gone.
 */
export function openFds(pid: number): { fds: number; sockets: number } {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return { fds: 0, sockets: 0 };
  }
  let sockets = 0;
  for (const name of names) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${name}`).startsWith('socket:')) sockets++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return { fds: names.length, sockets };
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The product's event-loop delay p99 beyond the 10 ms sampling timer since the previous scrape
 * (docs/observability.md "Metrics"); prom-client's lag p99 would read 10 ms more.
 */
export function loopDelayP99(s: Scrape): number {
  return metric(s, 'siprec_b2bua_eventloop_delay_seconds', { quantile: '0.99' });
}

/** One scrape: `name{labels}` -> value (labels as written by prom-client, sorted as exposed). */
export type Scrape = Map<string, number>;

/** Parses Prometheus text exposition: comment lines skipped, one sample per line. */
export function parseMetrics(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (cut < 0) continue;
    const value = Number(line.slice(cut + 1));
    if (!Number.isNaN(value)) out.set(line.slice(0, cut), value);
  }
  return out;
}

/** Value of `name` whose labels include every given label=value (summed over matches); 0 when absent. */
export function metric(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, value] of s) {
    const brace = key.indexOf('{');
    const base = brace < 0 ? key : key.slice(0, brace);
    if (base !== name) continue;
    if (want.every((w) => key.includes(w))) sum += value;
  }
  return sum;
}

/**
 * GET /v1/metrics on the admin API over a fresh connection closed after the answer (no keep-alive,
 * so no scrape connection lingers in the product's socket and handle counts between scrapes);
 * undefined when the scrape fails or takes longer than 3 s.
 */
export function scrape(adminPort: number): Promise<Scrape | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: adminPort, path: '/v1/metrics', agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? parseMetrics(body) : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('scrape timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** The product counters a load step judges (GET /v1/metrics), cumulative. */
export interface Counters {
  in: number;
  out: number;
  forked: number;
  dropped: number;
  generated: number;
  withheld: number;
  sendErrors: number;
  recFailed: number;
  recStarted: number;
  rejected: number;
  /** Answered legs that delivered no audio while the other did (an empty recording channel). */
  silentLegs: number;
  /** Recordings the in-process recording server closed with an empty channel, or with audio lost. */
  emptyChannel: number;
  lostAudio: number;
  /** Live-call registry writes that failed, and full rewrites of the node's calls (several nodes only). */
  registryWriteFailures: number;
  registryResyncs: number;
}

export function counters(s: Scrape): Counters {
  const rtp = (direction: string): number => metric(s, 'siprec_b2bua_rtp_packets_total', { direction });
  return {
    in: rtp('in'),
    out: rtp('out'),
    forked: rtp('forked'),
    dropped: rtp('dropped'),
    generated: metric(s, 'siprec_b2bua_rtp_generated_packets_total'),
    withheld: metric(s, 'siprec_b2bua_rtp_withheld_total'),
    sendErrors: metric(s, 'siprec_b2bua_rtp_send_errors_total'),
    recFailed: metric(s, 'siprec_b2bua_recording_events_total', { event: 'failed' }),
    recStarted: metric(s, 'siprec_b2bua_recording_events_total', { event: 'started' }),
    rejected: metric(s, 'siprec_b2bua_calls_rejected_total'),
    silentLegs: metric(s, 'siprec_b2bua_media_silent_legs_total'),
    emptyChannel: metric(s, 'siprec_b2bua_srs_recordings_incomplete_total', { reason: 'empty-channel' }),
    lostAudio: metric(s, 'siprec_b2bua_srs_recordings_incomplete_total', { reason: 'lost-audio' }),
    registryWriteFailures: metric(s, 'siprec_b2bua_live_call_registry_write_failures_total'),
    registryResyncs: metric(s, 'siprec_b2bua_live_call_registry_resyncs_total'),
  };
}

/** b - a, counter by counter. */
export function diff(a: Counters, b: Counters): Counters {
  const out = { ...b };
  for (const k of Object.keys(out) as (keyof Counters)[]) out[k] = b[k] - a[k];
  return out;
}

/** WAV files under the recordings directory: count and total audio seconds (2 ch, 16 bit, 8 kHz assumed from size). */
export function wavFiles(dir: string): { count: number; seconds: number } {
  if (!existsSync(dir)) return { count: 0, seconds: 0 };
  let count = 0;
  let bytes = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.wav')) continue;
    count++;
    bytes += Math.max(0, statSync(join(dir, f)).size - 44);
  }
  return { count, seconds: bytes / (2 * 2 * 8000) };
}

/**
 * Counts and deletes finished recordings (a `<id>.json` summary exists: the recording server writes
 * it after closing the WAV), so a long soak does not fill the disk: returns the WAVs removed and
 * their audio seconds. Recordings still being written are left alone.
 */
export function collectFinishedRecordings(dir: string): { count: number; seconds: number } {
  if (!existsSync(dir)) return { count: 0, seconds: 0 };
  let count = 0;
  let bytes = 0;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  const finished = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  const done = new Set(finished);
  for (const f of files) {
    const id = f.replace(/\.(wav|json|metadata(\.\d+)?\.xml)$/, '');
    if (id === f || !done.has(id)) continue;
    const path = join(dir, f);
    try {
      if (f.endsWith('.wav')) {
        count++;
        bytes += Math.max(0, statSync(path).size - 44);
      }
      rmSync(path, { force: true });
    } catch {
      // gone already
    }
  }
  return { count, seconds: bytes / (2 * 2 * 8000) };
}

/**
 * A step's media losses from its counter deltas: the relay's (packets in, less those withheld or
 * dropped on purpose, that did not go out; generated packets not counted) and the fork's gap
 * (received audio not forked to the recording server), as fractions.
 */
export function mediaLosses(rtp: Counters): { relayLoss: number; forkGap: number } {
  const relayIn = rtp.in - rtp.withheld - rtp.dropped;
  const forkIn = rtp.in - rtp.dropped;
  return {
    relayLoss: relayIn > 0 ? Math.max(0, 1 - (rtp.out - rtp.generated) / relayIn) : 0,
    forkGap: forkIn > 0 ? Math.max(0, 1 - rtp.forked / forkIn) : 0,
  };
}
