/**
 * `npm run bench connections [-- --nofile 2048]`: how many TCP connections a flood holds on the product
 * while the carrier can still place a recorded call (docs/hardening.md "Connections").
 *
 * The whole product runs under `prlimit --nofile=N` (its file-descriptor budget); connections come
 * from many 127.0.x.y addresses, 60 from each, until 1.3 x N were attempted; then the carrier (the
 * trunk at 127.0.0.2) places a SIPp pack call over TCP while the flood stays open. Printed: the cap
 * the product derived, connections held, refused per source / globally, the product's descriptors in
 * use (peak during the call), both SIPp exits and the WAVs written. Ports 19400-19499 (the
 * connection-limits test's range: do not run the two together). Needs prlimit (util-linux) and sipp.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleValue } from '../test/support/prometheus-text.js';
import { makeTestAudio, runPackSipp, startProductProcess, writeDemoProvisioning, type ProductPorts } from '../test/support/product-process.js';
import { sleep } from '../test/support/wait.js';

const args = process.argv.slice(2);
const i = args.indexOf('--nofile');
const NOFILE = i >= 0 ? Number(args[i + 1]) : 2048;
if (!Number.isInteger(NOFILE) || NOFILE < 256) throw new Error(`--nofile must be a whole number >= 256 (got ${args[i + 1]})`);
const PER_HOST = 60;
const P: ProductPorts = { sip: 19400, drachtio: 19401, admin: 19402, mediaMin: 19420, mediaMax: 19459, srs: 19403, srsRtpMin: 19460, srsRtpMax: 19479 };
const CARRIER = { address: '127.0.0.2', port: 19404, control: 19405, media: 19480 };
const CALLEE = { port: 19406, control: 19407, media: 19486 };

async function metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${P.admin}/v1/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    return sampleValue(text, `siprec_b2bua_${name}`, labels);
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-connections-'));
makeTestAudio(dir);
const provisioningFile = writeDemoProvisioning(dir, { callee: CALLEE.port, carrier: CARRIER.port, srs: P.srs, hosts: { carrier: CARRIER.address } });
const product = await startProductProcess({
  dir,
  ports: P,
  provisioningFile,
  commandPrefix: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--'],
  // the demo's trusted phone on 127.0.0.1 would make the whole flood address privileged
  env: { CALLS_TRUSTED_SOURCES: '127.0.0.11:5072' },
});
const sockets: net.Socket[] = [];
const fds = (): number => readdirSync(`/proc/${product.pid}/fd`).length;
try {
  const open = (localAddress: string): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: P.sip, localAddress });
      const done = setTimeout(resolve, 2000);
      s.on('error', () => (clearTimeout(done), resolve()));
      s.once('connect', () => (clearTimeout(done), resolve()));
      sockets.push(s);
    });
  const hosts = Array.from({ length: Math.ceil((NOFILE * 1.3) / PER_HOST) }, (_, n) => `127.0.${1 + Math.floor(n / 200)}.${20 + (n % 200)}`);
  for (const h of hosts) await Promise.all(Array.from({ length: PER_HOST }, () => open(h)));
  await sleep(500);
  const flood = {
    attempts: hosts.length * PER_HOST,
    cap: await metric('sip_connections_max'),
    held: await metric('sip_connections'),
    refusedPerSource: await metric('sip_connections_refused_total', { reason: 'per-source' }),
    refusedGlobal: await metric('sip_connections_refused_total', { reason: 'global' }),
    productFds: fds(),
  };
  const callee = runPackSipp(dir, 'user-callee', { port: CALLEE.port, controlPort: CALLEE.control, mediaPort: CALLEE.media, timeoutSec: 20 });
  await sleep(300);
  const caller = runPackSipp(dir, 'pstn-caller', {
    remote: `127.0.0.1:${P.sip}`,
    service: '+15550002001',
    localIp: CARRIER.address,
    transport: 't1',
    port: CARRIER.port,
    controlPort: CARRIER.control,
    mediaPort: CARRIER.media,
    pauseMs: 3000,
    timeoutSec: 20,
  });
  let peakFds = 0;
  const sampler = setInterval(() => (peakFds = Math.max(peakFds, fds())), 200);
  const [callerExit, calleeExit] = await Promise.all([caller.done, callee.done]);
  clearInterval(sampler);
  const wavs = readdirSync(join(dir, 'recordings'), { recursive: true }).filter((f) => String(f).endsWith('.wav')).length;
  console.log(`bench:connections: descriptor limit ${NOFILE}, ${flood.attempts} connection attempts from ${hosts.length} addresses`);
  console.log('| limit | cap | held | refused per source | refused global | product fds (flood / peak in call) | carrier call (caller, callee exit) | WAVs |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(
    `| ${NOFILE} | ${flood.cap} | ${flood.held} | ${flood.refusedPerSource} | ${flood.refusedGlobal} | ${flood.productFds} / ${peakFds} | ${callerExit.code}, ${calleeExit.code} | ${wavs} |`,
  );
  console.log(callerExit.code === 0 && calleeExit.code === 0 && wavs >= 1 ? 'CONNECTIONS PASS: the carrier call was recorded while the flood held its connections' : 'CONNECTIONS FAIL');
} finally {
  for (const s of sockets) s.destroy();
  await product.kill();
  rmSync(dir, { recursive: true, force: true });
}
