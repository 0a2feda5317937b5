import { describe, expect, it } from 'vitest';
import { resolveEffectiveSettings, resolveLocationSettings } from '../../../src/policy/effective-settings.js';
import { makeSnapshot } from './snapshot-builder.js';

describe('effective settings org -> location -> user (R-02, R-03, R-08, R-10, R-20)', () => {
  type Row = [req: string, opts: Parameters<typeof makeSnapshot>[0], provider: string | null, providerSource: string, inbound: boolean, complianceSource: string];
  const custom = { mode: 'custom' as const, settings: { inboundPstn: false, outboundPstn: false, outboundDelay: false, delaySeconds: 5 } };
  const rows: Row[] = [
    ['R-02 a new location inherits both settings', { orgCompliance: { inboundPstn: true } }, 'srs', 'organisation', true, 'organisation'],
    ['R-02 location provider override', { hq: { provider: { mode: 'provider', providerId: 'alt' } } }, 'alt', 'location', false, 'organisation'],
    ['R-02 location provider none', { hq: { provider: { mode: 'none' } } }, null, 'location', false, 'organisation'],
    ['R-02 organisation provider none', { orgProvider: null }, null, 'organisation', false, 'organisation'],
    ['R-02 location compliance override', { orgCompliance: { inboundPstn: true }, hq: { compliance: custom } }, 'srs', 'organisation', false, 'location'],
  ];
  it.each(rows)('%s', (_req, opts, provider, providerSource, inbound, complianceSource) => {
    const eff = resolveLocationSettings(makeSnapshot(opts), 'hq');
    expect(eff.provider?.id ?? null).toBe(provider);
    expect(eff.providerSource).toBe(providerSource);
    expect(eff.compliance.inboundPstn).toBe(inbound);
    expect(eff.complianceSource).toBe(complianceSource);
  });

  it('R-03 language: user, else location, else organisation', () => {
    expect(resolveEffectiveSettings(makeSnapshot(), 'user', 'alice').language).toBe('es-ES');
    expect(resolveEffectiveSettings(makeSnapshot({ aliceLanguage: null }), 'user', 'alice').language).toBe('fr-FR');
    expect(resolveEffectiveSettings(makeSnapshot({ aliceLanguage: null, hqLanguage: null }), 'user', 'alice').language).toBe('en-US');
  });

  it('R-20 a virtual line resolves like a user', () => {
    const eff = resolveEffectiveSettings(makeSnapshot({ lobby: { enabled: true, mode: 'always' } }), 'virtual-line', 'lobby');
    expect(eff.subject).toEqual({ kind: 'virtual-line', id: 'lobby' });
    expect(eff.recording.mode).toBe('always');
    expect(eff.provider?.id).toBe('srs');
  });

  it('R-08 the plan and retention come with the provider', () => {
    const base = makeSnapshot();
    const snap = { ...base, providers: base.providers.map((p) => ({ ...p, plan: 'free' as const })) };
    expect(resolveLocationSettings(snap, 'hq').provider).toMatchObject({ plan: 'free', retentionDays: 30 });
    const paid = { ...base, providers: base.providers.map((p) => ({ ...p, plan: 'paid' as const })) };
    expect(resolveLocationSettings(paid, 'hq').provider).toMatchObject({ plan: 'paid', retentionDays: null });
  });

  it('unknown location or subject rejects with POLICY_NOT_FOUND', () => {
    expect(() => resolveLocationSettings(makeSnapshot(), 'nowhere')).toThrow(expect.objectContaining({ code: 'POLICY_NOT_FOUND' }));
    expect(() => resolveEffectiveSettings(makeSnapshot(), 'user', 'nobody')).toThrow(expect.objectContaining({ code: 'POLICY_NOT_FOUND' }));
  });
});
