/**
 * The drachtio-srf implementation of the call layer's signalling interfaces (b2bua-types.ts): the
 * only module besides signaling-connection.ts and srs-connector.ts that imports drachtio-srf.
 *
 *   leg A: srf.invite(handler) -> InboundInvite; progress() = res.send(18x); answer() = srf.createUAS
 *   leg B: srf.createUAC(uri, { localSdp, headers }, { cbRequest, cbProvisional }); cancel = req.cancel()
 *   both : dialog 'destroy' -> bye, 'modify'/'update' -> reoffer, 'info' -> info, 'refer' -> refer
 *
 * Works the same against drachtio-server and the embedded engine (src/engine). A CANCEL from the
 * caller is answered by the SIP server (200 to CANCEL, 487 to the INVITE, RFC 3261 section 9.2);
 * srf then emits 'cancel' on the request.
 */
import type Srf from 'drachtio-srf';
import { ownOptional, ownString } from '../common/own-string.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type {
  DialOptions,
  DialOutcome,
  InboundInvite,
  InDialogRequest,
  Leg,
  LegEvents,
  PendingDial,
  SignalingPort,
  SipHeaders,
} from './b2bua-types.js';
import { BALANCER_SOURCE_HEADER, effectiveSource, type BalancerHeaderIgnored } from './balancer-source.js';
import { rebindDialogSocket } from './dialog-socket.js';
import { onDialogEnded } from './dialog-ended.js';
import { settleDialog } from './settled-invite.js';

type SrfRequest = Srf.SrfRequest;
type SrfResponse = Srf.SrfResponse;
type SrfDialog = Srf.Dialog;

