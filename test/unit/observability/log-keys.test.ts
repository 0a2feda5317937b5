/** One value per key on every log line, however deep the child loggers go (docs/observability.md "Log keys"). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { callLogger, createLogger } from '../../../src/observability/logger.js';
import { duplicateJsonKeys } from '../../support/json-keys.js';

function capture(): { destination: Writable; raw: string[] } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString());
      cb();
    },
  });
  return { destination, raw };
}

describe('log lines carry each key once', () => {
  it('the duplicate-key scanner sees what JSON.parse hides', () => {
    expect(duplicateJsonKeys('{"component":"srs","component":"srs","a":{"b":1,"b":2},"c":[{"d":1},{"d":2}]}')).toEqual(['component', 'a.b']);
    expect(duplicateJsonKeys('{"msg":"a \\"component\\":1","component":1}')).toEqual([]);
  });

  it('MUST write `component` once when a child of a child binds it again (the innermost wins)', () => {
    const out = capture();
    const root = createLogger({ destination: out.destination, base: { component: 'srs-main' } });
    const srs = root.child({ component: 'srs' }).child({ component: 'srs' });
    srs.info('a');
    srs.child({ component: 'srs-engine', port: 5090 }).info('b');
    callLogger(root.child({ component: 'calls' }), 'call-1').child({ component: 'recording-port' }).child({ component: 'siprec-client', siprecSessionId: 's-1' }).warn('c');
    for (const line of out.raw) expect(duplicateJsonKeys(line), line).toEqual([]);
    const lines = out.raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ component: 'srs', msg: 'a' });
    expect(lines[1]).toMatchObject({ component: 'srs-engine', port: 5090, msg: 'b' });
    expect(lines[2]).toMatchObject({ component: 'siprec-client', callId: 'call-1', siprecSessionId: 's-1', msg: 'c' });
  });

  it('keeps redacted bindings redacted after merging them', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination }).child({ secret: 'hunter2', component: 'a' }).child({ component: 'b' });
    log.info('x');
    expect(out.raw[0]).not.toContain('hunter2');
    expect(JSON.parse(out.raw[0]!)).toMatchObject({ secret: '[redacted]', component: 'b' });
  });
});
