/**
 * `macvlanctl destroy NAME`: removes, of what is marked as ours only, the
 * shim (its address and route go with it) and the Docker network. Refuses
 * while containers are attached unless --force, which disconnects them first.
 */
import { clearDown } from '../../system/down-marks.js';
import { planOperations, planRefusal } from '../../apply/operations.js';
import { runOperations } from '../../apply/run-operations.js';
import { checkNetworkName } from '../../config/names.js';
import { MacvlanError } from '../../model/errors.js';
import type { HostFacts } from '../../model/facts.js';
import type { Change, Plan } from '../../model/plan.js';
import { LEFT_ALONE, planDestroy } from '../../plan/plan-destroy.js';
import { type SwarmServiceUse, isSwarmPart, planSwarmDestroy } from '../../plan/swarm-plan.js';
import { swarmServicesUsing } from '../../gather/swarm-facts.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { lockHost } from '../../system/lock.js';
import { checkWritableRoot } from '../../system/root-dir.js';
import { removeStaleTemps } from '../../system/atomic-write.js';
import { readStateLenient, statePath } from '../../system/state-store.js';
import { connectDocker, dockerSettleMs } from '../docker-connect.js';
import { lockWaitMs } from '../lock-wait.js';
import { whileInterruptible } from '../interrupt.js';
import { realPorts } from '../ports.js';
import { jsonEnvelope, log } from '../output.js';
import { requireDocker, requireNetAdmin } from '../preflight.js';

export interface DestroyOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  yes?: boolean;
  force?: boolean;
  /** --lock-wait: seconds to wait for another macvlanctl (text, as given). */
  lockWait?: string;
}

export interface DestroyResult {
  name: string;
  removed: string[];
  disconnected: string[];
  skipped: string[];
}

/**
 * The destroy plan from the facts and our record, as destroy and `plan --destroy` read them. A swarm
 * network's part (#13) is planned by planSwarmDestroy; on a manager it asks the engine which services
 * use the swarm network (facts gathered with `swarm: true`).
 */
export async function destroyPlanOf(name: string, facts: HostFacts, root: string, force: boolean, note: (line: string) => void, dockerHost?: string): Promise<Plan> {
  const record = readStateLenient(root, name);
  if (record.corrupt) note(`note: the record of ${name} at ${String(record.corrupt.details.path)} is corrupt (${String(record.corrupt.details.why)}); it is removed with the rest`);
  const destroyRecord = { ...(record.state ? { network: record.state.network } : {}), corrupt: record.corrupt !== undefined };
  if (isSwarmPart(name, facts, destroyRecord)) {
    const manager = facts.docker.available && facts.docker.swarm?.manager === true;
    const services = manager ? await servicesUsing(name, facts, dockerHost) : undefined;
    return planSwarmDestroy(name, facts, destroyRecord, { force }, services);
  }
  return planDestroy(name, facts, destroyRecord, { force });
}

async function servicesUsing(name: string, facts: HostFacts, dockerHost: string | undefined): Promise<SwarmServiceUse[]> {
  const net = facts.docker.available ? facts.docker.networks.find((n) => n.name === name && n.scope === 'swarm') : undefined;
  if (!net) return [];
  const docker = await connectDocker(dockerHost);
  try {
    return await swarmServicesUsing(docker, net.id, name);
  } finally {
    docker.close();
  }
}

/** What destroy leaves alone, each said once. */
export function leftAlone(plan: Plan): string[] {
  return plan.warnings.filter((w) => w.code === LEFT_ALONE).map((w) => w.message);
}

/** Nothing of ours by that name: NOT_FOUND, with what was left alone and why. */
export function nothingToDestroy(name: string, plan: Plan): MacvlanError | undefined {
  if (plan.changes.length > 0) return undefined;
  const skipped = leftAlone(plan);
  return new MacvlanError(
    'NOT_FOUND',
    `nothing named ${name} is managed by macvlanctl on this host (no record, no labelled Docker network, no shim with the recorded MAC)${skipped.length ? `; ${skipped.join('; ')}` : ''}`,
    { skipped },
  );
}

export async function runDestroy(name: string, opts: DestroyOptions): Promise<void> {
  checkNetworkName(name, 'argument NAME');
  const waitMs = lockWaitMs(opts.lockWait);
  // Without root, the reason is that (sudo), not the unwritable /run that follows from it.
  requireNetAdmin('destroy');
  checkWritableRoot(opts.root);
  const lock = await lockHost(`destroy ${name}`, { root: opts.root, waitMs });
  try {
    const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, planning: [], swarm: true });
    requireDocker(facts);
    const plan = await destroyPlanOf(name, facts, opts.root, opts.force === true, log, opts.dockerHost);
    const skipped = leftAlone(plan);
    for (const s of skipped) log(`note: ${s}`);
    const missing = nothingToDestroy(name, plan);
    if (missing) throw missing;
    if (plan.errors?.length) throw planRefusal(plan.errors);
    const ops = planOperations(plan);
    const removal = plan.changes.find((c): c is Extract<Change, { kind: 'docker-network' }> => c.kind === 'docker-network' && c.action === 'delete');
    const disconnect = removal?.disconnect ?? [];
    const lines = ops.map((o) => `  - ${o.title}`);
    (opts.json ? process.stderr : process.stdout).write(`Destroy ${name}:\n${lines.join('\n')}\n`);
    if (!opts.yes) await (await import('../confirm.js')).confirm(`Destroy ${name}?`, opts.yes, 'destroy');
    const docker = await connectDocker(opts.dockerHost);
    const ports = realPorts(docker, opts.root);
    const report = await whileInterruptible((signal) => runOperations(ops, ports, { command: 'destroy', signal, settleMs: dockerSettleMs() }), { finish: 'destroy' }).finally(() =>
      docker.close(),
    );
    clearDown(name);
    // A record write cut short by SIGKILL leaves its temporary file even where no record was made.
    removeStaleTemps(statePath(opts.root, name));
    // The disconnections (steps of the run too) are reported apart, as before.
    const disconnectSteps = new Set(ops.flatMap((o) => (o.kind === 'docker-disconnect' ? [o.title] : [])));
    const removed = report.done.filter((d) => !disconnectSteps.has(d));
    const result: DestroyResult = { name, removed, disconnected: disconnect.map((c) => c.name), skipped };
    if (opts.json) process.stdout.write(jsonEnvelope('destroy', result));
    else process.stdout.write(`Destroyed ${name}.\n`);
  } finally {
    lock.release();
  }
}
