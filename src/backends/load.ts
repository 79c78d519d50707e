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
 *
 * ifupdown has no daemon: what it knows is its record of the interfaces it
 * brought up, <root>/run/network/ifstate. A shim apply made is not in it, so
 * `ifdown SHIM` would say it is not configured. apply therefore runs ifup on
 * the written stanza (with --no-scripts, so no if-up.d hook is started for
 * it): the stanza skips every step that is already done (src/backends/ifupdown/render.ts),
 * so the kernel is left as it is and ifupdown records the shim. This also
 * holds under --root, where ifup reads its files and records only inside
 * that root (the stanza's commands act on this host's kernel, as apply just
 * did, and find everything done); nothing happens where ifupdown has not run
 * since boot (no run/network). When the stanza is removed, ifupdown's record
 * of the shim is dropped the same way.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PlannedPersistence } from '../model/plan.js';
import { INTERFACES_D } from './ifupdown/render.js';
import { run } from '../system/exec.js';

export interface LoadRequest {
  root: string;
  backend: PlannedPersistence['backend'];
  /** Paths (as on the target root) written or removed by this run. */
  written: string[];
  removed: string[];
  /** The network's shim, when it has one. */
  shim?: string;
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
  if (req.backend === 'ifupdown') return recordWithIfupdown(req);
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
      // Only keyfiles are NetworkManager's to load; a dispatcher script is run by it as it is.
      req = { ...req, written: req.written.filter(isKeyfile), removed: req.removed.filter(isKeyfile) };
      if (req.written.length === 0 && req.removed.length === 0) return [];
      if (!existsSync('/run/NetworkManager')) return ['NetworkManager is not running; it reads the keyfile when it starts'];
      // `load` with exactly our paths: a written keyfile is (re)read, a removed one makes NetworkManager
      // forget its profile. Never `reload`: that re-reads every profile on disk, so an edit the admin had
      // not loaded yet — of the parent's profile too — would take effect (seen with NetworkManager 1.42,
      // test/e2e/nm-daemon.e2e.test.ts). No `connection up` either: the shim apply made stays as it is;
      // NetworkManager brings it up from the profile at its next start.
      // A removed keyfile whose profile is active on a live link (NetworkManager made the shim from it at its
      // last start): forgetting the profile would make NetworkManager delete that link — the shim another
      // backend keeps now. So the device is released first (`device set … managed no`): NetworkManager then
      // leaves the link, its address and route exactly as they are, forgets the profile, and stays off the
      // device also across its own restarts (it keeps that per link, until the link is re-created). Not
      // `managed yes` afterwards: with no profile, NetworkManager would flush the address and route. Seen
      // with NetworkManager 1.42 (test/e2e/nm-daemon.e2e.test.ts), as was that `connection down`/`delete`
      // remove the link too.
      const release = req.removed.length ? await releaseNmDevices(req.removed) : { released: [], failed: [] };
      if (release.failed.length) {
        return [
          `NetworkManager was not told the keyfile is gone: it could not be made to leave ${release.failed.join('; ')}, and forgetting the profile would make it delete that link. It forgets the profile at its next start`,
        ];
      }
      const err = await tryRun('nmcli', ['connection', 'load', ...req.written, ...req.removed]);
      if (req.written.length) {
        return [err ? `nmcli could not load the keyfile (${err}); NetworkManager reads it at the next start` : 'NetworkManager loaded the keyfile; it brings the shim up from it at its next start'];
      }
      if (err) return [`nmcli could not tell NetworkManager the keyfile is gone (${err}); it forgets the profile at the next start`];
      const kept = release.released.length ? `; ${release.released.join(', ')} stays up as it was, no longer managed by NetworkManager` : '';
      return [`NetworkManager forgot the profile of the removed keyfile${kept}`];
    }
    case 'systemd': {
      if (!existsSync('/run/systemd/system')) return ['systemd is not running here; the unit is enabled for the next boot'];
      const err = await tryRun('systemctl', ['daemon-reload']);
      return [err ? `systemctl daemon-reload failed (${err})` : 'systemd reloaded; the unit is enabled and runs at the next boot'];
    }
  }
}

