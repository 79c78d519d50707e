/**
 * What the persistence e2e tests ask a lab host about its shim: the link as
 * `ip -json addr` shows it, pings from a container, and waiting for a
 * manager (networkd, NetworkManager) to act.
 */
import type { LabHost } from '../lab.js';

export interface LinkJson {
  ifname: string;
  address?: string;
  operstate?: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** The link with its addresses; undefined when there is none of that name. */
export async function link(h: LabHost, name: string): Promise<LinkJson | undefined> {
  const r = await h.exec(['ip', '-json', 'addr', 'show', 'dev', name]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as LinkJson[])[0];
}

/** Polls `check` every 100 ms for up to `ms`, then asks once more. */
export async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** A ping from inside a container (busybox), tried `attempts` times: the first after a change may meet a pending ARP entry. */
export async function containerPing(h: LabHost, container: string, address: string, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if ((await h.dockerCli(['exec', container, 'ping', '-c', '1', '-W', '1', address])).code === 0) return true;
  }
  return false;
}

/** A ping from the host's namespace (busybox: the machine may have no ping binary of its own). */
export async function hostPing(h: LabHost, address: string): Promise<boolean> {
  return (await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', address])).code === 0;
}

/** Retries a check for up to `attempts` tries (ARP may need its 1 s retransmit after a re-creation). */
export async function eventually(check: () => Promise<boolean>, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await check()) return true;
  return false;
}
