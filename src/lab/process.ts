// Process helpers for the lab: run a program (argv only, never a shell), watch and signal pids.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** throw LabCommandError on a non-zero exit; default false */
  check?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class LabCommandError extends Error {
  constructor(
    readonly cmd: string[],
    readonly result: ExecResult,
  ) {
    super(`command failed (exit ${result.code}): ${cmd.join(' ')}\n${result.stderr.trim()}`);
    this.name = 'LabCommandError';
  }
}

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function run(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        env: opts.env ?? { ...process.env, PATH: process.env.PATH ?? SYSTEM_PATH },
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`cannot run ${file}: ${err.message}`));
          return;
        }
        let code = 0;
        if (err) {
          const e = err as { code?: number | null; killed?: boolean; signal?: string | null };
          code = typeof e.code === 'number' ? e.code : 128;
          if (e.killed) stderr += `\n(killed after ${opts.timeoutMs ?? 60_000} ms)`;
        }
        const result = { stdout, stderr, code };
        if (opts.check && code !== 0) reject(new LabCommandError([file, ...args], result));
        else resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export function runChecked(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(file, args, { ...opts, check: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** true when the process exists and is not a zombie */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !isAlive(p))) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}
