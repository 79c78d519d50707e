/**
 * The one way this tool runs programs: argv arrays, never a shell.
 */
import { spawn } from 'node:child_process';
import { MacvlanError } from '../model/errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Run in a process group of its own, out of reach of the terminal's Ctrl-C (sent to the whole
   * foreground group): a change cut short by it would leave an unknown part done. Our own SIGINT
   * handling (src/cli/interrupt.ts) lets the step finish and rolls back instead.
   */
  ownProcessGroup?: boolean;
}

const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

// spawn rather than execFile: execFile passes only some options on to spawn, and `detached` is not one of them.
export function run(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args as string[], { env: opts.env ?? process.env, detached: opts.ownProcessGroup === true, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: string | undefined;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        failure ??= `output exceeds ${MAX_OUTPUT_BYTES} bytes`;
        child.kill('SIGTERM');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => {
      failure ??= `timed out after ${opts.timeoutMs ?? 15_000} ms`;
      child.kill('SIGTERM');
    }, opts.timeoutMs ?? 15_000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(new MacvlanError('SYSTEM_ERROR', `'${file}' was not found; install it (Debian: apt-get install iproute2)`, { file }));
        return;
      }
      reject(new MacvlanError('SYSTEM_ERROR', `${file} ${args.join(' ')}: ${e.message}`, { file, args, stderr: '' }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0 && !failure) {
        resolve({ stdout, stderr });
        return;
      }
      const text = (stderr || failure || `exited with ${signal ?? `code ${code}`}`).trim();
      reject(
        new MacvlanError(/Operation not permitted|EPERM/.test(text) ? 'NOT_PERMITTED' : 'SYSTEM_ERROR', `${file} ${args.join(' ')}: ${text}`, {
          file,
          args,
          stderr,
          exitCode: code ?? signal,
        }),
      );
    });
    // A child that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
