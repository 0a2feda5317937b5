import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/fake-clock.js';
import { ServerTransaction } from '../../../src/engine/server-transaction.js';
import { ClientTransaction } from '../../../src/engine/client-transaction.js';
import type { Target, TransactionContext } from '../../../src/engine/transaction-context.js';
import type { SipMessage } from '../../../src/engine/sip-message.js';
import { makeDialogId } from '../../../src/engine/dialog.js';

const T1 = 500;
function setup(protocol: 'udp' | 'tcp' = 'udp') {
  const clock = new FakeClock();
  const sent: Array<{ at: number; text: string }> = [];
  let retrans = 0;
  const ctx: TransactionContext = {
    timers: clock, t1: T1, t2: 4000, t4: 5000,
    send: (_t, text) => sent.push({ at: clock.monotonic(), text }),
    countRetransmission: () => retrans++,
  };
  const target: Target = { protocol, host: '127.0.0.1', port: 5080 };
  return { clock, sent, ctx, target, retrans: () => retrans };
}
const req = (method: string): SipMessage => ({ isRequest: true, method, uri: 'sip:a@b', status: 0, reason: '', headers: [], body: '' });

describe('INVITE server transaction (RFC 3261 17.2.1, docs/engine.md item D13/D14)', () => {
  it('retransmits a non-2xx final with Timer G (T1 doubling, cap T2) until ACK, then Timer I ends it', () => {
    const s = setup();
    let ended = 0;
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => ended++, onAckTimeout: () => {}, onPendingTimeout: () => {} }, 64000);
    t.respond(486, 'R486');
    s.clock.advance(T1 * 7); // sends at 0, 500, 1500, 3500
    expect(s.sent.map((x) => x.at)).toEqual([0, 500, 1500, 3500]);
    t.ackReceived();
    expect(t.state).toBe('confirmed');
    s.clock.advance(10000);
    expect(s.sent).toHaveLength(4);
    expect(ended).toBe(1);
    expect(t.state).toBe('terminated');
  });

  it('gives up at Timer H (64*T1) without ACK and clears every timer', () => {
    const s = setup();
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => {}, onAckTimeout: () => {}, onPendingTimeout: () => {} }, 64000);
    t.respond(500, 'R500');
    s.clock.advance(64 * T1);
    expect(t.state).toBe('terminated');
    expect(s.clock.pending).toBe(0);
  });

  it('retransmits the 2xx until ACK and reports an ACK timeout after 64*T1 (D14)', () => {
    const s = setup();
    let ackTimeouts = 0;
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => {}, onAckTimeout: () => ackTimeouts++, onPendingTimeout: () => {} }, 64000);
    t.respond(200, 'R200');
    s.clock.advance(64 * T1);
    expect(ackTimeouts).toBe(1);
    expect(s.sent.length).toBeGreaterThan(5);
    expect(s.sent.every((x) => x.text === 'R200')).toBe(true);
    expect(s.clock.pending).toBe(0);
  });

  it('stops 2xx retransmission when the ACK arrives through the dialog', () => {
    const s = setup();
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => {}, onAckTimeout: () => { throw new Error('no'); }, onPendingTimeout: () => {} }, 64000);
    t.respond(200, 'R200');
    s.clock.advance(600);
    expect(t.ack2xx()).toBe(true);
    expect(t.ack2xx()).toBe(false);
    s.clock.advance(64 * T1);
    expect(s.sent).toHaveLength(2);
  });

  it('absorbs retransmitted requests by re-sending the last response (D13)', () => {
    const s = setup();
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => {}, onAckTimeout: () => {}, onPendingTimeout: () => {} }, 64000);
    t.respond(100, 'R100');
    t.retransmitReceived();
    expect(s.sent.map((x) => x.text)).toEqual(['R100', 'R100']);
  });

  it('drops a request the app never answers after the pending timeout', () => {
    const s = setup();
    let timedOut = 0;
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => {}, onAckTimeout: () => {}, onPendingTimeout: () => timedOut++ }, 64000);
    s.clock.advance(64000);
    expect(timedOut).toBe(1);
    expect(t.state).toBe('terminated');
  });

  it('retransmits a reliable 1xx until PRACK (RFC 3262 section 3)', () => {
    const s = setup();
    const t = new ServerTransaction(s.ctx, 'id', 'k', req('INVITE'), s.target, { onTerminated: () => {}, onAckTimeout: () => {}, onPendingTimeout: () => {} }, 64000);
    t.sendReliable(1, 'R183');
    s.clock.advance(1600);
    expect(s.sent.map((x) => x.at)).toEqual([0, 500, 1500]);
    expect(t.prackReceived(2)).toBe(false);
    expect(t.prackReceived(1)).toBe(true);
    s.clock.advance(10000);
    expect(s.sent).toHaveLength(3);
  });
});

