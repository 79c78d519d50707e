/**
 * NetworkManager's claim on the parent (src/backends/detect.ts weighs the
 * claims): what nmcli reports of the device (runtime), a profile bound to it
 * or netplan's renderer (config), or that it takes every Ethernet device
 * nothing else configures (default). Pure.
 */
import type { ManagerFacts, ParentLink } from '../../model/manager-facts.js';
import type { Finding } from '../backend.js';
import { parentStanzas } from '../ifupdown/interfaces-file.js';
import { netplanDeviceFor, netplanRenderer } from '../netplan/netplan-files.js';
import { describeUnit, unitOff } from '../systemd-unit/units.js';
import { deviceListMatches, nmLeavesAlone, profileBinding } from './profiles.js';

export function networkManagerClaims(p: ParentLink, f: ManagerFacts): Finding {
  const nm = f.networkManager;
  const dev = nm.devices?.find((d) => d.device === p.name);
  if (dev) {
    if (nmLeavesAlone(dev.state)) return { why: `NetworkManager leaves ${p.name} alone (nmcli: ${dev.state})` };
    const conn = dev.connection ? `, connection "${dev.connection}"` : '';
    return { claim: { backend: 'networkmanager', strength: 'runtime', because: `nmcli: ${dev.state}${conn}`, warnings: [] } };
  }
  const off = (unitOff(nm.unit) || nm.installed === false) && nm.running !== true;
  const offWhy = nm.installed === false ? 'NetworkManager is not installed' : describeUnit(nm.unit);
  // Debian's ifupdown plugin: with [ifupdown] managed=false (the default) NetworkManager leaves alone
  // every interface /etc/network/interfaces configures.
  const inIfupdown = parentStanzas(f.ifupdown.entries, p.name).ifaces.length > 0;
  if (nm.ifupdownPlugin && !nm.ifupdownManaged && inIfupdown) {
    return { why: `NetworkManager leaves ${p.name} to ifupdown ([ifupdown] managed=false)` };
  }
  const unmanaged = nm.unmanagedDevices && deviceListMatches(nm.unmanagedDevices.specs, p);
  if (unmanaged === true) return { why: `${nm.unmanagedDevices!.file} lists ${p.name} in unmanaged-devices` };

  const bound = nm.profiles.find((pr) => profileBinding(pr, p) !== undefined);
  if (bound) {
    if (off) return { why: `${bound.path} is for ${p.name}, but ${offWhy}`, blocked: true };
    return { claim: { backend: 'networkmanager', strength: 'config', because: `profile ${bound.path}`, warnings: [] } };
  }
  const npDev = netplanDeviceFor(f.netplan, p);
  const np = npDev ? netplanRenderer(f.netplan, npDev) : f.netplan.renderer;
  if (np?.value === 'NetworkManager') {
    const because = npDev ? `netplan gives it to NetworkManager in ${np.file}` : `netplan gives every device to NetworkManager in ${np.file}`;
    if (off) return { why: `${because}, but ${offWhy}`, blocked: true };
    return { claim: { backend: 'networkmanager', strength: 'config', because, warnings: [] } };
  }
  if ((nm.unit.state === 'enabled' || nm.running === true) && p.kind === 'ethernet' && unmanaged === undefined && !nm.unmanagedDevices) {
    return {
      claim: {
        backend: 'networkmanager',
        strength: 'default',
        because: `${nm.running ? 'it runs' : 'it is enabled'} and takes every Ethernet device nothing else configures`,
        warnings: [],
      },
    };
  }
  if (off) return { why: offWhy };
  return { why: `no NetworkManager profile is for ${p.name}` };
}
