// Builds the web console (console/src -> console/dist, docs/console.md): esbuild bundles the Preact
// app into one ES module, copies index.html and the style sheet. The output is committed, so
// `npm start` serves it without a build step; test/unit/admin/console-build.test.ts rebuilds into a
// temporary folder and fails when the committed output differs.
//   node scripts/build-console.mjs [outDir]      (default console/dist)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'console', 'src');
const out = resolve(process.argv[2] ?? join(root, 'console', 'dist'));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: [join(src, 'main.tsx')],
  outfile: join(out, 'assets', 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(root, 'console', 'tsconfig.json'),
  logLevel: 'warning',
  absWorkingDir: root,
});
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
copyFileSync(join(src, 'styles.css'), join(out, 'assets', 'app.css'));