/** RFC 7866 section 6.5: a UA that understands a=record advertises the record-aware option tag. */
export function advertisesRecordAware(supported: string | undefined): boolean {
  return (supported ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .includes('record-aware');
}

function getHeader(msg: { get(name: string): string | undefined; has?(name: string): boolean }, name: string): string | undefined {
  try {
    const v = msg.get(name);
    return v === undefined || v === '' ? undefined : String(v);
  } catch {
    return undefined;
  }
}

function sendOptions(options: { body?: string; contentType?: string; headers?: SipHeaders } | undefined): { headers: SipHeaders; body?: string } {
  const headers: SipHeaders = { ...options?.headers };
  if (options?.body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/sdp';
    return { headers, body: options.body };
  }
  return { headers };
}

function inDialog(method: InDialogRequest['method'], req: SrfRequest, res: SrfResponse): InDialogRequest {
  let answered = false;
  return {
    method,
    contentType: getHeader(req, 'Content-Type'),
    body: req.body ?? '',
    header: (name) => getHeader(req, name),
    respond: (status, options) => {
      if (answered) return;
      answered = true;
      res.send(status, sendOptions(options));
    },
  };
}

/** Methods the B2BUA serves (OPTIONS and 405 answers, RFC 3261 section 20.5). */
export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE';

/** srf routes answered 405 out of a dialog (SrfSignalingPort.answerUnservedMethods). */
const UNSERVED_METHODS = ['register', 'subscribe', 'publish', 'message', 'info', 'refer', 'notify'] as const;

/** The SIP server's answer when the app names a dialog it no longer has (drachtio-server and the engine). */
const NO_SUCH_DIALOG = /unable to find dialog/i;

/** One established dialog over drachtio-srf. */
export class SrfLeg extends TypedEmitter<LegEvents> implements Leg {
  readonly side: 'a' | 'b';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly recordAware: boolean;
  readonly #dialog: SrfDialog;
  readonly #log: Logger;
  #gone = false;
  #bye: Promise<void> | undefined;

  constructor(side: 'a' | 'b', dialog: SrfDialog, recordAware: boolean, log: Logger) {
    super();
    this.side = side;
    this.#dialog = dialog;
    settleDialog(dialog);
    this.callId = dialog.sip.callId;
    this.localTag = dialog.sip.localTag;
    this.remoteTag = dialog.sip.remoteTag;
    this.recordAware = recordAware;
    this.#log = log;
    this.onListenerError = (err, event) => log.error({ err, event, side }, 'leg listener failed');
    onDialogEnded(dialog, (_req: unknown, reason?: unknown) => {
      this.#gone = true;
      this.emit('bye', typeof reason === 'string' ? reason : 'BYE');
    });
    const forward = (event: 'reoffer' | 'info' | 'refer', method: InDialogRequest['method']) => (req: SrfRequest, res: SrfResponse) => {
      const r = inDialog(method, req, res);
      if (this.listenerCount(event) === 0) r.respond(event === 'reoffer' ? 488 : 200);
      else this.emit(event, r); // the listener answers, possibly later (a re-offer waits for the other leg)
    };
    dialog.on('modify', forward('reoffer', 'INVITE'));
    dialog.on('update', forward('reoffer', 'UPDATE'));
    dialog.on('info', forward('info', 'INFO'));
    dialog.on('refer', forward('refer', 'REFER'));
  }

  get remoteSdp(): string {
    return this.#dialog.remote.sdp ?? '';
  }

  async reinvite(sdp: string): Promise<string> {
    if (this.#gone) throw new Error('dialog is gone');
    rebindDialogSocket(this.#dialog);
    return this.#dialog.modify(sdp);
  }

  async request(method: 'INFO' | 'NOTIFY', options: { body?: string; contentType?: string; headers?: SipHeaders }): Promise<number> {
    if (this.#gone) return 481;
    const opts = { method, ...sendOptions(options) };
    rebindDialogSocket(this.#dialog);
    const res = (await this.#dialog.request(opts as unknown as SrfRequest)) as unknown as { status: number };
    return res.status;
  }

  async probe(): Promise<'alive' | 'gone' | 'unknown'> {
    if (this.#gone) return 'gone';
    let status: number;
    try {
      rebindDialogSocket(this.#dialog);
      status = ((await this.#dialog.request({ method: 'OPTIONS' } as unknown as SrfRequest)) as unknown as { status: number }).status;
    } catch (err) {
      // srf passes the SIP server's NOK text as the error
      if (!NO_SUCH_DIALOG.test(String((err as Error)?.message ?? err))) {
        this.#log.debug({ err, side: this.side }, 'in-dialog OPTIONS could not be sent');
        return 'unknown';
      }
      status = 481;
    }
    if (status !== 481 && status !== 408) return 'alive';
    if (this.#gone) return 'gone';
    this.#gone = true;
    this.#log.info({ side: this.side, status }, 'dialog is gone (in-dialog OPTIONS): ending the leg');
    this.emit('bye', 'dialog-gone');
    return 'gone';
  }

  hangup(reason?: string): Promise<void> {
    if (this.#bye) return this.#bye;
    if (this.#gone) return (this.#bye = Promise.resolve());
    this.#gone = true;
    this.#bye = new Promise<void>((resolve) => {
      try {
        rebindDialogSocket(this.#dialog);
        const headers = reason ? { headers: { Reason: `SIP;cause=200;text="${reason.replace(/"/g, '')}"` } } : undefined;
        this.#dialog.destroy(headers, (err: unknown) => {
          if (err) this.#log.debug({ err, side: this.side }, 'BYE failed');
          resolve();
        });
      } catch (err) {
        this.#log.debug({ err, side: this.side }, 'BYE could not be sent');
        resolve();
      }
    });
    return this.#bye;
  }
}

/**
 * An INVITE waiting for its final response. Once it has one, the request and response objects are
 * let go (they hold the whole message and its frame, about 4 kB, for nothing): header() then
 * answers undefined. The values kept for the call are copies (common/own-string.ts).
 */
class SrfInboundInvite implements InboundInvite {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly requestUri: string;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly sdp: string;
  readonly recordAware: boolean;
  #final = false;
  readonly #srf: Srf;
  /** Until the final response. */
  #pending: { req: SrfRequest; res: SrfResponse } | undefined;
  readonly #log: Logger;

  constructor(srf: Srf, req: SrfRequest, res: SrfResponse, log: Logger, source: { address: string; port: number }) {
    this.#srf = srf;
    this.#pending = { req, res };
    this.#log = log;
    this.callId = ownString(getHeader(req, 'Call-ID') ?? '');
    this.from = ownString(getHeader(req, 'From') ?? '');
    this.to = ownString(getHeader(req, 'To') ?? '');
    this.requestUri = ownString(req.uri ?? '');
    // the carrier's address, from a trusted balancer's X-Balancer-Source when one is in front (balancer-source.ts)
    this.sourceAddress = source.address;
    this.sourcePort = source.port;
    this.sdp = ownString(req.body ?? '');
    this.recordAware = advertisesRecordAware(getHeader(req, 'Supported'));
  }

  header(name: string): string | undefined {
    return this.#pending ? ownOptional(getHeader(this.#pending.req, name)) : undefined;
  }

  progress(status: 180 | 183, sdp?: string): void {
    const p = this.#pending;
    if (this.#final || !p || (p.req as unknown as { canceled?: boolean }).canceled) return;
    p.res.send(status, sdp === undefined ? {} : { body: sdp, headers: { 'Content-Type': 'application/sdp' } });
  }

  reject(status: number, reason?: string, headers?: SipHeaders): void {
    const p = this.#pending;
    if (this.#final || !p) return;
    this.#final = true;
    this.#pending = undefined;
    if ((p.req as unknown as { canceled?: boolean }).canceled) return;
    const opts = { headers: { ...headers } };
    if (reason) p.res.send(status, reason, opts);
    else p.res.send(status, opts);
  }

  async answer(sdp: string, headers?: SipHeaders): Promise<Leg> {
    const p = this.#pending;
    if (this.#final || !p) throw new Error('INVITE already answered');
    this.#final = true;
    try {
      const dialog = await this.#srf.createUAS(p.req, p.res, { localSdp: sdp, headers: { ...headers } });
      return new SrfLeg('a', dialog, this.recordAware, this.#log);
    } finally {
      this.#pending = undefined;
    }
  }

  onCancel(fn: () => void): void {
    this.#pending?.req.on('cancel', () => {
      this.#final = true;
      fn();
    });
  }
}

export interface SrfSignalingPortOptions {
  /** Default silent. */
  logger?: Logger;
  /**
   * Load balancers whose X-Balancer-Source header gives an INVITE's source for admission
   * (src/sip/balancer-source.ts, calls.trustedBalancers). Default none: the header is never believed.
   */
  trustedBalancers?: readonly string[];
  /** Told of every X-Balancer-Source header not believed (metrics); a throw there is ignored. */
  onBalancerSourceIgnored?: (reason: BalancerHeaderIgnored) => void;
}

/** SignalingPort over an srf connected to a drachtio server (or the embedded engine). */
export class SrfSignalingPort implements SignalingPort {
  readonly #srf: Srf;
  readonly #log: Logger;

  readonly #source: (req: SrfRequest) => { address: string; port: number };

  constructor(srf: Srf, options: SrfSignalingPortOptions = {}) {
    this.#srf = srf;
    this.#log = (options.logger ?? silentLogger).child({ component: 'b2bua-legs' });
    const balancers = options.trustedBalancers ?? [];
    this.#source = (req) => {
      const packetAddress = req.source_address ?? '';
      const packetPort = Number(req.source_port ?? 0);
      const s = effectiveSource(packetAddress, packetPort, getHeader(req, BALANCER_SOURCE_HEADER), balancers);
      if (s.ignored) {
        this.#log.warn({ reason: s.ignored, source: `${packetAddress}:${packetPort}` }, `${BALANCER_SOURCE_HEADER} header ignored`);
        try {
          options.onBalancerSourceIgnored?.(s.ignored);
        } catch {
          // counting must not change the call
        }
      }
      return s;
    };
  }

  onInvite(handler: (invite: InboundInvite) => void): void {
    this.#srf.invite((req, res) => handler(new SrfInboundInvite(this.#srf, req, res, this.#log, this.#source(req))));
  }

  /**
   * RFC 3261 section 11: answers out-of-dialog OPTIONS (the keep-alive pings of carriers, SBCs and
   * load balancers) with 200 and the methods and body types the B2BUA takes. Without this route the
   * SIP server answers 503, and a peer that pings takes the B2BUA for down. While `accepting()` is
   * false (draining) the answer is 503 with Retry-After, so the peer sends new calls elsewhere
   * (section 11.2: the answer is the one an INVITE would get).
   */
  answerOptions(accepting: () => boolean = () => true, retryAfterSec: () => number = () => 30): void {
    const srf = this.#srf as unknown as { options(handler: (req: SrfRequest, res: SrfResponse) => void): void };
    srf.options((_req, res) => {
      try {
        if (!accepting()) res.send(503, { headers: { 'Retry-After': String(retryAfterSec()) } });
        else res.send(200, { headers: { Allow: ALLOWED_METHODS, Accept: 'application/sdp' } });
      } catch (err) {
        this.#log.debug({ err }, 'OPTIONS could not be answered');
      }
    });
  }

  /**
   * RFC 3261 section 8.2.1: a method the B2BUA does not serve out of a dialog (REGISTER, SUBSCRIBE,
   * PUBLISH, MESSAGE, and INFO, REFER, NOTIFY without a dialog) gets 405 with Allow. Without these
   * routes the SIP server answers 503, which tells the peer to retry later, elsewhere, or take the
   * B2BUA for down. In-dialog requests still reach their dialog first.
   */
  answerUnservedMethods(): void {
    const srf = this.#srf as unknown as Record<string, (handler: (req: SrfRequest, res: SrfResponse) => void) => void>;
    for (const method of UNSERVED_METHODS) {
      srf[method]!.call(this.#srf, (_req: SrfRequest, res: SrfResponse) => {
        try {
          res.send(405, { headers: { Allow: ALLOWED_METHODS } });
        } catch (err) {
          this.#log.debug({ err, method }, 'request could not be answered');
        }
      });
    }
  }

  /**
   * Access control for every request the SIP server hands over (external drachtio-server; the
   * embedded engine runs the same gate itself, statelessly: src/sip/access-gate.ts). 'drop' answers
   * nothing, 'reject' answers status and headers; in-dialog requests are those with a To tag.
   */
  gateRequests(gate: (request: { address: string; port: number; method: string; inDialog: boolean }) => { action: 'allow' } | { action: 'drop' } | { action: 'reject'; status: number; headers?: Readonly<Record<string, string>> }): void {
    const use = this.#srf.use.bind(this.#srf) as unknown as (fn: (req: SrfRequest, res: SrfResponse, next: () => void) => void) => void;
    use((req, res, next) => {
      const d = gate({
        address: req.source_address ?? '',
        port: Number(req.source_port ?? 0),
        method: req.method ?? '',
        inDialog: /;\s*tag\s*=/i.test(getHeader(req, 'To') ?? ''),
      });
      if (d.action === 'allow') return next();
      if (d.action === 'reject') {
        try {
          res.send(d.status, { headers: { ...d.headers } });
        } catch (err) {
          this.#log.debug({ err }, 'refused request could not be answered');
        }
      }
    });
  }

  /** srf emits 'connect' again each time it has re-authenticated after a lost link (this port is built once srf is connected). */
  onReconnect(handler: () => void): void {
    this.#srf.on('connect', (err: Error | null) => {
      if (!err) handler();
    });
  }

  dial(uri: string, options: DialOptions): PendingDial {
    let sent: SrfRequest | undefined;
    let cancelled = false;
    const cancelSent = (): void => {
      try {
        sent?.cancel(() => undefined);
      } catch (err) {
        this.#log.debug({ err }, 'CANCEL could not be sent');
      }
    };
    const headers: SipHeaders = { ...options.headers };
    if (options.from) headers.From = options.from;
    const result = new Promise<DialOutcome>((resolve) => {
      let uac: Promise<SrfDialog>;
      try {
        uac = this.#srf.createUAC(
          uri,
          { localSdp: options.sdp, headers },
          {
            // srf calls cbRequest(err, req) at run time although its typings say (req).
            cbRequest: ((...args: unknown[]) => {
              const req = (args.length > 1 ? args[1] : args[0]) as SrfRequest | Error | null | undefined;
              if (!req || req instanceof Error) return;
              sent = req;
              if (cancelled) cancelSent();
            }) as (req: SrfRequest) => void,
            cbProvisional: (res: SrfResponse) => options.onProvisional?.(res.status, res.body ? res.body : undefined),
          },
        );
      } catch (err) {
        resolve({ ok: false, status: 500, reason: (err as Error).message, cancelled: false });
        return;
      }
      uac.then(
        (dialog) => {
          const supported = getHeader((dialog as unknown as { res?: SrfResponse }).res ?? { get: () => undefined }, 'Supported');
          const leg = new SrfLeg('b', dialog, advertisesRecordAware(supported), this.#log);
          if (cancelled) {
            void leg.hangup();
            resolve({ ok: false, status: 487, reason: 'Request Terminated', cancelled: true });
          } else resolve({ ok: true, leg });
        },
        (err: unknown) => {
          const e = err as { status?: unknown; reason?: unknown; message?: unknown };
          const status = typeof e?.status === 'number' ? e.status : 500;
          resolve({ ok: false, status, reason: typeof e?.reason === 'string' ? e.reason : String(e?.message ?? err), cancelled });
        },
      );
    });
    return {
      result,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        cancelSent();
      },
    };
  }
}
