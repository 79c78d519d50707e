/**
 * Shared by the backends' load.ts: running a manager's tool without failing
 * apply, and the one rule every daemon-backed manager shares (files under
 * --root are not this host's running manager's business).
 */
import { resolve } from 'node:path';
import { run } from '../system/exec.js';
import type { LoadRequest } from './backend.js';

/** Runs the tool; its error message, or undefined when it succeeded. */
export async function tryRun(file: string, args: string[]): Promise<string | undefined> {
  try {
    await run(file, args, { timeoutMs: 10_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The line for files written under --root, where no running manager is asked; undefined on the real root. */
export function underOtherRoot(req: LoadRequest): string | undefined {
  return resolve(req.root) !== '/' ? `${req.backend} files are under --root ${req.root}; no running manager was asked to load them` : undefined;
}
