/**
 * Opens the Docker client for commands that change things, resolving the
 * endpoint exactly as fact gathering did (--docker-host, DOCKER_HOST, the
 * Docker context, the default socket), TLS settings included.
 */
export async function connectDocker(dockerHost: string | undefined) {
  const { DockerClient } = await import('../system/docker/client.js');
  const { resolveEndpoint } = await import('../system/docker/endpoint.js');
  return DockerClient.connect(resolveEndpoint(dockerHost), { timeoutMs: 15_000 });
}