function isKeyfile(path: string): boolean {
  return path.endsWith('.nmconnection');
}

/** See the header: ifupdown's own record of the shim, so that ifdown and `systemctl restart networking` handle it. */
async function recordWithIfupdown(req: LoadRequest): Promise<string[]> {
  const stanza = req.written.find((p) => p.startsWith(`${INTERFACES_D}/`));
  const removed = req.removed.some((p) => p.startsWith(`${INTERFACES_D}/`));
  if ((!stanza && !removed) || !req.shim) return [];
  const stateDir = join(req.root, 'run', 'network');
  if (!existsSync(stateDir)) return stanza ? [`ifupdown has not run here since boot (no ${stateDir}); ifup -a brings the shim up at the next boot`] : [];
  if (!stanza) {
    // The stanza is gone (destroy, or another backend now): ifdown with no definition of the shim
    // only drops it from ifupdown's record ("ignoring unknown interface") and runs nothing.
    const err = await tryRun('ifdown', ['--no-scripts', '--state-dir', stateDir, '-i', '/dev/null', req.shim]);
    return [err ? `ifdown could not drop ${req.shim} from ifupdown's record (${err})` : `ifupdown no longer counts ${req.shim} as up`];
  }
  const err = await tryRun('ifup', ['--no-scripts', '--state-dir', stateDir, '-i', join(req.root, stanza), req.shim]);
  if (err) return [`ifup could not record ${req.shim} as up (${err}); ifup -a still brings it up at the next boot`];
  return [`ifupdown counts ${req.shim} as up (ifup found it made), so ifdown and systemctl restart networking handle it`];
}

/**
 * Releases from NetworkManager every live link on which the profile of one of these (removed) keyfiles is
 * active, so that forgetting the profile does not delete the link. Links already gone (destroy deleted the
 * shim) are left to NetworkManager.
 *
 * Letting go of a link it made, NetworkManager 1.42 resets its MAC to the random one the link got at
 * creation (it undoes the profile's cloned-mac-address; address, route and UP stay). The shim keeps one MAC
 * for life, so that MAC is put back at once, with arp_notify on: the kernel announces it by gratuitous ARP.
 */
async function releaseNmDevices(removed: string[]): Promise<{ released: string[]; failed: string[] }> {
  const out = { released: [] as string[], failed: [] as string[] };
  let active: string;
  try {
    active = (await run('nmcli', ['-g', 'DEVICE,FILENAME', 'connection', 'show', '--active'], { timeoutMs: 10_000 })).stdout;
  } catch (e) {
    out.failed.push(`the devices of its profile (${(e as Error).message})`);
    return out;
  }
  for (const line of active.split('\n')) {
    // Terse output escapes ':' and '\\' in values; an interface name holds neither.
    const sep = line.indexOf(':');
    if (sep <= 0) continue;
    const dev = line.slice(0, sep);
    const file = line.slice(sep + 1).replace(/\\(.)/g, '$1');
    if (!removed.includes(file)) continue;
    const mac = await linkMac(dev);
    if (!mac) continue; // gone already
    const err = await tryRun('nmcli', ['device', 'set', dev, 'managed', 'no']);
    if (err) {
      out.failed.push(`${dev} (${err})`);
      continue;
    }
    if ((await linkMac(dev)) !== mac) {
      try {
        writeFileSync(`/proc/sys/net/ipv4/conf/${dev}/arp_notify`, '1');
      } catch {
        // best effort: the MAC is what matters
      }
      const e = await tryRun('ip', ['link', 'set', 'dev', dev, 'address', mac]);
      if (e) {
        out.failed.push(`${dev}: NetworkManager changed its MAC and it could not be put back to ${mac} (${e})`);
        continue;
      }
    }
    out.released.push(dev);
  }
  return out;
}

async function linkMac(dev: string): Promise<string | undefined> {
  try {
    const links = JSON.parse((await run('ip', ['-json', 'link', 'show', 'dev', dev], { timeoutMs: 10_000 })).stdout) as { address?: string }[];
    return links[0]?.address?.toLowerCase();
  } catch {
    return undefined;
  }
}
