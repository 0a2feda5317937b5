/**
 * The several-nodes test bed in network namespaces (docs/scaling.md "Kamailio in front"), shared by
 * the multi-node test (test/integration/scale/multi-node.test.ts) and the multi-node load benchmark
 * (bench/load-multi-node.ts): one namespace for the carrier and alice's phone, one for Kamailio
 * routing between the carrier's network and each node's, one per product node; each node's
 * environment (the shared PostgreSQL database, its node id, its addresses, the balancer it trusts);
 * Kamailio started with deploy/kamailio/kamailio.cfg unchanged and a dispatcher list written here.
 *
 *      carrier + alice's phone (SIPp)      Kamailio                  node 1..N
 *      10.77.0.2  ----------------------  10.77.0.1 | 10.77.i.1  --  10.77.i.2 (SIP 5060, admin
 *                                         (dispatcher, OPTIONS                  127.0.0.1:8080, its own
 *                                          probes)                              recording server)
 *
 * Nothing is added to the host's own namespace; the caller kills what it started and closes the
 * Netns (test/support/netns.ts). Needs root, iproute2 and Debian's kamailio.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from './netns.js';
import type { PostgresCluster } from './postgres-cluster.js';
import { ROOT, type ProductPorts } from './product-process.js';
import { sleep, until } from './wait.js';

/** The carrier's address (and alice's phone's) on the carrier's network. */
export const CARRIER = '10.77.0.2';
/** Kamailio's address on the carrier's network: where the carrier sends every call. */
export const BALANCER = '10.77.0.1';
/** Node `i`'s address (1-based; up to 254 nodes). */
export const nodeAddress = (i: number): string => `10.77.${i}.2`;
/** Kamailio's address on node `i`'s network (the address node `i` trusts as its balancer). */
export const balancerToward = (i: number): string => `10.77.${i}.1`;
/** The same ports in every node's namespace. */
export const NODE_PORTS: ProductPorts = { sip: 5060, drachtio: 9022, admin: 8080, srs: 5090, mediaMin: 40000, mediaMax: 40199, srsRtpMin: 50000, srsRtpMax: 50199 };

/** Namespace names of the bed. */
export interface MultiNodeNamespaces {
  carrier: string;
  balancer: string;
  /** Node number (1-based) -> namespace. */
  node: Record<number, string>;
}

/**
 * Creates the namespaces and links of the bed for nodes 1..`nodeCount`: the carrier's network
 * (10.77.0.0/24, the carrier at CARRIER plus `carrierExtraAddresses`), one network per node
 * (10.77.i.0/24), Kamailio's namespace forwarding between them, default routes through it.
 */
export function buildMultiNodeNetwork(netns: Netns, nodeCount: number, carrierExtraAddresses: readonly string[] = []): MultiNodeNamespaces {
  const ns: MultiNodeNamespaces = { carrier: netns.add('car'), balancer: netns.add('kam'), node: {} };
  netns.link({ ns: ns.carrier, ifname: 'car0', addresses: [`${CARRIER}/24`] }, { ns: ns.balancer, ifname: 'pub0', addresses: [`${BALANCER}/24`] });
  for (const address of carrierExtraAddresses) netns.addAddress(ns.carrier, 'car0', `${address}/24`);
  netns.defaultRoute(ns.carrier, BALANCER);
  for (let i = 1; i <= nodeCount; i++) {
    ns.node[i] = netns.add(`n${i}`);
    netns.link({ ns: ns.node[i]!, ifname: 'eth0', addresses: [`${nodeAddress(i)}/24`] }, { ns: ns.balancer, ifname: `node${i}`, addresses: [`${balancerToward(i)}/24`] });
    netns.defaultRoute(ns.node[i]!, balancerToward(i));
  }
  netns.forwarding(ns.balancer);
  return ns;
}

/**
 * A database URL on `cluster` through its Unix socket: a file, so reachable from every namespace
 * (the cluster's TCP port is on the host's loopback only).
 */
