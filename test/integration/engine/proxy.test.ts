/**
 * The engine as a proxy: an unmodified srf app calls srf.proxyRequest(req, destinations, opts) and
 * the engine does what drachtio-server does (RFC 3261 section 16): Via and Record-Route, Max-Forwards,
 * serial and simultaneous forking with the best response, CANCEL, ACK hop by hop for non-2xx and end
 * to end (through the Record-Route) for 2xx, timeouts, and the result object srf hands the app.
 * SIPp plays the caller and the destinations. Ports: block 2 of 250 (46500-46749) of 46000-46999, clear of
 * subscriptions.test.ts (46200-46399) and unsupported-features.test.ts (46100-46149).
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { RawSipPeer, deferred, rawRequest, startHarness, within, type EngineHarness, type SrfRequest, type TestApp } from '../../support/engine-harness.js';
import { sleep, until } from '../../support/wait.js';
import { portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, headerOf, runSipp, scenarioPath, startSipp, type SippProcess, type SippResult } from '../../support/sipp.js';

const ports = portBlock({ from: 46000, to: 46999 }, 2, 250);
let harness: EngineHarness;
let app: TestApp;

interface ProxyResult {
  connected: boolean;
  finalStatus?: number;
  responses: Array<{ address: string; port: number; msgs: Array<{ status: number }> }>;
}
type ProxyOpts = Record<string, unknown>;
type ProxyFn = (req: SrfRequest, destination: string[], opts: ProxyOpts) => Promise<ProxyResult>;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: ['invite', 'message'] });
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => {
  app.handle('invite', undefined);
  app.handle('message', undefined);
});

function expectSippOk(result: SippResult): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(1);
  expect(result.stats.failed, result.describe()).toBe(0);
}

async function destination(scenario: string, keys?: Record<string, number>): Promise<{ sipp: SippProcess; uri: string; port: number }> {
  const p = sippPorts(ports);
  const sipp = startSipp({ scenario: scenarioPath(scenario), ...p, timeoutSec: 15, ...(keys ? { keys } : {}) });
  await sipp.ready();
  return { sipp, uri: `sip:callee@127.0.0.1:${p.port}`, port: p.port };
}

/** The app proxies every INVITE to `destinations`; resolves with srf's result (or its error). */
function proxyEvery(destinations: string[], opts: ProxyOpts, verb = 'invite'): Promise<{ result?: ProxyResult; error?: unknown }> {
  const outcome = deferred<{ result?: ProxyResult; error?: unknown }>();
  app.handle(verb, (req) => {
    const proxy = app.srf.proxyRequest.bind(app.srf) as unknown as ProxyFn;
    proxy(req, destinations, opts).then(
      (result) => outcome.resolve({ result }),
      (error: unknown) => outcome.resolve({ error }),
    );
  });
  return outcome.promise;
}

function caller(scenario: string): Promise<SippResult> {
  return runSipp({ scenario: scenarioPath(scenario), remote: harness.target, ...sippPorts(ports), service: 'proxy', timeoutSec: 15 });
}

/** A caller that hears 180, then for `silentMs` expects nothing (a final response fails it), then CANCELs. */
function callerRingsThenCancels(silentMs: number): Promise<SippResult> {
  return runSipp({ scenario: scenarioPath('proxy-uac-ring-pause-cancel'), remote: harness.target, ...sippPorts(ports), service: 'proxy', timeoutSec: 15, pauseMs: silentMs });
}

