/**
 * Kernel changes through `ip -batch -`: one process for many commands. On a
 * failure `ip` stops at the failing line and names it ("Command failed -:N"),
 * which tells us exactly which lines took effect, for rollback.
 */
import { writeFileSync } from 'node:fs';
import { MacvlanError } from '../model/errors.js';
import { run } from './exec.js';

export class BatchError extends MacvlanError {
  /** Lines that took effect before the failure. */
  readonly applied: number;
  constructor(message: string, applied: number, stderr: string) {
    super('SYSTEM_ERROR', message, { applied, stderr });
    this.applied = applied;
  }
}

export function failedLine(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

export async function runIpBatch(lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  try {
    await run('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n`, ownProcessGroup: true });
  } catch (e) {
    const err = e as MacvlanError;
    const stderr = String(err.details?.stderr ?? err.message);
    const line = failedLine(stderr);
    const applied = line ? line - 1 : 0;
    const reason = stderr
      .split('\n')
      .filter((l) => l && !/^Command failed/.test(l))
      .join('; ');
    const what = line ? `'ip ${lines[line - 1]}'` : `ip -batch`;
    throw new BatchError(`${what} failed: ${reason || err.message}`, applied, stderr);
  }
}

/**
 * Per-interface sysctls live in /proc/sys/net of the caller's network
 * namespace. arp_notify=1 makes the kernel announce the shim's address with a
 * gratuitous ARP when the link comes up, so neighbours learn it at once.
 */
export function setInterfaceSysctl(family: 'ipv4' | 'ipv6', iface: string, key: string, value: string): void {
  writeFileSync(`/proc/sys/net/${family}/conf/${iface}/${key}`, value);
}

/** Every line is tried (`ip -force -batch`); returns the error lines. For rollback. */
export async function runIpBatchForce(lines: string[]): Promise<string[]> {
  if (lines.length === 0) return [];
  try {
    await run('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, ownProcessGroup: true });
    return [];
  } catch (e) {
    const stderr = String((e as MacvlanError).details?.stderr ?? (e as Error).message);
    return stderr.split('\n').filter((l) => l.trim().length > 0);
  }
}
