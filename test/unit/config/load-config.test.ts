import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/common/errors.js';
import { DEFAULT_CONFIG, loadConfig } from '../../../src/config/load-config.js';

describe('configuration', () => {
  it('uses the documented defaults with an empty environment (embedded engine, loopback admin API)', () => {
    const config = loadConfig({});
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.drachtio.host).toBeUndefined();
    expect(Object.isFrozen(config) && Object.isFrozen(config.admin)).toBe(true);
  });

  it('takes values from the environment over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'admin:\n  port: 9000\n  token: abc\n  host: 0.0.0.0\nmedia:\n  portMin: 30000\n');
    const config = loadConfig({ CONFIG_FILE: file, ADMIN_PORT: '9100', DRACHTIO_HOST: 'drachtio', SIP_CONTACTS: 'sip:10.0.0.1;transport=udp, sip:10.0.0.1;transport=tcp' });
    expect(config.admin).toEqual({ host: '0.0.0.0', port: 9100, token: 'abc', provisioningUrl: undefined });
    expect(config.media.portMin).toBe(30000);
    expect(config.drachtio.host).toBe('drachtio');
    expect(config.sip.contacts).toEqual(['sip:10.0.0.1;transport=udp', 'sip:10.0.0.1;transport=tcp']);
    // a comma inside a contact's transport list does not split it (drachtio-server's contact syntax)
    expect(loadConfig({ SIP_CONTACTS: 'sip:127.0.0.1:5060;transport=udp,tcp' }).sip.contacts).toEqual(['sip:127.0.0.1:5060;transport=udp,tcp']);
  });

  it('reads the recording event log settings (file, webhook URL and token, queue size) from the environment', () => {
    expect(loadConfig({}).events).toEqual({ file: undefined, webhookUrl: undefined, webhookToken: undefined, queueSize: 1000 });
    const config = loadConfig({
      RECORDING_EVENTS_FILE: 'logs/recording-events.jsonl',
      RECORDING_EVENTS_WEBHOOK_URL: 'https://hooks.example.com/recordings',
      RECORDING_EVENTS_WEBHOOK_TOKEN: 'hook-token',
      RECORDING_EVENTS_QUEUE_SIZE: '50',
    });
    expect(config.events).toEqual({ file: 'logs/recording-events.jsonl', webhookUrl: 'https://hooks.example.com/recordings', webhookToken: 'hook-token', queueSize: 50 });
  });

  it('refuses a recording event webhook that is not http(s) and a queue size below 1', () => {
    let caught: unknown;
    try {
      loadConfig({ RECORDING_EVENTS_WEBHOOK_URL: 'file:///tmp/x', RECORDING_EVENTS_QUEUE_SIZE: '0' });
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toContain("events.webhookUrl 'file:///tmp/x' is not an http(s) URL");
    expect((caught as Error).message).toContain('events.queueSize must be a positive integer');
  });

  it('reads the call-layer lists and maps (trusted sources, trunk targets, feature codes)', () => {
    const config = loadConfig({
      CALLS_TRUSTED_SOURCES: '10.0.0.5, 10.0.0.6:5080',
      CALLS_TRUSTED_BALANCERS: '10.9.0.2, 10.9.0.3:5060',
      CALLS_TRUNK_TARGETS: 'carrier=192.0.2.1:5060, backup=192.0.2.2',
      CALLS_FEATURE_CODES: '*7=pause,*8=resume',
      CALLS_USER_PROXY: 'sip:10.0.0.5:5060',
    });
    expect(config.calls.trustedSources).toEqual(['10.0.0.5', '10.0.0.6:5080']);
    expect(config.calls.trustedBalancers).toEqual(['10.9.0.2', '10.9.0.3:5060']);
    expect(loadConfig({}).calls.trustedBalancers).toEqual([]);
    expect(config.calls.trunkTargets).toEqual({ carrier: '192.0.2.1:5060', backup: '192.0.2.2' });
    expect(config.calls.featureCodes).toEqual({ '*7': 'pause', '*8': 'resume' });
    expect(config.calls.userProxy).toBe('sip:10.0.0.5:5060');
    expect(loadConfig({}).calls.featureCodes).toEqual({ '*1': 'start', '*2': 'stop', '*3': 'pause', '*4': 'resume' });
  });

  it('takes the TLS key and certificate together for sips contacts (R-42), refusing one without the other', () => {
    const config = loadConfig({ SIP_TLS_KEY_FILE: 'key.pem', SIP_TLS_CERT_FILE: 'cert.pem', SIP_TLS_VERIFY: 'false' });
    expect(config.sip).toMatchObject({ tlsKeyFile: 'key.pem', tlsCertFile: 'cert.pem', tlsVerify: false });
    expect(() => loadConfig({ SIP_TLS_KEY_FILE: 'key.pem' })).toThrow(/go together/);
  });

  it('leaves digest authentication off by default and reads realm, credentials file, algorithms and nonce lifetime', () => {
    expect(loadConfig({}).calls).toMatchObject({ digestRealm: undefined, digestCredentialsFile: undefined, digestAlgorithms: ['MD5'], digestNonceSeconds: 300 });
    const config = loadConfig({
      CALLS_DIGEST_REALM: 'acme.example',
      CALLS_DIGEST_CREDENTIALS_FILE: 'config/users.yaml',
      CALLS_DIGEST_ALGORITHMS: 'SHA-256, MD5',
      CALLS_DIGEST_NONCE_SECONDS: '60',
    });
    expect(config.calls).toMatchObject({ digestRealm: 'acme.example', digestCredentialsFile: 'config/users.yaml', digestAlgorithms: ['SHA-256', 'MD5'], digestNonceSeconds: 60 });
  });

  it('refuses a digest realm without credentials file, unknown or repeated algorithms and a nonce lifetime below 1 s', () => {
    let caught: unknown;
    try {
      loadConfig({ CALLS_DIGEST_REALM: 'a"b', CALLS_DIGEST_ALGORITHMS: 'SHA-1,MD5', CALLS_DIGEST_NONCE_SECONDS: '0' });
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    for (const fragment of ['calls.digestRealm must not contain quotes', 'calls.digestCredentialsFile (CALLS_DIGEST_CREDENTIALS_FILE) is required', 'calls.digestAlgorithms', 'calls.digestNonceSeconds']) {
      expect(message).toContain(fragment);
    }
    expect(() => loadConfig({ CALLS_DIGEST_ALGORITHMS: 'MD5,MD5' })).toThrow(/digestAlgorithms/);
  });

  it('refuses invalid settings with one CONFIG_INVALID error naming every problem', () => {
    let caught: unknown;
    try {
      loadConfig({ ADMIN_PORT: '70000', ADMIN_HOST: '0.0.0.0', MEDIA_PORT_MIN: '40001', LOG_LEVEL: 'loud', SIP_CONTACTS: 'http://x', PROVISIONING_URL: 'ftp://x', CALLS_FEATURE_CODES: '*9=explode,x1=start', CALLS_USER_PROXY: 'pbx' });
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    for (const fragment of ['admin.port', 'admin.host', 'media.portMin must be even', 'log.level', "'http://x' is not a SIP URI", "'ftp://x' is not an http(s) URL", "'*9=explode' is not start|stop|pause|resume", "'x1' is not a DTMF sequence", "calls.userProxy 'pbx'"]) {
      expect(message).toContain(fragment);
    }
  });
});
