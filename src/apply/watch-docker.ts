/**
 * The watcher's view of the Docker engine: its events stream (followed across
 * restarts) and the little it asks of it — which containers are attached to a
 * network, whether each still has its interface, and a restart for those that
 * lost it.
 */
import { type DockerClient, containerInitPid, restartEngineContainer } from '../system/docker/client.js';
import type { DockerEndpoint } from '../system/docker/endpoint.js';
import { followDockerEvents } from '../system/watch/docker-events.js';
import { hasSubnetRoute, readNetnsRoutes } from '../gather/container-netns.js';
import { networkFactFromEngine } from '../gather/docker-facts.js';
import { containerHostRoutes } from '../plan/adopt-network.js';
import type { AttachedContainer, WatchDocker, WatchOptions } from './watch.js';

export function watchDockerOf(client: DockerClient): WatchDocker {
  return {
    async attached(network) {
      const n = await client.inspectNetwork(network);
      const ids = Object.keys(n?.Containers ?? {});
      const out: AttachedContainer[] = [];
      for (const id of ids) {
        try {
          out.push(await containerInitPid(client, id));
        } catch {
          // removed meanwhile
        }
      }
      return out;
    },
    async routes(network, opts) {
      const n = await client.inspectNetwork(network);
      // The same routes as the planner's, from the same parse of the engine's answer (src/gather/docker-facts.ts).
      return containerHostRoutes(n ? networkFactFromEngine(n).containers : [], opts);
    },
    restart: (id) => restartEngineContainer(client, id),
    hasInterface(c, subnet) {
      const routes = readNetnsRoutes(c.pid);
      // A container gone meanwhile is not one to restart.
      return routes === undefined || hasSubnetRoute(routes, subnet);
    },
  };
}

export function dockerFollower(endpoint: DockerEndpoint, signal: AbortSignal): NonNullable<WatchOptions['followDocker']> {
  return (hooks) =>
    followDockerEvents(endpoint, {
      signal,
      onConnected: (client) => hooks.onConnected(watchDockerOf(client)),
      onLost: (why) => hooks.onLost(why),
      onEvent: () => hooks.onEvent(),
    });
}
