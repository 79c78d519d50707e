/**
 * `macvlanctl status [NAME]`: for each network we manage, its Docker
 * settings, attached containers, the shim, its routes, and whether the host
 * reaches each container.
 */
import { MacvlanError } from '../../model/errors.js';
import type { DockerNetworkFact, HostFacts } from '../../model/facts.js';
import { formatAddress, formatCidr } from '../../net/address.js';
import { LABEL_HOST_ADDRESS, LABEL_SHIM, LABEL_SHIM_MAC, isManagedNetwork } from '../../plan/labels.js';
import { findOwnShim, networkOfShimAlias, shimAlias } from '../../plan/shim-identity.js';
import { reachable } from '../../probe/reachability.js';
import { gatherHostFacts } from '../../system/gather-facts.js';
import { type NetworkState, listStates, readState } from '../../system/state-store.js';
import { colors as c } from '../colors.js';
import { jsonEnvelope } from '../output.js';

export interface StatusOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  reach?: boolean;
}

export interface ContainerStatus {
  name: string;
  address?: string;
  address6?: string;
  mac?: string;
  reachable?: boolean;
}

export interface NetworkStatus {
  name: string;
  parent?: string;
  mode?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses: Record<string, string>;
  docker: { present: boolean; id?: string };
  shim: { interface?: string; present: boolean; up: boolean; address?: string; mac?: string; expectedMac?: string; routes: string[] };
  containers: ContainerStatus[];
  persistence: string[];
  healthy: boolean;
  problems: string[];
}

/** The status of one network from facts alone (reachability is added after). Pure. */
export function describeNetwork(name: string, net: DockerNetworkFact | undefined, facts: HostFacts, state?: NetworkState): NetworkStatus {
  const problems: string[] = [];
  const s4 = net?.subnets.find((s) => s.subnet?.family === 4);
  // What the shim should be: from apply's record, else the Docker labels, else whatever carries our alias.
  const recorded = state?.network.shim;
  const shimName = recorded?.interface ?? net?.labels[LABEL_SHIM] ?? facts.interfaces.find((i) => i.alias === shimAlias(name))?.name;
  const shim = shimName ? findOwnShim(name, facts.interfaces, { interface: shimName, mac: recorded?.mac ?? net?.labels[LABEL_SHIM_MAC] }) : undefined;
  const expectedAddress = recorded?.address ?? net?.labels[LABEL_HOST_ADDRESS];
  const expectedMac = recorded?.mac ?? net?.labels[LABEL_SHIM_MAC];
  // The kernel's own routes (fe80::/64 on every link, a /128 or /32 for the
  // shim's own address) are not ours to show.
  const own = new Set((shim?.addresses ?? []).map((a) => `${formatAddress(a.address)}/${a.address.family === 4 ? 32 : 128}`));
  const routes = shim
    ? facts.routes
        .filter((r) => r.device === shim.name && r.destination && r.protocol !== 'kernel')
        .map((r) => formatCidr(r.destination!))
        .filter((d) => !d.startsWith('fe80:') && !own.has(d))
    : [];
  const shimAddress = shim?.addresses.find((a) => a.address.family === 4 && a.prefix === 32);
  if (!net) problems.push(facts.docker.available ? `Docker network ${name} is missing` : 'Docker is not reachable');
  if (shimName && !shim) problems.push(`shim ${shimName} is missing`);
  if (shim && !shim.up) problems.push(`shim ${shim.name} is down`);
  if (shim && expectedAddress && (!shimAddress || formatAddress(shimAddress.address) !== expectedAddress)) problems.push(`shim ${shim.name} lacks its address ${expectedAddress}`);
  if (shim && expectedMac && shim.mac?.toLowerCase() !== expectedMac) problems.push(`shim ${shim.name} has MAC ${shim.mac}, expected ${expectedMac}`);
  const range = s4?.ipRange ? formatCidr(s4.ipRange) : undefined;
  if (shim && range && !routes.includes(range)) problems.push(`route ${range} via ${shim.name} is missing`);
  const status: NetworkStatus = {
    name,
    auxAddresses: Object.fromEntries(Object.entries(s4?.auxAddresses ?? {}).map(([k, v]) => [k, formatAddress(v)])),
    docker: { present: net !== undefined, ...(net ? { id: net.id } : {}) },
    shim: {
      present: shim !== undefined,
      up: shim?.up ?? false,
      routes,
      ...(shimName ? { interface: shimName } : {}),
      ...(shimAddress ? { address: formatAddress(shimAddress.address) } : {}),
      ...(shim?.mac ? { mac: shim.mac } : {}),
      ...(expectedMac ? { expectedMac } : {}),
    },
    containers: (net?.containers ?? []).map((ct) => ({
      name: ct.name,
      ...(ct.ipv4 ? { address: formatAddress(ct.ipv4) } : {}),
      ...(ct.ipv6 ? { address6: formatAddress(ct.ipv6) } : {}),
      ...(ct.mac ? { mac: ct.mac } : {}),
    })),
    persistence: (facts.persistence?.managed ?? []).filter((f) => f.network === name).map((f) => f.path),
    healthy: problems.length === 0,
    problems,
  };
  if (net?.parent) status.parent = net.parent;
  if (net?.macvlanMode || net) status.mode = net?.macvlanMode ?? 'bridge';
  if (s4?.subnet) status.subnet = formatCidr(s4.subnet);
  if (s4?.gateway) status.gateway = formatAddress(s4.gateway);
  if (range) status.ipRange = range;
  return status;
}

