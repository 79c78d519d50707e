/**
 * Opens the Docker client for commands that change things, resolving the
 * endpoint exactly as fact gathering did (--docker-host, DOCKER_HOST, the
 * Docker context, the default socket), TLS settings included.
 */
export async function connectDocker(dockerHost: string | undefined, negotiatedApiVersion?: string) {
  const { DockerClient } = await import('../system/docker/client.js');
  const { resolveEndpoint } = await import('../system/docker/endpoint.js');
  const endpoint = resolveEndpoint(dockerHost);
  // The facts were gathered from this engine moments ago: no need to ping it again.
  if (negotiatedApiVersion) return DockerClient.negotiated(endpoint, negotiatedApiVersion, { timeoutMs: 15_000 });
  return DockerClient.connect(endpoint, { timeoutMs: 15_000 });
}
