/**
 * Plans one network: vets the parent, plans each address family, names the
 * shim, and compares everything with what already exists to produce the
 * changes. Pure: facts and desired state in, planned network and changes out.
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { DockerNetworkFact, HostFacts, InterfaceFact } from '../model/facts.js';
import type { Change, PlannedNetwork, PlannedShim, Warning } from '../model/plan.js';
import { type Cidr, type Family, type IpAddress, cidrContains, formatAddress, formatCidr, parseCidr } from '../net/address.js';
import { originLabel } from '../config/origins.js';
import { MacvlanError } from '../model/errors.js';
import { persistChoiceFor } from './persist-choice.js';
import { planPersistence } from './plan-persistence.js';
import { ProblemCollector } from './collector.js';
import { dockerDifferences } from './docker-diff.js';
import { enforcesOneMacvlanPerParent, macvlanNetworksOn } from './docker-rules.js';
import { LABEL_HOST_ADDRESS, LABEL_HOST_ADDRESS6, LABEL_MANAGED, LABEL_SHIM, LABEL_SHIM_MAC, isManagedNetwork } from './labels.js';
import { parentWarnings, resolveParent } from './parent.js';
import { composeIncompleteWarning } from './compose-incomplete.js';
import { composeDockerLabels, composeDriverOptions, externalAsItExists, isComposeNetworkOf } from './compose-network.js';
import { type FamilyResult, type OtherRange, planFamily } from './plan-family.js';
import { defaultShimName, deriveShimMac, shimAlias } from './shim-identity.js';
import { lanView, scanOf, skippedScanOf } from './lan-view.js';

export interface NetworkPlan {
  network: PlannedNetwork;
  changes: Change[];
  warnings: Warning[];
  notes: string[];
}

/** Ranges already taken by earlier networks of the same plan, and the planner's options. */
export interface PlanContext {
  planned: PlannedNetwork[];
  /** --force: take an explicit ip-range or host address even where the LAN scan saw hosts or DHCP offers. */
  force?: boolean;
}

function dockerNetworks(facts: HostFacts): DockerNetworkFact[] {
  return facts.docker.available ? facts.docker.networks : [];
}

function rangeOf(n: DockerNetworkFact, family: Family): Cidr[] {
  return n.subnets.flatMap((s) => {
    const c = s.ipRange ?? s.subnet;
    return c && c.family === family ? [c] : [];
  });
}

function otherRanges(desired: DesiredNetwork, parent: string, facts: HostFacts, ctx: PlanContext, family: Family): OtherRange[] {
  const out: OtherRange[] = [];
  for (const n of dockerNetworks(facts)) {
    if (n.name === desired.name || n.driver !== 'macvlan' || n.configOnly) continue;
    if (n.parent !== parent) continue;
    for (const c of rangeOf(n, family)) out.push({ cidr: c, what: `Docker network '${n.name}' range ${formatCidr(c)}`, kind: 'docker' });
  }
  for (const p of ctx.planned) {
    if (p.parent !== parent) continue;
    const text = family === 4 ? p.ipRange : p.ipv6?.ipRange;
    if (!text) continue;
    out.push({ cidr: parseCidr(text), what: `network ${p.name}'s range ${text} (planned above)`, kind: 'planned' });
  }
  return out;
}

/** Our own shim must not count as "the host's address" when re-planning an applied network. */
function factsWithoutShim(facts: HostFacts, shimName: string, shim: InterfaceFact | undefined, ours: boolean): HostFacts {
  if (!shim || !ours) return facts;
  return { ...facts, interfaces: facts.interfaces.filter((i) => i.name !== shimName) };
}

function isOurShim(iface: InterfaceFact, network: string, parent: string, mac: string): boolean {
  if (iface.alias === shimAlias(network)) return true;
  return iface.kind === 'macvlan' && iface.link === parent && iface.mac?.toLowerCase() === mac;
}

function previousFamily(existing: DockerNetworkFact | undefined, family: Family): { ipRange?: Cidr } {
  if (!existing || !isManagedNetwork(existing.labels)) return {};
  const s = existing.subnets.find((x) => x.subnet?.family === family);
  return s?.ipRange ? { ipRange: s.ipRange } : {};
}

