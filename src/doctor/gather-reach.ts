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
 */
import { reachable } from '../probe/reachability.js';
import { run } from '../system/exec.js';
import type { ContainerReach } from './types.js';

async function pingFrom(source: string, address: string, timeoutS = 1): Promise<boolean | undefined> {
  try {
    await run('ping', ['-4', '-n', '-q', '-c', '1', '-W', String(timeoutS), '-I', source, address], { timeoutMs: (timeoutS + 2) * 1000 });
    return true;
  } catch (e) {
    // No ping on this host: the second direction cannot be tried.
    if (/was not found/.test((e as Error).message)) return undefined;
    return false;
  }
}

export async function probeReach(containers: { name: string; address: string }[], hostAddress: string | undefined): Promise<ContainerReach[]> {
  return Promise.all(
    containers.map(async (c) => {
      const [fromShim, fromHost] = await Promise.all([reachable(c.address), hostAddress ? pingFrom(hostAddress, c.address) : Promise.resolve(undefined)]);
      const r: ContainerReach = { name: c.name, address: c.address, fromShim };
      if (fromHost !== undefined) {
        r.fromHost = fromHost;
        r.hostAddress = hostAddress!;
      }
      return r;
    }),
  );
}
