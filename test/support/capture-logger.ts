/** A pino logger at `level` (default warn) whose JSON lines the test reads back as objects. */
import { Writable } from 'node:stream';
import { pino, type LevelWithSilent } from 'pino';
import type { Logger } from '../../src/observability/logger.js';

export function captureLogger(level: LevelWithSilent = 'warn'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, stream) as unknown as Logger, lines };
}
