import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Srf from 'drachtio-srf';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSiprecBody, buildSrcOffer, serializeMetadata } from '../../../src/siprec/index.js';
import type { SrsMediaPool } from '../../../src/srs/srs-media-pool.js';
import { SrsApp } from '../../../src/srs/srs-app.js';
import type { SrsFaultOptions } from '../../../src/srs/srs-fault-options.js';
import { resolveSrsOptions } from '../../../src/srs/srs-options.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { initialModel } from '../../unit/siprec/metadata-fixture.js';
import { sleep, until } from '../../support/wait.js';

// Component test: the SRS app against a fake drachtio-srf (SIP faked, RTP sockets real on
// 127.0.0.1:17300-17499, this file's block). The recordings' media runs in this thread (mediaWorkers 0): the
// fake clock drives it and the first INVITE does not wait for a worker to start.

class FakeDialog extends EventEmitter {
  local = { uri: '', sdp: '' };
  remote = { uri: '', sdp: '' };
  destroyed = 0;
  /** The options of each destroy() (the BYE's headers). */
  destroyOptions: Array<{ headers?: Record<string, string> } | undefined> = [];
  connected = true;
  requests: Array<{ method: string; headers: Record<string, string>; body: string }> = [];
  destroy(opts?: { headers?: Record<string, string> }): void {
    this.destroyed++;
    this.destroyOptions.push(opts);
  }
  request(opts: { method: string; headers: Record<string, string>; body: string }): Promise<{ status: number }> {
    this.requests.push(opts);
    return Promise.resolve({ status: 200 });
  }
}

class FakeRes {
  sent: Array<{ status: number; opts: { body?: string; headers?: Record<string, string> } | undefined }> = [];
  get finalResponseSent(): boolean {
    return this.sent.some((s) => s.status >= 200);
  }
  send(status: number, opts?: { body?: string; headers?: Record<string, string> }): void {
    this.sent.push({ status, opts });
  }
  get last(): number | undefined {
    return this.sent.at(-1)?.status;
  }
}

