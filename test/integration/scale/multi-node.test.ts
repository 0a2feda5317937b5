/**
 * Several nodes behind Kamailio (docs/scaling.md "Kamailio in front"): three product nodes, each in
 * its own network namespace and started as `npm start` runs it, share one throwaway PostgreSQL
 * cluster (DATABASE_URL through the cluster's Unix socket, which every namespace sees); Kamailio runs
 * deploy/kamailio/kamailio.cfg unchanged in a namespace of its own, routing between the carrier's
 * network and the nodes' (RTP goes straight between the carrier and the node, routed through it).
 *
 *      carrier + alice's phone (SIPp)      Kamailio                  node 1..3
 *      10.77.0.2  ----------------------  10.77.0.1 | 10.77.i.1  --  10.77.i.2 (SIP 5060, admin
 *                                         (dispatcher, probes                   127.0.0.1:8080, its own
 *                                          every second)                        recording server)
 *
 * Asserts: calls from the carrier spread over the nodes, each admitted as a trunk call by the
 * carrier's address (X-Balancer-Source from the trusted balancer) and each recorded; a setting
 * written through node 1's admin API applies to the next call on node 3; node 2 drained with
 * SIGTERM finishes its call while new calls go to the others; node 3 killed: the next calls succeed
 * (the time is printed), and node 2 started again takes calls once the probes see it up.
 * The PostgreSQL cluster takes a port from 19350-19359 on the host; everything else lives in the
 * namespaces. Needs root, iproute2, Debian's kamailio, sipp and postgresql.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertKamailioInstalled,
  BALANCER,
  buildMultiNodeNetwork,
  CARRIER,
  clusterSocketUrl,
  killGroup,
  NODE_PORTS,
  nodeAddress,
  nodeEnv,
  startBalancer,
  type MultiNodeNamespaces,
} from '../../support/multi-node-bed.js';
import { Netns, requireNetns } from '../../support/netns.js';
import { portBlock } from '../../support/ports.js';
import { startPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster.js';
import {
  exited,
  makeTestAudio,
  PACK,
  readWav,
  recordingFiles,
  runPackSipp,
  startProductProcess,
  withTimeout,
  writeDemoProvisioning,
  type ProductProcess,
} from '../../support/product-process.js';
import { sleep, until, untilValue } from '../../support/wait.js';
import { assertSippInstalled, buildSippArgs, findMessages, parseSippMessages, type SippMessage } from '../../support/sipp.js';

const execFileAsync = promisify(execFile);

/** Seconds between the balancer's OPTIONS probes (PROBE_INTERVAL), and how long a node may stay silent (NODE_TIMEOUT_MS). */
const PROBE_INTERVAL_S = 1;
const NODE_TIMEOUT_MS = 2000;
const NODES = [1, 2, 3] as const;
type NodeNo = (typeof NODES)[number];
/** Another host on the carrier's network: no trunk, no balancer. */
const STRANGER = '10.77.0.3';
const ALICE = { port: 5070, controlPort: 8870, mediaPort: 6100 };
const ALICE_NUMBER = '+15550002001';

/** A UAC claiming the carrier's address ([claimed]) in the balancer's header; expects 403 and ACKs it. */
const SPOOFED_INVITE = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="spoofed-balancer-source">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15559990000@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:+15559990000@[local_ip]:[local_port]>
      Max-Forwards: 70
      X-Balancer-Source: [claimed]
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=spoof 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="403"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;

const dir = mkdtempSync(join(tmpdir(), 'multi-node-'));
const netns = new Netns(`mn${process.pid}`);
let ns: MultiNodeNamespaces = { carrier: '', balancer: '', node: {} };
let cluster: PostgresCluster | undefined;
let databaseUrl = '';
let provisioningFile = '';
let balancer: ChildProcess | undefined;
let balancerLog = '';
let alice: ChildProcess | undefined;
const nodes = new Map<NodeNo, ProductProcess>();
/** Every log line of each node (all its runs). */
const nodeLines: Record<NodeNo, string[]> = { 1: [], 2: [], 3: [] };
const sippRuns: ChildProcess[] = [];
let callNo = 0;

function nodeDir(i: NodeNo): string {
  return join(dir, `node-${i}`);
}

async function startNode(i: NodeNo): Promise<ProductProcess> {
  mkdirSync(nodeDir(i), { recursive: true });
  const node = await startProductProcess({
    dir: nodeDir(i),
    ports: NODE_PORTS,
    provisioningFile,
    commandPrefix: netns.prefixFor(ns.node[i]!),
    readyTimeoutMs: 60_000,
    onLine: (line) => nodeLines[i].push(line),
    env: { ...nodeEnv(i, databaseUrl), CALLS_DRAIN_SECONDS: '20' },
  });
  nodes.set(i, node);
  return node;
}

