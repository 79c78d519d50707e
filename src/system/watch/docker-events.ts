/**
 * Follows the Docker engine's events for as long as the watcher runs, across
 * engine restarts. The stream ends when dockerd stops and the engine does not
 * replay what happened meanwhile, so every (re)connection is reported through
 * `onConnected`, where the caller re-reads everything (a full resync). An
 * engine that is not there (yet) is retried with backoff: the watcher waits
 * for it rather than failing.
 *
 * The connection and the stream are injected (defaults: the real client), so
 * the reconnect logic is tested without an engine.
 */
import type { DockerEndpoint } from '../docker/endpoint.js';
import { DockerClient, type EngineEvent, type EventStreamOptions, streamEngineEvents } from '../docker/client.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelay, sleepUnlessAborted } from './backoff.js';

/** What wakes the watcher: attachments (they fire on every start and stop too) and container starts and deaths. */
export const WATCH_EVENT_FILTERS: Record<string, string[]> = {
  type: ['network', 'container'],
  event: ['connect', 'disconnect', 'start', 'die'],
};

export interface FollowOptions<C> {
  connect: () => Promise<C>;
  stream: (client: C, opts: EventStreamOptions) => Promise<void>;
  onEvent: (event: EngineEvent) => void;
  /** Subscribed (first time or again): re-read everything. */
  onConnected: (client: C) => void;
  /** The engine is gone or unreachable; `attempt` counts the failures since the last connection. */
  onLost: (why: string, attempt: number) => void;
  /** The stream ended and the client is no longer used. */
  release?: (client: C) => void;
  signal: AbortSignal;
  filters?: Record<string, string[]>;
  backoff?: BackoffPolicy;
}

export async function followEvents<C>(opts: FollowOptions<C>): Promise<void> {
  let attempt = 0;
  while (!opts.signal.aborted) {
    let client: C | undefined;
    try {
      client = await opts.connect();
      if (opts.signal.aborted) break;
      const c = client;
      await opts.stream(c, {
        filters: opts.filters ?? WATCH_EVENT_FILTERS,
        onEvent: opts.onEvent,
        onOpen: () => {
          attempt = 0;
          opts.onConnected(c);
        },
        signal: opts.signal,
      });
      if (opts.signal.aborted) break;
      opts.onLost('the engine closed the events stream (dockerd stopped or restarted)', attempt);
    } catch (e) {
      if (opts.signal.aborted) break;
      opts.onLost((e as Error).message, attempt);
    } finally {
      if (client !== undefined) opts.release?.(client);
    }
    await sleepUnlessAborted(backoffDelay(attempt++, opts.backoff ?? DEFAULT_BACKOFF), opts.signal);
  }
}

/** followEvents against a real engine. */
export function followDockerEvents(
  endpoint: DockerEndpoint,
  opts: Omit<FollowOptions<DockerClient>, 'connect' | 'stream' | 'release'> & { timeoutMs?: number },
): Promise<void> {
  return followEvents<DockerClient>({
    ...opts,
    connect: () => DockerClient.connect(endpoint, { timeoutMs: opts.timeoutMs ?? 3_000 }),
    stream: streamEngineEvents,
    release: (c) => c.close(),
  });
}