/** What Docker already has for this network and family (ours or not): a scan does not move or refuse it. */
function appliedFamily(existing: DockerNetworkFact | undefined, family: Family): { ipRange?: Cidr; hostAddress?: IpAddress } {
  if (!existing || existing.driver !== 'macvlan') return {};
  const s = existing.subnets.find((x) => x.subnet?.family === family);
  const host = s?.auxAddresses.host;
  return { ...(s?.ipRange ? { ipRange: s.ipRange } : {}), ...(host ? { hostAddress: host } : {}) };
}

export function planNetwork(declared: DesiredNetwork, facts: HostFacts, ctx: PlanContext): NetworkPlan {
  // An external Compose network is taken as Docker has it; the declaration only asks for host access.
  const desired = declared.compose?.external
    ? externalAsItExists(declared, dockerNetworks(facts).find((n) => n.name === declared.name))
    : declared;
  const problems = new ProblemCollector();
  const context = `network ${desired.name}`;
  const label = (k: string) => originLabel(desired.origins, k);
  const warnings: Warning[] = [];
  const notes: string[] = [];

  const choice = resolveParent(desired, facts); // a missing parent makes everything else moot
  const parent = choice.parent;
  if (choice.inferredFrom) notes.push(`parent ${parent.name}: ${choice.inferredFrom}`);
  warnings.push(...parentWarnings(parent));

  const shimName = desired.shimInterface ?? defaultShimName(desired.name);
  const mac = deriveShimMac(facts.hostId, parent.mac, desired.name);
  const existingShim = facts.interfaces.find((i) => i.name === shimName);
  const shimIsOurs = existingShim ? isOurShim(existingShim, desired.name, parent.name, mac) : false;
  if (desired.hostAccess && existingShim && !shimIsOurs) {
    problems.add(
      'PLAN_UNSAFE',
      `${label('shimInterface')}: an interface named ${shimName} already exists and is not a macvlanctl shim (it is a ${existingShim.kind} interface); choose another name with --shim`,
      { interface: shimName },
    );
  }
  if (shimName === parent.name) {
    problems.add('CONFIG_INVALID', `${label('shimInterface')}: the shim cannot have the parent's name ${parent.name}`);
  }
  const planFacts = factsWithoutShim(facts, shimName, existingShim, shimIsOurs);
  const existingDocker = dockerNetworks(facts).find((n) => n.name === desired.name);

  const scan = scanOf(facts, parent.name);
  const families: [Family, FamilyResult | undefined][] = [];
  for (const family of [4, 6] as Family[]) {
    const d = family === 4 ? desired.ipv4 : desired.ipv6;
    if (!d) continue;
    const prev = previousFamily(existingDocker, family);
    const spec = d.ipRange ?? { kind: 'auto' as const };
    // An applied network keeps its carved range: "auto" must not wander.
    const dFam = spec.kind === 'auto' && prev.ipRange ? { ...d, ipRange: { kind: 'explicit' as const, cidr: prev.ipRange } } : d;
    const result = planFamily({
      family,
      desired: dFam,
      parent,
      facts: planFacts,
      avoid: desired.avoid,
      aux: desired.auxAddresses,
      statics: desired.staticAddresses ?? [],
      otherRanges: otherRanges(desired, parent.name, facts, ctx, family),
      label: (k) => label(family === 6 ? `ipv6.${k}` : k),
      problems,
      ...(scan ? { lan: (subnet: Cidr) => lanView(scan, family, subnet, facts, desired.avoid) } : {}),
      force: ctx.force === true,
      applied: appliedFamily(existingDocker, family),
      warnings,
    });
    if (result && spec.kind === 'auto') result.ipRangeSource = 'auto';
    families.push([family, result]);
  }
  const strayAux = desired.auxAddresses.filter((a) => !families.some(([f]) => f === a.address.family));
  for (const a of strayAux) {
    problems.add('CONFIG_INVALID', `${label(`auxAddresses.${a.name}`)}: aux address ${a.name} is IPv${a.address.family} but the network has no IPv${a.address.family} subnet`);
  }
  for (const r of desired.avoid) {
    if (!families.some(([f]) => f === r.family)) {
      warnings.push({ code: 'AVOID_UNUSED', message: `avoid ${r.text} is IPv${r.family}, but the network has no IPv${r.family} part; it has no effect` });
    }
  }

  checkStaticAddresses(desired, families, problems);
  checkDockerRules(desired, parent.name, facts, existingDocker, problems, label);
  checkRoutes(desired, facts, shimName, families, problems);
  problems.throwIfAny(context);

  const v4 = families.find(([f]) => f === 4)![1]!;
  const v6 = families.find(([f]) => f === 6)?.[1];
  for (const r of [v4, v6]) if (r) notes.push(...r.inferred);

  const network = assemble(desired, parent, shimName, mac, v4, v6);
  const incomplete = composeIncompleteWarning(desired, network);
  if (incomplete) warnings.push(incomplete);
  if (existingShim && shimIsOurs && existingShim.mtu !== parent.mtu) {
    warnings.push({
      code: 'MTU_MISMATCH',
      message: `${shimName} has MTU ${existingShim.mtu} but its parent ${parent.name} has ${parent.mtu}`,
      fix: `it is re-created with the parent's MTU by destroy + apply, or: ip link set ${shimName} mtu ${parent.mtu}`,
    });
  }
  if (!facts.docker.available) notes.push(`Docker (${facts.docker.endpoint}) was not reachable: ${facts.docker.reason}; existing networks were not checked`);
  if (desired.compose?.external && existingDocker) {
    // Never relabelled: what Docker has stays as it is.
    network.labels = { ...existingDocker.labels };
    network.docker.options = { ...existingDocker.options };
  }
  const changes = [
    ...(desired.compose?.external ? externalDockerChanges(network) : dockerChanges(network, existingDocker, warnings)),
    ...shimChanges(network, facts, existingShim, shimIsOurs, desired.hostAccess),
  ];
  // A network Docker already has as declared keeps its addresses: what the LAN looks like now does not matter to it.
  const placesAddresses = changes.some((c) => c.kind === 'docker-network' && c.action !== 'noop');
  if (placesAddresses) lanFindings(desired, parent.name, v4, v6, facts, warnings, notes);
  if (facts.inUse.length === 0 && v4.ipRangeSource === 'auto' && desired.avoid.length === 0 && !(placesAddresses && scan?.dhcp)) {
    warnings.push({
      code: 'DHCP_POOL_UNKNOWN',
      message: "the router's DHCP pool is not known, so the carved range may overlap it",
      fix: "pass the pool with --avoid FIRST-LAST (see your router's DHCP settings)",
    });
  }

  if (desired.hostAccess && desired.mode !== 'bridge') {
    warnings.push({
      code: 'MODE_BLOCKS_HOST_ACCESS',
      message: `in macvlan mode ${desired.mode} the kernel does not pass frames between the shim and the containers${
        desired.mode === 'vepa' ? ' unless the switch port reflects them (hairpin)' : ''
      }, so the host will not reach them`,
      fix: 'use --mode bridge for host access, or --no-host-access',
    });
  }
  // Without a shim there is nothing to persist, so no backend needs to be able to work here.
  const persistChoice = network.shim ? persistChoiceFor(desired.name, parent, desired.persist, facts) : { backend: 'none' as const, reason: '', warnings: [] };
  if (persistChoice && facts.persistence) {
    const p = planPersistence(network, persistChoice, facts.persistence);
    network.persistence = p.persistence;
    changes.push(...p.changes);
    warnings.push(...persistChoice.warnings);
    if (p.persistence.backend === 'none' && network.shim) {
      warnings.push({ code: 'NOT_PERSISTENT', message: `the shim ${network.shim.interface} is not persisted: it is gone after a reboot`, fix: 'choose a backend with --persist auto (or networkd, networkmanager, ifupdown, systemd)' });
    }
  }
  return { network, changes, warnings, notes };
}

