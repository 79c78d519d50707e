/**
 * Shared by every renderer: the ownership header (how status and destroy
 * recognise our files) and the shim's addresses and routes split by family.
 */
import { MacvlanError } from '../model/errors.js';
import type { PlannedNetwork, PlannedShim } from '../model/plan.js';

/** The first line of every file we write. All four formats take `#` comments. */
export function managedHeader(network: string): string {
  return `# Managed by macvlanctl for network ${network}. Changes are overwritten; remove with: macvlanctl destroy ${network}`;
}

/**
 * Whether a file's text carries our header for `network` (any network when
 * omitted): on its first line, or on its second after a `#!` line (a script
 * must start with its interpreter).
 */
export function isManagedFile(content: string, network?: string): boolean {
  const [line1 = '', line2 = ''] = content.split('\n', 2);
  const first = line1.startsWith('#!') ? line2 : line1;
  if (network !== undefined) return first === managedHeader(network);
  return /^# Managed by macvlanctl for network \S+\. /.test(first);
}

export interface ShimFamilies {
  shim: PlannedShim;
  /** IPv4 routes through the shim (the ip-range). */
  routes4: string[];
  /** IPv6 address (/128) and routes, present only when the network is dual-stack and the shim has an IPv6 address. */
  v6?: { address: string; routes: string[]; proxies: string[] };
}

/** The shim with its routes split by family; undefined when the network has no host access (nothing to persist). */
export function shimFamilies(n: PlannedNetwork): ShimFamilies | undefined {
  const shim = n.shim;
  if (!shim) return undefined;
  const routes4 = shim.routes.filter((r) => !r.includes(':'));
  const routes6 = shim.routes.filter((r) => r.includes(':'));
  const out: ShimFamilies = { shim, routes4 };
  // An adopted network (src/plan/adopt-network.ts) plans no IPv6 subnet of its own (Docker's is taken as it is),
  // yet its shim shares the host's IPv6 address: without it here the files would disable IPv6 on the shim.
  if (shim.address6 && (n.ipv6 || shim.containerRoutes)) out.v6 = { address: shim.address6, routes: routes6, proxies: shim.proxy6 ?? [] };
  return out;
}

/** Lines joined with LF and a final newline. */
export function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

/** A renderer was called without the context it needs (a planner bug, not bad input). */
export function missingContext(backend: string, what: string): MacvlanError {
  return new MacvlanError('SYSTEM_ERROR', `render ${backend}: ${what} is not known`, { backend });
}
