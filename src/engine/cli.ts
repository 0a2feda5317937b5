/**
 * Standalone engine, with options named like drachtio-server's:
 *   npm run engine -- --contact "sip:127.0.0.1:5060;transport=udp,tcp" --address 127.0.0.1 --port 9022 \
 *     --secret cymru --loglevel info
 * `--contact` may repeat. SIGTERM/SIGINT close the engine cleanly.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../observability/logger.js';
import { startEngine } from './index.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

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
    },
    strict: true,
  });
  const level = (LEVELS as readonly string[]).includes(values.loglevel ?? '') ? (values.loglevel as Level) : 'info';
  const logger = createLogger({ level, base: { component: 'engine' } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const engine = await startEngine({
    sipContacts: values.contact?.length ? values.contact : ['sip:127.0.0.1:5060;transport=udp,tcp'],
    adminHost: values.address,
    adminPort: port,
    secret: values.secret ?? 'cymru',
    logger,
    minSessionExpires: values['min-se'] ? Number(values['min-se']) : undefined,
    requestHandler: values['request-handler'],
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