/** Warnings and notes about what the LAN scan of the parent saw (or why there was none). */
function lanFindings(desired: DesiredNetwork, parent: string, v4: FamilyResult, v6: FamilyResult | undefined, facts: HostFacts, warnings: Warning[], notes: string[]): void {
  const skipped = skippedScanOf(facts, parent);
  const scan = scanOf(facts, parent);
  if (!scan) {
    if (skipped) {
      warnings.push({
        code: 'LAN_NOT_SCANNED',
        message: `the LAN on ${parent} was not scanned (${skipped.reason}), so live hosts and the DHCP pool were not checked`,
        ...(skipped.fix ? { fix: skipped.fix } : {}),
      });
    }
    return;
  }
  const view = lanView(scan, 4, v4.subnet, facts, desired.avoid);
  const parts: string[] = [];
  if (scan.live) parts.push(`${view.live.length} other live host(s) in ${formatCidr(v4.subnet)}`);
  // The scan asked the neighbours of one IPv6 subnet of the parent, if any: this network's, or not.
  const asked6 = v6 && scan.live6 && scan.subnet6 && cidrContains(parseCidr(scan.subnet6), v6.subnet.base) && parseCidr(scan.subnet6).prefix <= v6.subnet.prefix;
  if (v6 && asked6) parts.push(`${lanView(scan, 6, v6.subnet, facts, desired.avoid).live.length} other IPv6 host(s) in ${formatCidr(v6.subnet)}`);
  else if (v6 && scan.ipv6Failure) {
    warnings.push({
      code: 'LAN_IPV6_NOT_SCANNED',
      message: `the IPv6 neighbours on ${parent} were not asked (${scan.ipv6Failure}), so live IPv6 hosts were not checked`,
      fix: 'install iputils-ping (the all-nodes echo is sent with ping -6), or keep the IPv6 ip-range clear of the LAN’s hosts yourself',
    });
  } else if (v6) {
    warnings.push({
      code: 'LAN_IPV6_NOT_SCANNED',
      message: `the IPv6 neighbours in ${formatCidr(v6.subnet)} were not asked (${scan.subnet6 ? `the scan of ${parent} asked those of ${scan.subnet6}` : `it is not an IPv6 subnet of ${parent}, or is longer than a /112`}), so live IPv6 hosts were not checked`,
      fix: 'keep the IPv6 ip-range clear of the LAN’s hosts yourself',
    });
  }
  if (scan.dhcp) {
    const servers = scan.dhcp.servers.map((x) => x.address);
    if (servers.length === 0) parts.push('no DHCP server answered');
    else if (view.offers.length === 0) parts.push(`DHCP ${servers.join(', ')} offered no address in ${formatCidr(v4.subnet)}`);
    for (const p of view.pools) parts.push(`DHCP ${p.server}: ${p.pool.explanation}`);
    for (const s of view.declaredBy) parts.push(`DHCP ${s}: every offer lies inside --avoid, so that is taken as its pool`);
    if (servers.length > 1) {
      warnings.push({
        code: 'DHCP_SERVERS',
        message: `${servers.length} DHCP servers answered on ${parent} (${servers.join(', ')}); the range keeps clear of every pool seen, but more than one server on a LAN is usually a mistake or a rogue one`,
        fix: 'find and switch off the one that should not be there (macvlanctl scan lists them)',
      });
    }
    for (const p of view.pools) {
      if (p.pool.confidence !== 'low') continue;
      warnings.push({
        code: 'DHCP_POOL_UNCERTAIN',
        message: `the DHCP pool of ${p.server} is uncertain: ${p.pool.explanation}`,
        fix: `name the pool with --avoid FIRST-LAST (see your router's DHCP settings), or collect more offers: sudo macvlanctl scan --parent ${parent} --dhcp-wait 20 (plan and apply use its result for 5 minutes)`,
      });
    }
  }
  notes.push(`LAN on ${parent} as scanned at ${scan.scannedAt}: ${parts.join('; ') || 'nothing probed'}`);
}

