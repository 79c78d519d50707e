/**
 * `macvlanctl apply`: plan from live facts, show it, confirm, execute with
 * rollback, then check that the host now matches (a second plan is empty).
 */
import { clearDown } from '../../system/down-marks.js';
import { planOperations, planRefusal } from '../../apply/operations.js';
import { runOperations } from '../../apply/run-operations.js';
import { MacvlanError } from '../../model/errors.js';
import type { Plan } from '../../model/plan.js';
import { computePlan } from '../../plan/compute-plan.js';
import { lockHost } from '../../system/lock.js';
import { checkWritableRoot } from '../../system/root-dir.js';
import { readStateLenient, recordMatches, stateText, writeStateText } from '../../system/state-store.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { type DeclarationOptions, readDeclaration } from '../../config/declaration.js';
import { jsonEnvelope, log } from '../output.js';
import { countChanges, pendingChanges, presentPlan } from '../../present/plan.js';
import { requireDocker, requireNetAdmin } from '../preflight.js';
import { connectDocker, dockerSettleMs } from '../docker-connect.js';
import { whileInterruptible } from '../interrupt.js';
import { realPorts } from '../ports.js';
import { lockWaitMs } from '../lock-wait.js';
import { planOnLan } from '../confirm-refusals.js';

export interface ApplyOptions extends DeclarationOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  yes?: boolean;
  replace?: boolean;
  lockWait?: string;
  /** false with --no-scan */
  scan?: boolean;
  /** --rescan: scan the LAN now, never from the cache */
  rescan?: boolean;
  force?: boolean;
  /** --write-compose: put the values the Compose network depends on into the Compose file. */
  writeCompose?: boolean;
}

export interface ApplyResult {
  plan: Plan;
  applied: string[];
  changed: boolean;
  /** Changes still pending after apply (should be none). */
  remaining: number;
}

export async function runApply(name: string | undefined, opts: ApplyOptions): Promise<void> {
  const waitMs = lockWaitMs(opts.lockWait);
  const desired = await readDeclaration(name, opts);
  // Without root, the reason is that (sudo), not the unwritable /run that follows from it.
  requireNetAdmin('apply');
  checkWritableRoot(opts.root);
  const lock = await lockHost(`apply ${desired.map((d) => d.name).join(' ')}`, { root: opts.root, waitMs });
  try {
    const gather = { root: opts.root, dockerHost: opts.dockerHost, planning: desired };
    const gathered = await gatherHostFacts(gather);
    requireDocker(gathered);
    // strict: a scan that fails stops apply, rather than placing addresses blind. A refusal on cached facts is confirmed live first.
    const force = { force: opts.force === true, replace: opts.replace === true };
    const { plan, facts } = await planOnLan(desired, gathered, { root: opts.root, scan: opts.scan !== false, rescan: opts.rescan === true, strict: true, ...force });
    const pending = pendingChanges(countChanges(plan.changes));
    const show = opts.json ? (s: string) => process.stderr.write(s) : (s: string) => process.stdout.write(s);
    show(presentPlan(plan));
    // The planner refused (a Docker network to replace without --replace, or in use): nothing is changed.
    if (plan.errors?.length) throw planRefusal(plan.errors);
    if (opts.writeCompose) await writeCompose(plan, opts, show);
    if (pending === 0) {
      // Our own record may be missing (first apply by an older version, or deleted) or out of date (the
      // persistence choice was re-detected on other evidence with the same result): bring it up to date quietly.
      // A corrupt record is written anew the same way, and said.
      for (const n of plan.networks) {
        const record = readStateLenient(opts.root, n.name);
        if (record.corrupt) log(`note: the record of ${n.name} at ${String(record.corrupt.details.path)} was corrupt (${String(record.corrupt.details.why)}); it is written anew`);
        if (!recordMatches(record.state, n)) writeStateText(opts.root, n.name, stateText(n));
      }
      // Applied as declared: a `down` before no longer holds watch back.
      for (const n of plan.networks) clearDown(n.name);
      if (opts.json) process.stdout.write(jsonEnvelope('apply', { plan, applied: [], changed: false, remaining: 0 } satisfies ApplyResult));
      return;
    }
    const ops = planOperations(plan);
    if (!opts.yes) await (await import('../confirm.js')).confirm('Apply these changes?', opts.yes, 'apply');
    const docker = await connectDocker(opts.dockerHost, facts.docker.available ? facts.docker.apiVersion : undefined);
    const ports = realPorts(docker, opts.root);
    log('Applying:');
    const report = await whileInterruptible((signal) => runOperations(ops, ports, { command: 'apply', signal, settleMs: dockerSettleMs() })).finally(() => docker.close());
    // Applied: a `down` before no longer holds watch back.
    for (const n of plan.networks) clearDown(n.name);
    // Converged? Re-plan against fresh facts: anything left is a bug or a race, and the user should know.
    const after = computePlan(desired, await gatherHostFacts(gather), force);
    const left = after.changes.filter((c) => c.action !== 'noop');
    for (const c of left) log(`warning: still pending after apply: ${c.summary} (${c.reason})`);
    const result: ApplyResult = { plan, applied: report.done, changed: true, remaining: left.length };
    if (opts.json) process.stdout.write(jsonEnvelope('apply', result));
    else process.stdout.write(`Applied ${report.done.length} step(s).${left.length ? ` ${left.length} change(s) still pending: run apply again or see the warnings.` : ''}\n`);
    // Not converged: the host is not as planned (a manager undid a step, a race), so this run did not succeed.
    if (left.length) process.exitCode = 1;
  } finally {
    lock.release();
  }
}

/**
 * --write-compose: the lines COMPOSE_FILE_INCOMPLETE names go into the file
 * itself (src/config/compose-complete.ts), after showing the diff and asking
 * (or --yes), so that `docker compose down` + `up` re-creates the same network.
 */
async function writeCompose(plan: Plan, opts: ApplyOptions, show: (s: string) => void): Promise<void> {
  const file = opts.file;
  const networks = plan.networks.filter((n) => n.compose && !n.compose.external);
  if (!file || networks.length === 0) {
    throw new MacvlanError('USAGE', '--write-compose completes a Compose file: give one with -f that declares a macvlan network (not external)');
  }
  const { completeComposeText } = await import('../../config/compose-complete.js');
  const { readTextFile, rewriteFileAtomic } = await import('../../system/atomic-write.js');
  const before = readTextFile(file);
  let after = before;
  for (const n of networks) {
    const entries = [{ subnet: n.subnet, gateway: n.gateway, ipRange: n.ipRange, auxAddresses: n.auxAddresses }];
    if (n.ipv6) entries.push({ subnet: n.ipv6.subnet, gateway: n.ipv6.gateway, ipRange: n.ipv6.ipRange, auxAddresses: n.ipv6.auxAddresses });
    after = completeComposeText(file, after, { key: n.compose!.key, parent: n.parent, ...(n.mode !== 'bridge' ? { mode: n.mode } : {}), entries });
  }
  if (after === before) {
    show(`${file} already states everything its networks depend on; nothing to write.\n`);
    return;
  }
  const { lineDiff } = await import('../../present/line-diff.js');
  show(`\n--write-compose: ${file}\n${lineDiff(before, after).join('\n')}\n\n`);
  if (!opts.yes) await (await import('../confirm.js')).confirm(`Write these lines into ${file}?`, opts.yes, 'write the Compose file');
  rewriteFileAtomic(file, after);
  log(`wrote ${file}`);
}