export function clusterSocketUrl(cluster: PostgresCluster, database: string): string {
  return `postgres://postgres@localhost:${cluster.port}/${database}?host=${encodeURIComponent(cluster.dir)}`;
}

/** The environment of node `i` behind the balancer (besides the ports: spawnProduct with NODE_PORTS). */
export function nodeEnv(i: number, databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NODE_ID: `node-${i}`,
    SIP_CONTACTS: `sip:${nodeAddress(i)}:${NODE_PORTS.sip};transport=udp,tcp`,
    MEDIA_ADDRESS: nodeAddress(i),
    // the balancer reaches this node from its address on the node's network
    CALLS_TRUSTED_BALANCERS: balancerToward(i),
  };
}

/** Throws with the fix when Debian's kamailio is not installed. */
export function assertKamailioInstalled(): void {
  if (spawnSync('kamailio', ['-v'], { encoding: 'utf8' }).status !== 0) {
    throw new Error("kamailio is not installed: install Debian's kamailio package (scripts/test-all.sh installs it)");
  }
}

export interface BalancerOptions {
  netns: Netns;
  ns: MultiNodeNamespaces;
  /** A directory of the caller's: the dispatcher list and Kamailio's runtime directory go there. */
  dir: string;
  /** The node numbers in the dispatcher list (set 1). */
  nodes: readonly number[];
  /** PROBE_INTERVAL, seconds. */
  probeIntervalS: number;
  /** NODE_TIMEOUT_MS. */
  nodeTimeoutMs: number;
  /** Called with every chunk of Kamailio's stdout and stderr. */
  onOutput?: (text: string) => void;
}

export interface Balancer {
  /** Kamailio's main process (its own process group: kill `-pid` to end its workers too). */
  readonly child: ChildProcess;
  /** The last 20 kB of its output. */
  log(): string;
}

/**
 * Starts Kamailio with deploy/kamailio/kamailio.cfg in the balancer's namespace, listening on its
 * address on every network, and resolves once it listens and its first probes had time to be
 * answered; rejects (after killing it) when it exits first.
 */
export async function startBalancer(o: BalancerOptions): Promise<Balancer> {
  const list = join(o.dir, 'dispatcher.list');
  writeFileSync(list, o.nodes.map((i) => `1 sip:${nodeAddress(i)}:${NODE_PORTS.sip} 0 0\n`).join(''));
  const run = join(o.dir, 'kamailio-run');
  mkdirSync(run, { recursive: true });
  const listen = [BALANCER, ...o.nodes.map(balancerToward)].flatMap((a) => ['-l', `udp:${a}:5060`]);
  const child = spawn(
    'ip',
    ['netns', 'exec', o.ns.balancer, 'kamailio', '-f', join(ROOT, 'deploy', 'kamailio', 'kamailio.cfg'), '-DD', '-E', '-m', '64', '-M', '8',
      '-Y', run, '-P', join(run, 'kamailio.pid'), '-w', o.dir, ...listen,
      '-A', `DISPATCHER_LIST="${list}"`, '-A', `PROBE_INTERVAL=${o.probeIntervalS}`, '-A', `NODE_TIMEOUT_MS=${o.nodeTimeoutMs}`],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let log = '';
  const keep = (d: Buffer): void => {
    const text = d.toString();
    log = (log + text).slice(-20_000);
    o.onOutput?.(text);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const balancer: Balancer = { child, log: () => log };
  try {
    // it prints its sockets once its configuration is taken; then its first probes are answered
    await until(() => log.includes('Listening on') || child.exitCode !== null, 'kamailio to start', 10_000);
    await sleep(o.probeIntervalS * 1000 + 500);
    if (child.exitCode !== null) throw new Error(`kamailio exited (${child.exitCode}):\n${log}`);
  } catch (err) {
    killGroup(child);
    throw err;
  }
  return balancer;
}

/** SIGKILL to a child started `detached` and its whole process group (Kamailio's workers), or the child alone. */
export function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
