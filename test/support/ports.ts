/**
 * Port blocks for integration tests.
 *
 * Vitest runs two test files at once (forked workers), so every file that opens sockets takes its
 * own block out of its owner's range: block `index` of `size` ports starting at `range.from`.
 * Inside a file, tests take ports one after the other (`next()`, `take(n)`), so a test never
 * re-binds a port a previous test of the same file may still hold in TIME_WAIT. Each port handed
 * out is probed first: one another process has bound (a UDP socket, a TCP listener, in this
 * network namespace: /proc/net) is skipped, so a product running beside the suite, or anything
 * else holding a port of the range, costs a port, not a failed test.
 *
 * Ranges in use (see the task briefs): engine conformance tests 15000-16999, engine unit/smoke
 * tests 14000-14999, engine benchmark 30000-30999, SIPREC client integration test 18000-18199,
 * PostgreSQL settings store tests 18500-18999 (postgres-cluster.ts POSTGRES_TEST_PORTS), live calls
 * across nodes 19000-19299 (LIVE_CALLS_TEST_PORTS), the multi-node test's PostgreSQL cluster
 * 19350-19359 (test/integration/scale; its nodes and Kamailio run in network namespaces).
 */
import { readFileSync } from 'node:fs';

export interface PortRange {
  /** First port of the range (inclusive). */
  from: number;
  /** Last port of the range (inclusive). */
  to: number;
}

/** The live-calls-across-nodes tests (PostgreSQL cluster, two product processes, SIPp). */
export const LIVE_CALLS_TEST_PORTS: PortRange = { from: 19000, to: 19299 };

/** The engine conformance suite's range (SIP, SIPp control and media ports). */
export const ENGINE_CONFORMANCE_PORTS: PortRange = { from: 15000, to: 16999 };

/** Hands out distinct ports from one block; throws once the block is used up (a test bug). */
export class PortBlock {
  readonly base: number;
  readonly end: number;
  private cursor: number;

  constructor(range: PortRange, index: number, size: number) {
    if (!Number.isInteger(index) || index < 0) throw new Error(`port block index must be a non-negative integer, got ${index}`);
    if (!Number.isInteger(size) || size < 1) throw new Error(`port block size must be a positive integer, got ${size}`);
    this.base = range.from + index * size;
    this.end = this.base + size - 1;
    if (this.end > range.to) {
      throw new Error(`port block ${index} of size ${size} (${this.base}-${this.end}) lies outside ${range.from}-${range.to}`);
    }
    this.cursor = this.base;
  }

  /** The next free port of the block. */
  next(): number {
    return this.take(1)[0]!;
  }

  /** `count` consecutive free ports (e.g. RTP + RTCP + the SIPp echo port + 2); a run with a bound port is skipped. */
  take(count: number): number[] {
    for (;;) {
      if (this.cursor + count - 1 > this.end) {
        throw new Error(`port block ${this.base}-${this.end} exhausted (asked for ${count} more)`);
      }
      const ports: number[] = [];
      for (let i = 0; i < count; i++) ports.push(this.cursor++);
      const bound = boundPorts();
      if (!ports.some((p) => bound.has(p))) return ports;
    }
  }

  /** Ports still available in the block. */
  get remaining(): number {
    return this.end - this.cursor + 1;
  }
}

/** Block `index` (0-based) of `size` ports (default 100) in `range`. Each test file uses a distinct index. */
export function portBlock(range: PortRange, index: number, size = 100): PortBlock {
  return new PortBlock(range, index, size);
}

/** Ports for one SIPp instance: SIP (-p), control (-cp) and media (-mp, SIPp also binds mp+2). */
export interface SippPorts {
  port: number;
  controlPort: number;
  mediaPort: number;
}

/** Takes the six ports one SIPp instance needs from a block. */
export function sippPorts(block: PortBlock): SippPorts {
  const [port, controlPort] = block.take(2) as [number, number];
  const [mediaPort] = block.take(4) as [number];
  return { port, controlPort, mediaPort };
}

/**
 * Ports bound in this network namespace now: UDP sockets and TCP listeners (state 0A), IPv4 and
 * IPv6, from /proc/net. Connections merely using a port as their local end do not count.
 */
export function boundPorts(protocols: readonly ('tcp' | 'udp')[] = ['tcp', 'udp']): Set<number> {
  const ports = new Set<number>();
  for (const protocol of protocols) for (const file of [protocol, `${protocol}6`]) {
    const tcp = protocol === 'tcp';
    let table: string;
    try {
      table = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || (tcp && fields[3] !== '0A')) continue;
      const port = Number.parseInt(fields[1]!.split(':').pop()!, 16);
      if (Number.isFinite(port)) ports.add(port);
    }
  }
  return ports;
}
