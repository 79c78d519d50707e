#!/usr/bin/env node
// Bundles the CLI for start-up speed: Node's ESM loader pays per file
// (resolve, read, compile), and the CLI is ~40 small modules plus commander,
// picocolors and ipaddr.js. With code splitting, each command's code stays in
// its own chunk, loaded only when that command runs. tsc still type-checks and
// emits dist/ (the lab and the tests use it); bin/macvlanctl runs the bundle.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
rmSync(join(root, 'dist/bundle'), { recursive: true, force: true }); // no stale chunks
await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outdir: join(root, 'dist/bundle'),
  entryNames: '[name]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // yaml and zod are loaded only with -f; keeping them out of the bundle keeps
  // their (large) code out of the chunk that every run reads.
  external: ['yaml', 'zod'],
  sourcemap: false,
  minify: true, // less to parse at every start; error messages are ours, not stack traces
  legalComments: 'none',
  logLevel: 'warning',
  // commander and ipaddr.js are CommonJS and require() node builtins: give
  // the ESM chunks a real require.
  banner: {
    js: "// bundled by scripts/bundle.mjs from src/; do not edit\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
});
