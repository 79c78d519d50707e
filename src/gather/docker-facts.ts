/**
 * Engine API network objects → DockerNetworkFact (pure), and the one function that gathers
 * Docker facts for the planner. Parsing is lenient: the engine is the authority on what it holds,
 * so a value we cannot parse is left undefined (and stays visible in `raw`) instead of failing.
 */
import type { ComposeMembership, DockerFacts, DockerNetworkFact, DockerSubnetFact } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import { parseAddress, parseCidr, parseInterfaceAddress, type Cidr, type IpAddress } from '../net/address.js';
import { DockerClient, type EngineContainerSummary, type EngineIpamConfig, type EngineNetwork } from '../system/docker/client.js';
import type { DockerEndpoint } from '../system/docker/endpoint.js';
import { swarmSelfFromInfo } from './swarm-facts.js';

function tryCidr(text: unknown): Cidr | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return parseCidr(text);
  } catch {
    return undefined;
  }
}

function tryAddress(text: unknown): IpAddress | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    // Some engines and drivers report addresses with a prefix length ("198.51.100.1/24").
    return text.includes('/') ? parseInterfaceAddress(text).address : parseAddress(text);
  } catch {
    return undefined;
  }
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export function subnetFactFromEngine(config: EngineIpamConfig): DockerSubnetFact {
  const auxAddresses: Record<string, IpAddress> = {};
  for (const [name, text] of Object.entries(stringRecord(config.AuxiliaryAddresses))) {
    const a = tryAddress(text);
    if (a) auxAddresses[name] = a;
  }
  const fact: DockerSubnetFact = { auxAddresses, raw: { ...config } };
  const subnet = tryCidr(config.Subnet);
  const gateway = tryAddress(config.Gateway);
  const ipRange = tryCidr(config.IPRange);
  if (subnet) fact.subnet = subnet;
  if (gateway) fact.gateway = gateway;
  if (ipRange) fact.ipRange = ipRange;
  return fact;
}

/** One network as returned by GET /networks (list: Containers empty) or GET /networks/{id} (inspect). */
export function networkFactFromEngine(n: EngineNetwork): DockerNetworkFact {
  const options = stringRecord(n.Options);
  const containers: DockerNetworkFact['containers'] = [];
  for (const [id, c] of Object.entries(n.Containers ?? {})) {
    if (!c || typeof c !== 'object') continue;
    const entry: DockerNetworkFact['containers'][number] = { id, name: typeof c.Name === 'string' ? c.Name : id };
    const ipv4 = tryAddress(c.IPv4Address);
    const ipv6 = tryAddress(c.IPv6Address);
    if (ipv4) entry.ipv4 = ipv4;
    if (ipv6) entry.ipv6 = ipv6;
    if (typeof c.MacAddress === 'string' && c.MacAddress !== '') entry.mac = c.MacAddress.toLowerCase();
    containers.push(entry);
  }
  containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const fact: DockerNetworkFact = {
    id: n.Id,
    name: n.Name,
    driver: n.Driver ?? '',
    scope: n.Scope ?? 'local',
    labels: stringRecord(n.Labels),
    options,
    subnets: (n.IPAM?.Config ?? []).filter((c) => c && typeof c === 'object').map(subnetFactFromEngine),
    enableIPv6: n.EnableIPv6 === true,
    containers,
    configOnly: n.ConfigOnly === true,
  };
  if (options.parent) fact.parent = options.parent;
  if (options.macvlan_mode) fact.macvlanMode = options.macvlan_mode;
  const from = n.ConfigFrom?.Network;
  if (typeof from === 'string' && from !== '') fact.configFrom = from;
  if (n.Attachable === true) fact.attachable = true;
  return fact;
}

/** Adds each attached container's Compose project and service, from the labels Compose puts on it. */
export function addComposeMembership(networks: DockerNetworkFact[], containers: EngineContainerSummary[]): void {
  const byId = new Map<string, ComposeMembership>();
  for (const c of containers) {
    const project = c.Labels?.['com.docker.compose.project'];
    const service = c.Labels?.['com.docker.compose.service'];
    if (project && service) byId.set(c.Id, { project, service });
  }
  for (const n of networks) {
    for (const c of n.containers) {
      const m = byId.get(c.id);
      if (m) c.compose = m;
    }
  }
}

/** Networks whose attached containers the planner needs (the list endpoint leaves Containers empty). */
export function needsInspect(n: EngineNetwork): boolean {
  return n.Driver === 'macvlan' && n.ConfigOnly !== true;
}

/**
 * Docker facts for the planner. An engine that cannot be reached (not running, no permission,
 * bad endpoint, TLS failure, timeout) is a fact: {available: false, reason}. Any other engine
 * error while listing is thrown, because planning against half the facts would be wrong.
 */
export async function gatherDockerFacts(endpoint: DockerEndpoint, timeoutMs: number, opts: { swarm?: boolean } = {}): Promise<DockerFacts> {
  let client: DockerClient;
  try {
    client = await DockerClient.connect(endpoint, { timeoutMs });
  } catch (e) {
    if (e instanceof MacvlanError && (e.code === 'DOCKER_UNAVAILABLE' || e.code === 'NOT_PERMITTED')) {
      return { available: false, endpoint: endpoint.url, reason: e.message, code: e.code };
    }
    throw e;
  }
  try {
    const [engineVersion, list, info] = await Promise.all([
      client.engineVersionFromPing ?? client.version().then((v) => v.Version),
      client.listNetworks(),
      // which swarm node this engine is (#13): asked only when a swarm network is at stake
      opts.swarm ? client.info() : undefined,
    ]);
    const networks = await Promise.all(
      list.map(async (n) => {
        if (!needsInspect(n)) return networkFactFromEngine(n);
        // Gone between list and inspect: keep what the list said.
        const full = await client.inspectNetwork(n.Id);
        return networkFactFromEngine(full ?? n);
      }),
    );
    networks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (networks.some((n) => n.containers.length > 0)) {
      // Which Compose project and service each attached container belongs to (status shows it).
      // Display only: an engine that cannot list containers still gives the planner its networks.
      const composed = await client.listContainers({ all: true, filters: { label: ['com.docker.compose.project'] } }).catch(() => []);
      addComposeMembership(networks, composed);
    }
    const facts: DockerFacts = { available: true, endpoint: endpoint.url, apiVersion: client.apiVersion, engineVersion, networks };
    if (info) facts.swarm = swarmSelfFromInfo(info);
    return facts;
  } catch (e) {
    if (e instanceof MacvlanError && (e.code === 'DOCKER_UNAVAILABLE' || e.code === 'NOT_PERMITTED')) {
      return { available: false, endpoint: endpoint.url, reason: e.message, code: e.code };
    }
    throw e instanceof MacvlanError ? e.withContext(`read Docker networks from ${endpoint.url}`) : e;
  } finally {
    client.close();
  }
}