function checkDockerRules(
  desired: DesiredNetwork,
  parent: string,
  facts: HostFacts,
  existing: DockerNetworkFact | undefined,
  problems: ProblemCollector,
  label: (k: string) => string,
): void {
  if (!facts.docker.available) return;
  const engine = facts.docker.engineVersion;
  if (existing && existing.driver !== 'macvlan') {
    problems.add('DOCKER_CONFLICT', `a Docker network named ${desired.name} already exists with driver ${existing.driver}; choose another name`, {
      network: desired.name,
    });
    return;
  }
  if (!enforcesOneMacvlanPerParent(engine)) return;
  const others = macvlanNetworksOn(facts.docker.networks, parent).filter((n) => n.name !== desired.name);
  if (others.length > 0) {
    problems.add(
      'DOCKER_CONFLICT',
      `${label('parent')}: Docker ${engine} allows only one macvlan network per parent interface, and ${others
        .map((o) => `'${o.name}'`)
        .join(', ')} already uses ${parent}. Use that network, remove it, put this one on a VLAN sub-interface (for example ${parent}.10), or upgrade to Docker 26 or later`,
      { parent, networks: others.map((o) => o.name), engineVersion: engine },
    );
  }
}

/** A service's fixed address must lie in the network's subnet (Docker refuses the container otherwise). */
function checkStaticAddresses(desired: DesiredNetwork, families: [Family, FamilyResult | undefined][], problems: ProblemCollector): void {
  for (const s of desired.staticAddresses ?? []) {
    const r = families.find(([f]) => f === s.address.family)?.[1];
    if (!r) {
      if (!families.some(([f]) => f === s.address.family)) {
        problems.add('CONFIG_INVALID', `${s.origin}: service ${s.service}'s address ${formatAddress(s.address)} is IPv${s.address.family}, but network ${desired.name} has no IPv${s.address.family} subnet`);
      }
      continue;
    }
    if (!cidrContains(r.subnet, s.address)) {
      problems.add('CONFIG_INVALID', `${s.origin}: service ${s.service}'s address ${formatAddress(s.address)} is outside the subnet ${formatCidr(r.subnet)}; Docker would refuse the container`);
    } else if (s.address.value === r.gateway.value) {
      problems.add('CONFIG_INVALID', `${s.origin}: service ${s.service}'s address ${formatAddress(s.address)} is the gateway's`);
    }
  }
}

