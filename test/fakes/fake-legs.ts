/**
 * Fake signalling for call-layer unit tests: an inbound INVITE that records what the call layer
 * answered, established legs whose re-INVITE answers the test controls, and a SignalingPort whose
 * dials the test resolves by hand.
 */
import { TypedEmitter } from '../../src/common/typed-emitter.js';
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
} from '../../src/sip/b2bua-types.js';

export function sdpOffer(port: number, opts: { codecs?: string; direction?: string; address?: string } = {}): string {
  const codecs = opts.codecs ?? '0 8 101';
  const rtpmap: Record<string, string> = { '0': 'PCMU/8000', '8': 'PCMA/8000', '18': 'G729/8000', '101': 'telephone-event/8000' };
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${opts.address ?? '192.0.2.50'}`,
    's=-',
    `c=IN IP4 ${opts.address ?? '192.0.2.50'}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${codecs}`,
    ...codecs.split(' ').map((pt) => `a=rtpmap:${pt} ${rtpmap[pt]}`),
    `a=${opts.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

export class FakeLeg extends TypedEmitter<LegEvents> implements Leg {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  remoteSdp: string;
  recordAware: boolean;
  readonly reinvites: string[] = [];
  readonly requests: Array<{ method: string; body?: string; contentType?: string }> = [];
  hangups = 0;
  /** What the next re-INVITE resolves with (default: echo the offer with our port) or a status to reject with. */
  reinviteAnswer: ((offer: string) => string) | number = (offer) => offer.replace(/m=audio \d+/, `m=audio ${this.port}`);

  constructor(
    readonly side: 'a' | 'b',
    readonly port: number,
    opts: { recordAware?: boolean; sdp?: string } = {},
  ) {
    super();
    this.callId = `call-${side}`;
    this.localTag = `local-${side}`;
    this.remoteTag = `remote-${side}`;
    this.remoteSdp = opts.sdp ?? sdpOffer(port);
    this.recordAware = opts.recordAware ?? false;
  }

  /** When set, each re-INVITE is answered only on releaseReinvite() (a slow party); `reinvitesInProgress` counts them. */
  holdReinvites = false;
  reinvitesInProgress = 0;
  #held: Array<() => void> = [];
  releaseReinvite(): void {
    this.#held.shift()?.();
  }

  async reinvite(sdp: string): Promise<string> {
    this.reinvites.push(sdp);
    if (this.holdReinvites) {
      this.reinvitesInProgress++;
      await new Promise<void>((resolve) => this.#held.push(resolve));
      this.reinvitesInProgress--;
    }
    const a = this.reinviteAnswer;
    if (typeof a === 'number') throw Object.assign(new Error(`status ${a}`), { status: a });
    this.remoteSdp = a(sdp);
    return this.remoteSdp;
  }

  async request(method: 'INFO' | 'NOTIFY', options: { body?: string; contentType?: string }): Promise<number> {
    this.requests.push({ method, ...options });
    return 200;
  }

  async hangup(): Promise<void> {
    this.hangups++;
  }

  /** What the next probe() finds; 'gone' also emits 'bye' like SrfLeg does. */
  probeResult: 'alive' | 'gone' | 'unknown' = 'alive';
  probes = 0;
  async probe(): Promise<'alive' | 'gone' | 'unknown'> {
    this.probes++;
    if (this.probeResult === 'gone') this.emit('bye', 'dialog-gone');
    return this.probeResult;
  }
}

/** An in-dialog request built by the test; `responses` records what the call layer answered. */
export function fakeRequest(
  method: InDialogRequest['method'],
  body: string,
  contentType?: string,
  headers: SipHeaders = {},
): InDialogRequest & { responses: Array<{ status: number; body?: string; headers?: SipHeaders }> } {
  const responses: Array<{ status: number; body?: string; headers?: SipHeaders }> = [];
  return {
    method,
    body,
    contentType,
    responses,
    header: (name) => headers[name],
    respond: (status, options) => {
      if (responses.length === 0) {
        responses.push({ status, ...(options?.body !== undefined ? { body: options.body } : {}), ...(options?.headers !== undefined ? { headers: options.headers } : {}) });
      }
    },
  };
}

export class FakeInvite implements InboundInvite {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly requestUri: string;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly sdp: string;
  readonly recordAware: boolean;
  readonly progressSent: Array<{ status: number; sdp?: string }> = [];
  rejected: number | undefined;
  answeredSdp: string | undefined;
  legA: FakeLeg | undefined;
  #cancel: (() => void) | undefined;
  readonly #headers: SipHeaders;

  constructor(o: { from: string; to: string; source?: string; port?: number; sdp?: string; recordAware?: boolean; headers?: SipHeaders; callId?: string }) {
    this.callId = o.callId ?? 'inbound-1';
    this.from = o.from;
    this.to = o.to;
    this.requestUri = o.to.replace(/^<|>.*$/g, '');
    this.sourceAddress = o.source ?? '192.0.2.10';
    this.sourcePort = o.port ?? 5060;
    this.sdp = o.sdp ?? sdpOffer(30000);
    this.recordAware = o.recordAware ?? false;
    this.#headers = o.headers ?? {};
  }

  header(name: string): string | undefined {
    return this.#headers[name];
  }

  progress(status: 180 | 183, sdp?: string): void {
    this.progressSent.push({ status, ...(sdp !== undefined ? { sdp } : {}) });
  }

  rejectHeaders: SipHeaders | undefined;
  reject(status: number, _reason?: string, headers?: SipHeaders): void {
    if (this.rejected === undefined && this.answeredSdp === undefined) {
      this.rejected = status;
      this.rejectHeaders = headers;
    }
  }

  async answer(sdp: string): Promise<Leg> {
    this.answeredSdp = sdp;
    this.legA = new FakeLeg('a', 30000, { recordAware: this.recordAware, sdp: this.sdp });
    return this.legA;
  }

  onCancel(fn: () => void): void {
    this.#cancel = fn;
  }

  /** The caller CANCELs. */
  cancel(): void {
    this.rejected ??= 487;
    this.#cancel?.();
  }
}

export interface FakeDial {
  uri: string;
  options: DialOptions;
  cancelled: boolean;
  resolve(outcome: DialOutcome): void;
}

export class FakeSignaling implements SignalingPort {
  readonly dials: FakeDial[] = [];
  #handler: ((i: InboundInvite) => void) | undefined;

  onInvite(handler: (invite: InboundInvite) => void): void {
    this.#handler = handler;
  }

  deliver(invite: InboundInvite): void {
    this.#handler?.(invite);
  }

  #reconnect: (() => void) | undefined;
  onReconnect(handler: () => void): void {
    this.#reconnect = handler;
  }

  /** The link to the SIP server came back. */
  reconnect(): void {
    this.#reconnect?.();
  }

  dial(uri: string, options: DialOptions): PendingDial {
    let resolve!: (o: DialOutcome) => void;
    const result = new Promise<DialOutcome>((r) => (resolve = r));
    const d: FakeDial = { uri, options, cancelled: false, resolve };
    this.dials.push(d);
    return {
      result,
      cancel: () => {
        if (d.cancelled) return;
        d.cancelled = true;
        resolve({ ok: false, status: 487, reason: 'Request Terminated', cancelled: true });
      },
    };
  }

  /** Answer the last dial with a leg B. */
  answer(opts: { port?: number; recordAware?: boolean; sdp?: string } = {}): FakeLeg {
    const d = this.dials[this.dials.length - 1]!;
    const leg = new FakeLeg('b', opts.port ?? 31000, { ...opts, sdp: opts.sdp ?? sdpOffer(opts.port ?? 31000, { address: '198.51.100.7', codecs: '0 101' }) });
    d.resolve({ ok: true, leg });
    return leg;
  }
}
