/**
 * The one way this tool runs programs: argv arrays, never a shell.
 */
import { execFile } from 'node:child_process';
import { MacvlanError } from '../model/errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function run(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args as string[],
      { timeout: opts.timeoutMs ?? 15_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            reject(new MacvlanError('SYSTEM_ERROR', `'${file}' was not found; install it (Debian: apt-get install iproute2)`, { file }));
            return;
          }
          const text = (stderr || err.message).trim();
          reject(
            new MacvlanError(/Operation not permitted|EPERM/.test(text) ? 'NOT_PERMITTED' : 'SYSTEM_ERROR', `${file} ${args.join(' ')}: ${text}`, {
              file,
              args,
              stderr: stderr,
              exitCode: typeof code === 'number' ? code : (err as { code?: unknown }).code,
            }),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
