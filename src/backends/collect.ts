/**
 * All manager facts of one root, through a RootReader. Pure given the
 * reader and the live observations the caller passes in (src/system/
 * persist-facts.ts takes them from /proc and nmcli on the live system).
 */
import { collectInterfaces } from './ifupdown/interfaces-file.js';
import { collectNetplan } from './netplan/netplan-files.js';
import { collectNetworkd } from './networkd/config-files.js';
import { collectNmConf, collectProfiles } from './networkmanager/profiles.js';
import type { RootReader } from './root-reader.js';
import type { ManagerFacts, NetworkManagerFacts } from '../model/manager-facts.js';
import { unitState } from './systemd-unit/units.js';

export interface LiveObservations {
  /** Names (comm) of running processes; absent: not looked at. */
  processes?: ReadonlySet<string>;
  /** What nmcli said; absent: not asked or no answer. */
  nmcli?: { devices?: NetworkManagerFacts['devices']; running?: boolean };
  /** Whether the root's /run files (networkd link states, ifupdown state) describe links this plan is about. */
  runtimeFiles: boolean;
}

/** A program present under the root in one of these places: true; none, though the directories exist: false; else undefined. */
function programPresent(reader: RootReader, paths: string[]): boolean | undefined {
  if (paths.some((p) => reader.info(p))) return true;
  const dirs = [...new Set(paths.map((p) => p.slice(0, p.lastIndexOf('/'))))];
  return dirs.some((d) => reader.info(d)?.type === 'dir') ? false : undefined;
}

export function collectManagerFacts(reader: RootReader, root: string, live: LiveObservations): ManagerFacts {
  const problems: string[] = [];
  const procs = live.processes;

  const nd = collectNetworkd(reader, unitState(reader, 'systemd-networkd.service'), procs ? procs.has('systemd-network') : undefined, live.runtimeFiles);
  problems.push(...nd.problems);

  const profiles = collectProfiles(reader);
  problems.push(...profiles.problems);
  const nm: NetworkManagerFacts = { unit: unitState(reader, 'NetworkManager.service'), profiles: profiles.profiles, ...collectNmConf(reader) };
  const nmInstalled = programPresent(reader, ['/usr/sbin/NetworkManager', '/usr/bin/NetworkManager', '/sbin/NetworkManager']);
  if (nmInstalled !== undefined) nm.installed = nmInstalled;
  if (procs) nm.running = procs.has('NetworkManager');
  if (live.nmcli?.devices) nm.devices = live.nmcli.devices;
  if (live.nmcli?.running !== undefined) nm.running = live.nmcli.running;

  const ifaces = collectInterfaces(reader);
  problems.push(...ifaces.problems);
  const ifupInstalled = programPresent(reader, ['/sbin/ifup', '/usr/sbin/ifup']);
  // ifupdown 0.8 keeps one state file per interface it brought up: /run/network/ifstate.NAME,
  // holding the name while it is up; ifdown empties it (to a newline) but leaves the file.
  const upInterfaces = live.runtimeFiles
    ? reader
        .list('/run/network')
        .filter((n) => n.startsWith('ifstate.') && (reader.read(`/run/network/${n}`) ?? '').trim() !== '')
        .map((n) => n.slice('ifstate.'.length))
    : [];

  return {
    root,
    networkd: nd.facts,
    networkManager: nm,
    ifupdown: {
      unit: unitState(reader, 'networking.service'),
      entries: ifaces.entries,
      upInterfaces,
      ...(ifaces.file ? { interfacesFile: ifaces.file } : {}),
      ...(ifupInstalled !== undefined ? { installed: ifupInstalled } : {}),
    },
    netplan: collectNetplan(reader),
    problems,
  };
}