/**
 * Host routes (/32, /128) through the shim for services' fixed addresses
 * outside the ip-range (Pi-hole at .8 with a range .192/27): the range's
 * route does not cover them, and the host must reach them too.
 */
function staticRoutes(desired: DesiredNetwork, family: Family, r: FamilyResult): string[] {
  const out: string[] = [];
  for (const s of desired.staticAddresses ?? []) {
    if (s.address.family !== family || cidrContains(r.ipRange, s.address) || !cidrContains(r.subnet, s.address)) continue;
    const route = `${formatAddress(s.address)}/${family === 4 ? 32 : 128}`;
    if (!out.includes(route)) out.push(route);
  }
  return out;
}

/** A route for the ip-range must not already point somewhere else. */
function checkRoutes(desired: DesiredNetwork, facts: HostFacts, shimName: string, families: [Family, FamilyResult | undefined][], problems: ProblemCollector): void {
  if (!desired.hostAccess) return;
  for (const [family, r] of families) {
    if (!r) continue;
    const clash = facts.routes.find(
      (rt) => rt.family === family && rt.destination && rt.destination.base === r.ipRange.base && rt.destination.prefix === r.ipRange.prefix && rt.device !== shimName,
    );
    if (clash) {
      problems.add(
        'PLAN_UNSAFE',
        `a route to ${formatCidr(r.ipRange)} already exists via ${clash.device ?? '?'}${clash.gateway ? ` (gateway ${formatAddress(clash.gateway)})` : ''}; it is not ours, so it is left alone. Remove it, or choose another ip-range`,
        { destination: formatCidr(r.ipRange), device: clash.device },
      );
    }
  }
}

