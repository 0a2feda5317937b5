import { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import { describe, expect, it, vi } from 'vitest';
import { DrachtioSrsConnector } from '../../../../src/sip/srs-connector.js';
import { SrsInviteError, type SrsDialog, type SrsInDialogRequest } from '../../../../src/siprec/client/srs-connector-types.js';
import { buildSiprecBody } from '../../../../src/siprec/index.js';

const ANSWER = 'v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=label:1\r\na=recvonly\r\nm=audio 40002 RTP/AVP 0\r\na=label:2\r\na=recvonly\r\n';

interface UacCall {
  uri: string;
  opts: { headers: Record<string, string>; localSdp: string };
  progress: { cbRequest: (...a: unknown[]) => void; cbProvisional: (res: unknown) => void };
  resolve: (d: unknown) => void;
  reject: (e: unknown) => void;
}

function fakeSrf() {
  const calls: UacCall[] = [];
  const srf = {
    createUAC(uri: string, opts: UacCall['opts'], progress: UacCall['progress']) {
      return new Promise((resolve, reject) => calls.push({ uri, opts, progress, resolve, reject }));
    },
  };
  return { srf: srf as unknown as Srf, calls };
}

const OFFER = ANSWER.replace(/recvonly/g, 'sendonly');
/** The SIPREC INVITE the fake dialog was created by, as srf keeps it: its body is the dialog's local SDP. */
const SENT = buildSiprecBody({ sdp: OFFER, metadata: '<recording/>', boundary: 'sent' });

function fakeDialog(headers: Record<string, string> = { 'Content-Type': 'application/sdp' }, body = ANSWER) {
  const d = new EventEmitter() as EventEmitter & Record<string, unknown>;
  d.sip = { callId: 'c1', localTag: 'l1', remoteTag: 'r1' };
  d.local = { sdp: SENT.body };
  d.remote = { sdp: body };
  d.req = Object.assign(new EventEmitter(), { method: 'INVITE', socket: undefined, get: (n: string) => (n === 'Content-Type' ? SENT.contentType : undefined) });
  d.res = { get: (n: string) => headers[n] };
  d.destroy = vi.fn((_opts: unknown, cb: (err?: unknown) => void) => cb());
  d.request = vi.fn(async () => ({ status: 200, reason: 'OK', body: ANSWER, get: (n: string) => (n === 'Content-Type' ? 'application/sdp' : undefined) }));
  return d;
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('DrachtioSrsConnector (drachtio-srf implementation of SrsConnector)', () => {
  it('sends the INVITE through createUAC with the multipart Content-Type and body and reports provisionals', async () => {
    const { srf, calls } = fakeSrf();
    const onProvisional = vi.fn();
    const c = new DrachtioSrsConnector(srf);
    c.invite({ target: 'sip:srs@10.0.0.1', headers: { Require: 'siprec' }, body: { contentType: 'multipart/mixed;boundary=b', body: 'BODY' } }, { timeoutMs: 4000, onProvisional });
    expect(calls[0]!.uri).toBe('sip:srs@10.0.0.1');
    expect(calls[0]!.opts).toEqual({ headers: { Require: 'siprec', 'Content-Type': 'multipart/mixed;boundary=b' }, localSdp: 'BODY' });
    calls[0]!.progress.cbProvisional({ status: 100, reason: 'Trying' });
    expect(onProvisional).toHaveBeenCalledWith(100, 'Trying');
  });

  it('maps a SIP error to a status failure and anything else to a transport failure', async () => {
    const { srf, calls } = fakeSrf();
    const c = new DrachtioSrsConnector(srf);
    const body = { contentType: 'application/sdp', body: 'v=0' };
    const a = c.invite({ target: 'sip:a@x', headers: {}, body }, { timeoutMs: 1 });
    const b = c.invite({ target: 'sip:b@x', headers: {}, body }, { timeoutMs: 1 });
    calls[0]!.reject(Object.assign(new Error('Sip non-success response: 503'), { status: 503, reason: 'Service Unavailable' }));
    calls[1]!.reject(new Error('ECONNREFUSED'));
    await expect(a.result).rejects.toMatchObject({ failure: { kind: 'status', status: 503, reason: 'Service Unavailable' } });
    await expect(b.result).rejects.toMatchObject({ failure: { kind: 'transport', detail: 'ECONNREFUSED' } });
  });

  it('CANCELs once the request is out, even when cancel() came first, and rejects with cancelled at once', async () => {
    const { srf, calls } = fakeSrf();
    const c = new DrachtioSrsConnector(srf);
    const p = c.invite({ target: 'sip:a@x', headers: {}, body: { contentType: 'application/sdp', body: 'v=0' } }, { timeoutMs: 1 });
    p.cancel();
    p.cancel();
    await expect(p.result).rejects.toBeInstanceOf(SrsInviteError);
    await expect(p.result).rejects.toMatchObject({ failure: { kind: 'cancelled' } });
    const req = { cancel: vi.fn((cb: (err?: unknown) => void) => cb()) };
    calls[0]!.progress.cbRequest(null, req);
    expect(req.cancel).toHaveBeenCalledTimes(1);
  });

  it('BYEs a dialog whose 200 crossed our CANCEL', async () => {
    const { srf, calls } = fakeSrf();
    const c = new DrachtioSrsConnector(srf);
    const p = c.invite({ target: 'sip:a@x', headers: {}, body: { contentType: 'application/sdp', body: 'v=0' } }, { timeoutMs: 1 });
    calls[0]!.progress.cbRequest(null, { cancel: vi.fn() });
    p.cancel();
    const dialog = fakeDialog();
    calls[0]!.resolve(dialog);
    await flush();
    expect(dialog.destroy).toHaveBeenCalledTimes(1);
    await expect(p.result).rejects.toMatchObject({ failure: { kind: 'cancelled' } });
  });

  it('wraps the dialog: SDP answer from a multipart 200, re-INVITE with its own Content-Type, SRS requests and BYE', async () => {
    const { srf, calls } = fakeSrf();
    const c = new DrachtioSrsConnector(srf);
    const p = c.invite({ target: 'sip:a@x', headers: {}, body: { contentType: 'application/sdp', body: 'v=0' } }, { timeoutMs: 1 });
    const multipart = buildSiprecBody({ sdp: ANSWER, metadata: '<x/>', boundary: 'bb' });
    const raw = fakeDialog({ 'Content-Type': multipart.contentType }, multipart.body);
    calls[0]!.resolve(raw);
    const dialog: SrsDialog = await p.result;
    expect(dialog.answerSdp).toBe(ANSWER);
    expect(dialog.callId).toBe('c1');
    // srf's dialog keeps the SDP part of the multipart INVITE as its local SDP, and not the INVITE itself
    expect(raw.local).toEqual({ sdp: OFFER });
    expect(raw.req).toEqual({ method: 'INVITE', socket: undefined });

    const res = await dialog.modify({ contentType: 'multipart/mixed;boundary=z', body: 'B' }, { Contact: '<sip:src@localhost>;+sip.src' });
    expect(raw.request).toHaveBeenCalledWith({ method: 'INVITE', headers: { Contact: '<sip:src@localhost>;+sip.src', 'Content-Type': 'multipart/mixed;boundary=z' }, body: 'B' });
    expect(res).toEqual({ status: 200, reason: 'OK', answerSdp: ANSWER });

    const seen: SrsInDialogRequest[] = [];
    dialog.on('request', (r) => {
      seen.push(r);
      r.respond(200, { contentType: 'application/sdp', body: 'v=0' });
    });
    const send = vi.fn();
    raw.emit('modify', { get: () => 'application/sdp', body: ANSWER }, { send });
    expect(seen[0]).toMatchObject({ method: 'INVITE', contentType: 'application/sdp', body: ANSWER });
    expect(send).toHaveBeenCalledWith(200, { headers: { 'Content-Type': 'application/sdp' }, body: 'v=0' });

    const byes: string[] = [];
    dialog.on('bye', (reason) => byes.push(reason));
    raw.emit('destroy', {}, 'normal release');
    raw.emit('destroy', {}, 'again'); // srf ends a dialog once: a second destroy is not a second BYE
    expect(byes).toEqual(['normal release']);
    await dialog.bye();
    expect(raw.destroy).not.toHaveBeenCalled();
  });

  it('a BYE with a Reason header (RFC 3326) carries it to the failure detail', async () => {
    const { srf, calls } = fakeSrf();
    const p = new DrachtioSrsConnector(srf).invite({ target: 'sip:a@x', headers: {}, body: { contentType: 'application/sdp', body: 'v=0' } }, { timeoutMs: 1 });
    const raw = fakeDialog({ 'Content-Type': 'application/sdp' }, ANSWER);
    calls[0]!.resolve(raw);
    const dialog: SrsDialog = await p.result;
    const byes: string[] = [];
    dialog.on('bye', (reason) => byes.push(reason));
    raw.emit('destroy', { get: (name: string) => (name === 'Reason' ? 'SIP ;cause=503 ;text="disk-full ENOSPC"' : undefined) }, 'normal release');
    expect(byes).toEqual(['BYE (SIP ;cause=503 ;text="disk-full ENOSPC")']);
  });

  it('answers 500 to an SRS request the session left unanswered, and BYE is sent once', async () => {
    const { srf, calls } = fakeSrf();
    const c = new DrachtioSrsConnector(srf);
    const p = c.invite({ target: 'sip:a@x', headers: {}, body: { contentType: 'application/sdp', body: 'v=0' } }, { timeoutMs: 1 });
    const raw = fakeDialog();
    calls[0]!.resolve(raw);
    const dialog = await p.result;
    dialog.on('request', () => undefined);
    const send = vi.fn();
    raw.emit('update', { get: () => '', body: '' }, { send });
    expect(send).toHaveBeenCalledWith(500, { headers: {} });
    await Promise.all([dialog.bye(), dialog.bye()]);
    expect(raw.destroy).toHaveBeenCalledTimes(1);
  });
});