/** Lines of node `i` that logged `msg`, parsed. */
function logged(i: NodeNo, msg: string): Record<string, unknown>[] {
  return nodeLines[i].filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);
}
const admittedCount = (i: NodeNo): number => logged(i, 'call admitted').length;
const admittedCounts = (): Record<NodeNo, number> => ({ 1: admittedCount(1), 2: admittedCount(2), 3: admittedCount(3) });

/** The admin API of node `i` (127.0.0.1 inside its namespace), through curl run there. */
async function admin(i: NodeNo, method: string, path: string, body?: unknown, as: 'json' | 'text' = 'json'): Promise<{ status: number; json: unknown; text: string }> {
  const args = [...netns.prefixFor(ns.node[i]!), 'curl', '-s', '-m', '10', '-o', '-', '-w', '\n%{http_code}', '-X', method, `http://127.0.0.1:${NODE_PORTS.admin}${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  const { stdout } = await execFileAsync(args[0]!, args.slice(1), { timeout: 15_000 });
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  return { status: Number(stdout.slice(cut + 1)), json: text === '' || as === 'text' ? undefined : (JSON.parse(text) as unknown), text };
}

/** One call from the carrier (pack/pstn-caller.xml) to alice, through the balancer unless `to` names a node. */
function placeCall(talkMs: number, to = `${BALANCER}:5060`): Promise<{ code: number | null; describe: string; messages: () => SippMessage[] }> {
  const n = callNo++;
  // its own trace files (pstn-caller-<n>.msg.log)
  const run = runPackSipp(dir, `pstn-caller-${n}`, {
    scenarioFile: join(PACK, 'pstn-caller.xml'),
    commandPrefix: netns.prefixFor(ns.carrier),
    localIp: CARRIER,
    remote: to,
    service: ALICE_NUMBER,
    port: 5100 + n,
    controlPort: 8100 + n,
    mediaPort: 20000 + 10 * n,
    pauseMs: talkMs,
    timeoutSec: 30,
  });
  sippRuns.push(run.child);
  return run.done.then((e) => ({ ...e, messages: () => parseSippMessages(readFileSync(join(dir, `pstn-caller-${n}.msg.log`), 'utf8')) }));
}

/** The warnings and errors the nodes logged (last 30), for failure messages. */
function nodeTrouble(): string {
  return NODES.flatMap((i) => nodeLines[i].filter((l) => /"level":(40|50|60)/.test(l)).map((l) => `node ${i}: ${l}`)).slice(-30).join('\n');
}

/** Every value of header `name` in a SIP message, joined with ', ' (headerOf gives the first only). */
function allHeaders(text: string, name: string): string {
  return [...text.matchAll(new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, 'gim'))].map((m) => m[1]!.trim()).join(', ');
}

/** The WAV files of node `i`'s recording server. */
function wavsOf(i: NodeNo): string[] {
  return recordingFiles(join(nodeDir(i), 'recordings')).filter((f) => f.endsWith('.wav'));
}

beforeAll(async () => {
  requireNetns();
  assertSippInstalled();
  assertKamailioInstalled();
  // the network: the balancer's namespace routes between the carrier's network and each node's
  ns = buildMultiNodeNetwork(netns, NODES.length, [STRANGER]);

  makeTestAudio(dir);
  cluster = await startPostgresCluster({ port: portBlock({ from: 19350, to: 19359 }, 0, 10) });
  await cluster.createDatabase('multi_node');
  // the cluster's Unix socket: a file, so reachable from every namespace (its TCP port is on the host's loopback)
  databaseUrl = clusterSocketUrl(cluster, 'multi_node');
  // the demo settings with the carrier and alice on the carrier's network; the trunk admits the
  // carrier's address on any port (one SIPp per call), the recording server is each node's own
  provisioningFile = writeDemoProvisioning(dir, {
    callee: ALICE.port,
    carrier: 5080,
    srs: NODE_PORTS.srs,
    extraTrunkSources: [CARRIER],
    hosts: { callee: CARRIER, carrier: CARRIER, srs: '127.0.0.1' },
  });
  await Promise.all(NODES.map((i) => startNode(i)));

  // alice's phone answers every call
  const aliceArgs = buildSippArgs(
    { scenario: join(PACK, 'user-callee.xml'), localIp: CARRIER, ...ALICE, calls: 1000, timeoutSec: 120, timeoutError: false, traceMessages: false },
    { stat: join(dir, 'alice.stat.csv'), messages: join(dir, 'alice.msg.log'), errors: join(dir, 'alice.err.log') },
  );
  alice = spawn('ip', ['netns', 'exec', ns.carrier, 'sipp', ...aliceArgs], { cwd: dir, stdio: 'ignore', detached: true });
  // Kamailio with the maintained configuration, the nodes in a dispatcher list written here; up,
  // and its first probes answered
  const started = await startBalancer({
    netns,
    ns,
    dir,
    nodes: NODES,
    probeIntervalS: PROBE_INTERVAL_S,
    nodeTimeoutMs: NODE_TIMEOUT_MS,
    onOutput: (text) => void (balancerLog = (balancerLog + text).slice(-20_000)),
  });
  balancer = started.child;
}, 120_000);

afterAll(async () => {
  for (const run of sippRuns) run.kill('SIGKILL');
  killGroup(alice);
  killGroup(balancer);
  await Promise.all([...nodes.values()].map((n) => n.kill()));
  if (balancer) await withTimeout(exited(balancer), 5000, 'kamailio to exit').catch(() => undefined);
  await cluster?.stop();
  const errors = netns.close();
  rmSync(dir, { recursive: true, force: true });
  if (errors.length > 0) throw new Error(errors.join('\n'));
}, 60_000);

describe('three nodes behind Kamailio sharing one PostgreSQL settings database', () => {
  it('MUST spread calls from the carrier over the nodes, admit them by the carrier\'s address and record every one', async () => {
    const before = admittedCounts();
    const results = await Promise.all([0, 1, 2].map(async (k) => {
      await sleep(k * 300);
      return placeCall(1500);
    }));
    for (const r of results) expect(r.code, r.describe + balancerLog).toBe(0);
    // record-route: the carrier's in-dialog requests (ACK, BYE) carry the balancer's Route and reach the node through it
    for (const r of results) {
      const ok = findMessages(r.messages(), { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!;
      // two entries (RFC 3261 section 16.6: the request changed networks): the balancer's address on each side
      const recordRoute = allHeaders(ok.text, 'Record-Route');
      expect(recordRoute).toContain(`sip:${BALANCER};`);
      expect(recordRoute).toMatch(/sip:10\.77\.[123]\.1;/);
      const bye = findMessages(r.messages(), { direction: 'sent', method: 'BYE' })[0]!;
      expect(allHeaders(bye.text, 'Route')).toContain(`sip:${BALANCER};`);
      expect(findMessages(r.messages(), { direction: 'received', status: 200, cseqMethod: 'BYE' })).toHaveLength(1);
    }
    const after = admittedCounts();
    for (const i of NODES) expect(after[i] - before[i], `calls admitted by node ${i}`).toBe(1);
    for (const i of NODES) {
      const [admitted] = logged(i, 'call admitted');
      // the trunk matched the carrier's address (the balancer's own address is no trunk): inbound PSTN
      expect(admitted).toMatchObject({ direction: 'inbound-pstn', record: true });
    }
    await until(() => NODES.every((i) => wavsOf(i).length >= 1), 'a recording on every node', 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${nodeTrouble()}`);
    });
    for (const i of NODES) {
      const wav = readWav(wavsOf(i)[0]!);
      expect(wav.channels, `node ${i}'s recording`).toBe(2);
      expect(wav.samples(0).length, `node ${i}'s recording length`).toBeGreaterThan(wav.rate / 2);
    }
    // nothing claimed a source it was not entitled to
    for (const i of NODES) expect(nodeLines[i].some((l) => l.includes('X-Balancer-Source header ignored'))).toBe(false);
  }, 60_000);

  it('MUST refuse an INVITE that names the carrier in X-Balancer-Source but does not come from the balancer, and count it', async () => {
    const scenario = join(dir, 'spoofed-balancer-source.xml');
    writeFileSync(scenario, SPOOFED_INVITE);
    const run = runPackSipp(dir, 'spoofed-balancer-source', {
      scenarioFile: scenario,
      commandPrefix: netns.prefixFor(ns.carrier),
      localIp: STRANGER,
      remote: `${nodeAddress(1)}:${NODE_PORTS.sip}`,
      service: ALICE_NUMBER,
      port: 5300,
      controlPort: 8300,
      mediaPort: 21000,
      keys: { claimed: `${CARRIER}:5080` },
      timeoutSec: 10,
    });
    sippRuns.push(run.child);
    const r = await run.done;
    expect(r.code, r.describe).toBe(0);
    // the log line comes through node 1's output pipe, which may be read after SIPp has its 403
    const refused = await untilValue(() => logged(1, 'INVITE refused').at(-1), "node 1's 'INVITE refused' line");
    expect(refused).toMatchObject({ status: 403, source: `${STRANGER}:5300` });
    const metrics = (await admin(1, 'GET', '/v1/metrics', undefined, 'text')).text;
    expect(metrics).toMatch(/^siprec_b2bua_balancer_source_ignored_total\{reason="untrusted-sender"\} 1$/m);
  }, 30_000);

  it('MUST apply a setting written through node 1 to the next call on node 3', async () => {
    const settings = await admin(1, 'GET', '/v1/orgs/demo/service-settings');
    expect(settings.status).toBe(200);
    const current = settings.json as { providerId: string; compliance: Record<string, unknown> };
    expect(current.compliance.inboundPstn).toBe(true);
    const put = await admin(1, 'PUT', '/v1/orgs/demo/service-settings', { providerId: current.providerId, compliance: { ...current.compliance, inboundPstn: false } });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    try {
      const seen = admittedCount(3);
      // straight to node 3: the call that must see the change is on that node
      const r = await placeCall(500, `${nodeAddress(3)}:${NODE_PORTS.sip}`);
      expect(r.code, r.describe).toBe(0);
      const admitted = logged(3, 'call admitted');
      expect(admitted).toHaveLength(seen + 1);
      expect(admitted[seen]).toMatchObject({ direction: 'inbound-pstn', compliance: false });
    } finally {
      const back = await admin(1, 'PUT', '/v1/orgs/demo/service-settings', { providerId: current.providerId, compliance: current.compliance });
      expect(back.status).toBe(200);
    }
  }, 60_000);

  it('MUST let a node drained with SIGTERM finish its call while new calls go to the other nodes', async () => {
    const node2 = nodes.get(2)!;
    const wavsBefore = wavsOf(2).length;
    const before = admittedCounts();
    const long = [0, 1, 2].map(async (k) => {
      await sleep(k * 300);
      return placeCall(5000);
    });
    await until(() => admittedCount(2) > before[2], 'node 2 to take one of the long calls', 15_000);
    node2.child.kill('SIGTERM');
    await until(() => logged(2, 'stopping: draining calls').length > 0, 'node 2 to start draining');
    // the next probe sees its 503; a call that met the 503 first would be moved on by the balancer
    await sleep(PROBE_INTERVAL_S * 1000 + 500);
    const during = admittedCounts();
    const short = await Promise.all([placeCall(500), placeCall(500)]);
    for (const r of short) expect(r.code, r.describe + balancerLog).toBe(0);
    const after = admittedCounts();
    expect(after[2], 'node 2 took a new call while draining').toBe(during[2]);
    expect(after[1] + after[3] - during[1] - during[3]).toBe(2);
    for (const r of await Promise.all(long)) expect(r.code, r.describe + balancerLog).toBe(0);
    const exit = await withTimeout(node2.exit, 25_000, 'node 2 to exit after draining');
    expect(exit.code, node2.log()).toBe(0);
    expect(logged(2, 'drained').at(-1)).toMatchObject({ cut: 0 });
    await until(() => wavsOf(2).length > wavsBefore, "node 2's drained call recorded", 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${nodeTrouble()}`);
    });
  }, 90_000);

  it('MUST carry new calls at once when node 3 dies, and give calls to node 2 again once it answers the probes', async () => {
    const node3 = nodes.get(3)!;
    await node3.kill();
    const killedAt = Date.now();
    const before = admittedCounts();
    const movedOn = (): number => balancerLog.split(`sip:${nodeAddress(3)}:${NODE_PORTS.sip} answered 503 or nothing`).length - 1;
    const movedBefore = movedOn();
    const r = await placeCall(300);
    expect(r.code, r.describe + balancerLog).toBe(0);
    const admitted = logged(1, 'call admitted');
    expect(admitted).toHaveLength(before[1] + 1);
    const ms = Number(admitted.at(-1)!.time) - killedAt;
    const via = movedOn() > movedBefore ? `tried node 3 first, moved on after ${NODE_TIMEOUT_MS} ms without answer` : 'the probes had taken node 3 out';
    console.log(`[figure] node 3 killed -> the next call admitted on node 1 after ${ms} ms (${via}; probe interval ${PROBE_INTERVAL_S} s)`);

    // node 2 back: the balancer's probes get 200 and it takes calls again
    await startNode(2);
    await sleep(PROBE_INTERVAL_S * 1000 + 500);
    const back = admittedCounts();
    const calls = await Promise.all([placeCall(300), placeCall(300)]);
    for (const c of calls) expect(c.code, c.describe + balancerLog).toBe(0);
    const after = admittedCounts();
    expect(after[2] - back[2], 'calls on node 2 after its restart').toBeGreaterThanOrEqual(1);
    expect(after[1] + after[2] - back[1] - back[2]).toBe(2);
    expect(readFileSync(join(dir, 'alice.err.log'), { encoding: 'utf8', flag: 'a+' })).not.toMatch(/Aborted|Fatal/);
  }, 90_000);
});
