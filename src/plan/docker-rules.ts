/**
 * What the Docker engine itself will accept, checked before we ask it.
 */
import type { DockerNetworkFact } from '../model/facts.js';

/** Engines before 26 refuse a second macvlan network on a parent that one already uses. */
export const ONE_MACVLAN_PER_PARENT_BEFORE_MAJOR = 26;

export function engineMajor(version: string): number | undefined {
  const m = /^(\d+)\./.exec(version);
  return m ? Number(m[1]) : undefined;
}

export function enforcesOneMacvlanPerParent(engineVersion: string): boolean {
  const major = engineMajor(engineVersion);
  return major === undefined || major < ONE_MACVLAN_PER_PARENT_BEFORE_MAJOR;
}

/** Macvlan networks that occupy a parent: config-only networks carry settings but no interface. */
export function macvlanNetworksOn(networks: DockerNetworkFact[], parent: string): DockerNetworkFact[] {
  return networks.filter((n) => n.driver === 'macvlan' && !n.configOnly && n.parent === parent);
}
