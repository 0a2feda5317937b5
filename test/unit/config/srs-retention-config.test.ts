/**
 * The recording server's retention and read-API keys (srs.retentionDays, retentionByOrg,
 * retentionIntervalSeconds, httpPort, httpHost, httpToken): defaults, environment, validation.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { parseSrsArgs } from '../../../src/srs/main.js';

describe('srs retention and read API configuration', () => {
  it('MUST default to keeping recordings, an hourly clean-up and no standalone HTTP port', () => {
    const c = loadConfig({});
    expect(c.srs).toMatchObject({ retentionDays: 0, retentionByOrg: {}, retentionIntervalSeconds: 3600, httpPort: 0, httpHost: '127.0.0.1', httpToken: undefined });
  });

  it('MUST read the keys from the environment, per-organisation overrides as orgId=days', () => {
    const c = loadConfig({
      SRS_RETENTION_DAYS: '30',
      SRS_RETENTION_BY_ORG: 'acme=0, trial=7',
      SRS_RETENTION_INTERVAL_SECONDS: '600',
      SRS_HTTP_PORT: '8090',
      SRS_HTTP_HOST: '0.0.0.0',
      SRS_HTTP_TOKEN: 't',
    });
    expect(c.srs).toMatchObject({ retentionDays: 30, retentionByOrg: { acme: 0, trial: 7 }, retentionIntervalSeconds: 600, httpPort: 8090, httpHost: '0.0.0.0', httpToken: 't' });
  });

  it('MUST refuse negative or non-numeric retention, a zero interval, a bad port, and a public HTTP host without a token', () => {
    expect(() => loadConfig({ SRS_RETENTION_DAYS: '-1' })).toThrow(/srs\.retentionDays/);
    expect(() => loadConfig({ SRS_RETENTION_BY_ORG: 'acme=forever' })).toThrow(/srs\.retentionByOrg: 'acme'/);
    expect(() => loadConfig({ SRS_RETENTION_BY_ORG: 'acme' })).toThrow(/srs\.retentionByOrg: 'acme'/);
    expect(() => loadConfig({ SRS_RETENTION_INTERVAL_SECONDS: '0' })).toThrow(/srs\.retentionIntervalSeconds/);
    expect(() => loadConfig({ SRS_HTTP_PORT: '70000' })).toThrow(/srs\.httpPort/);
    expect(() => loadConfig({ SRS_HTTP_PORT: '8090', SRS_HTTP_HOST: '0.0.0.0' })).toThrow(/srs\.httpHost/);
  });

  it('MUST refuse a TLS recording server URI (sips: or ;transport=tls) without the TLS key and certificate (R-42)', () => {
    expect(() => loadConfig({ SRS_SIP_URI: 'sips:srs@127.0.0.1:5091' })).toThrow(/srs\.sipUri .* listens on TLS/);
    expect(() => loadConfig({ SRS_SIP_URI: 'sip:srs@127.0.0.1:5091;transport=tls' })).toThrow(/listens on TLS/);
    expect(loadConfig({ SRS_SIP_URI: 'sips:srs@127.0.0.1:5091', SIP_TLS_KEY_FILE: 'k.pem', SIP_TLS_CERT_FILE: 'c.pem' }).srs.sipUri).toBe('sips:srs@127.0.0.1:5091');
    expect(loadConfig({ SRS_SIP_URI: 'sips:srs@127.0.0.1:5091', SRS_ENABLED: 'false' }).srs.enabled, 'not run in-process: nothing to listen on').toBe(false);
  });

  it('MUST take the standalone server flags for TLS, retention and the HTTP API, and refuse bad values', () => {
    const { standalone } = parseSrsArgs([
      '--tls-key', 'k.pem', '--tls-cert', 'c.pem', '--tls-ca', 'ca.pem', '--retention-days', '30', '--retention-org', 'acme=0',
      '--retention-org', 'trial=7', '--retention-interval', '60', '--http-port', '8090', '--http-host', '0.0.0.0', '--http-token', 't',
    ]);
    expect(standalone).toEqual({
      tlsKeyFile: 'k.pem', tlsCertFile: 'c.pem', tlsCaFile: 'ca.pem', retentionDays: 30, retentionByOrg: { acme: 0, trial: 7 },
      retentionIntervalSeconds: 60, httpPort: 8090, httpHost: '0.0.0.0', httpToken: 't',
    });
    expect(parseSrsArgs([]).standalone, 'unset flags leave the configuration in charge').toEqual({});
    expect(() => parseSrsArgs(['--retention-days', '-3'])).toThrow(RangeError);
    expect(() => parseSrsArgs(['--retention-org', 'acme'])).toThrow(RangeError);
    expect(() => parseSrsArgs(['--retention-interval', '0'])).toThrow(RangeError);
    expect(() => parseSrsArgs(['--http-port', '65536'])).toThrow(RangeError);
  });
});
