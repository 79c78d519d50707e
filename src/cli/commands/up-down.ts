/**
 * `macvlanctl up NAME` / `down NAME`: the host side alone, from the record
 * apply keeps in <root>/var/lib/macvlanctl — what the systemd unit runs at
 * boot and shutdown. No Docker and no declaration are needed (Docker may not
 * be up yet at boot; the record has everything the shim needs). `up` is
 * idempotent: it changes only what differs from the record (what is missing,
 * a drifted mode or MTU, addresses and routes left from an earlier range).
 */
import { deleteShimOperation, shimOperations, type Operation } from '../../apply/operations.js';
import { runOperations } from '../../apply/run-operations.js';
import { checkNetworkName } from '../../config/names.js';
import { MacvlanError } from '../../model/errors.js';
import type { HostFacts } from '../../model/facts.js';
import type { PlannedNetwork } from '../../model/plan.js';
import { hostSideChanges } from '../../plan/plan-network.js';
import { findOwnShim, shimOnRecord } from '../../plan/shim-identity.js';
import { gatherIpFacts } from '../../gather/host-facts.js';
import { lockHost } from '../../system/lock.js';
import { readState, statePath } from '../../system/state-store.js';
import { lockWaitMs } from '../lock-wait.js';
import { jsonEnvelope, log } from '../output.js';
import { requireNetAdmin } from '../preflight.js';
import { realPorts } from '../ports.js';

export interface UpDownOptions {
  root: string;
  json?: boolean;
  /** --lock-wait: seconds to wait for another macvlanctl (text, as given). */
  lockWait?: string;
}

const noDocker = {
  createNetwork: () => Promise.reject(new MacvlanError('SYSTEM_ERROR', 'up/down never change Docker')),
  removeNetwork: () => Promise.reject(new MacvlanError('SYSTEM_ERROR', 'up/down never change Docker')),
  inspectNetwork: () => Promise.resolve(undefined),
};

/** Operations for `up` or `down` against the interfaces as they are. Pure. */
export function upDownOperations(verb: 'up' | 'down', name: string, facts: Pick<HostFacts, 'interfaces' | 'routes'>, recorded?: PlannedNetwork): Operation[] {
  if (verb === 'down') {
    // The record alone: up and down never ask Docker (it may not be up at boot), so there are no labels to fall back on.
    const shim = findOwnShim(name, facts.interfaces, shimOnRecord(recorded?.shim, undefined));
    return shim ? [deleteShimOperation(shim.name)] : [];
  }
  if (!recorded) throw new MacvlanError('NOT_FOUND', `no record of network ${name}: run macvlanctl apply first`);
  const n = recorded;
  const changes = hostSideChanges(n, facts as HostFacts).filter((c) => c.action !== 'noop');
  return shimOperations(changes, n);
}

export async function runUpDown(verb: 'up' | 'down', name: string, opts: UpDownOptions): Promise<void> {
  checkNetworkName(name, 'network name');
  const waitMs = lockWaitMs(opts.lockWait);
  if (verb === 'up' && !readState(opts.root, name)) {
    throw new MacvlanError('NOT_FOUND', `no record of network ${name} at ${statePath(opts.root, name)}; run macvlanctl apply first (it writes the record)`);
  }
  requireNetAdmin(verb);
  // The host lock alone: up and down change the kernel side only and never write under --root
  // (so they work with a read-only root at boot). Record and facts are read under the lock, so an
  // apply in flight is either all before them or all after.
  const lock = await lockHost(`${verb} ${name}`, { waitMs });
  try {
    const state = readState(opts.root, name);
    if (verb === 'up' && !state) throw new MacvlanError('NOT_FOUND', `no record of network ${name} at ${statePath(opts.root, name)} (removed meanwhile)`);
    const facts = await gatherIpFacts();
    const ops = upDownOperations(verb, name, facts, state?.network);
    if (ops.length === 0) log(verb === 'up' ? `${name}: the host side is already up` : `${name}: no shim to take down`);
    const report = await runOperations(ops, realPorts(noDocker, opts.root), { command: verb });
    if (opts.json) process.stdout.write(jsonEnvelope(verb, { name, applied: report.done }));
  } finally {
    lock.release();
  }
}
