/**
 * Runs the built CLI (bin/macvlanctl → dist/) inside a lab host's network
 * namespace, as a user would on that host. `npm test` builds dist/ first.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabHost } from '../lab.js';

export const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'macvlanctl');

if (!existsSync(join(import.meta.dirname, '..', '..', '..', 'dist', 'cli', 'main.js'))) {
  throw new Error('dist/ is not built: run `npm run build` (npm test does it)');
}

/** Where the CLI runs of the e2e tests keep their host locks (see MACVLANCTL_LOCK_DIR in src/system/lock.ts). */
export const TEST_LOCK_DIR = join(tmpdir(), 'macvlanctl-test-locks');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed when --json was given */
  json?: { ok: boolean; result?: any; error?: { code: string; message: string } };
}

/**
 * `scan: true` lets plan/apply look at the LAN as they do for a user; by
 * default the tests that are not about the scan pass --no-scan, so that each
 * apply does not wait 3.5 s for DHCP offers from a LAN that has no server
 * (scan.e2e and doctor.e2e test the scan and the planner's use of it).
 */
export async function macvlanctl(host: LabHost, args: string[], opts: { root?: string; timeoutMs?: number; scan?: boolean } = {}): Promise<CliResult> {
  const full = [...args];
  if (!opts.scan && ['plan', 'apply'].includes(args[0] ?? '') && !args.includes('--no-scan')) full.push('--no-scan');
  if (host.docker && !args.includes('--docker-host') && ['plan', 'apply', 'status', 'destroy', 'render', 'doctor', 'scan'].includes(args[0] ?? '')) {
    full.push('--docker-host', host.docker.dockerHost);
  }
  if (opts.root && !args.includes('--root')) full.push('--root', opts.root);
  // Host locks in a test directory, never the real /run/macvlanctl (a killed run would leave one there).
  const env = { ...process.env, NO_COLOR: '1', MACVLANCTL_LOCK_DIR: process.env.MACVLANCTL_LOCK_DIR || TEST_LOCK_DIR };
  const r = await host.exec([process.execPath, BIN, ...full], { timeoutMs: opts.timeoutMs ?? 60_000, env });
  const out: CliResult = { code: r.code, stdout: r.stdout, stderr: r.stderr };
  if (args.includes('--json')) {
    try {
      out.json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`--json output is not one JSON document:\n${r.stdout}\n${r.stderr}`);
    }
  }
  return out;
}
