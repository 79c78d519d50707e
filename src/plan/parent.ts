/**
 * Choosing and vetting the parent interface. Hard errors for parents that
 * cannot work; warnings, each with its fix, for parents that usually do not.
 */
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts, InterfaceFact } from '../model/facts.js';

/** The links and routes are all it takes to find the parent. */
type LinkFacts = Pick<HostFacts, 'interfaces' | 'routes'>;
import type { Warning } from '../model/plan.js';
import { originLabel } from '../config/origins.js';
import { closest } from '../config/suggest.js';
import { escapeInvisible, shownName } from '../config/shown-name.js';

export interface ParentChoice {
  parent: InterfaceFact;
  /** Set when the parent was not given and was taken from the default route. */
  inferredFrom?: string;
  /**
   * The parent is an 802.1Q sub-interface `LINK.ID` of an existing link,
   * which Docker's macvlan driver creates with the network (libnetwork's
   * createVlanLink) and deletes with it. `parent` then stands for it (the
   * base's MAC, MTU and state, no addresses) when it does not exist yet.
   */
  vlan?: { link: InterfaceFact; id: number; exists: boolean };
}

function candidateNames(facts: LinkFacts): string[] {
  return facts.interfaces.filter((i) => i.kind !== 'loopback').map((i) => i.name);
}

/**
 * `NAME.ID` as Docker's macvlan driver reads a parent (libnetwork parseVlan):
 * exactly one dot, a base name without dots, a decimal VLAN id. Undefined for
 * any other name.
 */
export function vlanParentName(name: string): { base: string; id: number } | undefined {
  const m = /^([^.]+)\.([0-9]+)$/.exec(name);
  return m ? { base: m[1]!, id: Number(m[2]) } : undefined;
}

/** What `parent` would be once Docker has made it: a VLAN on `base`, which it shares MAC, MTU and state with. */
function pendingVlan(name: string, base: InterfaceFact): InterfaceFact {
  return {
    name,
    index: -1,
    kind: 'vlan',
    infoKind: 'vlan',
    up: base.up,
    operState: base.operState,
    lowerUp: base.lowerUp,
    mtu: base.mtu,
    ...(base.mac ? { mac: base.mac } : {}),
    link: base.name,
    wireless: base.wireless,
    addresses: [],
  };
}

/**
 * "Did you mean …?" for a parent that does not exist: for a VLAN name, only
 * the same VLAN on a base whose name is close (`en01.10` → `eno1.10`), never
 * another VLAN or the bare base (which would put the network untagged); for
 * any other name, only a link of the same sort (not a VLAN sub-interface).
 */
export function parentSuggestion(wanted: string, names: readonly string[]): string | undefined {
  const vlan = vlanParentName(wanted);
  if (vlan) {
    const base = closest(vlan.base, names.filter((n) => !vlanParentName(n)));
    return base ? `${base}.${vlan.id}` : undefined;
  }
  return closest(wanted, names.filter((n) => !vlanParentName(n)));
}

function checkVlanBase(desired: DesiredNetwork, name: string, vlan: { base: string; id: number }, base: InterfaceFact, origin: string): void {
  if (!(vlan.id >= 1 && vlan.id <= 4094)) {
    throw new MacvlanError('PARENT_INVALID', `${origin}: '${name}' names VLAN ${vlan.id}, but 802.1Q VLAN ids are 1 to 4094`, { parent: name });
  }
  if (Buffer.byteLength(name) > 15) {
    throw new MacvlanError('PARENT_INVALID', `${origin}: '${name}' is longer than the 15 bytes Linux allows for an interface name`, { parent: name });
  }
  if (base.kind === 'loopback' || base.kind === 'macvlan' || base.kind === 'ipvlan' || base.kind === 'vlan') {
    throw new MacvlanError('PARENT_INVALID', `${origin}: '${name}' would be a VLAN on '${base.name}', which is a ${base.kind} interface; a VLAN sub-interface needs the Ethernet interface (or bond or bridge) that faces the LAN`, {
      parent: name,
      network: desired.name,
    });
  }
}

