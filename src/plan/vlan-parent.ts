/**
 * A VLAN parent (`LINK.ID`) made again. Docker's macvlan driver creates the
 * sub-interface when it creates the network, and only then; the kernel
 * deletes a VLAN with its base link (a bridge re-created by a network
 * manager, a USB NIC re-plugged). From then on the network's containers
 * cannot start and the shim has nothing to hang on. Whoever needs the network
 * on the host (apply on a network Docker keeps, up, watch) makes the VLAN
 * again, as the persistence backends do at boot. Pure.
 */
import type { InterfaceFact } from '../model/facts.js';
import type { Change } from '../model/plan.js';

/** The change that makes `parent` again on its base link, when it is a missing VLAN whose base is there; otherwise none. */
export function remakeVlanParentChange(network: string, parent: string, vlan: { link: string; id: number } | undefined, interfaces: readonly InterfaceFact[]): Change | undefined {
  if (!vlan || interfaces.some((i) => i.name === parent) || !interfaces.some((i) => i.name === vlan.link)) return undefined;
  return {
    kind: 'parent-vlan',
    action: 'create',
    network,
    interface: parent,
    after: { link: vlan.link, id: vlan.id },
    summary: `VLAN ${parent} (id ${vlan.id} on ${vlan.link})`,
    reason: `the parent ${parent} is gone (deleted with its base link, or by hand); Docker made it with the network and does not make it again`,
  };
}
