/**
 * What a transaction needs from the engine: timers (injectable, so tests drive them with a fake
 * clock), the RFC 3261 timer base values, a way to put text on the wire, and counters.
 */
import type { Timers } from '../common/clock.js';
import type { SipProtocol } from './sip-transport.js';

export interface Target {
  protocol: SipProtocol;
  host: string;
  port: number;
  /** TLS only: the host name the request named (SNI and certificate check) when `host` is its resolved address. */
  serverName?: string;
}

export interface TransactionContext {
  timers: Timers;
  /** RTT estimate (default 500 ms), RFC 3261 section 17.1.1.1. */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4000 ms). */
  t2: number;
  /** Maximum time a message stays in the network (default 5000 ms). */
  t4: number;
  send(target: Target, text: string, onError?: (err: Error) => void): void;
  countRetransmission(): void;
}