function assemble(desired: DesiredNetwork, parent: InterfaceFact, shimName: string, mac: string, v4: FamilyResult, v6: FamilyResult | undefined): PlannedNetwork {
  const aux = (family: Family, host: IpAddress | undefined): Record<string, string> => {
    const out: Record<string, string> = {};
    if (host) out.host = formatAddress(host);
    for (const a of desired.auxAddresses) if (a.address.family === family) out[a.name] = formatAddress(a.address);
    return out;
  };
  const labels: Record<string, string> = { ...composeDockerLabels(desired), [LABEL_MANAGED]: 'true' };
  let shim: PlannedShim | undefined;
  if (desired.hostAccess && v4.hostAddress) {
    shim = {
      interface: shimName,
      address: formatAddress(v4.hostAddress),
      mac,
      mode: desired.mode,
      routes: [
        formatCidr(v4.ipRange),
        ...staticRoutes(desired, 4, v4),
        ...(v6 ? [formatCidr(v6.ipRange), ...(v6.hostAddress ? staticRoutes(desired, 6, v6) : [])] : []),
      ],
    };
    if (v6?.hostAddress) shim.address6 = formatAddress(v6.hostAddress);
    labels[LABEL_SHIM] = shimName;
    labels[LABEL_HOST_ADDRESS] = shim.address;
    labels[LABEL_SHIM_MAC] = mac;
    if (shim.address6) labels[LABEL_HOST_ADDRESS6] = shim.address6;
  }
  const v4aux = aux(4, v4.hostAddress);
  const network: PlannedNetwork = {
    name: desired.name,
    parent: parent.name,
    mode: desired.mode,
    subnet: formatCidr(v4.subnet),
    gateway: formatAddress(v4.gateway),
    ipRange: formatCidr(v4.ipRange),
    ipRangeSource: v4.ipRangeSource,
    auxAddresses: v4aux,
    persist: desired.persist,
    labels,
    docker: {
      driver: 'macvlan',
      options: desired.compose
        ? composeDriverOptions(desired, parent.name)
        : { parent: parent.name, ...(desired.mode !== 'bridge' ? { macvlan_mode: desired.mode } : {}) },
      ipam: [{ Subnet: formatCidr(v4.subnet), Gateway: formatAddress(v4.gateway), IPRange: formatCidr(v4.ipRange), AuxiliaryAddresses: v4aux }],
      enableIPv6: v6 !== undefined,
    },
  };
  if (shim) network.shim = shim;
  if (desired.compose) network.compose = { project: desired.compose.project, key: desired.compose.key, external: desired.compose.external };
  if (v6) {
    const v6aux = aux(6, v6.hostAddress);
    network.ipv6 = {
      subnet: formatCidr(v6.subnet),
      gateway: formatAddress(v6.gateway),
      ipRange: formatCidr(v6.ipRange),
      ipRangeSource: v6.ipRangeSource,
      auxAddresses: v6aux,
    };
    network.docker.ipam.push({ Subnet: formatCidr(v6.subnet), Gateway: formatAddress(v6.gateway), IPRange: formatCidr(v6.ipRange), AuxiliaryAddresses: v6aux });
  }
  return network;
}

function describeNetwork(n: PlannedNetwork): string {
  const v6 = n.ipv6 ? `, ${n.ipv6.subnet} range ${n.ipv6.ipRange}` : '';
  return `docker network ${n.name} (macvlan ${n.mode} on ${n.parent}, ${n.subnet} gateway ${n.gateway}, range ${n.ipRange}${v6})`;
}

/** An external network is Compose's and the user's: never created, replaced or relabelled. */
function externalDockerChanges(n: PlannedNetwork): Change[] {
  return [
    {
      kind: 'docker-network',
      network: n.name,
      summary: describeNetwork(n),
      action: 'noop',
      reason: 'external: true in the Compose file: used as it exists, never created, replaced or relabelled',
    },
  ];
}

function dockerChanges(n: PlannedNetwork, existing: DockerNetworkFact | undefined, warnings: Warning[]): Change[] {
  const base = { kind: 'docker-network' as const, network: n.name, summary: describeNetwork(n) };
  if (!existing) return [{ ...base, action: 'create', reason: `no Docker network named ${n.name} exists` }];
  const diffs = dockerDifferences(existing, n);
  if (diffs.length === 0) {
    const ours = isManagedNetwork(existing.labels);
    // Compose re-created it from the file (after `docker compose down` and `up`): the same network, so it is adopted.
    if (!ours && n.compose && isComposeNetworkOf(existing.labels, n.compose)) {
      return [{ ...base, action: 'noop', reason: `exists with the same settings, as Compose created it for project ${n.compose.project}: adopted` }];
    }
    if (!ours) {
      warnings.push({
        code: 'DOCKER_NOT_OURS',
        message: `Docker network ${n.name} matches the declaration but was not created by macvlanctl; it is used as it is and never removed by destroy`,
      });
    }
    return [{ ...base, action: 'noop', reason: 'exists with the same settings' }];
  }
  const attached = existing.containers.length;
  return [
    {
      ...base,
      action: 'update',
      reason: `exists with different settings (${diffs.join('; ')}); apply replaces it only with --replace${
        attached ? `, and never while ${attached} container(s) are attached` : ''
      }`,
    },
  ];
}

/**
 * The host side alone, from apply's record (`macvlanctl up`, the systemd
 * unit at boot): no Docker, no declaration, only the recorded shim against
 * the interfaces as they are now.
 */
