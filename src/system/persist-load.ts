/**
 * After apply or destroy changed persistence files: tell the running network
 * manager, where that is safe. Best effort and never fatal — the files are
 * what matters at the next boot, and the shim itself was already made (or
 * removed) by apply with `ip`.
 *
 * What is deliberately NOT done: `networkctl reload` when the parent's own
 * .network gained or lost our drop-in. networkd then reconfigures the parent
 * (it stops and restarts its DHCP client), which is exactly the "drop the
 * host's own connection" this tool must never cause. networkd reads the
 * files at the next boot or the next reload the admin chooses to run.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PlannedPersistence } from '../model/plan.js';
import { run } from './exec.js';

export interface LoadRequest {
  root: string;
  backend: PlannedPersistence['backend'];
  /** Paths (as on the target root) written or removed by this run. */
  written: string[];
  removed: string[];
}

async function tryRun(file: string, args: string[]): Promise<string | undefined> {
  try {
    await run(file, args, { timeoutMs: 10_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Lines for the user: what was loaded, or why not. */
export async function loadPersistence(req: LoadRequest): Promise<string[]> {
  if (req.backend === 'none' || (req.written.length === 0 && req.removed.length === 0)) return [];
  if (resolve(req.root) !== '/') return [`${req.backend} files are under --root ${req.root}; no running manager was asked to load them`];
  switch (req.backend) {
    case 'networkd': {
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
    case 'networkmanager': {
      if (!existsSync('/run/NetworkManager')) return ['NetworkManager is not running; it reads the keyfile when it starts'];
      const err = req.written.length
        ? await tryRun('nmcli', ['connection', 'load', ...req.written])
        : await tryRun('nmcli', ['connection', 'reload']);
      return [err ? `nmcli could not load the keyfile (${err}); NetworkManager reads it at the next start` : 'NetworkManager loaded the keyfile'];
    }
    case 'systemd': {
      if (!existsSync('/run/systemd/system')) return ['systemd is not running here; the unit is enabled for the next boot'];
      const err = await tryRun('systemctl', ['daemon-reload']);
      return [err ? `systemctl daemon-reload failed (${err})` : 'systemd reloaded; the unit is enabled and runs at the next boot'];
    }
    case 'ifupdown':
      return ['ifupdown brings the shim up at the next boot (ifup -a); the live shim was made by apply'];
  }
}
