/**
 * Up-front permission checks, so that apply and destroy say exactly what is
 * missing before they change anything.
 */
import { readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12n;

/** Effective capabilities of this process, from /proc/self/status. */
export function effectiveCapabilities(statusText: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(statusText);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function hasNetAdmin(statusText = readFileSync('/proc/self/status', 'utf8')): boolean {
  return ((effectiveCapabilities(statusText) >> CAP_NET_ADMIN) & 1n) === 1n;
}
