/**
 * Live calls across nodes (docs/scaling.md "Live calls across nodes"): the product as `npm start`
 * runs it, twice (node A, node B), on one throwaway PostgreSQL cluster (test/support/postgres-cluster.ts),
 * both with the same ADMIN_TOKEN. A recorded call placed through node B (the SIPp pack's PSTN caller
 * and user callee) is listed by node A with its node id, found by id on node A, and paused and resumed
 * through node A: the action reaches node B, whose own API (`?scope=local`) shows the recording paused.
 * Node B is then killed with SIGKILL: an action through node A answers 502 CALL_OWNER_UNREACHABLE while
 * the registry still holds B, and within B's heartbeat expiry (2 s x 3) node A no longer lists B's
 * call, and the registry deletes it (node A's metrics count the forwarded actions, the failure and the
 * purge), and node A's live feed (GET /v1/calls/events) shows node B's call and then its end. The time to
 * forget is printed, not asserted. Ports 19000-19299.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_CALLS_TEST_PORTS, portBlock, sippPorts, type PortBlock } from '../../support/ports.js';
import { startPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster.js';
import { makeTestAudio, startDemoCall, startProductProcess, writeDemoProvisioning, type PackSippRun, type ProductPorts, type ProductProcess } from '../../support/product-process.js';
import { assertSippInstalled } from '../../support/sipp.js';
import { until, untilValue } from '../../support/wait.js';

const productPorts = (block: PortBlock): ProductPorts => {
  const [sip, drachtio, admin, srs] = block.take(4) as [number, number, number, number];
  const mediaMin = block.take(20)[0]!;
  const srsRtpMin = block.take(20)[0]!;
  return { sip, drachtio, admin, srs, mediaMin, mediaMax: mediaMin + 19, srsRtpMin, srsRtpMax: srsRtpMin + 19 };
};
const clusterPorts = portBlock(LIVE_CALLS_TEST_PORTS, 0, 10);
const blockA = portBlock(LIVE_CALLS_TEST_PORTS, 1, 100);
const blockB = portBlock(LIVE_CALLS_TEST_PORTS, 2, 100);
const NODE_A = productPorts(blockA);
const NODE_B = productPorts(blockB);
const callee = sippPorts(blockB);
const carrier = sippPorts(blockB);
const TOKEN = 'live-calls-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

const dir = mkdtempSync(join(tmpdir(), 'live-calls-'));
let cluster: PostgresCluster | undefined;
let url = '';
const nodes: ProductProcess[] = [];
const sipp: PackSippRun[] = [];

interface CallView {
  id: string;
  callId: string;
  node?: string;
  state: string;
  recording: { state: string };
}

async function api(node: ProductPorts, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${node.admin}/v1${path}`, { ...init, headers: { ...auth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}
const calls = async (node: ProductPorts, query = ''): Promise<CallView[]> => ((await api(node, `/calls${query}`)).body as { calls: CallView[] }).calls;

beforeAll(async () => {
  assertSippInstalled();
  makeTestAudio(dir);
  cluster = await startPostgresCluster({ port: clusterPorts });
  url = await cluster.createDatabase('live_calls');
}, 60_000);
afterAll(async () => {
  for (const s of sipp) s.child.kill('SIGKILL');
  for (const n of nodes) await n.kill();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('live calls across nodes (DATABASE_URL)', () => {
  it('a call on node B is listed by node A, paused through node A, and forgotten within seconds once node B is killed', async () => {
    if (!cluster) throw new Error('the test PostgreSQL cluster did not start (see the error of beforeAll)');
    const provisioningFile = writeDemoProvisioning(dir, { callee: callee.port, carrier: carrier.port, srs: NODE_B.srs });
    const start = (ports: ProductPorts, id: string) =>
      startProductProcess({ dir: mkdtempSync(join(dir, `${id}-`)), ports, provisioningFile, env: { DATABASE_URL: url, NODE_ID: id, ADMIN_TOKEN: TOKEN }, readyTimeoutMs: 45_000 });
    nodes.push(...(await Promise.all([start(NODE_A, 'node-a'), start(NODE_B, 'node-b')])));
    const [, nodeB] = nodes as [ProductProcess, ProductProcess];

    // node A's live feed (what the web console shows), open before the call
    const feed: CallView[][] = [];
    const stream = new AbortController();
    const events = await fetch(`http://127.0.0.1:${NODE_A.admin}/v1/calls/events`, { headers: auth, signal: stream.signal });
    expect(events.status).toBe(200);
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of events.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').find((l) => l.startsWith('data: '));
          if (data) feed.push((JSON.parse(data.slice(6)) as { calls: CallView[] }).calls);
        }
      }
    })().catch(() => undefined);

    const run = await startDemoCall(dir, { sipPort: NODE_B.sip, callee, carrier, pauseMs: 30_000, timeoutSec: 60 });
    sipp.push(run.callee, run.caller);

    // node A lists node B's call once it records
    const call: CallView | undefined = await untilValue(
      async () => (await calls(NODE_A)).find((c) => c.node === 'node-b' && c.recording.state === 'recording'),
      "node A listing node B's call, recording",
      20_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nnode B log:\n${nodeB.log().slice(-3000)}`);
    });
    expect(await calls(NODE_A, '?scope=local'), "node A's own calls: none").toEqual([]);
    expect((await calls(NODE_B, '?scope=local')).map((c) => [c.id, c.node])).toEqual([[call!.id, 'node-b']]);
    const one = await api(NODE_A, `/calls/${call!.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: call!.id, callId: call!.callId, node: 'node-b' });
    expect((await api(NODE_A, `/calls/${encodeURIComponent(call!.callId)}`)).body, 'found by its SIP Call-ID too').toMatchObject({ id: call!.id });

    // pause through node A: forwarded to node B, which B's own API shows
    const t0 = performance.now();
    const pause = await api(NODE_A, `/calls/${call!.id}/recording`, { method: 'POST', body: JSON.stringify({ action: 'pause' }) });
    const pauseMs = performance.now() - t0;
    expect(pause).toEqual({ status: 200, body: { ok: true, state: 'paused' } });
    const onB = await api(NODE_B, `/calls/${call!.id}?scope=local`);
    expect(onB.body).toMatchObject({ node: 'node-b', recording: { state: 'paused' } });
    // node B's refusal comes back as node B gave it
    const again = await api(NODE_A, `/calls/${call!.id}/recording`, { method: 'POST', body: JSON.stringify({ action: 'pause' }) });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'CALL_CONTROL_REFUSED' } });
    // node A's list follows the change (the registry is written on each change)
    await until(async () => (await calls(NODE_A)).find((c) => c.id === call!.id)?.recording.state === 'paused', "node A's list showing the call paused", 5000, 50);
    const t1 = performance.now();
    const resume = await api(NODE_A, `/calls/${call!.id}/recording`, { method: 'POST', body: JSON.stringify({ action: 'resume' }) });
    const resumeMs = performance.now() - t1;
    expect(resume).toEqual({ status: 200, body: { ok: true, state: 'recording' } });
    expect((await api(NODE_B, `/calls/${call!.id}?scope=local`)).body).toMatchObject({ recording: { state: 'recording' } });
    expect((await api(NODE_A, '/calls/no-such-call')).status).toBe(404);
    const median = async (query: string): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < 21; i++) {
        const t = performance.now();
        await calls(NODE_A, query);
        ms.push(performance.now() - t);
      }
      return ms.sort((a, b) => a - b)[10]!;
    };
    // the same actions on node B itself, for comparison
    const t2 = performance.now();
    expect((await api(NODE_B, `/calls/${call!.id}/recording`, { method: 'POST', body: JSON.stringify({ action: 'pause' }) })).status).toBe(200);
    const localPauseMs = performance.now() - t2;
    const t3 = performance.now();
    expect((await api(NODE_B, `/calls/${call!.id}/recording`, { method: 'POST', body: JSON.stringify({ action: 'resume' }) })).status).toBe(200);
    const localResumeMs = performance.now() - t3;
    console.log(
      `[figure] call on node B: pause ${pauseMs.toFixed(1)} ms / resume ${resumeMs.toFixed(1)} ms through node A (forwarded), ` +
        `${localPauseMs.toFixed(1)} / ${localResumeMs.toFixed(1)} ms on node B itself (re-INVITE to the recording server included); ` +
        `GET /v1/calls on node A median of 21: ${(await median('')).toFixed(1)} ms with the registry read, ${(await median('?scope=local')).toFixed(1)} ms local only`,
    );

    // node B dies
    await nodeB.kill();
    const killedAt = performance.now();
    const unreachable = await api(NODE_A, `/calls/${call!.id}/recording`, { method: 'POST', body: JSON.stringify({ action: 'pause' }) });
    expect(unreachable.status, 'while the registry still holds node B').toBe(502);
    expect(unreachable.body).toMatchObject({ error: { code: 'CALL_OWNER_UNREACHABLE' } });
    expect((unreachable.body as { error: { message: string } }).error.message).toContain('node node-b');

    await until(async () => !(await calls(NODE_A)).some((c) => c.node === 'node-b'), 'node A no longer listing the calls of node B, killed', 15_000, 100);
    const forgotMs = performance.now() - killedAt;
    expect((await api(NODE_A, `/calls/${call!.id}`)).status).toBe(404);
    console.log(`[figure] node B killed (SIGKILL) -> node A no longer lists its call: ${forgotMs.toFixed(0)} ms (heartbeat 2000 ms, expiry after 3 missed)`);

    const nodeRows = async (): Promise<number> => Number((await cluster!.query<{ n: string }>("SELECT count(*) AS n FROM cluster_nodes WHERE node_id = 'node-b'", [], 'live_calls'))[0]!.n);
    await until(async () => (await nodeRows()) === 0, "node A's heartbeat purging node B from the registry", 10_000, 250);
    // the feed tells on node A's next heartbeat after the change
    await until(() => feed.at(-1)?.length === 0, "node A's feed dropping node B's call", 10_000);
    stream.abort();
    expect(feed[0], "the feed's first message: no call yet").toEqual([]);
    expect(feed.some((list) => list.some((c) => c.id === call!.id && c.node === 'node-b')), "node A's feed showed node B's call").toBe(true);
    expect(feed.at(-1), "its last message: node B's call gone").toEqual([]);
    expect(Number((await cluster.query<{ n: string }>('SELECT count(*) AS n FROM live_calls', [], 'live_calls'))[0]!.n)).toBe(0);

    // counted on node A: four actions forwarded (pause, refused pause, resume, the one to the dead node), one failed; node B purged
    const text = await (await fetch(`http://127.0.0.1:${NODE_A.admin}/v1/metrics`, { headers: auth })).text();
    const metric = (name: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`siprec_b2bua_${name} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    expect(metric('calls_forwarded_total')).toBe(4);
    expect(metric('calls_forward_failures_total')).toBe(1);
    expect(metric('live_call_registry_nodes_purged_total')).toBe(1);
    expect(metric('live_call_registry_up')).toBe(1);
    expect(metric('live_call_registry_heartbeat_failures_total')).toBe(0);
  }, 150_000);
});
