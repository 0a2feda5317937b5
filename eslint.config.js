import { dirname, relative, resolve } from 'node:path';
import tseslint from 'typescript-eslint';

/**
 * Plane boundaries (STYLE: "dependencies point one way"; README, "Layout"): which folder of src/ may
 * import which library and which other folder. The rule resolves relative imports, so `./engine/`
 * in media/ (the media engine) is not the SIP engine. A folder's entry applies to its subfolders
 * unless they have one of their own. test/unit/house/lint-boundaries.test.ts proves each kind of
 * rule fails a forbidden import.
 */
const IO = ['node:fs', 'node:fs/promises', 'node:net', 'node:dgram', 'node:tls', 'node:http', 'node:https', 'node:child_process', 'node:worker_threads', 'fastify', 'better-sqlite3', 'pg', 'drachtio-srf', 'pino'];
const ALL = ['app', 'config', 'common', 'engine', 'sip', 'siprec', 'call', 'media', 'policy', 'admin', 'srs', 'observability'];
const except = (...allowed) => ALL.filter((p) => !allowed.includes(p));

/** folder under src/ -> what it must not import (libraries by name, folders of src/ by prefix) and why. */
export const PLANES = {
  app: { libraries: [], folders: [], why: 'the composition root may import every plane' },
  common: { libraries: IO, folders: except('common'), why: 'common/ is pure and depends on nothing' },
  config: { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: except('config', 'common', 'policy'), why: 'config/ reads and validates settings only' },
  observability: { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: except('observability', 'common', 'policy'), why: 'logging and metrics depend on no plane' },
  engine: { libraries: ['drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: except('engine', 'common', 'observability'), why: 'the engine is a SIP server and knows nothing of recording' },
  sip: { libraries: ['node:dgram', 'fastify', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'call', 'media', 'admin', 'srs', 'config'], why: 'sip/ is the signalling plane: drachtio-srf behind typed legs' },
  siprec: { libraries: IO, folders: ['app', 'engine', 'sip', 'call', 'media', 'admin', 'srs', 'config', 'policy/store'], why: 'siprec/ holds pure codecs and the SIPREC client behind its connector interface' },
  call: { libraries: IO, folders: ['app', 'engine', 'admin', 'srs', 'config', 'media/transport', 'media/engine', 'policy/store'], why: 'call/ orchestrates the planes through their interfaces' },
  'call/store': { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'fastify', 'better-sqlite3'], folders: except('call', 'common', 'observability'), why: 'the live-call registry store persists live calls and nothing else' },
  media: { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'sip', 'siprec', 'call', 'policy', 'admin', 'srs', 'config'], why: 'the media plane knows nothing of signalling or settings; sockets only in media/transport/' },
  'media/transport': { libraries: ['drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'sip', 'siprec', 'call', 'policy', 'admin', 'srs', 'config'], why: 'media/transport/ is the only socket user of the media plane' },
  'media/engine': { libraries: ['node:dgram', 'drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'sip', 'siprec', 'call', 'policy', 'admin', 'srs', 'config'], why: 'the media engine uses sockets through media/transport/' },
  'media/audio': { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'fastify', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'sip', 'siprec', 'call', 'policy', 'admin', 'srs', 'config', 'media/transport', 'media/engine'], why: 'audio/ holds prompts and codecs' },
  'media/rtp': { libraries: IO, folders: except('media/rtp', 'common'), why: 'RTP/RTCP codecs are pure' },
  'media/processors': { libraries: IO.filter((l) => l !== 'node:fs'), folders: ['app', 'engine', 'sip', 'siprec', 'call', 'policy', 'admin', 'srs', 'config', 'media/transport', 'media/engine', 'observability'], why: 'per-packet steps are pure' },
  policy: { libraries: IO, folders: except('policy', 'common'), why: 'policy/ is pure resolution; only policy/store/ does I/O' },
  'policy/store': { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'fastify'], folders: except('policy', 'common', 'observability'), why: 'the settings store persists policy and nothing else' },
  admin: { libraries: ['node:dgram', 'node:net', 'drachtio-srf', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'sip', 'media', 'config'], why: 'admin/ serves HTTP over the settings service, the call manager and the recordings' },
  srs: { libraries: ['fastify', 'better-sqlite3', 'pg'], folders: ['app', 'engine', 'call', 'admin', 'config'], why: 'the reference recording server is an application of its own' },
};

/** Entry points that compose planes like app/ does (the standalone reference recording server). */
const ROOTS = ['srs/main.ts'];

const SRC = resolve(import.meta.dirname, 'src');
const folderOf = (file) => {
  const rel = relative(SRC, file).split('\\').join('/');
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split('/');
  const two = parts.length > 2 ? `${parts[0]}/${parts[1]}` : undefined;
  return two && PLANES[two] ? two : parts.length > 1 ? parts[0] : undefined;
};
const under = (folder, prefix) => folder === prefix || folder.startsWith(`${prefix}/`);

const planeImports = {
  meta: { type: 'problem', schema: [], messages: { forbidden: "{{from}}/ must not import {{what}}: {{why}}." } },
  create(context) {
    const from = folderOf(context.filename);
    const plane = from && !ROOTS.includes(relative(SRC, context.filename).split('\\').join('/')) && PLANES[from];
    if (!plane) return {};
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      let what;
      if (source.startsWith('.')) {
        const target = resolve(dirname(context.filename), source);
        const rel = relative(SRC, target).split('\\').join('/');
        if (rel.startsWith('..')) return;
        const to = rel.split('/').length > 2 && PLANES[rel.split('/').slice(0, 2).join('/')] ? rel.split('/').slice(0, 2).join('/') : rel.split('/')[0];
        if (under(to, from) || !plane.folders.some((f) => under(to, f))) return;
        what = `${to}/`;
      } else {
        if (!plane.libraries.includes(source)) return;
        what = source;
      }
      context.report({ node, messageId: 'forbidden', data: { from, what, why: plane.why } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'console/dist/**', 'recordings/**', 'data/**', '.tmp/**', '.tmp-*'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config only.' }],
    },
  },
  {
    files: ['src/config/**', 'test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { house: { rules: { 'plane-imports': planeImports } } },
    rules: { 'house/plane-imports': 'error' },
  },
);
