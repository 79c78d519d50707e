/**
 * `macvlanctl up NAME` / `down NAME`: the host side alone, from the record
 * apply keeps in <root>/var/lib/macvlanctl — what the systemd unit runs at
 * boot and shutdown. No Docker and no declaration are needed (Docker may not
 * be up yet at boot; the record has everything the shim needs). `up` is
 * idempotent: it changes only what differs from the record (what is missing,
 * a drifted mode or MTU, addresses and routes left from an earlier range).
 */
import { upDownOperations } from '../../apply/up-down.js';
import { runOperations } from '../../apply/run-operations.js';
import { checkNetworkName } from '../../config/names.js';
import { MacvlanError } from '../../model/errors.js';
import type { DockerFacts } from '../../model/facts.js';
import { gatherIpFacts } from '../../gather/host-facts.js';
import { lockHost } from '../../system/lock.js';
import { clearDown, markDown } from '../../system/down-marks.js';
import { readState, statePath } from '../../system/state-store.js';
import { lockWaitMs } from '../lock-wait.js';
import { jsonEnvelope, log } from '../output.js';
import { requireNetAdmin } from '../preflight.js';
import { hostSidePorts } from '../ports.js';

export interface UpDownOptions {
  root: string;
  json?: boolean;
  /** --lock-wait: seconds to wait for another macvlanctl (text, as given). */
  lockWait?: string;
  dockerHost?: string;
}

export async function runUpDown(verb: 'up' | 'down', name: string, opts: UpDownOptions): Promise<void> {
  checkNetworkName(name, 'argument NAME');
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
    // Only an adopted network needs the engine (which containers to route); at boot it may not be up yet,
    // and then the routes there are left as they are (watch adds them once it is).
    const docker = verb === 'up' && state?.network.shim?.containerRoutes ? await attachedContainersFacts(opts.dockerHost) : undefined;
    const ops = upDownOperations(verb, name, facts, state?.network, docker);
    if (ops.length === 0) log(verb === 'up' ? `${name}: the host side is already up` : `${name}: no shim to take down`);
    const report = await runOperations(ops, hostSidePorts(verb, opts.root), { command: verb });
    // Taken down on purpose: watch leaves it down until up (or apply) (src/system/down-marks.ts).
    if (verb === 'down') markDown(name);
    else clearDown(name);
    if (opts.json) process.stdout.write(jsonEnvelope(verb, { name, applied: report.done }));
  } finally {
    lock.release();
  }
}

async function attachedContainersFacts(dockerHost: string | undefined): Promise<DockerFacts> {
  const { resolveEndpoint } = await import('../../system/docker/endpoint.js');
  const { gatherDockerFacts } = await import('../../gather/docker-facts.js');
  return gatherDockerFacts(resolveEndpoint(dockerHost), 2_000);
}