class FakeReq extends EventEmitter {
  constructor(
    readonly headers: Record<string, string>,
    readonly body: string,
  ) {
    super();
  }
  has(name: string): boolean {
    return Object.keys(this.headers).some((k) => k.toLowerCase() === name.toLowerCase());
  }
  get(name: string): string {
    return Object.entries(this.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ?? '';
  }
}

class FakeSrf {
  handler: ((req: FakeReq, res: FakeRes) => void) | undefined;
  dialogs: FakeDialog[] = [];
  /** As srf does when the 200's confirmation and the BYE come in one read: the BYE is handled before the caller has the dialog. */
  byeBeforeResolve = false;
  invite(h: (req: FakeReq, res: FakeRes) => void): void {
    this.handler = h;
  }
  createUAS(_req: FakeReq, res: FakeRes, opts: { localSdp: string }): Promise<FakeDialog> {
    res.send(200, { body: opts.localSdp });
    const d = new FakeDialog();
    d.local.sdp = opts.localSdp;
    this.dialogs.push(d);
    if (this.byeBeforeResolve) {
      d.connected = false;
      d.emit('destroy');
    }
    return Promise.resolve(d);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'srs-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function siprecInvite(opts: { require?: boolean; direction?: 'sendonly' | 'inactive'; version?: number; metadata?: string; profile?: 'savp' } = {}): FakeReq {
  const sdp = buildSrcOffer({
    sessionId: '7',
    version: opts.version ?? 1,
    address: '127.0.0.1',
    direction: opts.direction ?? 'sendonly',
    streams: [1, 2].map((l) => ({
      label: String(l),
      port: 17390 + l * 2,
      ...(opts.profile === 'savp' ? { crypto: { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz' } } : {}),
    })),
  });
  const body = buildSiprecBody({ sdp, metadata: opts.metadata ?? serializeMetadata(initialModel()), boundary: 'b-1' });
  const headers: Record<string, string> = { 'Call-ID': 'call-1', 'Content-Type': body.contentType };
  if (opts.require ?? true) headers.Require = 'siprec';
  return new FakeReq(headers, body.body);
}

let portBase = 17300;
function setup(faults: SrsFaultOptions = { mode: 'none' }, srtp = true, media: { workers: number; rtpFrom: number } = { workers: 0, rtpFrom: 0 }) {
  const srf = new FakeSrf();
  const clock = new FakeClock();
  const from = media.workers > 0 ? media.rtpFrom : portBase;
  if (media.workers === 0) portBase += 20;
  let n = 0;
  const app = new SrsApp(srf as unknown as Srf, resolveSrsOptions({ rtpPorts: { from, to: from + 19 }, recordingsDir: dir, faults, srtp, mediaWorkers: media.workers }), {
    clock,
    timers: clock,
    newRecordingId: () => `rec-${from}-${++n}`,
  }).attach();
  const invite = async (req: FakeReq): Promise<FakeRes> => {
    const res = new FakeRes();
    srf.handler!(req, res);
    for (let i = 0; i < 50 && !res.finalResponseSent && res.sent.length === 0; i++) await sleep(5);
    for (let i = 0; i < 50 && !res.finalResponseSent; i++) await sleep(5);
    return res;
  };
  return { srf, app, clock, invite };
}

describe('SRS app error answers and fault modes (R-40 test support)', () => {
  it('answers 420 without Require: siprec, 400 for a malformed body, 488 for SRTP offers when SRTP is off', async () => {
    const { invite, app } = setup({ mode: 'none' }, false);
    expect((await invite(siprecInvite({ require: false }))).last).toBe(420);
    expect((await invite(new FakeReq({ Require: 'siprec', 'Content-Type': 'multipart/mixed;boundary=x', 'Call-ID': 'c' }, '--x\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n'))).last).toBe(400);
    expect((await invite(siprecInvite({ metadata: '<recording' }))).last).toBe(400);
    expect((await invite(siprecInvite({ profile: 'savp' }))).last).toBe(488);
    expect(app.recordings().size).toBe(0);
    await app.close();
  });

  it('fault reject answers the configured status with Retry-After', async () => {
    const { invite, app } = setup({ mode: 'reject', status: 486, retryAfterSec: 30 });
    const res = await invite(siprecInvite());
    expect(res.last).toBe(486);
    expect(res.sent[0]!.opts?.headers).toEqual({ 'Retry-After': '30' });
    await app.close();
  });

  it('fault no-answer leaves the INVITE unanswered', async () => {
    const { invite, app } = setup({ mode: 'no-answer' });
    const res = await invite(siprecInvite());
    expect(res.sent).toEqual([]);
    await app.close();
  });

  it('fault slow-answer sends 180 and answers only after the delay', async () => {
    const { invite, app, clock } = setup({ mode: 'slow-answer', delayMs: 3000 });
    const pending = invite(siprecInvite());
    await sleep(100);
    clock.advance(2999);
    await sleep(20);
    clock.advance(1);
    const done = await pending;
    expect(done.sent.map((s) => s.status)).toEqual([180, 200]);
    await app.close();
  });

  it('fault bye-after ends the recording from the SRS side and finalises the files', async () => {
    const { invite, app, clock, srf } = setup({ mode: 'bye-after', afterMs: 2000 });
    const ended = new Promise<string | undefined>((resolve) => app.once('recording-ended', (s) => resolve(s.endReason)));
    expect((await invite(siprecInvite())).last).toBe(200);
    expect(app.recordings().size).toBe(1);
    clock.advance(2000);
    expect(await ended).toBe('fault-bye');
    expect(srf.dialogs[0]!.destroyed).toBe(1);
    expect(app.recordings().size).toBe(0);
  });

  it('handles re-INVITE pause/resume with the same ports, metadata UPDATEs, snapshot requests and BYE', async () => {
    const { invite, app, srf } = setup();
    const res = await invite(siprecInvite());
    expect(res.last).toBe(200);
    const [id, active] = [...app.recordings()][0]!;
    const dialog = srf.dialogs[0]!;
    const firstAnswer = res.sent.at(-1)!.opts!.body!;

    const reinvite = new FakeRes();
    dialog.emit('modify', siprecInvite({ direction: 'inactive', version: 2 }), reinvite);
    await until(() => reinvite.finalResponseSent, 'the answer to the re-INVITE', 1000, 5);
    expect(reinvite.last).toBe(200);
    const pausedAnswer = reinvite.sent[0]!.opts!.body!;
    expect(pausedAnswer.match(/^m=audio \d+/gm)).toEqual(firstAnswer.match(/^m=audio \d+/gm));
    expect(pausedAnswer).toContain('a=inactive');
    expect(pausedAnswer).toMatch(/^o=- \d+ 2 /m);
    expect(active.recording.state).toBe('paused');

    const update = new FakeRes();
    const meta = serializeMetadata(initialModel());
    dialog.emit('update', new FakeReq({ 'Content-Type': 'application/rs-metadata+xml' }, meta), update);
    await until(() => update.finalResponseSent, 'the answer to the UPDATE', 1000, 5);
    expect(update.last).toBe(200);
    const badUpdate = new FakeRes();
    dialog.emit('update', new FakeReq({ 'Content-Type': 'application/rs-metadata+xml' }, meta.replace('<datamode>complete', '<datamode>sometimes')), badUpdate);
    await until(() => badUpdate.finalResponseSent, 'the answer to the bad UPDATE', 1000, 5);
    expect(badUpdate.last).toBe(400);

    expect(await app.requestSnapshot(id, 'lost state')).toBe(200);
    expect(dialog.requests[0]).toMatchObject({ method: 'UPDATE', headers: { 'Content-Type': 'application/rs-metadata-request' } });
    expect(dialog.requests[0]!.body).toContain('<requestreason xml:lang="en">lost state</requestreason>');

    const ended = new Promise<{ endReason: string | undefined; metadataDocuments: number }>((resolve) => app.once('recording-ended', resolve));
    dialog.emit('destroy');
    const summary = await ended;
    expect(summary.endReason).toBe('bye-from-src');
    expect(summary.metadataDocuments).toBe(3); // INVITE, re-INVITE and the valid UPDATE; the invalid one is not stored
    await app.close();
  });
});

describe('SRS app: its media worker dies mid-recording', () => {
  it('MUST end the session with BYE Reason 503 naming the cause, count it under media-worker-failed, and record the next INVITE', async () => {
    // RTP 34200-34219: block 1 of the recording server's media worker tests' 34000-34999
    const { invite, app, srf } = setup({ mode: 'none' }, true, { workers: 1, rtpFrom: 34200 });
    const answered = async (): Promise<FakeRes> => {
      const res = await invite(siprecInvite());
      await until(() => res.finalResponseSent, 'the answer to the INVITE', 5000, 5);
      return res;
    };
    expect((await answered()).last).toBe(200);
    const ended = new Promise<{ endReason: string | undefined; failure?: { reason: string } }>((resolve) => app.once('recording-ended', resolve));
    await (app.media as SrsMediaPool).terminateWorker(0);
    const summary = await ended;
    expect(summary.endReason).toBe('disk-error');
    expect(summary.failure).toMatchObject({ reason: 'media-worker-failed', code: 'SRS_MEDIA_WORKER_FAILED' });
    expect(srf.dialogs[0]!.destroyOptions[0]?.headers?.Reason).toBe('SIP ;cause=503 ;text="media-worker-failed SRS_MEDIA_WORKER_FAILED"');
    expect(app.failedCounts.get('media-worker-failed')).toBe(1);
    expect(app.recordings().size).toBe(0);
    expect((await answered()).last).toBe(200);
    expect(app.recordings().size).toBe(1);
    await app.close();
    expect(app.failedCounts.get('media-worker-failed')).toBe(1);
  });
});

describe('SRS app shutdown', () => {
  it('close() during a slow answer refuses the INVITE with 503', async () => {
    const { invite, app } = setup({ mode: 'slow-answer', delayMs: 60_000 });
    const pending = invite(siprecInvite());
    await sleep(100);
    await app.close();
    await app.close(); // idempotent
    const res = await pending;
    expect(res.sent.map((s) => s.status)).toEqual([180, 503]);
  });
});

describe('SRS app: a BYE srf handled before createUAS resolved', () => {
  it('still ends the recording and finalises its files (no recording left open)', async () => {
    const { invite, app, srf } = setup();
    srf.byeBeforeResolve = true;
    const ended = new Promise<string | undefined>((resolve) => app.once('recording-ended', (s) => resolve(s.endReason)));
    expect((await invite(siprecInvite())).last).toBe(200);
    expect(await ended).toBe('bye-from-src');
    expect(app.recordings().size).toBe(0);
    await app.close();
  });
});
