/**
 * Session timers, RFC 4028 (docs/engine.md item F31).
 *
 * - A request whose Session-Expires is below our Min-SE is rejected with 422 + Min-SE (section 8.1).
 * - A 2xx the app sends to an INVITE/UPDATE that asked for a session timer gets Session-Expires
 *   (with the refresher the peer chose, else `uac`: the caller refreshes) and Require: timer.
 * - When the dialog's refresher is us, we send a refreshing UPDATE at half the interval
 *   (section 10); otherwise, without a refresh, the session expires at
 *   SE - min(32 s, SE/3) (section 10) and the engine BYEs the dialog (unsolicited BYE to the app).
 */
import type { Timers } from '../common/clock.js';
import type { Dialog } from './dialog.js';
import { getHeader, getParam, type SipHeader, type SipMessage } from './sip-message.js';

/** RFC 4028 section 4: Min-SE default and floor is 90 s. */
export const DEFAULT_MIN_SE = 90;

export interface SessionExpires {
  seconds: number;
  refresher: 'uac' | 'uas' | undefined;
}

export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*(;.*)?$/.exec(value);
  if (!m) return undefined;
  const r = getParam(m[2] ?? '', 'refresher')?.toLowerCase();
  return { seconds: Number(m[1]), refresher: r === 'uac' || r === 'uas' ? r : undefined };
}

type DialogFn = (d: Dialog) => void;

/** Does the peer support session timers (`Supported: timer` or `Require: timer`)? */
export function supportsTimer(msg: SipMessage): boolean {
  for (const h of msg.headers) {
    if (h.name !== 'supported' && h.name !== 'require') continue;
    for (const tag of h.value.split(',')) if (tag.trim().toLowerCase() === 'timer') return true;
  }
  return false;
}

export class SessionTimerPolicy {
  constructor(readonly minSe: number = DEFAULT_MIN_SE) {}

  /** 422 check for a request carrying Session-Expires. */
  checkRequest(req: SipMessage): { reject: boolean; minSe: number } {
    const se = parseSessionExpires(getHeader(req, 'session-expires'));
    return { reject: se !== undefined && se.seconds < this.minSe, minSe: this.minSe };
  }

  /**
   * Session-Expires header for our 2xx, when the request asked for a session timer. The refresher
   * is the one the request named, else `uac` when the caller supports `timer`; a caller without
   * `Supported: timer` (a proxy added Session-Expires) cannot refresh, so we do (RFC 4028 section 9).
   */
  answerHeader(req: SipMessage): SipHeader | undefined {
    const se = parseSessionExpires(getHeader(req, 'session-expires'));
    if (!se) return undefined;
    const refresher = supportsTimer(req) ? (se.refresher ?? 'uac') : 'uas';
    return { name: 'session-expires', value: `${se.seconds};refresher=${refresher}` };
  }

  /** We (UAS) sent a 2xx: arm the refresh or expiry timer from the Session-Expires it carried. */
  onUasAnswer(d: Dialog, _req: SipMessage, resp: SipMessage, refresh: DialogFn, expire: DialogFn, timers: Timers): void {
    const se = parseSessionExpires(getHeader(resp, 'session-expires'));
    if (!se) return;
    this.#arm(d, se.seconds, se.refresher === 'uas', refresh, expire, timers);
  }

  /** We (UAC) received a 2xx: the refresher is the one the response names (RFC 4028 section 7.2). */
  onUacAnswer(d: Dialog, resp: SipMessage, refresh: DialogFn, expire: DialogFn, timers: Timers): void {
    const se = parseSessionExpires(getHeader(resp, 'session-expires'));
    if (!se) return;
    this.#arm(d, se.seconds, (se.refresher ?? 'uac') === 'uac', refresh, expire, timers);
  }

  #arm(d: Dialog, seconds: number, weRefresh: boolean, refresh: DialogFn, expire: DialogFn, timers: Timers): void {
    timers.clearTimeout(d.sessionTimer);
    d.sessionExpires = seconds;
    d.weRefresh = weRefresh;
    const ms = seconds * 1000;
    if (weRefresh) {
      d.sessionTimer = timers.setTimeout(() => {
        d.sessionTimer = undefined;
        refresh(d);
        // if the refresh is not answered (nothing re-armed the timer), the session still ends at the expiry point
        if (d.sessionTimer === undefined) {
          d.sessionTimer = timers.setTimeout(() => expire(d), Math.max(0, ms / 2 - Math.min(32_000, ms / 3)));
        }
      }, ms / 2);
    } else {
      d.sessionTimer = timers.setTimeout(() => {
        d.sessionTimer = undefined;
        expire(d);
      }, ms - Math.min(32_000, ms / 3));
    }
  }
}
