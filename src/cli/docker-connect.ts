/**
 * Opens the Docker client for commands that change things, resolving the
 * endpoint exactly as fact gathering did (--docker-host, DOCKER_HOST, the
 * Docker context, the default socket), TLS settings included.
 */

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * How long one Engine API request may take: 15 s, or MACVLANCTL_DOCKER_TIMEOUT_MS
 * (a positive number of milliseconds). The variable exists for the e2e test of a
 * stalled engine (test/e2e/robust.e2e.test.ts), which cannot wait 15 s per case,
 * and for engines known to be slow.
 */
export function dockerTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.MACVLANCTL_DOCKER_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_TIMEOUT_MS;
}

/**
 * How long apply watches for a Docker network whose create timed out: twice the
 * request timeout, at least 5 s (an engine that stalled past one timeout often
 * finishes within the next).
 */
export function dockerSettleMs(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(2 * dockerTimeoutMs(env), 5_000);
}

export async function connectDocker(dockerHost: string | undefined, negotiatedApiVersion?: string) {
  const { DockerClient } = await import('../system/docker/client.js');
  const { resolveEndpoint } = await import('../system/docker/endpoint.js');
  const endpoint = resolveEndpoint(dockerHost);
  const timeoutMs = dockerTimeoutMs();
  // The facts were gathered from this engine moments ago: no need to ping it again.
  if (negotiatedApiVersion) return DockerClient.negotiated(endpoint, negotiatedApiVersion, { timeoutMs });
  return DockerClient.connect(endpoint, { timeoutMs });
}
