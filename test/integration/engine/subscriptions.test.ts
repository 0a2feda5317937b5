/**
 * Subscription dialogs through the engine (RFC 6665, RFC 3515) with an unmodified srf app:
 * createUAS on a SUBSCRIBE or REFER gives srf a real dialog id so NOTIFY goes inside the dialog;
 * createUAC of a SUBSCRIBE gets the notifier's NOTIFYs in its dialog; a SUBSCRIBE with Expires 0,
 * a final NOTIFY and expiry end the dialog. SIPp, or a raw UDP peer, plays the other party. Ports: block 1 of 46000-46999.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RawSipPeer, deferred, rawRequest, startHarness, testSdp, within, type EngineHarness, type SrfRequest, type SrfResponse, type TestApp } from '../../support/engine-harness.js';
import { sleep, until } from '../../support/wait.js';
import { portBlock, sippPorts } from '../../support/ports.js';
import { findMessages, headerOf, runSipp, scenarioPath, startSipp, type SippResult } from '../../support/sipp.js';

const ports = portBlock({ from: 46000, to: 46999 }, 1, 200);
let harness: EngineHarness;
let app: TestApp;

type RequestFn = (opts: { method: string; headers?: Record<string, string>; body?: string }) => Promise<{ status: number }>;
/** The parts of srf's Dialog these tests use (its bundled types know fewer events and no `id`). */
interface SubDialog {
  readonly id: string;
  on(event: 'destroy' | 'unsubscribe', fn: () => void): unknown;
  on(event: 'notify', fn: (req: SrfRequest, res: SrfResponse) => void): unknown;
  on(event: 'destroy', fn: () => void): unknown;
  request: RequestFn;
}
type CreateUac = (uri: string, opts: { method: string; headers: Record<string, string> }) => Promise<SubDialog>;
type CreateUas = (req: SrfRequest, res: SrfResponse, opts: { headers?: Record<string, string>; localSdp?: string }) => Promise<SubDialog>;

