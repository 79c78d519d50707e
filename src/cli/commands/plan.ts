/**
 * `macvlanctl plan`: gather facts → pure plan → present. Touches nothing.
 */
import type { Plan } from '../../model/plan.js';
import { planCommands } from '../../plan/commands.js';
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
}

export interface PlanResult extends Plan {
  commands?: string[];
}

export async function buildPlan(name: string | undefined, opts: PlanOptions): Promise<Plan> {
  // Parse the declaration first: bad input fails fast, before any process runs.
  const desired = await readDeclaration(name, opts);
  const gathered = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, planning: desired });
  // Look at the LAN before placing addresses on it (only for networks still to be created); a refusal on cached facts is confirmed live.
  const { plan } = await planOnLan(desired, gathered, { root: opts.root, scan: opts.scan !== false, rescan: opts.rescan === true, force: opts.force === true });
  return plan;
}

export async function runPlan(name: string | undefined, opts: PlanOptions): Promise<void> {
  const plan = await buildPlan(name, opts);
  const result: PlanResult = { ...plan };
  if (opts.showCommands) result.commands = planCommands(plan);
  if (opts.json) {
    process.stdout.write(jsonEnvelope('plan', result));
    return;
  }
  process.stdout.write(presentPlan(result));
}
