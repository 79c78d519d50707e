/**
 * Everything doctor's checks read, gathered once (I/O): the host's facts
 * (ip, Docker, our persistence files), apply's records, the declaration's plan
 * with -f, the LAN probe per parent and subnet, and the host ↔ container
 * pings. The checks themselves (src/doctor/checks) are pure.
 */
import { recordNow } from '../plan/adopt-network.js';
import { readDeclaration } from '../config/declaration.js';
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts } from '../model/facts.js';
import { cidrContains, formatAddress, parseCidr } from '../net/address.js';
import { computePlan } from '../plan/compute-plan.js';
import { describeNetwork, managedNames } from '../plan/network-status.js';
import { gatherHostFacts } from '../gather/gather-facts.js';
import { listStates, readStateLenient } from '../system/state-store.js';
import { expectedShim, gateway, ipRange, parentName, subnet, subnet6 } from './expected.js';
import { type LanProbeDeps, probeLan } from './gather-lan.js';
import { probeReach } from './gather-reach.js';
import { gatherSwarmFleet } from '../gather/swarm-facts.js';
import { assessFleet } from '../plan/swarm-fleet.js';
import { nodeDockerView } from '../plan/swarm-node.js';
import { slicePlanOf } from '../plan/swarm-record.js';
import type { DoctorNetworkFacts, LanProbeFacts } from './types.js';

export interface DoctorOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  /** -f: compare with this declaration too. */
  file?: string;
  projectName?: string;
  /** false with --no-scan. */
  scan?: boolean;
}

export interface GatherDeps {
  /** The scan engine (src/gather/lan-scan.ts), loaded only when the LAN is probed. */
  scanLan?: LanProbeDeps['scanLan'];
  log: (line: string) => void;
}

function commandsFor(name: string, opts: DoctorOptions): DoctorNetworkFacts['commands'] {
  const root = opts.root !== '/' ? ` --root ${opts.root}` : '';
  const declaration = opts.file ? ` -f ${opts.file}` : ' …';
  return { up: `sudo macvlanctl up ${name}${root}`, apply: `sudo macvlanctl apply ${name}${declaration}${root}` };
}

/** With -f: each declared network planned on its own against the host now, or why it cannot be. */
function planDeclared(d: DesiredNetwork, facts: HostFacts): DoctorNetworkFacts['declared'] {
  try {
    const network = computePlan([d], facts).networks[0];
    return network ? { network } : { error: 'the planner returned nothing' };
  } catch (e) {
    if (e instanceof MacvlanError) return { error: e.message };
    throw e;
  }
}

/** Why the LAN of this network cannot be probed, or the request that probes it. */
function lanRequest(f: DoctorNetworkFacts): { parent: string; subnet: string; subnet6?: string; gateway: string; ipRange?: string } | { skip: string } {
  const parent = parentName(f);
  const sub = subnet(f);
  const gw = gateway(f);
  if (!parent || !sub || !gw) return { skip: 'the network’s parent, subnet or gateway is not known' };
  const i = f.host.interfaces.find((x) => x.name === parent);
  if (!i) return { skip: `its parent ${parent} does not exist` };
  if (!i.up || i.operState === 'DOWN' || i.operState === 'LOWERLAYERDOWN') return { skip: `its parent ${parent} is down` };
  const range = ipRange(f);
  const sub6 = subnet6(f);
  return { parent, subnet: sub, gateway: gw, ...(range ? { ipRange: range } : {}), ...(sub6 ? { subnet6: sub6 } : {}) };
}

function opt<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The host's own IPv4 address on the parent, inside the network's subnet when it has one there. */
function hostAddressOn(f: DoctorNetworkFacts): string | undefined {
  const parent = f.host.interfaces.find((x) => x.name === parentName(f));
  const v4 = (parent?.addresses ?? []).filter((a) => a.address.family === 4);
  const sub = subnet(f);
  const net = sub ? parseCidr(sub) : undefined;
  const inside = net ? v4.find((a) => cidrContains(net, a.address)) : undefined;
  const a = inside ?? v4[0];
  return a ? formatAddress(a.address) : undefined;
}

/** A swarm network's node part is its config-only network (#13): the facts as its checks must see them. */
function swarmView(name: string, facts: HostFacts, swarm: boolean): HostFacts {
  if (!swarm || !facts.docker.available) return facts;
  return { ...facts, docker: { ...facts.docker, networks: nodeDockerView(facts.docker.networks, name) } };
}

