/**
 * Gathers every fact the planner needs, in parallel: `ip -json` output and
 * the Docker engine's networks. Docker being down is a fact, not an error.
 */
import { resolve } from 'node:path';
import type { DockerFacts, HostFacts, PersistenceFacts } from '../model/facts.js';
import { gatherIpFacts, readHostId } from './host-facts.js';
import { readManagedFiles } from './managed-files.js';
import { gatherManagerFacts } from './persist-facts.js';

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

/**
 * How to run this macvlanctl again from a systemd unit: this node binary and
 * the launcher as invoked (a /usr/local/bin symlink stays a symlink, so an
 * upgrade in place keeps the unit valid).
 */
export function selfCommand(): string[] {
  const script = process.argv[1];
  return script ? [process.execPath, resolve(script)] : [process.execPath];
}

export async function gatherPersistenceFacts(root: string): Promise<PersistenceFacts> {
  return { managed: readManagedFiles(root), selfCommand: selfCommand(), managers: await gatherManagerFacts(root) };
}

export async function gatherHostFacts(opts: GatherOptions): Promise<HostFacts> {
  // The persistence facts are a few milliseconds of synchronous file reading:
  // started after `ip` is spawned and the engine request is sent, they fill
  // the wait for both instead of delaying the request.
  const later = new Promise<void>((resolve) => setImmediate(resolve)).then(() => gatherPersistenceFacts(opts.root));
  const [ip, docker, persistence] = await Promise.all([gatherIpFacts(), gatherDocker(opts), later]);
  return { ...ip, docker, hostId: readHostId(opts.root), inUse: [], persistence };
}
