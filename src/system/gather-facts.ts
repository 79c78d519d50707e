/**
 * Gathers every fact the planner needs, in parallel: `ip -json` output and
 * the Docker engine's networks. Docker being down is a fact, not an error.
 */
import type { DockerFacts, HostFacts } from '../model/facts.js';
import { gatherIpFacts, readHostId } from './host-facts.js';

export interface GatherOptions {
  root: string;
  /** Explicit engine endpoint (--docker-host); else DOCKER_HOST, the Docker context, or the default socket. */
  dockerHost?: string;
  dockerTimeoutMs?: number;
}

async function gatherDocker(opts: GatherOptions): Promise<DockerFacts> {
  const { resolveEndpoint } = await import('./docker/endpoint.js');
  const { gatherDockerFacts } = await import('./docker/network-facts.js');
  let endpoint;
  try {
    endpoint = resolveEndpoint(opts.dockerHost);
  } catch (e) {
    return { available: false, endpoint: opts.dockerHost ?? 'default', reason: (e as Error).message };
  }
  return gatherDockerFacts(endpoint, opts.dockerTimeoutMs ?? 3000);
}

export async function gatherHostFacts(opts: GatherOptions): Promise<HostFacts> {
  const [ip, docker] = await Promise.all([gatherIpFacts(), gatherDocker(opts)]);
  return { ...ip, docker, hostId: readHostId(opts.root), inUse: [] };
}
