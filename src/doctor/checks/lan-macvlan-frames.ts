/**
 * Does the LAN let macvlan frames through at all? A macvlan child of the
 * parent, in a namespace of its own and with a MAC of its own, asked the
 * gateway by ARP; the host asked it too, through the parent's own MAC.
 *
 * The gateway answering the host but not the probe means something between
 * them drops frames from MAC addresses it did not expect: a hypervisor's
 * virtual switch (VMware without promiscuous mode and forged transmits,
 * Hyper-V without MAC spoofing, a cloud VPC), a switch port with port
 * security or a MAC limit, or a Wi-Fi access point.
 */
import { neighbourAnswered } from '../../model/neighbour-states.js';
import { lanView } from '../../plan/lan-view.js';
import { parentName } from '../expected.js';
import type { Check } from '../types.js';
import { lanOrSkip, subnetCidr } from './lan-common.js';


export const UNKNOWN_MAC_FIX =
  'let the LAN accept frames from MAC addresses other than the NIC’s own: on VMware ESXi/vSphere set the port group’s Promiscuous mode and Forged transmits (and MAC address changes) to Accept; on Hyper-V turn on MAC address spoofing for the VM’s adapter; on Proxmox/libvirt, VirtualBox and others allow promiscuous mode on the VM’s NIC; on a managed switch, turn off port security or raise the MAC limit on the host’s port; on Wi-Fi, use an ipvlan L2 network instead';

export const macvlanFramesCheck: Check = (f) => {
  const id = 'lan-macvlan-frames';
  const title = 'the LAN passes macvlan frames';
  const got = lanOrSkip(f, id, title);
  if ('skip' in got) return got.skip;
  const { lan } = got;
  const parent = parentName(f) ?? 'the parent';
  const gw = lan.gateway;
  if (lan.gatewayAnswer) {
    return { id, title, verdict: 'pass', detail: `a probe macvlan on ${parent} (its own MAC) asked the gateway ${gw} by ARP and got an answer from ${lan.gatewayAnswer.mac}` };
  }
  const pn = lan.parentNeighbour;
  const parentHeard = pn?.mac !== undefined && neighbourAnswered(pn.state);
  const sub = subnetCidr(f);
  const others = sub ? lanView(lan.scan, 4, sub, f.host, []).live : [];
  const asked = `asked ${lan.gatewayAsked} time${lan.gatewayAsked === 1 ? '' : 's'}`;
  if (others.length > 0) {
    // Frames from the probe's MAC did get through: other hosts answered it.
    return {
      id,
      title,
      verdict: 'warn',
      detail: `the gateway ${gw} did not answer the probe macvlan (${asked}), but ${others.length} other host(s) on the LAN did, so frames from new MACs get through; the gateway may ignore ARP probes from 0.0.0.0`,
      fix: 'check that a container reaches the gateway: docker exec CONTAINER ping -c1 ' + gw,
    };
  }
  if (parentHeard) {
    return {
      id,
      title,
      verdict: 'fail',
      detail: `the gateway ${gw} (MAC ${pn!.mac}) answers the host through ${parent}'s own MAC but did not answer a macvlan child of ${parent} with a MAC of its own (${asked}), and nobody else did: something between drops frames from unknown MAC addresses, so containers on this network get no traffic through`,
      fix: UNKNOWN_MAC_FIX,
    };
  }
  return {
    id,
    title,
    verdict: 'warn',
    detail: `the gateway ${gw} answered neither the probe macvlan (${asked}) nor the host itself${pn ? ` (its entry is ${pn.state.join(',') || 'empty'})` : ''}, and no other host answered the probe: cannot tell whether macvlan frames get through`,
    fix: `check that ${gw} is the gateway and is up (ip neigh show ${gw}); then run macvlanctl doctor again`,
  };
};
