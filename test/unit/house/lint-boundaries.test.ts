import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/product-process.js';

const eslint = new ESLint({ cwd: ROOT });

/** The plane-boundary findings for `code` as if it were the file `path` (relative to the repository). */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === 'house/plane-imports').map((m) => m.message);
}

describe('plane boundaries are held by lint (STYLE: dependencies point one way)', () => {
  it.each([
    ['src/engine/x.ts', "import Srf from 'drachtio-srf';", 'engine/ must not import drachtio-srf'],
    ['src/engine/x.ts', "import { CallSession } from '../call/call-session.js';", 'engine/ must not import call/'],
    ['src/call/x.ts', "import { startApplication } from '../app/application.js';", 'call/ must not import app/'],
    ['src/call/x.ts', "import { createSocket } from 'node:dgram';", 'call/ must not import node:dgram'],
    ['src/call/x.ts', "import { MediaEngine } from '../media/engine/media-engine.js';", 'call/ must not import media/engine/'],
    ['src/media/rtp/x.ts', "import { createSocket } from 'node:dgram';", 'media/rtp/ must not import node:dgram'],
    ['src/media/x.ts', "import { createSocket } from 'node:dgram';", 'media/ must not import node:dgram'],
    ['src/siprec/x.ts', "import { readFileSync } from 'node:fs';", 'siprec/ must not import node:fs'],
    ['src/siprec/client/x.ts', "import { Leg } from '../../sip/leg.js';", 'siprec/ must not import sip/'],
    ['src/common/x.ts', "import { createLogger } from '../observability/logger.js';", 'common/ must not import observability/'],
    ['src/policy/x.ts', "import Database from 'better-sqlite3';", 'policy/ must not import better-sqlite3'],
    ['src/call/x.ts', "import pg from 'pg';", 'call/ must not import pg'],
    ['src/admin/plugins/x.ts', "import { SrfLeg } from '../../sip/leg.js';", 'admin/ must not import sip/'],
    ['src/srs/x.ts', "import { startEngine } from '../engine/index.js';", 'srs/ must not import engine/'],
  ])('%s: %s is refused', async (path, code, expected) => {
    const errors = await boundaryErrors(path, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(expected);
  });

  it.each([
    ['src/media/media-plane.ts', "import { MediaEngine } from './engine/media-engine.js';"], // media/engine, not the SIP engine
    ['src/media/transport/x.ts', "import { createSocket } from 'node:dgram';"],
    ['src/call/x.ts', "import type { ForkOptions } from '../media/media-session-types.js';"],
    ['src/sip/x.ts', "import Srf from 'drachtio-srf';"],
    ['src/policy/store/x.ts', "import Database from 'better-sqlite3';"],
    ['src/policy/store/x.ts', "import pg from 'pg';"],
    ['src/app/x.ts', "import { startEngine } from '../engine/index.js';"],
    ['src/srs/main.ts', "import { startEngine } from '../engine/index.js';"], // the standalone server's entry point composes like app/
  ])('%s: %s is allowed', async (path, code) => {
    expect(await boundaryErrors(path, code)).toEqual([]);
  });
});
