/**
 * Confirmation before changing the host. On a terminal: ask. Without one:
 * refuse unless --yes, because a script that forgot --yes must not change a
 * host by accident.
 */
import { createInterface } from 'node:readline/promises';
import { MacvlanError } from '../model/errors.js';

export async function confirm(question: string, yes: boolean | undefined, action: string): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new MacvlanError('USAGE', `refusing to ${action} without confirmation: there is no terminal to ask on; pass --yes to go ahead`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new MacvlanError('ABORTED', `nothing was changed: ${action} not confirmed`);
  } finally {
    rl.close();
  }
}
