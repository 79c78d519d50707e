/**
 * Host ↔ container probes (I/O). Two pings per container, in parallel:
 *
 * - from the shim's address (the kernel's own choice through the shim's
 *   route): the host reaches the container, through src/probe/reachability.ts;
 * - from the host's own address on the parent (`ping -I`): the packet still
 *   leaves through the shim, but the container must answer the host's main
 *   address — it asks for it by ARP, the shim answers for the host, and the
 *   reply comes back through the shim. That is the path a container takes to
 *   reach its host.
 *
 * And the same two over IPv6 for a dual-stack network, the second from the
 * host's own IPv6 address, which the container reaches through the shim's
 * proxy NDP (src/plan/proxy-ndp.ts).
 */
import { reachable, reachableFrom } from '../probe/reachability.js';
import type { ContainerReach } from './types.js';

/** Host addresses to answer to: the host's own IPv4 address on the parent, and its own IPv6 address (through the shim's proxy NDP). */
export interface ReachSources {
  hostAddress?: string;
  hostAddress6?: string;
}

export async function probeReach(containers: { name: string; address: string; address6?: string }[], from: ReachSources): Promise<ContainerReach[]> {
  return Promise.all(
    containers.map(async (c) => {
      const v6 = c.address6;
      const [fromShim, fromHost, fromShim6, fromHost6] = await Promise.all([
        reachable(c.address),
        from.hostAddress ? reachableFrom(from.hostAddress, c.address) : Promise.resolve(undefined),
        v6 ? reachable(v6) : Promise.resolve(undefined),
        v6 && from.hostAddress6 ? reachableFrom(from.hostAddress6, v6) : Promise.resolve(undefined),
      ]);
      const r: ContainerReach = { name: c.name, address: c.address, fromShim };
      if (fromHost !== undefined) {
        r.fromHost = fromHost;
        r.hostAddress = from.hostAddress!;
      }
      if (v6 && fromShim6 !== undefined) {
        r.address6 = v6;
        r.fromShim6 = fromShim6;
        if (fromHost6 !== undefined) {
          r.fromHost6 = fromHost6;
          r.hostAddress6 = from.hostAddress6!;
        }
      }
      return r;
    }),
  );
}
