import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';
import type { SrsFigures } from '../../../src/observability/metrics-types.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

const P = 'siprec_b2bua_';

describe('metrics registry: in-process reference recording server', () => {
  it('exposes the recording server figures as gauges: active recordings, its engine dialogs and transactions by role', async () => {
    let figures: SrsFigures = { recordingsActive: 3, recordingsRecovered: 0, recordingRepairsFailed: 0, activeDialogs: 4, activeServerTransactions: 2, activeClientTransactions: 1 };
    const m = createMetrics({ srs: () => figures }, { defaultMetrics: false });
    let text = await m.scrape();
    expect(parsePrometheusText(text).types.get(`${P}srs_recordings`)).toBe('gauge');
    expect(sampleValue(text, `${P}srs_recordings`)).toBe(3);
    expect(sampleValue(text, `${P}srs_sip_dialogs`)).toBe(4);
    expect(sampleValue(text, `${P}srs_sip_transactions`, { role: 'server' })).toBe(2);
    expect(sampleValue(text, `${P}srs_sip_transactions`, { role: 'client' })).toBe(1);
    figures = { recordingsActive: 0, recordingsRecovered: 0, recordingRepairsFailed: 0, activeDialogs: 0, activeServerTransactions: 0, activeClientTransactions: 0 };
    text = await m.scrape();
    expect(sampleValue(text, `${P}srs_recordings`)).toBe(0);
    expect(sampleValue(text, `${P}srs_sip_dialogs`)).toBe(0);
    m.close();
  });

  it("exposes the media workers' heaps and ArrayBuffers, read asynchronously, and leaves them out when the media runs in the main thread", async () => {
    let figures: SrsFigures = { recordingsActive: 1, recordingsRecovered: 0, recordingRepairsFailed: 0, activeDialogs: 1, activeServerTransactions: 0, activeClientTransactions: 0, workerHeapBytes: 12_000_000, workerArrayBufferBytes: 3_500_000 };
    const m = createMetrics({ srs: async () => figures }, { defaultMetrics: false });
    let text = await m.scrape();
    expect(parsePrometheusText(text).types.get(`${P}srs_worker_heap_bytes`)).toBe('gauge');
    expect(sampleValue(text, `${P}srs_worker_heap_bytes`)).toBe(12_000_000);
    expect(sampleValue(text, `${P}srs_worker_array_buffer_bytes`)).toBe(3_500_000);
    figures = { recordingsActive: 1, recordingsRecovered: 0, recordingRepairsFailed: 0, activeDialogs: 1, activeServerTransactions: 0, activeClientTransactions: 0 };
    text = await m.scrape();
    expect(sampleValue(text, `${P}srs_worker_heap_bytes`)).toBeUndefined();
    expect(sampleValue(text, `${P}srs_worker_array_buffer_bytes`)).toBeUndefined();
    m.close();
  });

  it('counts the recordings a crash left open that start-up repaired, and those it could not, by outcome', async () => {
    const figures: SrsFigures = { recordingsActive: 0, recordingsRecovered: 2, recordingRepairsFailed: 1, activeDialogs: 0, activeServerTransactions: 0, activeClientTransactions: 0 };
    const m = createMetrics({ srs: () => figures }, { defaultMetrics: false });
    const text = await m.scrape();
    expect(parsePrometheusText(text).types.get(`${P}srs_recordings_recovered_total`)).toBe('counter');
    expect(sampleValue(text, `${P}srs_recordings_recovered_total`, { outcome: 'repaired' })).toBe(2);
    expect(sampleValue(text, `${P}srs_recordings_recovered_total`, { outcome: 'failed' })).toBe(1);
    m.close();
  });

  it('counts the recordings closed incomplete, by reason: an empty channel, lost audio', async () => {
    const figures: SrsFigures = { recordingsActive: 0, recordingsRecovered: 0, recordingRepairsFailed: 0, activeDialogs: 0, activeServerTransactions: 0, activeClientTransactions: 0, recordingsEmptyChannel: 3, recordingsLostAudio: 2 };
    const m = createMetrics({ srs: () => figures }, { defaultMetrics: false });
    const text = await m.scrape();
    expect(parsePrometheusText(text).types.get(`${P}srs_recordings_incomplete_total`)).toBe('counter');
    expect(sampleValue(text, `${P}srs_recordings_incomplete_total`, { reason: 'empty-channel' })).toBe(3);
    expect(sampleValue(text, `${P}srs_recordings_incomplete_total`, { reason: 'lost-audio' })).toBe(2);
    m.close();
  });

  it('leaves the recording server metrics out while the source reports no server (SRS disabled or not started yet)', async () => {
    const m = createMetrics({ srs: () => undefined }, { defaultMetrics: false });
    const text = await m.scrape();
    expect(sampleValue(text, `${P}srs_recordings`)).toBeUndefined();
    expect(sampleValue(text, `${P}srs_sip_dialogs`)).toBeUndefined();
    expect(sampleValue(text, `${P}srs_sip_transactions`, { role: 'server' })).toBeUndefined();
    m.close();
  });
});
