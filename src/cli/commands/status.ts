/**
 * `macvlanctl status [NAME]`: for each network we manage, its Docker
 * settings, attached containers, the shim, its routes, and whether the host
 * reaches each container. On a terminal, also the address map of its subnet:
 * from the facts, plus live hosts and the DHCP pool when a scan of the parent
 * is fresh in the cache (status itself never probes the LAN).
 */
import { recordNow } from '../../plan/adopt-network.js';
import { MacvlanError } from '../../model/errors.js';
import type { HostFacts } from '../../model/facts.js';
import type { LanScan } from '../../model/lan.js';
import { networkLan } from '../../plan/network-lan.js';
import { type NetworkLan, type NetworkStatus, describeNetwork, managedNames } from '../../plan/network-status.js';
import { colors as c } from '../../present/colors.js';
import { presentStatus, statusMaps } from '../../present/status.js';
import { freshScan } from '../../gather/scan-cache.js';
import { neighbourMac } from '../../gather/neighbour-table.js';
import { reachable, reachableFrom } from '../../probe/reachability.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { listStates, readStateLenient } from '../../system/state-store.js';
import { jsonEnvelope } from '../output.js';
import { connectDocker } from '../docker-connect.js';
import { gatherSwarmFleet } from '../../gather/swarm-facts.js';
import { assessFleet } from '../../plan/swarm-fleet.js';
import { nodeDockerView } from '../../plan/swarm-node.js';
import { slicePlanOf } from '../../plan/swarm-record.js';

/** The gateway's MAC from the host's neighbour table: which LAN a cached scan must have been taken on. */
async function gatewayMacOf(gateway: string, parent: string): Promise<{ gatewayMac?: string }> {
  const mac = await neighbourMac(gateway, parent);
  return mac ? { gatewayMac: mac } : {};
}

export interface StatusOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  reach?: boolean;
}

export type { Collected } from '../../present/status.js';
import type { Collected } from '../../present/status.js';

/** One network's status; a corrupt record is one of its problems (not a missing record). */
function withRecord(name: string, all: HostFacts, root: string): NetworkStatus {
  const record = readStateLenient(root, name);
  const swarm = record.state?.network.swarm;
  // A swarm node's part (#13) is its config-only network, seen in the place of the network.
  const facts = swarm && all.docker.available ? { ...all, docker: { ...all.docker, networks: nodeDockerView(all.docker.networks, name) } } : all;
  // An adopted network's record is compared with the containers attached now (src/plan/adopt-network.ts).
  const status = describeNetwork(name, facts.docker.available ? facts.docker.networks.find((x) => x.name === name) : undefined, facts, recordNow(record.state, facts));
  if (swarm) {
    const mine = swarm.slices.find((s) => s.node === swarm.node);
    status.swarmNode = { node: swarm.node, manager: facts.docker.available && facts.docker.swarm ? facts.docker.swarm.manager : swarm.manager, configOnly: swarm.configOnly, ...(mine ? { slice: mine.slice } : {}) };
  }
  if (record.corrupt) {
    status.problems.unshift(record.corrupt.message);
    status.healthy = false;
  }
  return status;
}

export async function collectStatus(name: string | undefined, opts: StatusOptions, now = new Date()): Promise<Collected> {
  const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, planning: [], swarm: true });
  const recorded = listStates(opts.root);
  const all = managedNames(facts, recorded);
  const names = all.filter((n) => !name || n === name);
  if (name && names.length === 0) {
    throw new MacvlanError('NOT_FOUND', `no network named ${name} is managed by macvlanctl on this host; managed here: ${all.join(', ') || 'none'}`);
  }
  const networks = names.map((n) =>
    withRecord(n, facts, opts.root),
  );
  if (opts.reach !== false) {
    await Promise.all(
      networks.flatMap((n) =>
        n.containers.map(async (ct) => {
          if (!ct.address) return;
          ct.reachable = n.shim.present && n.shim.up ? await reachable(ct.address) : false;
          if (!ct.reachable) {
            n.problems.push(`the host does not reach container ${ct.name} at ${ct.address}`);
            n.healthy = false;
          }
        }),
      ),
    );
    // Over IPv6 as well: host → container, and container → the host's own IPv6 address (proxy NDP on the shim).
    await Promise.all(
      networks.flatMap((n) =>
        n.containers.map(async (ct) => {
          if (!ct.address6 || !n.shim.address6) return;
          const shimUp = n.shim.present && n.shim.up;
          const [to, back] = await Promise.all([
            shimUp ? reachable(ct.address6) : false,
            shimUp && n.hostAddress6 ? reachableFrom(n.hostAddress6, ct.address6) : undefined,
          ]);
          ct.reachable6 = to;
          if (!to) n.problems.push(`the host does not reach container ${ct.name} at ${ct.address6}`);
          if (back !== undefined) {
            ct.reachesHost6 = back;
            if (!back && to) n.problems.push(`container ${ct.name} does not reach the host's own address ${n.hostAddress6} (it answers the shim's ${n.shim.address6})`);
          }
          if (!to || back === false) n.healthy = false;
        }),
      ),
    );
  }
  await addFleetViews(networks, opts.root, opts.dockerHost);
  const scans = new Map<string, LanScan>();
  for (const n of networks) {
    if (!n.parent || !n.subnet) continue;
    // Only a scan taken on this very LAN (the gateway's MAC in the host's neighbour table is the one it saw): another LAN's must not say the range is clear.
    const identity = n.gateway ? { subnet: n.subnet, gateway: n.gateway, ...(await gatewayMacOf(n.gateway, n.parent)) } : undefined;
    const scan = identity ? freshScan(opts.root, n.parent, now, { subnet: n.subnet, lan: identity }) : undefined;
    if (!scan) continue;
    scans.set(n.name, scan);
    const lan = networkLan(n, scan, facts, now);
    if (lan) n.lan = lan;
  }
  const docker = facts.docker.available ? `${facts.docker.endpoint} (engine ${facts.docker.engineVersion})` : `unreachable: ${facts.docker.reason}`;
  return { result: { networks, docker }, facts, scans };
}

/** On a manager, each swarm network's fleet view (#13); its failures make the network unhealthy. */
async function addFleetViews(networks: NetworkStatus[], root: string, dockerHost: string | undefined): Promise<void> {
  const managed = networks.filter((n) => n.swarmNode?.manager);
  if (managed.length === 0) return;
  const docker = await connectDocker(dockerHost);
  try {
    for (const n of managed) {
      const swarm = readStateLenient(root, n.name).state?.network.swarm;
      if (!swarm) continue;
      n.swarm = assessFleet(await gatherSwarmFleet(docker, n.name), slicePlanOf(n.name, swarm));
      for (const f of n.swarm.findings) {
        if (f.severity !== 'fail') continue;
        n.problems.push(f.message);
        n.healthy = false;
      }
    }
  } finally {
    docker.close();
  }
}

export async function runStatus(name: string | undefined, opts: StatusOptions): Promise<void> {
  const collected = await collectStatus(name, opts);
  const s = collected.result;
  if (opts.json) process.stdout.write(jsonEnvelope('status', s));
  // The map is for people at a terminal: scripts reading the text output keep its old shape.
  else process.stdout.write(presentStatus(s, process.stdout.isTTY ? statusMaps(collected, c.isColorSupported) : undefined));
  if (s.networks.some((n) => !n.healthy)) process.exitCode = 1;
}
