/**
 * The planner's entry point: every declared network against the host's facts.
 * Networks are planned in order; each sees the ranges of those before it, so
 * two declarations cannot take the same addresses or shim name.
 */
import type { DesiredNetwork } from '../model/desired.js';
import { AggregateMacvlanError, MacvlanError } from '../model/errors.js';
import type { HostFacts } from '../model/facts.js';
import type { Plan } from '../model/plan.js';
import { enforcesOneMacvlanPerParent } from './docker-rules.js';
import { type PlanContext, planNetwork } from './plan-network.js';

/** How the planner treats what it finds, from the command line. */
export interface PlannerOptions {
  /**
   * --force: an explicit ip-range or host address that holds live hosts, DHCP
   * offers or an estimated DHCP pool (facts.lan) is taken, with a warning,
   * instead of refused. Whether the LAN is looked at at all (--no-scan) is
   * decided before planning: facts.lan is then absent.
   */
  force?: boolean;
  /**
   * --replace: a same-named Docker network with other settings is planned as
   * a replace; without it (or while containers are attached) the plan carries
   * a DOCKER_CONFLICT refusal in `errors` instead.
   */
  replace?: boolean;
}

export function computePlan(desired: DesiredNetwork[], facts: HostFacts, options: PlannerOptions = {}): Plan {
  const ctx: PlanContext = { planned: [], force: options.force === true, replace: options.replace === true };
  const plan: Plan = { networks: [], changes: [], warnings: [], unchecked: [] };
  const errors: MacvlanError[] = [];
  const shims = new Map<string, string>();
  for (const d of desired) {
    if (d.compose?.skipped) {
      plan.warnings.push({ code: 'COMPOSE_NETWORK_SKIPPED', message: `Compose network ${d.compose.key} (${d.name}) is skipped: ${d.compose.skipped}` });
      continue;
    }
    try {
      const np = planNetwork(d, facts, ctx);
      const shim = np.network.shim?.interface;
      if (shim && shims.has(shim)) {
        throw new MacvlanError('CONFIG_INVALID', `network ${d.name}: shim name ${shim} is also used by network ${shims.get(shim)}; give one of them another --shim`);
      }
      if (shim) shims.set(shim, d.name);
      const sameParent = ctx.planned.find((p) => p.parent === np.network.parent);
      if (sameParent && facts.docker.available && enforcesOneMacvlanPerParent(facts.docker.engineVersion)) {
        throw new MacvlanError(
          'DOCKER_CONFLICT',
          `network ${d.name}: Docker ${facts.docker.engineVersion} allows only one macvlan network per parent interface, and network ${sameParent.name} is declared on ${np.network.parent} too; put one of them on a VLAN sub-interface, or upgrade to Docker 26 or later`,
          { parent: np.network.parent, networks: [sameParent.name, d.name] },
        );
      }
      ctx.planned.push(np.network);
      plan.networks.push(np.network);
      plan.changes.push(...np.changes);
      if (np.errors.length) (plan.errors ??= []).push(...np.errors);
      plan.warnings.push(...np.warnings);
      for (const n of np.notes) if (!plan.unchecked.includes(n)) plan.unchecked.push(n);
    } catch (e) {
      if (e instanceof MacvlanError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) {
    throw new AggregateMacvlanError(errors[0]!.code, `${errors.length} networks have problems:`, errors);
  }
  return plan;
}
