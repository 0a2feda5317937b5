/**
 * cdr:attempt / cdr:start / cdr:stop frames (docs/engine.md protocol section 4.3, docs/engine.md item A7),
 * sent only to apps that routed the verb: `uuid|cdr:<event>|<source>|<time>[|<extra>]` + CRLF + SIP.
 */
import type { AppServer } from './app-server.js';
import { newUuid } from './ids.js';

export type CdrEvent = 'attempt' | 'start' | 'stop';
export type CdrSource = 'network' | 'application';

export class CdrEmitter {
  /**
   * @param apps who routed which verb
   * @param now the protocol time (`HH:MM:SS.uuuuuu`)
   */
  constructor(
    readonly apps: Pick<AppServer, 'hasRoute' | 'routed'>,
    readonly now: () => string,
  ) {}

  /** `sip` is only called (serialized) when some app routed the verb. */
  emit(event: CdrEvent, source: CdrSource, sip: () => string, extra?: string): void {
    const verb = `cdr:${event}`;
    if (!this.apps.hasRoute(verb)) return;
    const payload = `|${verb}|${source}|${this.now()}${extra === undefined ? '' : '|' + extra}\r\n${sip()}`;
    for (const app of this.apps.routed(verb)) app.send(newUuid() + payload);
  }
}
