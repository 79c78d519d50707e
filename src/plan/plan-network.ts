/**
 * Plans one network: vets the parent, plans each address family, names the
 * shim, and compares everything with what already exists to produce the
 * changes. Pure: facts and desired state in, planned network and changes out.
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { DockerNetworkFact, HostFacts, InterfaceFact } from '../model/facts.js';
import type { Change, PlanError, PlannedNetwork, PlannedShim, Warning } from '../model/plan.js';
import { createBody, existingState } from './docker-body.js';
import { type Cidr, type Family, type IpAddress, cidrContains, cidrLast, formatAddress, formatCidr, isLinkLocal6, parseCidr } from '../net/address.js';
import { whyDockerCannotHold6 } from './docker-ipam6.js';
import { originLabel } from '../config/origins.js';
import { MacvlanError } from '../model/errors.js';
import { persistChoiceFor } from './persist-choice.js';
import { planPersistence } from './plan-persistence.js';
import { ProblemCollector } from '../model/collector.js';
import { dockerDifferences } from './docker-diff.js';
import { enforcesOneMacvlanPerParent, macvlanNetworksOn } from './docker-rules.js';
import { LABEL_HOST_ADDRESS, LABEL_HOST_ADDRESS6, LABEL_MANAGED, LABEL_SHIM, LABEL_SHIM_MAC, isManagedNetwork } from '../model/labels.js';
import { parentWarnings, resolveParent } from './parent.js';
import { composeIncompleteWarning } from './compose-incomplete.js';
import { composeDockerLabels, composeDriverOptions, externalAsItExists, isComposeNetworkOf } from './compose-network.js';
import { type FamilyResult, type OtherRange, describeRoute, foreignRouteTo, planFamily } from './plan-family.js';
import { checkSubnetElsewhere } from './subnet-elsewhere.js';
import { cidrToInterval, overlaps } from '../net/intervals.js';
import { defaultShimName, deriveShimMac, isOwnShim, lifelongShimMac } from './shim-identity.js';
import { shimAlias } from '../model/labels.js';
import { lanView, scanOf, skippedScanOf } from './lan-view.js';
import { type ShimDrift, shimDrift } from './shim-drift.js';
import { HOST_ACCESS_MODE_FIX, hostAccessInMode } from './host-access-mode.js';
import { hostAddressesToProxy, proxiesOn } from './proxy-ndp.js';
import { isAdoptable, planAdoption } from './adopt-network.js';

export interface NetworkPlan {
  network: PlannedNetwork;
  changes: Change[];
  /** Refusals that leave the plan worth showing (src/model/plan.ts PlanError). */
  errors: PlanError[];
  warnings: Warning[];
  notes: string[];
}