beforeAll(async () => {
  harness = await startHarness({ sipPort: ports.next(), adminPort: ports.next() });
  app = await harness.connectApp({ routes: ['subscribe', 'refer', 'invite', 'notify'] });
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => {
  app.handle('subscribe', undefined);
  app.handle('refer', undefined);
  app.handle('invite', undefined);
  app.handle('notify', undefined);
});

function expectSippOk(result: SippResult): void {
  expect(result.exitCode, result.describe()).toBe(0);
  expect(result.stats.successful, result.describe()).toBe(1);
  expect(result.stats.failed, result.describe()).toBe(0);
}

function request(dialog: SubDialog): RequestFn {
  return dialog.request.bind(dialog);
}

function createUas(req: SrfRequest, res: SrfResponse, opts: { headers?: Record<string, string>; localSdp?: string }): Promise<SubDialog> {
  return (app.srf.createUAS.bind(app.srf) as unknown as CreateUas)(req, res, opts);
}

function subscriber(scenario: string): Promise<SippResult> {
  return runSipp({ scenario: scenarioPath(scenario), remote: harness.target, ...sippPorts(ports), service: 'presence', timeoutSec: 15 });
}

const dialogs = (): number => harness.stats()?.activeDialogs ?? 0;

describe('subscription dialogs (RFC 6665, RFC 3515)', () => {
  it('MUST give srf the dialog id of a SUBSCRIBE it accepts, carry its NOTIFYs in the dialog and end it after an unsubscribe and the final NOTIFY', async () => {
    const before = dialogs();
    const unsubscribed = deferred<void>();
    const destroyed = deferred<void>();
    let dialogId = '';
    app.handle('subscribe', (req: SrfRequest, res: SrfResponse) => {
      void createUas(req, res, { headers: { Expires: '60' } }).then(async (dialog) => {
        dialogId = dialog.id;
        dialog.on('destroy', () => destroyed.resolve());
        dialog.on('unsubscribe', () => {
          void request(dialog)({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'terminated;reason=timeout' } }).then(() => unsubscribed.resolve());
        });
        await request(dialog)({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=60' } });
      });
    });
    const result = await subscriber('subscribe-uac-unsubscribe');
    expectSippOk(result);
    await within(unsubscribed.promise, 2000, 'the final NOTIFY');
    await within(destroyed.promise, 2000, "srf's dialog to end");
    const subscribe = findMessages(result.messages, { direction: 'sent', method: 'SUBSCRIBE' })[0]!;
    expect(dialogId).toMatch(new RegExp(`^${subscribe.callId!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};from-tag=`));
    const notifies = findMessages(result.messages, { direction: 'received', method: 'NOTIFY' });
    expect(notifies).toHaveLength(2);
    const accepted = findMessages(result.messages, { direction: 'received', status: 202 })[0]!;
    // NOTIFY is inside the dialog: the 202's To-tag is the NOTIFY's From-tag, the same Call-ID
    const tag = /;tag=([^;\s]+)/.exec(headerOf(accepted.text, 'To', 't') ?? '')?.[1];
    expect(tag).toBeDefined();
    for (const n of notifies) {
      expect(headerOf(n.text, 'From', 'f')).toContain(`tag=${tag}`);
      expect(n.callId).toBe(subscribe.callId);
    }
    expect(headerOf(notifies[1]!.text, 'Subscription-State')).toMatch(/^terminated/);
    await until(() => dialogs() === before, 'the engine to drop the subscription dialog', 2000);
  });

  it('MUST end the subscription dialog when the subscription expires without a refresh', async () => {
    const before = dialogs();
    const accepted = deferred<SubDialog>();
    app.handle('subscribe', (req: SrfRequest, res: SrfResponse) => {
      void createUas(req, res, { headers: { Expires: '1' } }).then((d) => accepted.resolve(d));
    });
    const subscriber = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    try {
      const callId = randomUUID();
      await subscriber.send(
        rawRequest({
          method: 'SUBSCRIBE', uri: `sip:presence@${harness.target}`, callId, branch: `z9hG4bK-${randomUUID()}`, fromTag: 'expiring1', cseq: 1,
          local: { port: subscriber.localPort, transport: 'UDP' }, extraHeaders: ['Event: presence', 'Expires: 1'],
        }),
      );
      await subscriber.waitFor((m) => m.startsWith('SIP/2.0 202') && m.includes(callId), 3000, 'the 202');
      const dialog = await within(accepted.promise, 2000, 'createUAS');
      // the subscription's 1 s plus 64*T1 left for a final NOTIFY
      const expiry = 1000 + 64 * harness.timers.t1;
      if (harness.mode === 'embedded') {
        expect(dialogs()).toBe(before + 1);
        await until(() => dialogs() === before, 'the subscription to expire', expiry + 2000);
        await expect(request(dialog)({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'terminated' } })).rejects.toBeDefined();
      } else {
        // divergence: subscription-expiry (drachtio-server keeps the dialog past the subscription's end: the app's
        // NOTIFY still goes out in it)
        await sleep(expiry + 500);
        const from = subscriber.received.length;
        const sent = request(dialog)({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'terminated' } });
        const notify = await subscriber.waitFor((m) => m.startsWith('NOTIFY ') && m.includes(callId), 3000, 'the NOTIFY after expiry', from);
        const head = notify.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
        await subscriber.send(['SIP/2.0 200 OK', ...head, 'Content-Length: 0', '', ''].join('\r\n'));
        expect((await within(sent, 3000, 'the NOTIFY answer')).status).toBe(200);
      }
    } finally {
      await subscriber.close();
    }
  });

  it("MUST put the NOTIFYs of a REFER's implicit subscription in the dialog its 202 created and end it with the final NOTIFY", async () => {
    const before = dialogs();
    const sent = deferred<void>();
    let refers = 0;
    app.handle('refer', (req: SrfRequest, res: SrfResponse) => {
      refers++;
      void createUas(req, res, {}).then(async (dialog) => {
        const frag = { 'Content-Type': 'message/sipfrag;version=2.0', Event: 'refer' };
        await request(dialog)({ method: 'NOTIFY', headers: { ...frag, 'Subscription-State': 'active;expires=60' }, body: 'SIP/2.0 100 Trying\r\n' });
        await request(dialog)({ method: 'NOTIFY', headers: { ...frag, 'Subscription-State': 'terminated;reason=noresource' }, body: 'SIP/2.0 200 OK\r\n' });
        sent.resolve();
      });
    });
    if (harness.mode !== 'embedded') {
      // divergence: refer-outside-dialog (drachtio-server drops a REFER outside any dialog: no answer, no app)
      const result = await runSipp({ scenario: scenarioPath('refer-uac-expect-notify'), remote: harness.target, ...sippPorts(ports), service: 'presence', timeoutSec: 2 });
      expect(result.exitCode, result.describe()).not.toBe(0);
      expect(findMessages(result.messages, { direction: 'sent', method: 'REFER' }).length).toBeGreaterThanOrEqual(2);
      expect(findMessages(result.messages, { direction: 'received' })).toEqual([]);
      expect(refers).toBe(0);
      return;
    }
    const result = await subscriber('refer-uac-expect-notify');
    expectSippOk(result);
    await within(sent.promise, 2000, 'both NOTIFYs');
    const notifies = findMessages(result.messages, { direction: 'received', method: 'NOTIFY' });
    expect(notifies.map((n) => n.text.split('\r\n\r\n')[1])).toEqual(['SIP/2.0 100 Trying\r\n', 'SIP/2.0 200 OK\r\n']);
    await until(() => dialogs() === before, 'the engine to drop the REFER dialog', 2000);
  });

  it("MUST create the subscriber's dialog from the notifier's 202 (createUAC SUBSCRIBE) and deliver its NOTIFYs inside it", async () => {
    const before = dialogs();
    const p = sippPorts(ports);
    const notifier = startSipp({ scenario: scenarioPath('subscribe-uas-notify'), ...p, timeoutSec: 15 });
    await notifier.ready();
    const states: string[] = [];
    const createUac = app.srf.createUAC.bind(app.srf) as unknown as CreateUac;
    const dialog = await createUac(`sip:presentity@127.0.0.1:${p.port}`, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '60' } });
    expect(dialog.id).toContain(';from-tag=');
    dialog.on('notify', (req: SrfRequest, res: SrfResponse) => {
      states.push(req.get('Subscription-State'));
      res.send(200);
    });
    const result = await notifier.done;
    expectSippOk(result);
    expect(states).toEqual(['active;expires=60', 'terminated;reason=noresource']);
    const answers = findMessages(result.messages, { direction: 'received', cseqMethod: 'NOTIFY' }).map((m) => m.status);
    // divergence: final-notify-answer (drachtio-server ends the subscriber's dialog as the final NOTIFY arrives and
    // answers it 500 before the app's 200)
    expect(answers).toEqual([200, harness.mode === 'embedded' ? 200 : 500]);
    await until(() => dialogs() === before, 'the engine to drop the subscriber dialog', 2000);
  });

  it("MUST keep the call's dialog when the final NOTIFY of a REFER sent inside it arrives (the implicit subscription shares the INVITE dialog)", async () => {
    const notified = deferred<string>();
    const ended = deferred<void>();
    app.handle('invite', (req: SrfRequest, res: SrfResponse) => {
      void createUas(req, res, { localSdp: testSdp(ports.next()) }).then(async (dialog) => {
        dialog.on('notify', (nreq: SrfRequest, nres: SrfResponse) => {
          notified.resolve(nreq.get('Subscription-State'));
          nres.send(200);
        });
        dialog.on('destroy', () => ended.resolve());
        await request(dialog)({ method: 'REFER', headers: { 'Refer-To': '<sip:transfer-target@127.0.0.1>' } });
      });
    });
    const result = await subscriber('uac-call-refer-notify');
    expectSippOk(result);
    expect(await within(notified.promise, 2000, 'the NOTIFY in the call')).toMatch(/^terminated/);
    await within(ended.promise, 2000, "the caller's BYE to end the call");
    expect(findMessages(result.messages, { direction: 'received', status: 200, cseqMethod: 'BYE' })).toHaveLength(1);
  });

  it("MUST accept the notifier's first NOTIFY ahead of its 202 (RFC 6665 section 4.1.2.4) and keep the dialog for the NOTIFYs after it", async () => {
    const before = dialogs();
    const notifier = await RawSipPeer.udp(ports.next(), { host: harness.sipHost, port: harness.sipPort });
    try {
      const early: string[] = [];
      app.handle('notify', (req: SrfRequest, res: SrfResponse) => {
        early.push(req.get('Subscription-State'));
        res.send(200);
      });
      const createUac = app.srf.createUAC.bind(app.srf) as unknown as CreateUac;
      const subscribed = createUac(`sip:presentity@127.0.0.1:${notifier.localPort}`, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '60' } });
      const subscribe = await notifier.waitFor((m) => m.startsWith('SUBSCRIBE '), 3000, 'the SUBSCRIBE');
      const hdr = (name: string, compact: string): string => headerOf(subscribe, name, compact) ?? '';
      const callId = hdr('Call-ID', 'i');
      const subscriberTag = /;tag=([^;\s>]+)/.exec(hdr('From', 'f'))?.[1];
      const contact = /<([^>]+)>/.exec(hdr('Contact', 'm'))?.[1] ?? '';
      const notify = (cseq: number, state: string): string =>
        rawRequest({
          method: 'NOTIFY', uri: contact, callId, branch: `z9hG4bK-${randomUUID()}`, fromTag: 'notifier1', toTag: subscriberTag, cseq,
          local: { port: notifier.localPort, transport: 'UDP' }, extraHeaders: ['Event: presence', `Subscription-State: ${state}`],
        });
      await notifier.send(notify(1, 'active;expires=60'));
      const first = await notifier.waitFor((m) => m.startsWith('SIP/2.0 ') && m.includes('CSeq: 1 NOTIFY'), 3000, 'the answer to the early NOTIFY');
      // divergence: notify-before-2xx (drachtio-server answers 500 to a NOTIFY that overtakes the SUBSCRIBE's 2xx)
      expect(first.split('\r\n')[0]).toBe(harness.mode === 'embedded' ? 'SIP/2.0 200 OK' : 'SIP/2.0 500 Internal Server Error');
      const head = subscribe.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => /^(Via|From|Call-ID|CSeq):/i.test(l));
      await notifier.send(['SIP/2.0 202 Accepted', ...head, `To: ${hdr('To', 't')};tag=notifier1`, `Contact: <sip:notifier@127.0.0.1:${notifier.localPort}>`, 'Expires: 60', 'Content-Length: 0', '', ''].join('\r\n'));
      const dialog = await within(subscribed, 3000, 'createUAC');
      const inDialog = deferred<string>();
      dialog.on('notify', (req: SrfRequest, res: SrfResponse) => {
        inDialog.resolve(req.get('Subscription-State'));
        res.send(200);
      });
      await notifier.send(notify(2, 'terminated;reason=noresource'));
      expect(await within(inDialog.promise, 3000, 'the NOTIFY inside the dialog')).toMatch(/^terminated/);
      const last = await notifier.waitFor((m) => m.startsWith('SIP/2.0 ') && m.includes('CSeq: 2 NOTIFY'), 3000, 'the answer to the final NOTIFY');
      // divergence: final-notify-answer
      expect(last.split('\r\n')[0]).toBe(harness.mode === 'embedded' ? 'SIP/2.0 200 OK' : 'SIP/2.0 500 Internal Server Error');
      expect(early).toEqual(['active;expires=60']);
      await until(() => dialogs() === before, 'the engine to drop the subscriber dialog', 2000);
    } finally {
      await notifier.close();
    }
  });
});
