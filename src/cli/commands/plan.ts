/**
 * `macvlanctl plan`: gather facts → pure plan → present. Touches nothing.
 */
import type { Plan } from '../../model/plan.js';
import { planOperations, planRefusal } from '../../apply/operations.js';
import { commandLines } from '../../present/commands.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { type DeclarationOptions, readDeclaration } from '../../config/declaration.js';
import { planOnLan } from '../confirm-refusals.js';
import { jsonEnvelope, log } from '../output.js';
import { MacvlanError } from '../../model/errors.js';
import { checkNetworkName } from '../../config/names.js';
import { destroyPlanOf, nothingToDestroy } from './destroy.js';
import { presentPlan } from '../../present/plan.js';

export interface PlanOptions extends DeclarationOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  showCommands?: boolean;
  /** false with --no-scan */
  scan?: boolean;
  /** --rescan: scan the LAN now, never from the cache */
  rescan?: boolean;
  force?: boolean;
  /** --replace: plan a same-named Docker network with other settings as a replace (-/+), as `apply --replace` would. */
  replace?: boolean;
  /** --destroy: show what `destroy NAME` would remove (with --force: disconnecting attached containers). */
  destroy?: boolean;
}

export interface PlanResult extends Plan {
  commands?: string[];
}

export async function buildPlan(name: string | undefined, opts: PlanOptions): Promise<Plan> {
  // Parse the declaration first: bad input fails fast, before any process runs.
  const desired = await readDeclaration(name, opts);
  const gathered = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, planning: desired });
  // Look at the LAN before placing addresses on it (only for networks still to be created); a refusal on cached facts is confirmed live.
  const { plan } = await planOnLan(desired, gathered, { root: opts.root, scan: opts.scan !== false, rescan: opts.rescan === true, force: opts.force === true, replace: opts.replace === true });
  return plan;
}

/** `plan --destroy NAME`: destroy's own plan, from the same facts and record; changes nothing. */
async function buildDestroyPlan(name: string | undefined, opts: PlanOptions): Promise<Plan> {
  if (!name) throw new MacvlanError('USAGE', 'plan --destroy needs the name of the network to destroy');
  checkNetworkName(name, 'argument NAME');
  const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, planning: [], swarm: true });
  const plan = await destroyPlanOf(name, facts, opts.root, opts.force === true, log, opts.dockerHost);
  const missing = nothingToDestroy(name, plan);
  if (missing) throw missing;
  if (!facts.docker.available) plan.unchecked.push(`Docker (${facts.docker.endpoint}) was not reachable: ${facts.docker.reason}; its network was not looked at`);
  return plan;
}

export async function runPlan(name: string | undefined, opts: PlanOptions): Promise<void> {
  const plan = opts.destroy ? await buildDestroyPlan(name, opts) : await buildPlan(name, opts);
  const result: PlanResult = { ...plan };
  // A refused plan has no operations: it is shown, then fails with its refusal (exit 2), like any other plan error.
  if (plan.errors?.length) {
    if (!opts.json) process.stdout.write(presentPlan(result));
    throw planRefusal(plan.errors);
  }
  if (opts.showCommands) result.commands = commandLines(planOperations(plan));
  if (opts.json) {
    process.stdout.write(jsonEnvelope('plan', result));
    return;
  }
  process.stdout.write(presentPlan(result));
}
