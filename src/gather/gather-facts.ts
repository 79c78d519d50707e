/**
 * Gathers every fact the planner needs, in parallel: `ip -json` output and
 * the Docker engine's networks. Docker being down is a fact, not an error.
 */
import { resolve } from 'node:path';
import type { DesiredNetwork } from '../model/desired.js';
import type { DockerFacts, HostFacts, PersistenceFacts } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import { detectionNeeded } from '../plan/persist-choice.js';
import { gatherIpFacts, readHostId } from './host-facts.js';
import { readManagedFiles } from './managed-files.js';
import { persistEvidence } from './persist-evidence.js';
import { gatherManagerFacts } from './persist-facts.js';
import { listStates, readStateLenient } from '../system/state-store.js';

export interface GatherOptions {
  root: string;
  /** Explicit engine endpoint (--docker-host); else DOCKER_HOST, the Docker context, or the default socket. */
  dockerHost?: string;
  dockerTimeoutMs?: number;
  /**
   * The networks about to be planned: the network managers' facts (what
   * --persist auto detects from) are read only when one of them does not keep
   * the backend apply recorded for it (src/plan/persist-choice.ts). `[]` for
   * commands that plan no persistence (status, destroy, scan). Absent: always
   * read.
   */
  planning?: readonly DesiredNetwork[];
  /** Ask the engine which swarm node it is (/info); default: when a network being planned has `swarm:` (#13). */
  swarm?: boolean;
}

async function gatherDocker(opts: GatherOptions): Promise<DockerFacts> {
  const { resolveEndpoint } = await import('../system/docker/endpoint.js');
  const { gatherDockerFacts } = await import('./docker-facts.js');
  let endpoint;
  try {
    endpoint = resolveEndpoint(opts.dockerHost);
  } catch (e) {
    // A malformed endpoint (tcp://[::1) is bad input: refuse it rather than plan as if Docker were merely down.
    if (e instanceof MacvlanError && e.exitCode === 2) throw e;
    return { available: false, endpoint: opts.dockerHost ?? 'default', reason: (e as Error).message, ...(e instanceof MacvlanError ? { code: e.code } : {}) };
  }
  return gatherDockerFacts(endpoint, opts.dockerTimeoutMs ?? 3000, { swarm: opts.swarm ?? (opts.planning?.some((d) => d.swarm !== undefined) === true) });
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

/** What apply recorded (src/system/state-store.ts): each network's persistence, and its shim's MAC. */
function recorded(root: string): { persistence: NonNullable<PersistenceFacts['recorded']>; shimMacs: Record<string, string> } {
  const persistence: NonNullable<PersistenceFacts['recorded']> = {};
  const shimMacs: Record<string, string> = {};
  for (const name of listStates(root)) {
    // A corrupt record is reported by the commands that read it for itself (status, up, destroy).
    const network = readStateLenient(root, name).state?.network;
    if (network?.persistence) persistence[name] = { parent: network.parent, persistence: network.persistence };
    if (typeof network?.shim?.mac === 'string') shimMacs[name] = network.shim.mac;
  }
  return { persistence, shimMacs };
}

export async function gatherHostFacts(opts: GatherOptions): Promise<HostFacts> {
  const ipFacts = gatherIpFacts();
  // The records are read once, by whichever needs them first.
  let records: ReturnType<typeof recorded> | undefined;
  const readRecords = () => (records ??= recorded(opts.root));
  // The persistence facts are synchronous file reading: started after `ip`
  // is spawned and the engine request is sent, they fill the wait for both
  // instead of delaying the request. The detection, the costly part (a few
  // ms, more on a first run), waits for the links, which say whether it is
  // needed (src/plan/persist-choice.ts).
  const persistenceFacts = new Promise<void>((resolve) => setImmediate(resolve)).then(async (): Promise<PersistenceFacts> => {
    const managed = readManagedFiles(opts.root);
    // The managers' evidence matters only to commands that plan persistence (not status, destroy, scan).
    const planning = opts.planning === undefined || opts.planning.length > 0;
    const evidence = planning ? { evidence: persistEvidence(opts.root, new Set(managed.map((m) => m.path))) } : {};
    const known = { managed, selfCommand: selfCommand(), recorded: readRecords().persistence, ...evidence };
    const needed = opts.planning ? detectionNeeded(opts.planning, await ipFacts, known) : true;
    return needed ? { ...known, managers: await gatherManagerFacts(opts.root) } : known;
  });
  const [ip, docker, persistence] = await Promise.all([ipFacts, gatherDocker(opts), persistenceFacts]);
  return { ...ip, docker, hostId: readHostId(opts.root), persistence, appliedShimMacs: readRecords().shimMacs };
}