describe('engine as proxy (srf.proxyRequest)', () => {
  it('MUST forward the call with its own Via and Record-Route, one less Max-Forwards, and carry ACK and BYE through the route', async () => {
    const b = await destination('proxy-uas-answer');
    const outcome = proxyEvery([b.uri], { recordRoute: true });
    const a = await caller('uac-call-bye');
    const bDone = await b.sipp.done;
    expectSippOk(a);
    expectSippOk(bDone);
    const invite = findMessages(bDone.messages, { direction: 'received', method: 'INVITE' })[0]!;
    const vias = invite.text.split('\r\n').filter((l) => /^Via:/i.test(l));
    expect(vias).toHaveLength(2);
    expect(vias[0]).toContain(`127.0.0.1:${harness.sipPort}`);
    expect(headerOf(invite.text, 'Record-Route')).toBe(`<sip:127.0.0.1:${harness.sipPort};lr>`);
    expect(headerOf(invite.text, 'Max-Forwards')).toBe('69');
    // the Request-URI named the proxy, so it is replaced by the destination (RFC 3261 section 16.5)
    expect(invite.startLine).toBe(`INVITE ${b.uri} SIP/2.0`);
    // the caller gets the callee's 200 without the proxy's Via, with the Record-Route
    const ok = findMessages(a.messages, { direction: 'received', status: 200, cseqMethod: 'INVITE' })[0]!;
    expect(ok.text.split('\r\n').filter((l) => /^Via:/i.test(l))).toHaveLength(1);
    expect(headerOf(ok.text, 'Record-Route')).toBe(`<sip:127.0.0.1:${harness.sipPort};lr>`);
    // the 2xx ACK and the BYE reach the callee end to end through the proxy
    expect(findMessages(bDone.messages, { direction: 'received', method: 'ACK' })).toHaveLength(1);
    expect(findMessages(bDone.messages, { direction: 'received', method: 'BYE' })).toHaveLength(1);
    const { result } = await within(outcome, 2000, 'the proxy result');
    expect(result?.connected).toBe(true);
    expect(result?.finalStatus).toBe(200);
    expect(result?.responses.flatMap((r) => r.msgs.map((m) => m.status))).toEqual([200]);
  });

  it('MUST try the next destination after a 486 in sequential forking, ACK the 486 itself and connect the caller to the 200', async () => {
    const busy = await destination('uas-reject-486');
    const answer = await destination('proxy-uas-answer');
    const outcome = proxyEvery([busy.uri, answer.uri], { recordRoute: true, forking: 'sequential' });
    const a = await caller('uac-call-bye');
    const busyDone = await busy.sipp.done;
    const answerDone = await answer.sipp.done;
    expectSippOk(a);
    expectSippOk(busyDone);
    expectSippOk(answerDone);
    expect(findMessages(a.messages, { direction: 'received', status: 486 })).toHaveLength(0);
    const ack = findMessages(busyDone.messages, { direction: 'received', method: 'ACK' })[0]!;
    expect(ack.text).toContain(`127.0.0.1:${harness.sipPort}`);
    const { result } = await within(outcome, 2000, 'the proxy result');
    expect(result?.connected).toBe(true);
    expect(result?.responses.flatMap((r) => r.msgs.map((m) => m.status))).toEqual([486, 200]);
  });

  it('MUST fork simultaneously, forward the first 200 and CANCEL the other branch (its 487 ACKed by the proxy)', async () => {
    const answer = await destination('proxy-uas-answer');
    const loser = await destination('proxy-uas-trying-wait-cancel');
    const outcome = proxyEvery([loser.uri, answer.uri], { recordRoute: true, forking: 'simultaneous' });
    const a = await caller('uac-call-bye');
    const answerDone = await answer.sipp.done;
    const loserDone = await loser.sipp.done;
    expectSippOk(a);
    expectSippOk(answerDone);
    expectSippOk(loserDone);
    expect(findMessages(loserDone.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
    expect(findMessages(a.messages, { direction: 'received', status: 487 })).toHaveLength(0);
    const { result } = await within(outcome, 3000, 'the proxy result');
    expect(result?.connected).toBe(true);
  });

  it("MUST answer the caller's CANCEL with 200 and 487 and CANCEL the ringing destination", async () => {
    const b = await destination('proxy-uas-ring-wait-cancel');
    const outcome = proxyEvery([b.uri], {});
    const a = await caller('uac-call-cancel');
    const bDone = await b.sipp.done;
    expectSippOk(a);
    expectSippOk(bDone);
    expect(findMessages(bDone.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
    const { result } = await within(outcome, 3000, 'the proxy result');
    expect(result?.connected).toBe(false);
    expect(result?.finalStatus).toBe(487);
  });

  it('MUST reject a request with Max-Forwards 0 with 483 and fail the app with the reason', async () => {
    const outcome = proxyEvery(['sip:nobody@127.0.0.1:9'], {});
    const a = await caller('proxy-uac-max-forwards-0');
    expectSippOk(a);
    const { error } = await within(outcome, 2000, 'the proxy error');
    expect(String(error)).toContain('483 Too Many Hops');
  });

  it('MUST CANCEL a destination with no final response within finalTimeout and answer the caller 408', async () => {
    const b = await destination('proxy-uas-ring-wait-cancel');
    const outcome = proxyEvery([b.uri], { finalTimeout: '1s' });
    const started = Date.now();
    // divergence: proxy-final-timeout (drachtio-server ignores finalTimeout: the call rings on until the caller CANCELs)
    const a = harness.mode === 'embedded' ? await caller('proxy-uac-expect-408') : await callerRingsThenCancels(2000);
    const bDone = await b.sipp.done;
    expectSippOk(a);
    expectSippOk(bDone);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(findMessages(bDone.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
    // divergence: proxy-final-timeout
    expect(findMessages(a.messages, { direction: 'received', status: 408 })).toHaveLength(harness.mode === 'embedded' ? 1 : 0);
    const { result } = await within(outcome, 3000, 'the proxy result');
    expect(result?.connected).toBe(false);
  });

  it('MUST follow a 302 to its Contact when followRedirects is set, ACKing the 302 itself', async () => {
    const moved = await destination('proxy-uas-answer');
    const redirect = await destination('proxy-uas-redirect', { moved_port: moved.port });
    const outcome = proxyEvery([redirect.uri], { recordRoute: true, followRedirects: true });
    const a = await caller('uac-call-bye');
    expectSippOk(a);
    expectSippOk(await redirect.sipp.done);
    const movedDone = await moved.sipp.done;
    expectSippOk(movedDone);
    expect(findMessages(movedDone.messages, { direction: 'received', method: 'INVITE' })[0]!.startLine).toBe(`INVITE sip:moved@127.0.0.1:${moved.port} SIP/2.0`);
    expect(findMessages(a.messages, { direction: 'received', status: 302 })).toHaveLength(0);
    const { result } = await within(outcome, 2000, 'the proxy result');
    expect(result?.responses.flatMap((r) => r.msgs.map((m) => m.status))).toEqual([302, 200]);
  });

  it('MUST give up a destination that sends nothing within provisionalTimeout and try the next one', async () => {
    const silentPort = ports.next();
    const silent = createSocket('udp4');
    let invites = 0;
    silent.on('message', () => invites++);
    await new Promise<void>((r) => silent.bind(silentPort, '127.0.0.1', () => r()));
    try {
      const answer = await destination('proxy-uas-answer');
      const outcome = proxyEvery([`sip:silent@127.0.0.1:${silentPort}`, answer.uri], { recordRoute: true, provisionalTimeout: '500ms' });
      const started = Date.now();
      const a = await caller('uac-call-bye');
      expectSippOk(a);
      expectSippOk(await answer.sipp.done);
      expect(invites).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      const { result } = await within(outcome, 2000, 'the proxy result');
      expect(result?.connected).toBe(true);
    } finally {
      silent.close();
    }
  });

  it('MUST CANCEL a destination past finalTimeout and connect the caller to the next one in sequential forking', async () => {
    const ringing = await destination('proxy-uas-ring-wait-cancel');
    if (harness.mode !== 'embedded') {
      // divergence: proxy-final-timeout (drachtio-server never leaves the ringing destination: the next one gets
      // no INVITE and the call rings on until the caller CANCELs)
      const nextPort = ports.next();
      const next = createSocket('udp4');
      let nextInvites = 0;
      next.on('message', () => nextInvites++);
      await new Promise<void>((r) => next.bind(nextPort, '127.0.0.1', () => r()));
      try {
        const outcome = proxyEvery([ringing.uri, `sip:next@127.0.0.1:${nextPort}`], { recordRoute: true, finalTimeout: '800ms' });
        expectSippOk(await callerRingsThenCancels(2000));
        const ringingDone = await ringing.sipp.done;
        expectSippOk(ringingDone);
        expect(findMessages(ringingDone.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
        expect(nextInvites).toBe(0);
        const { result } = await within(outcome, 3000, 'the proxy result');
        expect(result?.connected).toBe(false);
      } finally {
        next.close();
      }
      return;
    }
    const answer = await destination('proxy-uas-answer');
    const outcome = proxyEvery([ringing.uri, answer.uri], { recordRoute: true, finalTimeout: '800ms' });
    const a = await caller('uac-call-bye');
    expectSippOk(a);
    const ringingDone = await ringing.sipp.done;
    expectSippOk(ringingDone);
    expectSippOk(await answer.sipp.done);
    expect(findMessages(ringingDone.messages, { direction: 'received', method: 'CANCEL' })).toHaveLength(1);
    const { result } = await within(outcome, 2000, 'the proxy result');
    expect(result?.connected).toBe(true);
  });

  it('MUST NOT relay an in-dialog request that merely names the engine in its Route (no open relay): 481, nothing forwarded', async () => {
    const target = { host: harness.sipHost, port: harness.sipPort };
    const attacker = await RawSipPeer.udp(ports.next(), target);
    const victim = await RawSipPeer.udp(ports.next(), target);
    try {
      const callId = randomUUID();
      await attacker.send(
        rawRequest({
          method: 'INFO', uri: `sip:victim@127.0.0.1:${victim.localPort}`, callId, branch: `z9hG4bK-${randomUUID()}`, fromTag: 'x1', toTag: 'never-routed', cseq: 2,
          local: { port: attacker.localPort, transport: 'UDP' }, extraHeaders: [`Route: <sip:${harness.target};lr>`],
        }),
      );
      if (harness.mode === 'embedded') {
        await attacker.waitFor((m) => m.startsWith('SIP/2.0 481') && m.includes(callId), 3000, 'a 481 for the unknown dialog');
        await sleep(300);
        expect(victim.received).toEqual([]);
      } else {
        // divergence: in-dialog-route-relay (drachtio-server forwards any request with a To-tag whose first Route
        // names it, dialog or not: the victim gets the INFO with the server's Via on top and the Route removed)
        const relayed = await victim.waitFor((m) => m.startsWith('INFO ') && m.includes(callId), 3000, 'the relayed INFO');
        const vias = relayed.split('\r\n').filter((l) => /^Via:/i.test(l));
        expect(vias).toHaveLength(2);
        expect(vias[0]).toContain(harness.target);
        expect(headerOf(relayed, 'Route')).toBeUndefined();
        expect(attacker.startingWith('SIP/2.0 481')).toEqual([]);
      }
    } finally {
      await attacker.close();
      await victim.close();
    }
  });

  it('MUST proxy a request outside INVITE (MESSAGE) and return the 200 to the sender without its own Via', async () => {
    const target = { host: harness.sipHost, port: harness.sipPort };
    const sender = await RawSipPeer.udp(ports.next(), target);
    const callee = await RawSipPeer.udp(ports.next(), target);
    try {
      const outcome = proxyEvery([`sip:callee@127.0.0.1:${callee.localPort}`], {}, 'message');
      const callId = randomUUID();
      await sender.send(
        rawRequest({
          method: 'MESSAGE', uri: `sip:proxy@${harness.target}`, callId, branch: `z9hG4bK-${randomUUID()}`, fromTag: 'm1', cseq: 1,
          local: { port: sender.localPort, transport: 'UDP' }, body: 'hello', contentType: 'text/plain',
        }),
      );
      const forwarded = await callee.waitFor((m) => m.startsWith('MESSAGE ') && m.includes(callId), 3000, 'the proxied MESSAGE');
      expect(forwarded.split('\r\n').filter((l) => /^Via:/i.test(l))).toHaveLength(2);
      expect(forwarded.endsWith('hello')).toBe(true);
      const head = forwarded.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
      await callee.send(['SIP/2.0 200 OK', ...head.map((l) => (/^To:/i.test(l) ? `${l};tag=callee1` : l)), 'Content-Length: 0', '', ''].join('\r\n'));
      const ok = await sender.waitFor((m) => m.startsWith('SIP/2.0 200') && m.includes(callId), 3000, 'the 200 back at the sender');
      expect(ok.split('\r\n').filter((l) => /^Via:/i.test(l))).toHaveLength(1);
      expect(headerOf(ok, 'To', 't')).toContain('tag=callee1');
      const { result } = await within(outcome, 2000, 'the proxy result');
      expect(result?.connected).toBe(true);
    } finally {
      await sender.close();
      await callee.close();
    }
  });

  it("MUST stop at a destination's digest challenge and send the caller's retry with credentials back to that destination", async () => {
    const silentPort = ports.next();
    const silent = createSocket('udp4');
    let silentInvites = 0;
    silent.on('message', () => silentInvites++);
    await new Promise<void>((r) => silent.bind(silentPort, '127.0.0.1', () => r()));
    try {
      const challenger = await destination('proxy-uas-challenge');
      const other = `sip:other@127.0.0.1:${silentPort}`;
      const results: ProxyResult[] = [];
      let calls = 0;
      app.handle('invite', (req) => {
        // first attempt: the challenger first; the retry: the other destination first (the engine must ignore it)
        const destinations = calls++ === 0 ? [challenger.uri, other] : [other, challenger.uri];
        const proxy = app.srf.proxyRequest.bind(app.srf) as unknown as ProxyFn;
        void proxy(req, destinations, { recordRoute: true }).then((r) => results.push(r));
      });
      const a = await runSipp({
        scenario: scenarioPath('uac-digest', 'calls'), remote: harness.target, ...sippPorts(ports), timeoutSec: 15, pauseMs: 200,
        keys: { from_user: 'alice', from_host: 'proxy.test', to_user: 'bob', rtp_port: ports.next() },
        extraArgs: ['-au', 'alice', '-ap', 'secret'],
      });
      expectSippOk(a);
      expectSippOk(await challenger.sipp.done);
      expect(calls).toBe(2);
      expect(silentInvites).toBe(0);
      const retried = findMessages(a.messages, { direction: 'sent', method: 'INVITE' })[1]!;
      expect(headerOf(retried.text, 'Proxy-Authorization')).toContain('nonce=');
      await until(() => results.length >= 2, 'both proxy results', 2000);
      expect(results.map((r) => r.finalStatus)).toEqual([407, 200]);
    } finally {
      silent.close();
    }
  });
});

