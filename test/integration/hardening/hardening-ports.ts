/**
 * Ports of the hardening suite: 31000-34999 (SIP, SIPp -p/-cp/-mp, RTP). Ports from 32768 up fall in
 * Linux's default ephemeral range, where another process's outgoing connection may sit, so the
 * files bind below it: sip-fuzz 31000-31499, rtp-garbage 31500-31999.
 */
import type { PortRange } from '../../support/ports.js';

export const HARDENING_PORTS: PortRange = { from: 31000, to: 34999 };

/** Block indexes (size 500) of the files in this folder. */
export const HARDENING_BLOCKS = { sipFuzz: 0, rtpGarbage: 1 } as const;
export const HARDENING_BLOCK_SIZE = 500;
