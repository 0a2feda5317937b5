/**
 * Process figures of our own beside prom-client's defaults (docs/observability.md "Metrics"):
 * siprec_b2bua_eventloop_delay_seconds, the event-loop delay beyond the 10 ms sampling timer (where
 * prom-client's lag percentiles include the timer's period), and process_open_fds counted off the
 * event loop.
 */
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';
import { sleep } from '../../support/wait.js';

function value(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  if (line === undefined) throw new Error(`${name}${labels} not exposed`);
  return Number(line.split(' ')[1]);
}

describe('event-loop delay gauge', () => {
  it('MUST report a blocked loop as its delay beyond the sampling period, reset at each scrape, and read below prom-client\'s lag (which includes the period)', async () => {
    const m = createMetrics({}, {});
    try {
      await sleep(50);
      const blockedFor = Date.now() + 80;
      while (Date.now() < blockedFor) {
        // the loop is blocked: the next timer run is about 80 ms late
      }
      await sleep(40);
      const blocked = await m.registry.metrics();
      const max = value(blocked, 'siprec_b2bua_eventloop_delay_seconds', '{quantile="1"}');
      expect(max).toBeGreaterThan(0.06);
      expect(max).toBeLessThan(value(blocked, 'siprec_b2bua_nodejs_eventloop_lag_max_seconds') + 1e-9);

      await sleep(300);
      const quiet = await m.registry.metrics();
      expect(value(quiet, 'siprec_b2bua_eventloop_delay_seconds', '{quantile="1"}'), 'the block before the last scrape is forgotten').toBeLessThan(max);
      const p50 = value(quiet, 'siprec_b2bua_eventloop_delay_seconds', '{quantile="0.5"}');
      expect(p50).toBeGreaterThanOrEqual(0);
      expect(p50).toBeLessThan(value(quiet, 'siprec_b2bua_nodejs_eventloop_lag_p50_seconds'));
    } finally {
      m.close();
    }
  });

  it('MUST count open file descriptors, sockets and files alike, in process_open_fds', async () => {
    const m = createMetrics({}, {});
    const fds: number[] = [];
    try {
      const before = value(await m.registry.metrics(), 'siprec_b2bua_process_open_fds');
      for (let i = 0; i < 40; i++) fds.push(openSync('package.json', 'r'));
      const after = value(await m.registry.metrics(), 'siprec_b2bua_process_open_fds');
      expect(after - before).toBeGreaterThanOrEqual(40);
      expect(m.registry.getMetricsAsArray().filter((x) => x.name === 'siprec_b2bua_process_open_fds')).toHaveLength(1);
    } finally {
      for (const fd of fds) closeSync(fd);
      m.close();
    }
  });
});
