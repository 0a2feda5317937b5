import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';
import type { SrsFigures } from '../../../src/observability/metrics-types.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

const P = 'siprec_b2bua_';
const base: SrsFigures = { recordingsActive: 0, recordingsRecovered: 0, recordingRepairsFailed: 0, activeDialogs: 0, activeServerTransactions: 0, activeClientTransactions: 0 };

describe('metrics: recordings the reference recording server failed or refused because of its disk', () => {
  it('MUST count them by reason (srs_recordings_failed_total), every reason present from the start at 0', async () => {
    let figures: SrsFigures = { ...base, recordingsFailed: {} };
    const m = createMetrics({ srs: () => figures }, { defaultMetrics: false });
    let text = await m.scrape();
    expect(parsePrometheusText(text).types.get(`${P}srs_recordings_failed_total`)).toBe('counter');
    for (const reason of ['disk-full', 'disk-io-error', 'recordings-dir-unwritable', 'low-free-space']) {
      expect(sampleValue(text, `${P}srs_recordings_failed_total`, { reason })).toBe(0);
    }
    figures = { ...base, recordingsFailed: { 'disk-full': 2, 'low-free-space': 5 } };
    text = await m.scrape();
    expect(sampleValue(text, `${P}srs_recordings_failed_total`, { reason: 'disk-full' })).toBe(2);
    expect(sampleValue(text, `${P}srs_recordings_failed_total`, { reason: 'low-free-space' })).toBe(5);
    expect(sampleValue(text, `${P}srs_recordings_failed_total`, { reason: 'disk-io-error' })).toBe(0);
    m.close();
  });

  it('MUST leave the metric out when the recording server does not report it', async () => {
    const m = createMetrics({ srs: () => base }, { defaultMetrics: false });
    expect(sampleValue(await m.scrape(), `${P}srs_recordings_failed_total`, { reason: 'disk-full' })).toBeUndefined();
    m.close();
  });
});
