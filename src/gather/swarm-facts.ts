/**
 * The Swarm as a manager sees it (#13): which engine this is (/info), and the nodes and the tasks of one
 * swarm-scoped network with their addresses. Converting the engine's JSON is pure (tested on captured
 * fixtures); the three reads are in gatherSwarmFleet.
 *
 * Where a task's address comes from: swarm does not allocate macvlan addresses (each node's engine does,
 * from its config-only network), so a task's NetworksAttachments carry no Addresses. The network's
 * verbose inspect lists every task's endpoint (`Services.<svc>.Tasks[]`, named `<svc>.<slot|node>.<task id>`)
 * from the network's gossip, on every node that has the network.
 */
import type { SwarmFleetFacts, SwarmNodeFact, SwarmSelf, SwarmTaskFact } from '../model/swarm.js';
import { parseAddress, parseInterfaceAddress, type IpAddress } from '../net/address.js';
import type { DockerClient, EngineInfo, EngineNetworkVerbose, EngineService, EngineSwarmNode, EngineTask } from '../system/docker/client.js';

function tryAddress(text: string | undefined): IpAddress | undefined {
  if (!text) return undefined;
  try {
    return text.includes('/') ? parseInterfaceAddress(text).address : parseAddress(text);
  } catch {
    return undefined;
  }
}

export function swarmSelfFromInfo(info: EngineInfo): SwarmSelf {
  const s = info.Swarm ?? {};
  return { name: info.Name ?? '', nodeId: s.NodeID ?? '', manager: s.ControlAvailable === true, state: s.LocalNodeState ?? 'inactive' };
}

export function swarmNodeFromEngine(n: EngineSwarmNode): SwarmNodeFact {
  const fact: SwarmNodeFact = {
    id: n.ID,
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    state: n.Status?.State ?? 'unknown',
    availability: n.Spec?.Availability ?? 'active',
  };
  if (n.Status?.Addr) fact.addr = n.Status.Addr;
  return fact;
}

/** does this task attach to the network (by id or name)? */
function onNetwork(t: EngineTask, network: { id?: string; name: string }): boolean {
  return (t.NetworksAttachments ?? []).some((a) => (network.id !== undefined && a.Network?.ID === network.id) || a.Network?.Spec?.Name === network.name);
}

/** task id → its endpoint address, from a verbose network inspect */
export function endpointAddresses(verbose: EngineNetworkVerbose | undefined): Map<string, IpAddress> {
  const out = new Map<string, IpAddress>();
  for (const svc of Object.values(verbose?.Services ?? {})) {
    for (const t of svc.Tasks ?? []) {
      const id = t.Name?.slice(t.Name.lastIndexOf('.') + 1);
      const a = tryAddress(t.EndpointIP);
      if (id && a) out.set(id, a);
    }
  }
  return out;
}

export function swarmFleetFromEngine(
  network: string,
  engine: { nodes: EngineSwarmNode[]; tasks: EngineTask[]; services: EngineService[]; verbose: EngineNetworkVerbose | undefined },
): SwarmFleetFacts {
  const serviceName = new Map(engine.services.map((s) => [s.ID, s.Spec?.Name]));
  const addresses = endpointAddresses(engine.verbose);
  const net = { name: network, ...(engine.verbose?.Id ? { id: engine.verbose.Id } : {}) };
  const tasks: SwarmTaskFact[] = engine.tasks
    .filter((t) => onNetwork(t, net))
    .map((t) => {
      const fact: SwarmTaskFact = { id: t.ID, serviceId: t.ServiceID ?? '', state: t.Status?.State ?? 'unknown', desiredState: t.DesiredState ?? 'unknown' };
      const name = serviceName.get(fact.serviceId);
      if (name) fact.serviceName = name;
      if (t.NodeID) fact.nodeId = t.NodeID;
      if (t.Slot !== undefined) fact.slot = t.Slot;
      if (t.Status?.Err) fact.error = t.Status.Err;
      if (t.Status?.Timestamp) fact.timestamp = t.Status.Timestamp;
      const a = addresses.get(t.ID);
      if (a) fact.address = a;
      return fact;
    });
  const facts: SwarmFleetFacts = { network, networkExists: engine.verbose !== undefined, nodes: engine.nodes.map(swarmNodeFromEngine), tasks };
  const from = engine.verbose?.ConfigFrom?.Network;
  if (from) facts.configFrom = from;
  return facts;
}

/** The services whose tasks attach to the swarm network (by id, as services name it, or by name). Pure. */
export function servicesOnNetwork(services: readonly EngineService[], networkId: string, name: string): { id: string; name: string }[] {
  return services
    .filter((s) => (s.Spec?.TaskTemplate?.Networks ?? []).some((n) => n.Target === networkId || n.Target === name))
    .map((s) => ({ id: s.ID, name: s.Spec?.Name ?? s.ID }));
}

/** The services using the swarm network, from a manager's /services, for destroy. */
export async function swarmServicesUsing(client: DockerClient, networkId: string, name: string): Promise<{ id: string; name: string }[]> {
  return servicesOnNetwork(await client.listServices(), networkId, name);
}

/** Which engine this is (any node). */
export async function gatherSwarmSelf(client: DockerClient): Promise<SwarmSelf> {
  return swarmSelfFromInfo(await client.info());
}

/** The fleet of one swarm-scoped network (a manager only: workers answer 503 to /nodes and /tasks). */
export async function gatherSwarmFleet(client: DockerClient, network: string): Promise<SwarmFleetFacts> {
  const [nodes, tasks, services, verbose] = await Promise.all([
    client.listNodes(),
    client.listTasks(),
    client.listServices(),
    client.inspectNetworkVerbose(network, { scope: 'swarm' }),
  ]);
  return swarmFleetFromEngine(network, { nodes, tasks, services, verbose });
}