export function resolveParent(desired: DesiredNetwork, facts: LinkFacts): ParentChoice {
  const origin = originLabel(desired.origins, 'parent');
  if (desired.parent === undefined) {
    const route = facts.routes.find((r) => r.family === 4 && r.destination === undefined && r.device);
    const parent = route && facts.interfaces.find((i) => i.name === route.device);
    if (!parent) {
      throw new MacvlanError(
        'USAGE',
        `network ${desired.name}: no parent interface given and there is no IPv4 default route to infer it from; give --parent (interfaces here: ${candidateNames(facts).join(', ') || 'none'})`,
        { interfaces: candidateNames(facts) },
      );
    }
    return { parent, inferredFrom: `the IPv4 default route goes through ${parent.name}` };
  }
  const parent = facts.interfaces.find((i) => i.name === desired.parent);
  const vlan = vlanParentName(desired.parent);
  const vlanBase = vlan ? facts.interfaces.find((i) => i.name === vlan.base) : undefined;
  if (!parent && vlan && vlanBase) {
    // Docker creates the sub-interface with the network, before apply makes the shim on it.
    checkVlanBase(desired, desired.parent, vlan, vlanBase, origin);
    return { parent: pendingVlan(desired.parent, vlanBase), vlan: { link: vlanBase, id: vlan.id, exists: false } };
  }
  if (!parent) {
    const names = candidateNames(facts);
    const near = parentSuggestion(desired.parent, names);
    const vlanHint = vlan ? ` (nor does '${vlan.base}', on which Docker would create VLAN ${vlan.id})` : '';
    throw new MacvlanError(
      'PARENT_NOT_FOUND',
      `${origin}: interface ${shownName(desired.parent)} does not exist on this host${vlanHint}.${near ? ` Did you mean ${shownName(near)}?` : ''} Interfaces here: ${names.map(escapeInvisible).join(', ') || 'none'}`,
      { parent: desired.parent, interfaces: names, ...(near ? { suggestion: near } : {}) },
    );
  }
  // A VLAN of that name on that base already exists (Docker made it for this network, or the host has it): the same parent.
  if (vlan && vlanBase && parent.kind === 'vlan' && parent.link === vlanBase.name) {
    return { parent, vlan: { link: vlanBase, id: vlan.id, exists: true } };
  }
  if (parent.kind === 'loopback') {
    throw new MacvlanError('PARENT_INVALID', `${origin}: '${parent.name}' is the loopback interface; macvlan needs the Ethernet interface that faces the LAN (${candidateNames(facts).join(', ')})`, {
      parent: parent.name,
    });
  }
  if (parent.kind === 'macvlan' || parent.kind === 'ipvlan') {
    throw new MacvlanError(
      'PARENT_INVALID',
      `${origin}: '${parent.name}' is itself a ${parent.kind} interface${parent.link ? ` on ${parent.link}` : ''}; use its parent${parent.link ? ` '${parent.link}'` : ''} instead`,
      { parent: parent.name },
    );
  }
  return { parent };
}

export function parentWarnings(parent: InterfaceFact): Warning[] {
  const w: Warning[] = [];
  if (parent.wireless) {
    w.push({
      code: 'PARENT_WIRELESS',
      message: `${parent.name} is a wireless interface: access points drop frames from MAC addresses that did not associate, so macvlan containers rarely get through`,
      fix: 'use a wired interface, or an ipvlan (L2) network, which shares the parent MAC',
    });
  }
  if (!parent.up || parent.operState === 'DOWN' || parent.operState === 'LOWERLAYERDOWN') {
    w.push({
      code: 'PARENT_DOWN',
      message: `${parent.name} is ${parent.up ? `up but its link is ${parent.operState}` : 'administratively down'}; containers will have no network until it is up`,
      fix: parent.up ? 'check the cable or the switch port' : `bring it up (ip link set ${parent.name} up) through your network manager`,
    });
  }
  if (parent.master && parent.masterKind === 'bridge') {
    w.push({
      code: 'PARENT_BRIDGE_PORT',
      message: `${parent.name} is a port of bridge ${parent.master}: frames for macvlan children bypass the bridge and the host's own address on the bridge`,
      fix: `use the bridge as the parent: --parent ${parent.master}`,
    });
  }
  if (parent.master && parent.masterKind === 'bond') {
    w.push({
      code: 'PARENT_BOND_MEMBER',
      message: `${parent.name} is a member of bond ${parent.master}: macvlan on a bond member breaks the bond's failover`,
      fix: `use the bond as the parent: --parent ${parent.master}`,
    });
  }
  return w;
}
