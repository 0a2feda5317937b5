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
  /**
   * TCP/TLS only: `host:port` names a connection the peer opened (its flow, RFC 5626 section 5.3)
   * that is used while it is open; once it is closed the message goes to `reconnect` instead (an
   * open connection to it, else a new one): the Contact of an in-dialog request, or the Via sent-by
   * of a response (RFC 3261 section 18.2.2). Default: `host:port` is dialled when not connected.
   */
  reconnect?: { host: string; port: number };
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
