/**
 * The product on a PostgreSQL settings database (DATABASE_URL, docs/policy.md "Settings database"),
 * as `npm start` runs it: an unreachable database refuses the start with one line; two nodes
 * started at once on one throwaway cluster (test/support/postgres-cluster.ts) apply the
 * provisioning file once, and a setting written through node 1's admin API reaches node 2 at once
 * (its change counter; the time is printed, not asserted). Ports 18520-18529 and 18600-18899.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portBlock, type PortBlock } from '../../support/ports.js';
import { POSTGRES_TEST_PORTS, startPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster.js';
import { exited, spawnProduct, startProductProcess, withTimeout, writeDemoProvisioning, type ProductPorts, type ProductProcess } from '../../support/product-process.js';

const productPorts = (block: PortBlock): ProductPorts => {
  const [sip, drachtio, admin, srs] = block.take(4) as [number, number, number, number];
  const mediaMin = block.take(20)[0]!;
  const srsRtpMin = block.take(20)[0]!;
  return { sip, drachtio, admin, srs, mediaMin, mediaMax: mediaMin + 19, srsRtpMin, srsRtpMax: srsRtpMin + 19 };
};
const clusterPorts = portBlock(POSTGRES_TEST_PORTS, 2, 10);
const NODE_1 = productPorts(portBlock(POSTGRES_TEST_PORTS, 1, 100));
const NODE_2 = productPorts(portBlock(POSTGRES_TEST_PORTS, 2, 100));
const REFUSED = productPorts(portBlock(POSTGRES_TEST_PORTS, 3, 100));
const closedPort = portBlock(POSTGRES_TEST_PORTS, 3, 100).end; // nothing listens there

const dir = mkdtempSync(join(tmpdir(), 'settings-database-'));
const provisioningFile = writeDemoProvisioning(dir, { callee: REFUSED.srsRtpMax + 1, carrier: REFUSED.srsRtpMax + 2, srs: NODE_1.srs });
let cluster: PostgresCluster | undefined;
const nodes: ProductProcess[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster({ port: clusterPorts });
}, 60_000);
afterAll(async () => {
  for (const n of nodes) await n.kill();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function metric(node: ProductPorts, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${node.admin}/v1/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('the product on a PostgreSQL settings database (DATABASE_URL)', () => {
  it('MUST refuse the start with one line naming the unreachable database (password hidden) and exit 1', async () => {
    const url = `postgres://app:s3cret@127.0.0.1:${closedPort}/settings`;
    const child = spawnProduct({ dir: mkdtempSync(join(dir, 'refused-')), ports: REFUSED, provisioningFile, logLevel: 'warn', env: { DATABASE_URL: url } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exit = await withTimeout(exited(child), 40_000, 'waiting for the product to refuse the start').finally(() => child.kill('SIGKILL'));
    expect(exit.code).toBe(1);
    expect(stderr.split('\n').filter((l) => l.trim() !== '')).toEqual([
      `POLICY_STORE_FAILED: settings store failure: cannot open the settings database postgres://app:***@127.0.0.1:${closedPort}/settings: connect ECONNREFUSED 127.0.0.1:${closedPort}`,
    ]);
  }, 60_000);

  it('two nodes started at once apply the provisioning file once; a write through node 1 reaches node 2 at once', async () => {
    if (!cluster) throw new Error('the test PostgreSQL cluster did not start (see the error of beforeAll)');
    const url = await cluster.createDatabase('product_nodes');
    const logs: string[][] = [[], []];
    const started = await Promise.all(
      [NODE_1, NODE_2].map((ports, i) =>
        startProductProcess({ dir: mkdtempSync(join(dir, `node-${i + 1}-`)), ports, provisioningFile, env: { DATABASE_URL: url }, onLine: (l) => logs[i]!.push(l), readyTimeoutMs: 40_000 }),
      ),
    );
    nodes.push(...started);
    const said = (msg: string): number => logs.flat().filter((l) => l.includes(`"msg":"${msg}`)).length;
    expect(said('provisioning file applied')).toBe(1);
    expect(said('provisioning file unchanged since it was last applied')).toBe(1);
    expect(logs.every((lines) => lines.some((l) => l.includes('"store":"postgres"') && l.includes('"msg":"settings store open"')))).toBe(true);
    expect(await metric(NODE_2, 'siprec_b2bua_settings_listener_up')).toBe(1);

    const before = (await metric(NODE_2, 'siprec_b2bua_settings_change_notifications_total'))!;
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${NODE_1.admin}/v1/orgs/demo`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Demo, renamed on node 1' }) });
    expect(res.status).toBe(200);
    let heard = before;
    while (heard === before && performance.now() - t0 < 5000) heard = (await metric(NODE_2, 'siprec_b2bua_settings_change_notifications_total'))!;
    const ms = performance.now() - t0;
    expect(heard).toBeGreaterThan(before);
    console.log(`[figure] admin write on node 1 (HTTP PATCH) -> node 2 has heard it (seen on its metrics, scrape included): ${ms.toFixed(1)} ms`);
    const org = (await (await fetch(`http://127.0.0.1:${NODE_2.admin}/v1/orgs/demo`)).json()) as { name: string };
    expect(org.name).toBe('Demo, renamed on node 1');
  }, 120_000);
});
