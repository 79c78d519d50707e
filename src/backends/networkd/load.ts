/**
 * Tells a running systemd-networkd about our files (`networkctl reload`).
 *
 * What is deliberately NOT done: `networkctl reload` when the parent's own
 * .network gained or lost our drop-in. networkd then reconfigures the parent
 * (it stops and restarts its DHCP client), which is exactly the "drop the
 * host's own connection" this tool must never cause. networkd reads the
 * files at the next boot or the next reload the admin chooses to run.
 */
import { existsSync } from 'node:fs';
import type { LoadRequest } from '../backend.js';
import { tryRun, underOtherRoot } from '../load-common.js';

export async function loadNetworkd(req: LoadRequest): Promise<string[]> {
  const elsewhere = underOtherRoot(req);
  if (elsewhere) return [elsewhere];
  if (!existsSync('/run/systemd/netif')) return ['systemd-networkd is not running; it reads the files when it starts'];
  const parentChanged = [...req.written, ...req.removed].some((p) => p.includes('.network.d/'));
  if (parentChanged) {
    return [
      "networkd was not reloaded: the parent's .network gained or lost a drop-in, and a reload would reconfigure the parent (restarting its DHCP client). The shim is already live; networkd takes the files at the next boot",
    ];
  }
  const err = await tryRun('networkctl', ['reload']);
  return [err ? `networkctl reload failed (${err}); the files take effect at the next boot` : 'networkd reloaded'];
}
