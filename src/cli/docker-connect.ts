/** Opens the Docker client for commands that change things, on the endpoint the facts came from. */
import type { HostFacts } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';

export async function connectDocker(facts: HostFacts) {
  if (!facts.docker.available) throw new MacvlanError('DOCKER_UNAVAILABLE', `the Docker engine at ${facts.docker.endpoint} is not reachable`);
  const { DockerClient } = await import('../system/docker/client.js');
  const { resolveEndpoint } = await import('../system/docker/endpoint.js');
  return DockerClient.connect(resolveEndpoint(facts.docker.endpoint), { timeoutMs: 15_000 });
}
