/**
 * The launcher's V8 code cache (bin/macvlanctl) against node flags: V8 rejects a cache made under
 * other flags, so a run with flags of its own (the installed watcher's, src/backends/systemd-unit/
 * watch-unit.ts) neither reads the cache nor writes one that every plain run would then reject.
 * Runs a copy of the built launcher and bundle (npm run build) in a temporary directory. And the
 * watcher's --lite-mode leaves no WebAssembly, which nothing in the bundles may need.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WATCH_NODE_FLAGS } from '../../src/backends/systemd-unit/watch-unit.js';

const repo = join(import.meta.dirname, '..', '..');

describe('the launcher’s code cache', () => {
  let dir: string;
  let cache: string;
  const run = (flags: string[], nodeOptions = '') =>
    spawnSync(process.execPath, [...flags, join(dir, 'bin', 'macvlanctl'), 'plan', '--help'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: nodeOptions } });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-launcher-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist'));
    for (const f of ['bin/macvlanctl', 'bin/package.json', 'dist/cli.cjs']) copyFileSync(join(repo, f), join(dir, f));
    cache = join(dir, 'dist', 'cli.cjs.cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a plain run writes it; a run with the watcher’s flags leaves it as it is, and writes none', () => {
    const flagged = run(WATCH_NODE_FLAGS);
    expect(flagged.status, flagged.stderr).toBe(0);
    expect(flagged.stdout).toMatch(/^Usage: macvlanctl plan/);
    expect(existsSync(cache)).toBe(false);
    expect(run([]).status).toBe(0);
    const written = readFileSync(cache);
    expect(written.length).toBeGreaterThan(0);
    expect(run(WATCH_NODE_FLAGS).status).toBe(0);
    expect(readFileSync(cache).equals(written)).toBe(true);
    // V8 flags in NODE_OPTIONS change the cache's tag too, though execArgv does not show them.
    expect(run([], '--max-semi-space-size=1').status).toBe(0);
    expect(readFileSync(cache).equals(written)).toBe(true);
  });
});

describe('what --lite-mode takes away', () => {
  it('the bundles use no WebAssembly and no fetch (undici needs WebAssembly, which --lite-mode turns off as --jitless does: fetch would crash the process)', () => {
    for (const f of ['cli.cjs', 'load-file.cjs', 'scan-worker.cjs']) {
      const text = readFileSync(join(repo, 'dist', f), 'utf8');
      expect(text, f).not.toMatch(/\bWebAssembly\b|\bundici\b|(?<![.\w$])fetch\(|globalThis\.fetch\b/);
    }
  });
});
