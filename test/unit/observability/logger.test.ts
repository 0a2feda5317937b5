import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../../src/config/load-config.js';
import { callLogger, createLogger } from '../../../src/observability/logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString('utf8');
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { destination, lines, raw: () => raw };
}

describe('logger', () => {
  it('MUST NOT write secrets: a logged Config has its shared secret, admin token and webhook token redacted', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination });
    const config = buildConfig({
      drachtio: { secret: 'drachtio-shared-secret' },
      admin: { token: 'admin-bearer-token' },
      events: { webhookUrl: 'https://hooks.example.com/r', webhookToken: 'webhook-bearer-token' },
    });
    logger.info({ config }, 'configuration');
    const line = out.lines[0] as { config: { drachtio: { secret: string }; admin: { token: string; host: string }; events: { webhookToken: string; webhookUrl: string } } };
    expect(line.config.drachtio.secret).toBe('[redacted]');
    expect(line.config.admin.token).toBe('[redacted]');
    expect(line.config.events.webhookToken).toBe('[redacted]');
    expect(line.config.admin.host).toBe('127.0.0.1'); // the rest stays readable
    expect(line.config.events.webhookUrl).toBe('https://hooks.example.com/r');
    for (const secret of ['drachtio-shared-secret', 'admin-bearer-token', 'webhook-bearer-token']) expect(out.raw()).not.toContain(secret);
  });

  it('MUST NOT write an Authorization header, at the top level or inside a request, also through child loggers', () => {
    const out = capture();
    const logger = callLogger(createLogger({ destination: out.destination }), 'call-1', 'rec-1');
    logger.warn({ req: { method: 'GET', url: '/v1/metrics', headers: { authorization: 'Bearer abc123', host: 'x' } } }, 'request');
    logger.warn({ headers: { authorization: 'Bearer def456', cookie: 'sid=s3cr3t' } }, 'headers');
    logger.warn({ authorization: 'Bearer ghi789', password: 'p4ss' }, 'flat');
    expect(out.raw()).not.toMatch(/abc123|def456|ghi789|s3cr3t|p4ss/);
    expect(out.lines[0]).toMatchObject({ callId: 'call-1', siprecSessionId: 'rec-1', req: { headers: { authorization: '[redacted]', host: 'x' } } });
  });

  it('MUST NOT write SIP digest credentials: Proxy-Authorization headers and HA1 hashes', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination });
    logger.warn({ sip: { headers: { 'proxy-authorization': 'Digest response="d1g3st"', via: 'SIP/2.0/UDP x' } } }, 'sip');
    logger.warn({ 'proxy-authorization': 'Digest response="t0p"', user: { username: 'alice', ha1Md5: 'h4sh1', ha1Sha256: 'h4sh2' } }, 'flat');
    expect(out.raw()).not.toMatch(/d1g3st|t0p|h4sh1|h4sh2/);
    expect(out.lines[0]).toMatchObject({ sip: { headers: { 'proxy-authorization': '[redacted]', via: 'SIP/2.0/UDP x' } } });
    expect(out.lines[1]).toMatchObject({ user: { username: 'alice', ha1Md5: '[redacted]' } });
  });
});
