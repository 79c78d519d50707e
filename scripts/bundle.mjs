#!/usr/bin/env node
// Bundles the CLI into one CommonJS file, dist/cli.cjs, and prepares a V8 code
// cache for it (dist/cli.cjs.cache). Start-up time is a feature: Node's ESM
// loader pays per file (resolve, read, compile), and compiling ~700 KB of
// JavaScript at every start costs more than all the tool's own work. The
// launcher (bin/macvlanctl) compiles the bundle with the cache, so V8 skips
// parsing what it has seen before. Every module in the bundle is initialised
// lazily, on first use: `plan` never runs yaml's or zod's code.
// tsc still type-checks and emits dist/ (the lab and the tests use it).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
rmSync(join(root, 'dist', 'cli.cjs.cache'), { force: true });

// The file reader (with yaml and zod, four fifths of the code) is a bundle of
// its own, dist/load-file.cjs, required only when -f is given: the main bundle
// stays small, and every run reads and compiles less. It carries its own copy
// of the small modules it shares with the CLI (errors, names); the CLI
// recognises its errors by name and code (see toMacvlanError in main.ts).
// The other module that needs yaml, compose-complete.ts (apply --write-compose),
// lives in the same separate bundle.
const SEPARATE = ['load-file', 'compose-complete'];
const separateFileReader = {
  name: 'separate-file-reader',
  setup(b) {
    // a stand-in module that require()s the other bundle: a real import()
    // would not work inside the launcher's vm.Script. Whoever imports it (today
    // config/declaration.ts and cli/commands/apply.ts): matching on the
    // importer's path broke silently when declaration.ts moved from cli/ to config/.
    b.onResolve({ filter: new RegExp(`(^|/)(${SEPARATE.join('|')})\\.js$`) }, () => ({ path: 'file-reader', namespace: 'separate' }));
    b.onLoad({ filter: /.*/, namespace: 'separate' }, () => ({ contents: "module.exports = require('./load-file.cjs');", loader: 'js' }));
  },
};
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true, // less to parse; the tool's errors are its own messages, not stack traces
  legalComments: 'none',
  // the launcher runs the bundle with a CommonJS wrapper whose __dirname is dist/
  define: { 'import.meta.dirname': '__dirname' },
  logLevel: 'warning',
  banner: { js: '// bundled by scripts/bundle.mjs from src/; do not edit' },
};
const main = await build({
  ...common,
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/cli.cjs'),
  plugins: [separateFileReader],
  external: ['./load-file.cjs'],
  metafile: true,
});
// The split above is a start-up feature nothing else checks: fail the build
// when yaml or zod (or the file reader's own modules) reach the main bundle.
const leaked = Object.keys(main.metafile.inputs).filter((f) => /node_modules\/(zod|yaml)\/|src\/config\/(load-file|compose-complete)\.ts$/.test(f));
if (leaked.length > 0) {
  console.error(`dist/cli.cjs must not contain the file reader, but it bundles ${leaked.length} of its files, e.g. ${leaked.slice(0, 3).join(', ')}`);
  process.exit(1);
}
await build({
  ...common,
  stdin: { contents: SEPARATE.map((m) => `export * from './${m}.ts';`).join('\n'), resolveDir: join(root, 'src/config'), sourcefile: 'file-reader.ts', loader: 'ts' },
  outfile: join(root, 'dist/load-file.cjs'),
});
// The LAN scan's worker runs as a process of its own inside a throwaway network
// namespace (`unshare --net node dist/scan-worker.cjs`, see src/gather/lan-scan.ts).
await build({ ...common, entryPoints: [join(root, 'src/probe/scan-worker.ts')], outfile: join(root, 'dist/scan-worker.cjs') });

// Warm the cache: run the launcher once so that V8 compiles what a plan
// needs, then writes the cache (see bin/macvlanctl). This plan only reads: it
// lists the interfaces, finds no Docker at a socket that does not exist, and
// stops at the loopback parent (exit 2, as expected).
const r = spawnSync(
  process.execPath,
  [join(root, 'bin', 'macvlanctl'), 'plan', 'warmup', '--parent', 'lo', '--docker-host', 'unix:///nonexistent/macvlanctl-warmup.sock', '--json'],
  { env: { ...process.env, MACVLANCTL_WRITE_CODE_CACHE: '1' }, stdio: ['ignore', 'ignore', 'ignore'] },
);
if (r.status !== 2 || !existsSync(join(root, 'dist', 'cli.cjs.cache'))) {
  console.error(`warning: the code cache was not written (warm-up exit ${r.status}); the CLI works, only starts slower`);
}
