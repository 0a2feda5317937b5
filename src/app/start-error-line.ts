/**
 * Why the product could not start, as the one line `npm start` prints on stderr before it exits:
 * no stack trace for an operator's mistake (a configuration or provisioning file that does not
 * fit, a port in use, an address that is not local), the setting to change when a port or an
 * address is the cause. Only an error without a code (a programmer's error) keeps its stack.
 */
import { isAppError } from '../common/errors.js';
import type { Config } from '../config/config-types.js';

interface SystemError {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly cause?: unknown;
}

/** Socket errors whose fix is a setting: the line names it. */
const ADDRESS_CODES = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES']);

export function startErrorLine(err: unknown, config?: Config): string {
  const socket = findSocketError(err);
  if (socket && config) {
    const where = socketAddress(socket);
    const setting = where ? settingOfPort(config, where.port) : undefined;
    const what = socket.code === 'EADDRINUSE' ? 'is already in use' : socket.code === 'EACCES' ? 'may not be bound by this user' : 'is not an address of this host';
    if (where) return `${String(socket.code)}: ${where.address}:${where.port} ${what}${setting ? ` (${setting})` : ''}`;
  }
  if (isAppError(err)) return oneLine(`${err.code}: ${err.message}`);
  const e = err as SystemError | undefined;
  if (typeof e?.code === 'string') return oneLine(`${e.code}: ${String(e.message)}`);
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** The first EADDRINUSE / EADDRNOTAVAIL / EACCES in the error or its causes. */
function findSocketError(err: unknown): SystemError | undefined {
  for (let e = err as SystemError | undefined, depth = 0; e && depth < 8; e = e.cause as SystemError | undefined, depth++) {
    if (typeof e.code === 'string' && ADDRESS_CODES.has(e.code)) return e;
  }
  return undefined;
}

/** address:port from the error's fields, or from its message ('... 127.0.0.1:5060'). */
function socketAddress(e: SystemError): { address: string; port: number } | undefined {
  if (typeof e.port === 'number') return { address: typeof e.address === 'string' ? e.address : '*', port: e.port };
  const m = /(\S+):(\d+)\s*$/.exec(String(e.message));
  return m ? { address: m[1]!, port: Number(m[2]) } : undefined;
}

/** The setting (and its environment variable) that chose this port. */
export function settingOfPort(config: Config, port: number): string | undefined {
  const uriPort = (uri: string, fallback: number): number => Number(/^sips?:(?:[^@;]*@)?(?:\[[^\]]+\]|[^:;]+)(?::(\d+))?/.exec(uri)?.[1] ?? fallback);
  const found: string[] = [];
  if (config.sip.contacts.some((c) => uriPort(c, c.startsWith('sips:') ? 5061 : 5060) === port)) found.push('sip.contacts, SIP_CONTACTS');
  if (config.drachtio.port === port) found.push('drachtio.port, DRACHTIO_PORT');
  if (config.admin.port === port) found.push('admin.port, ADMIN_PORT');
  if (config.srs.enabled && uriPort(config.srs.sipUri, 5060) === port) found.push('srs.sipUri, SRS_SIP_URI');
  if (port >= config.media.portMin && port <= config.media.portMax) found.push('media.portMin..portMax, MEDIA_PORT_MIN..MEDIA_PORT_MAX');
  if (config.srs.enabled && port >= config.srs.rtpPortMin && port <= config.srs.rtpPortMax) found.push('srs.rtpPortMin..rtpPortMax, SRS_RTP_PORT_MIN..SRS_RTP_PORT_MAX');
  return found.length > 0 ? found.join('; ') : undefined;
}