describe('non-INVITE server transaction (RFC 3261 17.2.2, D15)', () => {
  it('keeps the final response for Timer J (64*T1) on UDP, 0 on TCP', () => {
    for (const [proto, wait] of [['udp', 64 * T1], ['tcp', 0]] as const) {
      const s = setup(proto);
      const t = new ServerTransaction(s.ctx, 'id', 'k', req('BYE'), s.target, { onTerminated: () => {}, onAckTimeout: () => {}, onPendingTimeout: () => {} }, 64000);
      t.respond(200, 'R200');
      t.retransmitReceived();
      expect(s.sent).toHaveLength(2);
      s.clock.advance(Math.max(0, wait - 1));
      expect(t.state).toBe(wait === 0 ? 'terminated' : 'completed');
      s.clock.advance(1);
      expect(t.state).toBe('terminated');
    }
  });
});

describe('client transactions (RFC 3261 17.1, D16/D17)', () => {
  it('INVITE: Timer A doubles from T1; Timer B (64*T1) yields a local 408', () => {
    const s = setup();
    const failures: number[] = [];
    const t = new ClientTransaction(s.ctx, 'id', 'k', req('INVITE'), 'INV', s.target, { onTerminated: () => {}, onLocalFailure: (_t, st) => failures.push(st) });
    t.start();
    s.clock.advance(64 * T1);
    expect(s.sent.map((x) => x.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(failures).toEqual([408]);
    expect(t.state).toBe('terminated');
    expect(s.clock.pending).toBe(0);
  });

  it('INVITE: a provisional stops Timer A; a non-2xx final is delivered once and its retransmission re-sends the ACK', () => {
    const s = setup();
    const t = new ClientTransaction(s.ctx, 'id', 'k', req('INVITE'), 'INV', s.target, { onTerminated: () => {}, onLocalFailure: () => {} });
    t.start();
    expect(t.receive(180)).toBe('deliver');
    s.clock.advance(5000);
    expect(s.sent).toHaveLength(1);
    expect(t.receive(486)).toBe('deliver');
    t.ackText = 'ACK';
    expect(t.receive(486)).toBe('absorb');
    expect(s.sent.map((x) => x.text)).toEqual(['INV', 'ACK']);
    s.clock.advance(64 * T1);
    expect(t.state).toBe('terminated');
  });

  it('non-INVITE: Timer E caps at T2, Timer F gives a local 408', () => {
    const s = setup();
    const failures: number[] = [];
    const t = new ClientTransaction(s.ctx, 'id', 'k', req('OPTIONS'), 'OPT', s.target, { onTerminated: () => {}, onLocalFailure: (_t, st) => failures.push(st) });
    t.start();
    s.clock.advance(64 * T1);
    const gaps = s.sent.slice(1).map((x, i) => x.at - (s.sent[i]?.at ?? 0));
    expect(gaps.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(Math.max(...gaps)).toBe(4000);
    expect(failures).toEqual([408]);
  });

  it('non-INVITE over TCP: no retransmissions; Timer K is 0 after the final response', () => {
    const s = setup('tcp');
    const t = new ClientTransaction(s.ctx, 'id', 'k', req('OPTIONS'), 'OPT', s.target, { onTerminated: () => {}, onLocalFailure: () => {} });
    t.start();
    s.clock.advance(10000);
    expect(s.sent).toHaveLength(1);
    expect(t.receive(200)).toBe('deliver');
    s.clock.advance(0);
    expect(t.state).toBe('terminated');
  });
});

describe('dialog id (docs/engine.md protocol section 5)', () => {
  it('is <Call-ID>;from-tag=<From tag of the dialog-creating request>', () => {
    expect(makeDialogId('1-30637@127.0.0.1', '30637SIPpTag001')).toBe('1-30637@127.0.0.1;from-tag=30637SIPpTag001');
  });
});