export function managedNames(facts: HostFacts, recorded: string[] = []): string[] {
  const names = new Set<string>(recorded);
  if (facts.docker.available) for (const n of facts.docker.networks) if (isManagedNetwork(n.labels) && !n.configOnly) names.add(n.name);
  for (const i of facts.interfaces) {
    const network = networkOfShimAlias(i.alias);
    if (network) names.add(network);
  }
  return [...names].sort();
}

export async function gatherStatus(name: string | undefined, opts: StatusOptions): Promise<{ networks: NetworkStatus[]; docker: string }> {
  const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost });
  const recorded = listStates(opts.root);
  const all = managedNames(facts, recorded);
  const names = all.filter((n) => !name || n === name);
  if (name && names.length === 0) {
    throw new MacvlanError('NOT_FOUND', `no network named ${name} is managed by macvlanctl on this host; managed here: ${all.join(', ') || 'none'}`);
  }
  const networks = names.map((n) =>
    describeNetwork(n, facts.docker.available ? facts.docker.networks.find((x) => x.name === n) : undefined, facts, readState(opts.root, n)),
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
  }
  return { networks, docker: facts.docker.available ? `${facts.docker.endpoint} (engine ${facts.docker.engineVersion})` : `unreachable: ${facts.docker.reason}` };
}

export function presentStatus(s: { networks: NetworkStatus[]; docker: string }): string {
  const out: string[] = [];
  if (s.networks.length === 0) out.push('No networks managed by macvlanctl on this host.');
  for (const n of s.networks) {
    out.push(`${c.bold(n.name)}  ${n.healthy ? c.green('healthy') : c.red('unhealthy')}`);
    out.push(`  docker    ${n.docker.present ? `macvlan ${n.mode ?? ''} on ${n.parent ?? '?'}, ${n.subnet ?? '?'} gateway ${n.gateway ?? '?'}, range ${n.ipRange ?? '(whole subnet)'}` : c.red('missing')}`);
    const sh = n.shim;
    out.push(
      `  shim      ${sh.interface ?? '(none)'} ${sh.present ? `${sh.up ? c.green('up') : c.red('down')} ${sh.address ?? c.red('no address')} MAC ${sh.mac ?? '?'}` : c.red('missing')}`,
    );
    out.push(`  routes    ${sh.routes.join(', ') || '(none)'}`);
    out.push(`  files     ${n.persistence.join(', ') || '(none)'}`);
    if (n.containers.length === 0) out.push('  containers (none attached)');
    for (const ct of n.containers) {
      const r = ct.reachable === undefined ? '' : ct.reachable ? c.green('reachable') : c.red('unreachable');
      out.push(`  container ${ct.name.padEnd(20)} ${(ct.address ?? '-').padEnd(16)} ${r}`);
    }
    for (const p of n.problems) out.push(c.yellow(`  problem: ${p}`));
    out.push('');
  }
  out.push(c.dim(`docker: ${s.docker}`));
  return `${out.join('\n')}\n`;
}

export async function runStatus(name: string | undefined, opts: StatusOptions): Promise<void> {
  const s = await gatherStatus(name, opts);
  if (opts.json) process.stdout.write(jsonEnvelope('status', s));
  else process.stdout.write(presentStatus(s));
  if (s.networks.some((n) => !n.healthy)) process.exitCode = 1;
}
