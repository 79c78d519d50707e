/**
 * Tells a running NetworkManager about our keyfiles: `nmcli connection load`
 * with exactly their paths, releasing first any live link whose profile is
 * being forgotten (see below).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { run } from '../../system/exec.js';
import type { LoadRequest } from '../backend.js';
import { tryRun, underOtherRoot } from '../load-common.js';

export async function loadNetworkManager(req: LoadRequest): Promise<string[]> {
  const elsewhere = underOtherRoot(req);
  if (elsewhere) return [elsewhere];
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

function isKeyfile(path: string): boolean {
  return path.endsWith('.nmconnection');
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