/** On a manager, each recorded swarm network's fleet (#13). */
async function addFleets(networks: DoctorNetworkFacts[], facts: HostFacts, opts: DoctorOptions): Promise<void> {
  const swarmed = networks.filter((f) => f.record?.network.swarm);
  if (swarmed.length === 0 || !facts.docker.available || facts.docker.swarm?.manager !== true) return;
  const { resolveEndpoint } = await import('../system/docker/endpoint.js');
  const { DockerClient } = await import('../system/docker/client.js');
  const client = await DockerClient.connect(resolveEndpoint(opts.dockerHost));
  try {
    for (const f of swarmed) f.fleet = assessFleet(await gatherSwarmFleet(client, f.name), slicePlanOf(f.name, f.record!.network.swarm!));
  } finally {
    client.close();
  }
}

export async function gatherDoctor(name: string | undefined, opts: DoctorOptions, deps: GatherDeps): Promise<DoctorNetworkFacts[]> {
  // The declaration first: bad input fails fast (exit 2), before anything is probed.
  const desired = opts.file ? await readDeclaration(name, { file: opts.file, ...(opts.projectName !== undefined ? { projectName: opts.projectName } : {}) }) : undefined;
  const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, swarm: true });
  let names: string[];
  if (desired) {
    names = desired.map((d) => d.name);
  } else {
    const all = managedNames(facts, listStates(opts.root));
    names = all.filter((n) => !name || n === name);
    if (name && names.length === 0) {
      throw new MacvlanError('NOT_FOUND', `no network named ${name} is managed by macvlanctl on this host; managed here: ${all.join(', ') || 'none'}`);
    }
  }

  const networks: DoctorNetworkFacts[] = names.map((n) => {
    // An adopted network's record is compared with the containers attached now (src/plan/adopt-network.ts).
    const record = recordNow(readStateLenient(opts.root, n).state, facts);
    const d = desired?.find((x) => x.name === n);
    const seen = swarmView(n, facts, record?.network.swarm !== undefined || d?.swarm !== undefined);
    const docker = seen.docker.available ? seen.docker.networks.find((x) => x.name === n && !x.configOnly) : undefined;
    const f: DoctorNetworkFacts = {
      name: n,
      host: seen,
      status: describeNetwork(n, docker, seen, record),
      lan: { done: false, reason: 'not probed yet' },
      commands: commandsFor(n, opts),
    };
    if (docker) f.docker = docker;
    if (record) f.record = record;
    if (d) f.declared = planDeclared(d, facts);
    return f;
  });
  await addFleets(networks, facts, opts);

  // One LAN probe per parent and subnet, shared by the networks on it; all of them and the pings at once.
  const probes = new Map<string, Promise<LanProbeFacts>>();
  const work: Promise<void>[] = [];
  for (const f of networks) {
    if (opts.scan === false) {
      f.lan = { done: false, reason: '--no-scan was given' };
    } else {
      const req = lanRequest(f);
      if ('skip' in req) {
        f.lan = { done: false, reason: req.skip };
      } else {
        const key = `${req.parent} ${req.subnet} ${req.subnet6 ?? ''} ${req.gateway}`;
        let p = probes.get(key);
        if (!p) {
          const scanLan = deps.scanLan ?? (async (o) => (await import('../gather/lan-scan.js')).scanLan(o));
          p = probeLan(req, facts, { scanLan, root: opts.root, log: deps.log });
          probes.set(key, p);
        }
        work.push(p.then((lan) => void (f.lan = lan)));
      }
    }
    const v6 = f.status.shim.address6 !== undefined;
    const targets = f.status.containers
      .filter((c) => c.address)
      .map((c) => ({ name: c.name, address: c.address!, ...(v6 && c.address6 ? { address6: c.address6 } : {}) }));
    if (targets.length > 0 && (expectedShim(f) || f.status.shim.present)) {
      const from = { ...opt('hostAddress', hostAddressOn(f)), ...opt('hostAddress6', f.status.hostAddress6) };
      work.push(probeReach(targets, from).then((r) => void (f.reach = r)));
    }
  }
  await Promise.all(work);
  return networks;
}
