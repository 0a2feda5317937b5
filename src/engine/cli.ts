/**
 * Standalone engine, with options named like drachtio-server's:
 *   npm run engine -- --contact "sip:127.0.0.1:5060;transport=udp,tcp" --address 127.0.0.1 --port 9022 \
 *     --secret cymru --loglevel info
 * TLS like drachtio-server: --contact "sips:127.0.0.1:5061;transport=tls" --tls-key-file key.pem
 *   --tls-cert-file cert.pem [--tls-chain-file chain.pem] [--tls-ca-file ca.pem] [--tls-no-verify]
 * NAT traversal of in-dialog requests (nat-flow.ts): --nat-flow detect (default, drachtio-server's
 *   NAT detection) | all (every peer's requests go to its flow: source address:port over UDP, its
 *   connection over TCP/TLS) | off (RFC 3261: the Contact; also --disable-nat-detection, drachtio-server's name).
 * `--contact` may repeat. SIGTERM/SIGINT close the engine cleanly.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../observability/logger.js';
import { startEngine, type NatFlowMode } from './index.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];
const NAT_FLAGS: Record<string, NatFlowMode | undefined> = { all: 'flow', detect: 'detect', off: 'contact' };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      contact: { type: 'string', multiple: true },
      address: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9022' },
      secret: { type: 'string', default: 'cymru' },
      loglevel: { type: 'string', default: 'info' },
      'min-se': { type: 'string' },
      'request-handler': { type: 'string' },
      'tls-key-file': { type: 'string' },
      'tls-cert-file': { type: 'string' },
      'tls-chain-file': { type: 'string' },
      'tls-ca-file': { type: 'string' },
      'tls-no-verify': { type: 'boolean', default: false },
      'nat-flow': { type: 'string', default: 'detect' },
      'disable-nat-detection': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const level = (LEVELS as readonly string[]).includes(values.loglevel ?? '') ? (values.loglevel as Level) : 'info';
  const logger = createLogger({ level, base: { component: 'engine' } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const keyFile = values['tls-key-file'];
  const certFile = values['tls-cert-file'];
  if ((keyFile === undefined) !== (certFile === undefined)) throw new Error('--tls-key-file and --tls-cert-file go together');
  const chainFile = values['tls-chain-file'];
  const caFile = values['tls-ca-file'];
  const tls =
    keyFile !== undefined && certFile !== undefined
      ? {
          key: readFileSync(keyFile),
          // the chain follows the leaf certificate, as drachtio-server presents it
          cert: chainFile ? Buffer.concat([readFileSync(certFile), Buffer.from('\n'), readFileSync(chainFile)]) : readFileSync(certFile),
          ca: caFile ? readFileSync(caFile) : undefined,
          rejectUnauthorized: !values['tls-no-verify'],
        }
      : undefined;
  const natFlow = values['disable-nat-detection'] ? 'off' : values['nat-flow'];
  const natMode = natFlow !== undefined && Object.hasOwn(NAT_FLAGS, natFlow) ? NAT_FLAGS[natFlow] : undefined;
  if (natMode === undefined) throw new Error(`invalid --nat-flow ${natFlow} (all, detect or off)`);
  const engine = await startEngine({
    tls,
    sipContacts: values.contact?.length ? values.contact : ['sip:127.0.0.1:5060;transport=udp,tcp'],
    adminHost: values.address,
    adminPort: port,
    secret: values.secret ?? 'cymru',
    logger,
    minSessionExpires: values['min-se'] ? Number(values['min-se']) : undefined,
    requestHandler: values['request-handler'],
    natFlow: () => natMode,
  });
  const stop = (): void => {
    void engine.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
