import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/fake-clock.js';
import { SessionTimerPolicy, parseSessionExpires } from '../../../src/engine/session-timer.js';
import { Dialog } from '../../../src/engine/dialog.js';
import type { SipMessage } from '../../../src/engine/sip-message.js';

const msg = (headers: Array<[string, string]>): SipMessage => ({
  isRequest: true, method: 'INVITE', uri: 'sip:a@b', status: 0, reason: '', headers: headers.map(([name, value]) => ({ name, value })), body: '',
});

describe('session timers (RFC 4028, docs/engine.md item F31)', () => {
  it('parses Session-Expires with and without refresher', () => {
    expect(parseSessionExpires('1800;refresher=uas')).toEqual({ seconds: 1800, refresher: 'uas' });
    expect(parseSessionExpires('90')).toEqual({ seconds: 90, refresher: undefined });
    expect(parseSessionExpires('soon')).toBeUndefined();
  });

  it('MUST reject a Session-Expires below Min-SE with 422 (RFC 4028 section 8.1)', () => {
    const p = new SessionTimerPolicy(90);
    expect(p.checkRequest(msg([['session-expires', '60']]))).toEqual({ reject: true, minSe: 90 });
    expect(p.checkRequest(msg([['session-expires', '90']])).reject).toBe(false);
    expect(p.checkRequest(msg([])).reject).toBe(false);
  });

  it('answers with the interval and the refresher the caller chose, else uac', () => {
    const p = new SessionTimerPolicy();
    expect(p.answerHeader(msg([['supported', 'timer'], ['session-expires', '1800;refresher=uas']]))?.value).toBe('1800;refresher=uas');
    expect(p.answerHeader(msg([['supported', '100rel, timer'], ['session-expires', '600']]))?.value).toBe('600;refresher=uac');
    expect(p.answerHeader(msg([]))).toBeUndefined();
  });

  it('MUST make the engine the refresher when the caller does not support timer (RFC 4028 section 9)', () => {
    expect(new SessionTimerPolicy().answerHeader(msg([['session-expires', '600;refresher=uac']]))?.value).toBe('600;refresher=uas');
  });

  it('as UAS with refresher=uac: expires at SE - min(32, SE/3) without a refresh and tears down', () => {
    const clock = new FakeClock();
    const d = new Dialog('d', 'uas', 'c', 't');
    const events: string[] = [];
    new SessionTimerPolicy().onUasAnswer(d, msg([]), msg([['session-expires', '90;refresher=uac']]), () => events.push('refresh'), () => events.push('expire'), clock);
    clock.advance(59_999);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual(['expire']);
  });

  it('as refresher: refreshes at SE/2, and a later answer re-arms the timer', () => {
    const clock = new FakeClock();
    const d = new Dialog('d', 'uac', 'c', 't');
    const events: string[] = [];
    const p = new SessionTimerPolicy();
    const refresh = (): void => {
      events.push('refresh');
      p.onUacAnswer(d, msg([['session-expires', '120;refresher=uac']]), refresh, () => events.push('expire'), clock);
    };
    p.onUacAnswer(d, msg([['session-expires', '120;refresher=uac']]), refresh, () => events.push('expire'), clock);
    clock.advance(60_000);
    clock.advance(60_000);
    expect(events).toEqual(['refresh', 'refresh']);
    expect(d.weRefresh).toBe(true);
  });

  it('as refresher whose refresh goes unanswered: the session still expires', () => {
    const clock = new FakeClock();
    const d = new Dialog('d', 'uac', 'c', 't');
    const events: string[] = [];
    new SessionTimerPolicy().onUacAnswer(d, msg([['session-expires', '120']]), () => events.push('refresh'), () => events.push('expire'), clock);
    clock.advance(120_000);
    expect(events).toEqual(['refresh', 'expire']);
  });
});
