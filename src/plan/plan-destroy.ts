/**
 * What `destroy NAME` removes, as a plan (Terraform's `plan -destroy`): of
 * what is proven ours only, the shim (its addresses and routes go with it),
 * the Docker network, the persistence files and our record. Pure: `plan
 * --destroy` shows it, `destroy` carries it out with apply's executor.
 */
import type { HostFacts } from '../model/facts.js';
import { formatAddress, formatCidr, isLinkLocal6 } from '../net/address.js';
import { LABEL_SHIM, LABEL_SHIM_MAC, isManagedNetwork, shimAlias } from '../model/labels.js';
import type { Change, Plan, PlanError, PlannedNetwork, Warning } from '../model/plan.js';
import { existingState } from './docker-body.js';
import { findOwnShim, shimOnRecord, unprovenAliasHolder } from './shim-identity.js';

export interface DestroyRecord {
  /** The network as apply recorded it, when the record could be read. */
  network?: PlannedNetwork;
  /** The record is there but corrupt: it proves nothing about the shim, but it is ours and goes with the network. */
  corrupt?: boolean;
}

export interface DestroyOptions {
  /** --force: containers still attached are disconnected first, instead of refusing. */
  force?: boolean;
}

/** A warning with this code names something destroy leaves alone because nothing proves it is ours. */
export const LEFT_ALONE = 'LEFT_ALONE';

export function planDestroy(name: string, facts: HostFacts, record: DestroyRecord, options: DestroyOptions = {}): Plan {
  const changes: Change[] = [];
  const warnings: Warning[] = [];
  const errors: PlanError[] = [];
  const leftAlone = (message: string) => warnings.push({ code: LEFT_ALONE, message });
  const net = facts.docker.available ? facts.docker.networks.find((n) => n.name === name) : undefined;
  const ours = net !== undefined && isManagedNetwork(net.labels);
  if (net && !ours) leftAlone(`Docker network ${name} was not created by macvlanctl; it is left alone`);

  // Only the record, or the labels of a Docker network that is ours, say which MAC our shim has.
  const recorded = record.network?.shim;
  const labels = ours ? net.labels : undefined;
  const expected = shimOnRecord(recorded, net);
  const shim = findOwnShim(name, facts.interfaces, expected);
  const unproven = unprovenAliasHolder(name, facts.interfaces, shim, expected);
  if (unproven) leftAlone(`interface ${unproven.interface} carries the alias ${shimAlias(name)}, but nothing proves it is macvlanctl's (${unproven.why}); it is left alone`);
  if (shim) {
    changes.push({
      kind: 'shim-link',
      action: 'delete',
      network: name,
      interface: shim.name,
      before: { ...(shim.link ? { parent: shim.link } : {}), ...(shim.mac ? { mac: shim.mac.toLowerCase() } : {}) },
      summary: `link ${shim.name}`,
      reason: goesWithShim(shim.name, facts),
    });
  }
  if (ours) {
    const containers = net.containers.map((c) => ({ id: c.id, name: c.name }));
    if (containers.length > 0 && options.force !== true) {
      errors.push({
        code: 'DOCKER_CONFLICT',
        message: `Docker network ${name} has ${containers.length} container(s) attached (${containers.map((c) => c.name).join(', ')}); stop them, or pass --force to disconnect them first`,
        details: { containers: containers.map((c) => c.name) },
      });
    }
    changes.push({
      kind: 'docker-network',
      action: 'delete',
      network: name,
      before: existingState(net),
      ...(containers.length ? { disconnect: containers } : {}),
      summary: `docker network ${name}`,
      reason: containers.length ? `created by macvlanctl; ${containers.length} container(s) disconnected first (--force): ${containers.map((c) => c.name).join(', ')}` : 'created by macvlanctl',
    });
  }
  for (const f of facts.persistence?.managed ?? []) {
    if (f.network !== name) continue;
    changes.push({ kind: 'persist-file', action: 'delete', network: name, path: f.path, summary: `file ${f.path}`, reason: `written by macvlanctl for ${name}` });
  }
  if (record.network || record.corrupt) {
    changes.push({ kind: 'record', action: 'delete', network: name, ...(recorded ? { before: { shim: recorded.interface } } : {}), summary: `the record of ${name}`, reason: record.corrupt ? 'corrupt, and ours: removed with the rest' : 'what apply recorded' });
  }
  const labelled = labels?.[LABEL_SHIM];
  if (!shim && labelled && labelled !== unproven?.interface && facts.interfaces.some((i) => i.name === labelled)) {
    leftAlone(`interface ${labelled} is not macvlanctl's shim (not a macvlan with the shim's MAC ${labels?.[LABEL_SHIM_MAC] ?? '?'}); it is left alone`);
  }
  return { networks: [], changes, warnings, unchecked: [], ...(errors.length ? { errors } : {}) };
}

/** What deleting the shim takes along (the kernel drops its addresses and routes with the link), for display. */
function goesWithShim(shim: string, facts: HostFacts): string {
  const iface = facts.interfaces.find((i) => i.name === shim);
  const addresses = (iface?.addresses ?? []).filter((a) => !isLinkLocal6(a.address)).map((a) => `${formatAddress(a.address)}/${a.prefix}`);
  const routes = facts.routes.filter((r) => r.device === shim && r.destination && r.protocol !== 'kernel').map((r) => `route ${formatCidr(r.destination!)}`);
  const along = [...addresses, ...routes];
  return `macvlanctl’s shim${along.length ? `; with it go ${along.join(', ')}` : ''}`;
}
