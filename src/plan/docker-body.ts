/**
 * The Engine API create bodies a plan carries: the network to make, and an
 * existing network's own (so a rollback of its removal can make it again). Pure.
 */
import type { DockerNetworkFact } from '../model/facts.js';
import type { DockerCreateBody, DockerNetworkState, PlannedNetwork } from '../model/plan.js';

export function createBody(n: PlannedNetwork): DockerCreateBody {
  return {
    Name: n.name,
    Driver: 'macvlan',
    Options: n.docker.options,
    IPAM: { Driver: 'default', Config: n.docker.ipam.map((c) => ({ ...c })) },
    EnableIPv6: n.docker.enableIPv6,
    Labels: n.labels,
    CheckDuplicate: true,
  };
}

/** Enough of an existing network to create it again, for rollback of a replace or a destroy. */
export function bodyFromExisting(e: DockerNetworkFact): DockerCreateBody {
  const config = e.subnets.map((s) => {
    const raw = s.raw as { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> };
    return {
      ...(raw.Subnet ? { Subnet: raw.Subnet } : { Subnet: '' }),
      ...(raw.Gateway ? { Gateway: raw.Gateway } : {}),
      ...(raw.IPRange ? { IPRange: raw.IPRange } : {}),
      ...(raw.AuxiliaryAddresses ? { AuxiliaryAddresses: raw.AuxiliaryAddresses } : {}),
    };
  });
  return {
    Name: e.name,
    Driver: e.driver,
    Options: e.options,
    IPAM: { Driver: 'default', Config: config },
    EnableIPv6: e.enableIPv6,
    Labels: e.labels,
    CheckDuplicate: true,
  };
}

export function existingState(e: DockerNetworkFact): DockerNetworkState {
  return { id: e.id, body: bodyFromExisting(e) };
}
