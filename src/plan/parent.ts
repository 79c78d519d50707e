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
}

function candidateNames(facts: LinkFacts): string[] {
  return facts.interfaces.filter((i) => i.kind !== 'loopback').map((i) => i.name);
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
  if (!parent) {
    const names = candidateNames(facts);
    const near = closest(desired.parent, names);
    const vlanHint = /\./.test(desired.parent)
      ? ' (a VLAN sub-interface must exist first; this tool does not create it)'
      : '';
    throw new MacvlanError(
      'PARENT_NOT_FOUND',
      `${origin}: interface ${shownName(desired.parent)} does not exist on this host${vlanHint}.${near ? ` Did you mean ${shownName(near)}?` : ''} Interfaces here: ${names.map(escapeInvisible).join(', ') || 'none'}`,
      { parent: desired.parent, interfaces: names, ...(near ? { suggestion: near } : {}) },
    );
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
