import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';

describe('settings store metrics (docs/policy.md "Settings database")', () => {
  it('exposes the cache\'s failed reloads and stale reads, and the PostgreSQL change listener\'s figures', async () => {
    const metrics = createMetrics(
      { settingsStore: () => ({ loadFailures: 2, staleReads: 5, changeNotifications: 7, listenerConnectionsLost: 1, listenerReconnects: 1, listenerUp: 1 }) },
      { defaultMetrics: false },
    );
    const text = await metrics.scrape();
    metrics.close();
    for (const line of [
      'siprec_b2bua_settings_store_load_failures_total 2',
      'siprec_b2bua_settings_store_stale_reads_total 5',
      'siprec_b2bua_settings_change_notifications_total 7',
      'siprec_b2bua_settings_listener_connections_lost_total 1',
      'siprec_b2bua_settings_listener_reconnects_total 1',
      'siprec_b2bua_settings_listener_up 1',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });

  it('leaves the listener\'s figures out with SQLite (no listener)', async () => {
    const metrics = createMetrics({ settingsStore: () => ({ loadFailures: 0, staleReads: 0 }) }, { defaultMetrics: false });
    const text = await metrics.scrape();
    metrics.close();
    expect(text.split('\n')).toContain('siprec_b2bua_settings_store_load_failures_total 0');
    expect(text).not.toMatch(/^siprec_b2bua_settings_listener_up \d/m);
  });
});