export function hostSideChanges(n: PlannedNetwork, facts: HostFacts): Change[] {
  if (!n.shim) return [];
  if (!facts.interfaces.some((i) => i.name === n.parent)) {
    throw new MacvlanError('PARENT_NOT_FOUND', `network ${n.name}: its parent interface ${n.parent} does not exist (yet); the shim needs it`, { parent: n.parent });
  }
  const existing = facts.interfaces.find((i) => i.name === n.shim!.interface);
  const ours = existing ? isOurShim(existing, n.name, n.parent, n.shim.mac) : false;
  if (existing && !ours) {
    throw new MacvlanError('PLAN_UNSAFE', `network ${n.name}: an interface named ${existing.name} exists and is not its macvlanctl shim; it is left alone`, {
      interface: existing.name,
    });
  }
  return shimChanges(n, facts, existing, ours, true);
}

function shimChanges(n: PlannedNetwork, facts: HostFacts, existing: InterfaceFact | undefined, ours: boolean, hostAccess: boolean): Change[] {
  if (!hostAccess || !n.shim) {
    if (existing && ours) {
      return [
        {
          kind: 'shim-link',
          action: 'delete',
          network: n.name,
          interface: existing.name,
          summary: `link ${existing.name}`,
          reason: 'host access is off for this network',
        },
      ];
    }
    return [];
  }
  const s = n.shim;
  const out: Change[] = [];
  const linkSummary = `link ${s.interface} (macvlan ${s.mode} on ${n.parent}, MAC ${s.mac})`;
  let recreated = false;
  if (!existing) {
    out.push({ kind: 'shim-link', action: 'create', network: n.name, interface: s.interface, summary: linkSummary, reason: `${s.interface} does not exist` });
    recreated = true;
  } else {
    const diffs: string[] = [];
    if (existing.link !== n.parent) diffs.push(`parent ${existing.link ?? '?'} ≠ ${n.parent}`);
    if ((existing.macvlanMode ?? 'bridge') !== s.mode) diffs.push(`mode ${existing.macvlanMode ?? '?'} ≠ ${s.mode}`);
    if (existing.mac?.toLowerCase() !== s.mac) diffs.push(`MAC ${existing.mac ?? '?'} ≠ ${s.mac}`);
    if (diffs.length) {
      out.push({ kind: 'shim-link', action: 'update', network: n.name, interface: s.interface, summary: linkSummary, reason: `re-create: ${diffs.join('; ')}` });
      recreated = true;
    } else {
      out.push({ kind: 'shim-link', action: 'noop', network: n.name, interface: s.interface, summary: linkSummary, reason: 'exists as planned' });
    }
  }
  const addrs: { address: string; prefix: number; family: Family }[] = [{ address: s.address, prefix: 32, family: 4 }];
  if (s.address6) addrs.push({ address: s.address6, prefix: 128, family: 6 });
  for (const a of addrs) {
    const has = !recreated && existing?.addresses.some((x) => formatAddress(x.address) === a.address && x.prefix === a.prefix);
    const cidr = `${a.address}/${a.prefix}`;
    out.push({
      kind: 'shim-address',
      action: has ? 'noop' : 'create',
      network: n.name,
      interface: s.interface,
      address: cidr,
      summary: `address ${cidr} on ${s.interface}`,
      reason: has ? 'present' : `the host's address on the macvlan side (reserved in Docker as aux-address host)`,
    });
  }
  const isUp = !recreated && existing?.up === true;
  out.push({
    kind: 'shim-up',
    action: isUp ? 'noop' : 'update',
    network: n.name,
    interface: s.interface,
    summary: `link ${s.interface} up`,
    reason: isUp ? 'already up' : 'bring the shim up (and announce its address by gratuitous ARP)',
  });
  for (const dest of s.routes) {
    const has =
      !recreated &&
      facts.routes.some((r) => r.device === s.interface && r.destination && formatCidr(r.destination) === dest);
    out.push({
      kind: 'shim-route',
      action: has ? 'noop' : 'create',
      network: n.name,
      interface: s.interface,
      destination: dest,
      summary: `route ${dest} dev ${s.interface}`,
      reason: has
        ? 'present'
        : dest === n.ipRange || dest === n.ipv6?.ipRange
          ? 'reach containers through the shim (only the ip-range, never the whole subnet)'
          : "reach a service's fixed address outside the ip-range through the shim",
    });
  }
  return out;
}