/** Ranges already taken by earlier networks of the same plan, and the planner's options. */
export interface PlanContext {
  planned: PlannedNetwork[];
  /** --force: take an explicit ip-range or host address even where the LAN scan saw hosts or DHCP offers. */
  force?: boolean;
  /** --replace: a same-named Docker network with other settings is replaced (never while containers are attached). */
  replace?: boolean;
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

/** Why the interface named like the shim is not taken as ours, for the refusal. */
function strangerWhy(iface: InterfaceFact, network: string): string {
  if (iface.kind !== 'macvlan' || iface.alias !== shimAlias(network)) return `it is a ${iface.kind} interface`;
  return `it carries the alias ${shimAlias(network)}, but not the shim's MAC, and ${network} was never applied here (no record, no Docker network labelled as macvlanctl's) to vouch for it`;
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

/** Everything a network's planning steps share: the declaration, the facts, and what the steps collect. */
interface NetworkPlanning {
  desired: DesiredNetwork;
  facts: HostFacts;
  ctx: PlanContext;
  problems: ProblemCollector;
  label: (key: string) => string;
  warnings: Warning[];
  notes: string[];
  errors: PlanError[];
}

/** The shim's name and MAC, the interface of that name if any, and whether it is ours to repair. */
interface ShimIdentity {
  shimName: string;
  mac: string;
  existingShim: InterfaceFact | undefined;
  shimIsOurs: boolean;
}

/**
 * Plans one network, in named steps: the parent, the shim's identity, the
 * address families, the checks that refuse, the planned network, its changes,
 * the warnings about the LAN and the mode, and its persistence.
 */
export function planNetwork(declared: DesiredNetwork, facts: HostFacts, ctx: PlanContext): NetworkPlan {
  // An external Compose network is taken as Docker has it; the declaration only asks for host access.
  const desired = declared.compose?.external
    ? externalAsItExists(declared, dockerNetworks(facts).find((n) => n.name === declared.name))
    : declared;
  const p: NetworkPlanning = { desired, facts, ctx, problems: new ProblemCollector(), label: (k) => originLabel(desired.origins, k), warnings: [], notes: [], errors: [] };
  const existingDocker = dockerNetworks(facts).find((n) => n.name === desired.name);

  const choice = parentStep(p);
  const parent = choice.parent;
  const shim = shimIdentityStep(p, parent, existingDocker);
  if (isAdoptable(desired, existingDocker)) {
    p.problems.throwIfAny(`network ${desired.name}`);
    return adoptedStep(p, parent, shim, existingDocker!);
  }
  const planFacts = factsWithoutShim(facts, shim.shimName, shim.existingShim, shim.shimIsOurs);
  const families = familiesStep(p, parent, planFacts, existingDocker, shim.shimName);
  checkStaticAddresses(desired, families, planFacts, p.problems);
  checkDockerRules(desired, parent.name, facts, existingDocker, p.problems, p.label);
  checkRoutes(desired, facts, parent.name, shim.shimName, families, p.problems);
  checkSubnetElsewhere(desired, parent.name, facts, families, p.problems, p.label);
  p.problems.throwIfAny(`network ${desired.name}`);

  const v4 = families.find(([f]) => f === 4)![1]!;
  const v6 = families.find(([f]) => f === 6)?.[1];
  for (const r of [v4, v6]) if (r) p.notes.push(...r.inferred);
  const network = networkStep(p, parent, shim, v4, v6, choice.vlan, existingDocker);
  const docker = desired.compose?.external ? externalDockerChanges(network) : dockerChanges(network, existingDocker, p.warnings, ctx.replace === true, p.errors);
  refuseLostVlan(network, choice.vlan, docker);
  const changes = [...docker, ...shimChanges(network, facts, shim.existingShim, shim.shimIsOurs, desired.hostAccess)];
  lanStep(p, parent.name, v4, v6, changes);
  modeStep(p, parent.name);
  changes.push(...persistenceStep(p, network, parent, choice.vlan?.link));
  return { network, changes, errors: p.errors, warnings: p.warnings, notes: p.notes };
}

/** The parent (a missing one makes everything else moot), with what was inferred about it. */
function parentStep(p: NetworkPlanning): ReturnType<typeof resolveParent> {
  const choice = resolveParent(p.desired, p.facts);
  const parent = choice.parent;
  if (choice.inferredFrom) p.notes.push(`parent ${parent.name}: ${choice.inferredFrom}`);
  if (choice.vlan && !choice.vlan.exists) {
    p.notes.push(`parent ${parent.name}: VLAN ${choice.vlan.id} on ${choice.vlan.link.name}, which Docker creates with the network (apply makes the shim on it afterwards; destroy leaves it to Docker)`);
  }
  p.warnings.push(...parentWarnings(parent));
  return choice;
}

/**
 * A missing VLAN parent is made by Docker's macvlan driver when it creates (or re-creates) the network,
 * and only then. One that is gone while Docker keeps the network (the kernel deletes a VLAN with its
 * base link) is refused here, before anything changes, rather than failing at the shim's `link add`.
 * macvlanctl does not make it itself: from the host alone it cannot tell whose the VLAN was.
 */
function refuseLostVlan(network: PlannedNetwork, vlan: ReturnType<typeof resolveParent>['vlan'], docker: Change[]): void {
  if (!vlan || vlan.exists) return;
  const dockerMakesIt = docker.some((c) => c.kind === 'docker-network' && (c.action === 'create' || c.action === 'replace'));
  if (dockerMakesIt) return;
  const { parent, name } = network;
  throw new MacvlanError(
    'PARENT_NOT_FOUND',
    `network ${name}: its parent ${parent} (VLAN ${vlan.id} on ${vlan.link.name}) is gone while Docker keeps the network, and Docker makes a VLAN parent only when it creates the network. ` +
      `Make it again (ip link add link ${vlan.link.name} name ${parent} type vlan id ${vlan.id}; ip link set ${parent} up), or remove the network (docker network rm ${name}, with no container attached) and apply again, so that Docker makes it`,
    { parent, vlan: { link: vlan.link.name, id: vlan.id } },
  );
}

/** The shim's name and lifelong MAC, and whether an interface of that name is ours; refuses a stranger's, or a mode that cannot reach the host. */
function shimIdentityStep(p: NetworkPlanning, parent: InterfaceFact, existingDocker: DockerNetworkFact | undefined): ShimIdentity {
  const { desired, facts, problems, label } = p;
  const shimName = desired.shimInterface ?? defaultShimName(desired.name);
  const mac = lifelongShimMac(
    { recorded: facts.appliedShimMacs?.[desired.name], label: existingDocker && isManagedNetwork(existingDocker.labels) ? existingDocker.labels[LABEL_SHIM_MAC] : undefined },
    () => deriveShimMac(facts.hostId, parent.mac, desired.name),
  );
  const existingShim = facts.interfaces.find((i) => i.name === shimName);
  const applied = facts.appliedShimMacs?.[desired.name] !== undefined || (existingDocker !== undefined && isManagedNetwork(existingDocker.labels));
  // The alias vouches for a drifted shim only when this network was applied before (see isOwnShim).
  const shimIsOurs = existingShim ? isOwnShim(existingShim, desired.name, { interface: shimName, mac, parent: parent.name, repairByAlias: applied }) : false;
  if (desired.hostAccess && existingShim && !shimIsOurs) {
    problems.add(
      'PLAN_UNSAFE',
      `${label('shimInterface')}: an interface named ${shimName} already exists and is not a macvlanctl shim (${strangerWhy(existingShim, desired.name)}); choose another name with --shim`,
      { interface: shimName },
    );
  }
  if (desired.hostAccess) {
    const verdict = hostAccessInMode(desired.mode, parent.name);
    if (verdict.kind === 'refuse') {
      problems.add('CONFIG_INVALID', `${label('mode')}: macvlan mode ${desired.mode} cannot have host access: ${verdict.why}. Fix: ${HOST_ACCESS_MODE_FIX}`, {
        mode: desired.mode,
      });
    }
  }
  if (shimName === parent.name) {
    problems.add('CONFIG_INVALID', `${label('shimInterface')}: the shim cannot have the parent's name ${parent.name}`);
  }
  return { shimName, mac, existingShim, shimIsOurs };
}

/** Each address family declared, planned against the facts (an applied network keeps its carved range). */
function familiesStep(p: NetworkPlanning, parent: InterfaceFact, planFacts: HostFacts, existingDocker: DockerNetworkFact | undefined, shimName: string): [Family, FamilyResult | undefined][] {
  const { desired, facts, ctx, problems, label, warnings } = p;
  const parentName = parent.name;
  const scan = scanOf(facts, parentName);
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
      otherRanges: otherRanges(desired, parentName, facts, ctx, family),
      label: (k) => label(family === 6 ? `ipv6.${k}` : k),
      problems,
      ...(scan ? { lan: (subnet: Cidr) => lanView(scan, family, subnet, facts, desired.avoid) } : {}),
      force: ctx.force === true,
      applied: appliedFamily(existingDocker, family),
      warnings,
      shimName,
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
  return families;
}

/** The planned network, as Docker and the host will have it. */
function networkStep(
  p: NetworkPlanning,
  parent: InterfaceFact,
  shim: ShimIdentity,
  v4: FamilyResult,
  v6: FamilyResult | undefined,
  vlan: ReturnType<typeof resolveParent>['vlan'],
  existingDocker: DockerNetworkFact | undefined,
): PlannedNetwork {
  const { desired, facts } = p;
  const network = assemble(desired, parent, shim.shimName, shim.mac, v4, v6);
  if (vlan) network.vlan = { link: vlan.link.name, id: vlan.id };
  const incomplete = composeIncompleteWarning(desired, network);
  if (incomplete) p.warnings.push(incomplete);
  if (!facts.docker.available) p.notes.push(`Docker (${facts.docker.endpoint}) was not reachable: ${facts.docker.reason}; existing networks were not checked`);
  if (desired.compose?.external && existingDocker) {
    // Never relabelled: what Docker has stays as it is.
    network.labels = { ...existingDocker.labels };
    network.docker.options = { ...existingDocker.options };
  }
  return network;
}

/** What the LAN scan says about a network whose addresses are being placed, and whether the DHCP pool is known. */
function lanStep(p: NetworkPlanning, parentName: string, v4: FamilyResult, v6: FamilyResult | undefined, changes: Change[]): void {
  const { desired, facts, warnings, notes } = p;
  // A network Docker already has as declared keeps its addresses: what the LAN looks like now does not matter to it.
  const placesAddresses = changes.some((c) => c.kind === 'docker-network' && c.action !== 'noop');
  if (placesAddresses) lanFindings(desired, parentName, v4, v6, facts, warnings, notes);
  const scan = scanOf(facts, parentName);
  if (v4.ipRangeSource === 'auto' && desired.avoid.length === 0 && !(placesAddresses && scan?.dhcp)) {
    warnings.push({
      code: 'DHCP_POOL_UNKNOWN',
      message: "the router's DHCP pool is not known, so the carved range may overlap it",
      fix: "pass the pool with --avoid FIRST-LAST (see your router's DHCP settings)",
    });
  }
}

/** A mode in which the host's access works only in part. */
function modeStep(p: NetworkPlanning, parentName: string): void {
  const modeVerdict = p.desired.hostAccess ? hostAccessInMode(p.desired.mode, parentName) : { kind: 'ok' as const };
  if (modeVerdict.kind === 'warn') {
    p.warnings.push({ code: 'MODE_BLOCKS_HOST_ACCESS', message: modeVerdict.why, fix: HOST_ACCESS_MODE_FIX });
  }
}

/** How the host side survives a reboot: the backend, its files, and their changes. */
function persistenceStep(p: NetworkPlanning, network: PlannedNetwork, parent: InterfaceFact, vlanLink: InterfaceFact | undefined): Change[] {
  const { desired, facts, warnings } = p;
  // Without a shim there is nothing to persist, so no backend needs to be able to work here.
  // A VLAN parent is brought up at boot by the manager of its base link (the renderers add the VLAN).
  const persistChoice = network.shim ? persistChoiceFor(desired.name, parent, desired.persist, facts, vlanLink) : { backend: 'none' as const, reason: '', warnings: [] };
  if (!persistChoice || !facts.persistence) return [];
  const planned = planPersistence(network, persistChoice, facts.persistence);
  network.persistence = planned.persistence;
  warnings.push(...persistChoice.warnings);
  if (planned.persistence.backend === 'none' && network.shim) {
    warnings.push({ code: 'NOT_PERSISTENT', message: `the shim ${network.shim.interface} is not persisted: it is gone after a reboot`, fix: 'choose a backend with --persist auto (or networkd, networkmanager, ifupdown, systemd)' });
  }
  return planned.changes;
}

/**
 * An adopted network (no ip-range; src/plan/adopt-network.ts): Docker's network as it is, the shim with the
 * host's address and one route per attached container, persisted without those routes (they follow the
 * containers: up and watch add them).
 */
function adoptedStep(p: NetworkPlanning, parent: InterfaceFact, shim: ShimIdentity, existing: DockerNetworkFact): NetworkPlan {
  const a = planAdoption(p.desired, existing, parent, { interface: shim.shimName, mac: shim.mac });
  const network = a.network;
  const changes = [a.docker, ...shimChanges(network, p.facts, shim.existingShim, shim.shimIsOurs, true)];
  const persisted: PlannedNetwork = { ...network, shim: { ...network.shim!, routes: [] } };
  changes.push(...persistenceStep(p, persisted, parent, undefined));
  if (persisted.persistence) network.persistence = persisted.persistence;
  return { network, changes, errors: p.errors, warnings: p.warnings, notes: [...p.notes, ...a.notes] };
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
function checkStaticAddresses(desired: DesiredNetwork, families: [Family, FamilyResult | undefined][], facts: HostFacts, problems: ProblemCollector): void {
  for (const s of desired.staticAddresses ?? []) {
    const r = families.find(([f]) => f === s.address.family)?.[1];
    if (!r) {
      if (!families.some(([f]) => f === s.address.family)) {
        problems.add('CONFIG_INVALID', `${s.origin}: service ${s.service}'s address ${formatAddress(s.address)} is IPv${s.address.family}, but network ${desired.name} has no IPv${s.address.family} subnet`);
      }
      continue;
    }
    const text = formatAddress(s.address);
    const refuse = (why: string) => problems.add('CONFIG_INVALID', `${s.origin}: service ${s.service}'s address ${text} ${why}`, { service: s.service, address: text });
    const aux = desired.auxAddresses.find((a) => a.address.family === s.address.family && a.address.value === s.address.value);
    // Two services with one address are not refused: Compose profiles often make them alternatives that never run together.
    // Docker's IPAM holds the network (and IPv4 broadcast) address, the gateway and the aux addresses
    // itself, and cannot hold some IPv6 addresses at all (src/plan/docker-ipam6.ts): the container would
    // be refused ("Address already in use", "bit does not belong to the sequence") or moved.
    const own = facts.interfaces.find((i) => i.addresses.some((a) => a.address.family === s.address.family && a.address.value === s.address.value));
    const unholdable = s.address.family === 6 ? whyDockerCannotHold6(r.subnet, s.address.value) : undefined;
    if (!cidrContains(r.subnet, s.address)) refuse(`is outside the subnet ${formatCidr(r.subnet)}; Docker would refuse the container`);
    else if (s.address.value === r.gateway.value) refuse("is the gateway's");
    else if (s.address.value === r.subnet.base) refuse(`is the subnet's own address; Docker would refuse the container`);
    else if (s.address.family === 4 && r.subnet.prefix <= 30 && s.address.value === cidrLast(r.subnet)) refuse(`is the broadcast address of ${formatCidr(r.subnet)}; Docker would refuse the container`);
    else if (unholdable) refuse(`cannot be given to a container: ${unholdable}`);
    else if (own) refuse(`is this host's own address on ${own.name}; the container and the host would answer for it on the LAN${s.address.family === 6 ? " (and the shim answers for the host's IPv6 addresses by proxy NDP)" : ''}`);
    else if (aux) refuse(`is also aux address '${aux.name}', which Docker keeps from every container; Docker would refuse the container`);
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

/**
 * No route may already send (part of) the ip-range somewhere other than the
 * shim: the same block or a smaller one wins over the shim's route, a wider
 * one inside the subnet is somebody's on purpose, and a blackhole,
 * unreachable, prohibit or throw route drops the traffic.
 */
function checkRoutes(desired: DesiredNetwork, facts: HostFacts, parent: string, shimName: string, families: [Family, FamilyResult | undefined][], problems: ProblemCollector): void {
  if (!desired.hostAccess) return;
  for (const [family, r] of families) {
    if (!r) continue;
    // The ip-range, and the host route of each service's fixed address outside it (the same rule: the
    // kernel refuses our route when the same one exists, and a foreign one would keep the traffic).
    const wanted: { cidr: Cidr; what: string }[] = [{ cidr: r.ipRange, what: `the ip-range ${formatCidr(r.ipRange)}` }];
    for (const dest of staticRoutes(desired, family, r)) {
      const s = desired.staticAddresses!.find((x) => `${formatAddress(x.address)}/${family === 4 ? 32 : 128}` === dest)!;
      wanted.push({ cidr: parseCidr(dest), what: `the host route ${dest} to service ${s.service}'s fixed address` });
    }
    for (const w of wanted) {
      const iv = cidrToInterval(w.cidr);
      const clash = facts.routes.find((rt) => {
        if (rt.family !== family || !rt.destination || !overlaps(cidrToInterval(rt.destination), iv)) return false;
        const ours = rt.device === shimName && !rt.type;
        return (rt.destination.prefix >= w.cidr.prefix && !ours) || foreignRouteTo(rt, r.subnet, parent, shimName);
      });
      if (!clash) continue;
      const isRange = w.cidr === r.ipRange;
      problems.add(
        'PLAN_UNSAFE',
        `${describeRoute(clash)} already exists and ${formatCidr(clash.destination!) === formatCidr(w.cidr) ? 'is' : 'overlaps'} ${w.what}; it is not ours, so it is left alone. Remove it, or ${isRange ? 'choose another ip-range (auto keeps clear of it)' : 'give the service an address inside the ip-range'}`,
        { destination: formatCidr(clash.destination!), device: clash.device, ...(clash.type ? { type: clash.type } : {}) },
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
    if (v6?.hostAddress) {
      shim.address6 = formatAddress(v6.hostAddress);
      shim.proxy6 = hostAddressesToProxy(parent, v6.subnet, shim.address6);
    }
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

function dockerChanges(n: PlannedNetwork, existing: DockerNetworkFact | undefined, warnings: Warning[], replace: boolean, errors: PlanError[]): Change[] {
  const base = { kind: 'docker-network' as const, network: n.name, summary: describeNetwork(n) };
  if (!existing) return [{ ...base, action: 'create', after: createBody(n), reason: `no Docker network named ${n.name} exists` }];
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
  // The planner decides here, once: replaced with --replace while nothing is attached, refused otherwise.
  const refusal = dockerReplaceRefusal(n.name, existing, diffs, replace);
  if (refusal) errors.push(refusal);
  return [
    {
      ...base,
      action: 'replace',
      before: existingState(existing),
      after: createBody(n),
      differences: diffs,
      reason: `exists with different settings (${diffs.join('; ')}): ${refusal ? 'refused, see the error below' : 'removed and created again (--replace)'}`,
    },
  ];
}

/** Why a Docker network with other settings is not replaced: in use, or no --replace. Undefined when it may be. */
function dockerReplaceRefusal(name: string, existing: DockerNetworkFact, diffs: string[], replace: boolean): PlanError | undefined {
  const containers = existing.containers.map((c) => c.name);
  if (containers.length > 0) {
    return {
      code: 'DOCKER_CONFLICT',
      message: `Docker network ${name} exists with different settings (${diffs.join('; ')}) and has ${containers.length} container(s) attached (${containers.join(', ')}); it is never replaced while in use. Stop or disconnect them first`,
      details: { network: name, differences: diffs, containers },
    };
  }
  if (replace) return undefined;
  return {
    code: 'DOCKER_CONFLICT',
    message: `Docker network ${name} exists with different settings (${diffs.join('; ')}). It is left alone; pass --replace to replace it`,
    details: { network: name, differences: diffs },
  };
}

/**
 * The host side alone, from apply's record (`macvlanctl up`, the systemd
 * unit at boot): no Docker, no declaration, only the recorded shim against
 * the interfaces as they are now.
 */
export function hostSideChanges(n: PlannedNetwork, facts: HostFacts): Change[] {
  if (!n.shim) return [];
  // A record written before passthru and private shims were refused must not bring one back at every boot.
  const verdict = hostAccessInMode(n.shim.mode, n.parent);
  if (verdict.kind === 'refuse') {
    throw new MacvlanError('PLAN_UNSAFE', `network ${n.name}: its recorded shim is in macvlan mode ${n.shim.mode}, which is left down: ${verdict.why}. Fix: ${HOST_ACCESS_MODE_FIX}, then apply again`, {
      mode: n.shim.mode,
    });
  }
  if (!facts.interfaces.some((i) => i.name === n.parent)) {
    throw new MacvlanError('PARENT_NOT_FOUND', `network ${n.name}: its parent interface ${n.parent} does not exist (yet); the shim needs it`, { parent: n.parent });
  }
  const existing = facts.interfaces.find((i) => i.name === n.shim!.interface);
  // `n` is what apply recorded: the network was applied.
  const ours = existing ? isOwnShim(existing, n.name, { interface: n.shim.interface, mac: n.shim.mac, parent: n.parent, repairByAlias: true }) : false;
  if (existing && !ours) {
    throw new MacvlanError('PLAN_UNSAFE', `network ${n.name}: an interface named ${existing.name} exists and is not its macvlanctl shim; it is left alone`, {
      interface: existing.name,
    });
  }
  return shimChanges(n, facts, existing, ours, true);
}

function shimChanges(n: PlannedNetwork, facts: HostFacts, existing: InterfaceFact | undefined, ours: boolean, hostAccess: boolean): Change[] {
  if (!hostAccess || !n.shim) return existing && ours ? [shimOffChange(n, existing)] : [];
  const s = n.shim;
  const { change, recreated, drift } = shimLinkChange(n, s, facts, existing);
  return [
    change,
    ...shimAddressChanges(n, s, existing, recreated),
    // A re-created link starts with its parent's MTU, and bringing it up turns arp_notify on.
    ...(recreated ? [] : shimTuningChanges(n, s, drift)),
    shimUpChange(n, s, existing, recreated),
    ...shimRouteChanges(n, s, facts, recreated),
    ...(existing && !recreated ? staleOnShim(n, s, existing, facts) : []),
    ...proxyChanges(n, facts, existing, recreated),
  ];
}

/** Host access turned off: the shim goes. */
function shimOffChange(n: PlannedNetwork, existing: InterfaceFact): Change {
  return {
    kind: 'shim-link',
    action: 'delete',
    network: n.name,
    interface: existing.name,
    summary: `link ${existing.name}`,
    reason: 'host access is off for this network',
  };
}

/** The link itself: made, re-made when its parent, mode or MAC differ (all chosen when it is made), or left. */
function shimLinkChange(n: PlannedNetwork, s: PlannedShim, facts: HostFacts, existing: InterfaceFact | undefined): { change: Change; recreated: boolean; drift: ShimDrift } {
  const linkSummary = `link ${s.interface} (macvlan ${s.mode} on ${n.parent}, MAC ${s.mac})`;
  const after = { parent: n.parent, mode: s.mode, mac: s.mac };
  if (!existing) {
    return { change: { kind: 'shim-link', action: 'create', network: n.name, interface: s.interface, after, summary: linkSummary, reason: `${s.interface} does not exist` }, recreated: true, drift: {} };
  }
  const diffs: string[] = [];
  const drift = shimDrift(existing, facts.interfaces.find((i) => i.name === n.parent), s.mode);
  if (existing.link !== n.parent) diffs.push(`parent ${existing.link ?? '?'} ≠ ${n.parent}`);
  // A mode is chosen when the link is made: the link is made again.
  if (drift.mode) diffs.push(`mode ${drift.mode.have} ≠ ${drift.mode.want}`);
  if (existing.mac?.toLowerCase() !== s.mac) diffs.push(`MAC ${existing.mac ?? '?'} ≠ ${s.mac}`);
  if (diffs.length === 0) {
    return { change: { kind: 'shim-link', action: 'noop', network: n.name, interface: s.interface, summary: linkSummary, reason: 'exists as planned' }, recreated: false, drift };
  }
  const before = { ...(existing.link ? { parent: existing.link } : {}), ...(drift.mode ? { mode: drift.mode.have } : { mode: s.mode }), ...(existing.mac ? { mac: existing.mac.toLowerCase() } : {}) };
  return {
    change: { kind: 'shim-link', action: 'replace', network: n.name, interface: s.interface, before, after, differences: diffs, summary: linkSummary, reason: `re-create: ${diffs.join('; ')}` },
    recreated: true,
    drift,
  };
}

/** The host's /32 (and /128) on the shim. */
function shimAddressChanges(n: PlannedNetwork, s: PlannedShim, existing: InterfaceFact | undefined, recreated: boolean): Change[] {
  const addrs: { address: string; prefix: number; family: Family }[] = [{ address: s.address, prefix: 32, family: 4 }];
  if (s.address6) addrs.push({ address: s.address6, prefix: 128, family: 6 });
  return addrs.map((a): Change => {
    const has = !recreated && existing?.addresses.some((x) => formatAddress(x.address) === a.address && x.prefix === a.prefix);
    const cidr = `${a.address}/${a.prefix}`;
    return {
      kind: 'shim-address',
      action: has ? 'noop' : 'create',
      network: n.name,
      interface: s.interface,
      address: cidr,
      summary: `address ${cidr} on ${s.interface}`,
      reason: has ? 'present' : `the host's address on the macvlan side (reserved in Docker as aux-address host)`,
    };
  });
}

/** MTU and arp_notify fixed in place on a shim that is kept. */
function shimTuningChanges(n: PlannedNetwork, s: PlannedShim, drift: ShimDrift): Change[] {
  const out: Change[] = [];
  if (drift.mtu) {
    out.push({
      kind: 'shim-mtu',
      action: 'update',
      network: n.name,
      interface: s.interface,
      before: { mtu: drift.mtu.have },
      after: { mtu: drift.mtu.want },
      summary: `link ${s.interface} mtu ${drift.mtu.want}`,
      reason: `its MTU is ${drift.mtu.have}, its parent ${n.parent}'s is ${drift.mtu.want}`,
    });
  }
  // An adopted shim keeps arp_notify off: it shares the host's address (src/apply/operations.ts).
  if (drift.arpNotifyOff && !s.containerRoutes) {
    out.push({
      kind: 'shim-arp-notify',
      action: 'update',
      network: n.name,
      interface: s.interface,
      summary: `arp_notify=1 on ${s.interface}`,
      reason: 'arp_notify is off, so the shim is not announced by gratuitous ARP when it comes up',
    });
  }
  return out;
}

/** The shim up: a new or re-created link always needs it. */
function shimUpChange(n: PlannedNetwork, s: PlannedShim, existing: InterfaceFact | undefined, recreated: boolean): Change {
  const isUp = !recreated && existing?.up === true;
  return {
    kind: 'shim-up',
    action: isUp ? 'noop' : 'update',
    network: n.name,
    interface: s.interface,
    summary: `link ${s.interface} up`,
    // An adopted shim shares the host's address and is never announced (src/apply/operations.ts upOperations).
    reason: isUp ? 'already up' : s.containerRoutes ? 'bring the shim up' : 'bring the shim up (and announce its address by gratuitous ARP)',
  };
}

/** One route per planned destination: the ip-range's, a fixed address outside it, or an adopted network's containers. */
function shimRouteChanges(n: PlannedNetwork, s: PlannedShim, facts: HostFacts, recreated: boolean): Change[] {
  return s.routes.map((dest): Change => {
    const has =
      !recreated &&
      facts.routes.some((r) => r.device === s.interface && r.destination && formatCidr(r.destination) === dest);
    return {
      kind: 'shim-route',
      action: has ? 'noop' : 'create',
      network: n.name,
      interface: s.interface,
      destination: dest,
      summary: `route ${dest} dev ${s.interface}`,
      reason: has
        ? 'present'
        : s.containerRoutes
          ? 'reach the container attached at this address through the shim (the network has no ip-range)'
          : dest === n.ipRange || dest === n.ipv6?.ipRange
          ? 'reach containers through the shim (only the ip-range, never the whole subnet)'
          : "reach a service's fixed address outside the ip-range through the shim",
    };
  });
}

/**
 * The shim answers for the host's own IPv6 addresses (src/plan/proxy-ndp.ts),
 * following the parent's addresses as they are now, not as they were when
 * the network was planned: an address the parent gained is added, one it
 * lost is dropped.
 */
function proxyChanges(n: PlannedNetwork, facts: HostFacts, existing: InterfaceFact | undefined, recreated: boolean): Change[] {
  const s = n.shim!;
  if (!s.address6 || !n.ipv6) return [];
  const parent = facts.interfaces.find((i) => i.name === n.parent);
  const wanted = hostAddressesToProxy(parent, parseCidr(n.ipv6.subnet), s.address6);
  const present = recreated || !existing ? [] : proxiesOn(facts, s.interface);
  const answering = !recreated && existing?.proxyNdp === true;
  const base = { kind: 'shim-proxy-ndp' as const, network: n.name, interface: s.interface };
  const out: Change[] = wanted.map((address) => {
    const ok = answering && present.includes(address);
    return {
      ...base,
      address,
      action: ok ? 'noop' : 'create',
      ...(!ok && present.includes(address) ? { entryPresent: true as const } : {}),
      summary: `proxy NDP for ${address} on ${s.interface}`,
      reason: ok
        ? 'present'
        : present.includes(address)
          ? `the entry is there but ${s.interface} does not answer for it (proxy_ndp or forwarding is off)`
          : `containers reach the host at its own address ${address} (IPv6 neighbour discovery answers only on the interface holding it)`,
    };
  });
  for (const address of present) {
    if (wanted.includes(address)) continue;
    out.push({ ...base, address, action: 'delete', summary: `proxy NDP for ${address} on ${s.interface}`, reason: `${n.parent} no longer has ${address} as a stable address` });
  }
  return out;
}

/**
 * What our shim carries that the network no longer has: the host address and
 * the route of a range it was moved away from (apply --replace to a new
 * range). The shim is ours, so everything on it is ours to take off — except
 * what the kernel puts on every link (IPv6 link-local, its own routes).
 */
function staleOnShim(n: PlannedNetwork, s: PlannedShim, existing: InterfaceFact, facts: HostFacts): Change[] {
  const out: Change[] = [];
  const wanted = new Set([`${s.address}/32`, ...(s.address6 ? [`${s.address6}/128`] : [])]);
  for (const a of existing.addresses) {
    const cidr = `${formatAddress(a.address)}/${a.prefix}`;
    if (wanted.has(cidr) || isLinkLocal6(a.address)) continue;
    out.push({
      kind: 'shim-address',
      action: 'delete',
      network: n.name,
      interface: s.interface,
      address: cidr,
      summary: `address ${cidr} on ${s.interface}`,
      reason: 'no longer the host address of this network (left from an earlier ip-range or host address)',
    });
  }
  for (const r of facts.routes) {
    if (r.device !== s.interface || !r.destination || r.protocol === 'kernel') continue;
    const dest = formatCidr(r.destination);
    // The kernel routes each IPv6 address of the link to itself (a /128 not always marked proto kernel).
    if (s.routes.includes(dest) || wanted.has(dest) || (r.destination.family === 6 && dest.startsWith('fe80:'))) continue;
    out.push({
      kind: 'shim-route',
      action: 'delete',
      network: n.name,
      interface: s.interface,
      destination: dest,
      summary: `route ${dest} dev ${s.interface}`,
      reason: s.containerRoutes ? 'no container is attached at this address any more' : "not this network's ip-range (left from an earlier one)",
    });
  }
  return out;
}


