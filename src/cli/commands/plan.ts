/**
 * `macvlanctl plan`: gather facts → pure plan → present. Touches nothing.
 */
import type { Plan } from '../../model/plan.js';
import { planOperations, planRefusal } from '../../apply/operations.js';
import { commandLines } from '../../present/commands.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { type DeclarationOptions, readDeclaration } from '../../config/declaration.js';
import { planOnLan } from '../confirm-refusals.js';
import { jsonEnvelope } from '../output.js';
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

export async function runPlan(name: string | undefined, opts: PlanOptions): Promise<void> {
  const plan = await buildPlan(name, opts);
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
