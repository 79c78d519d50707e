/**
 * `macvlanctl destroy NAME`: removes, of what is marked as ours only, the
 * shim (its address and route go with it) and the Docker network. Refuses
 * while containers are attached unless --force, which disconnects them first.
 */
import { bodyFromExisting, loadOperation, type Operation } from '../../apply/operations.js';
import { runOperations } from '../../apply/run-operations.js';
import { checkNetworkName } from '../../config/names.js';
import { MacvlanError } from '../../model/errors.js';
import type { HostFacts } from '../../model/facts.js';
import { LABEL_SHIM, LABEL_SHIM_MAC, isManagedNetwork } from '../../model/labels.js';
import { findOwnShim, unprovenAliasHolder } from '../../plan/shim-identity.js';
import { shimAlias } from '../../model/labels.js';
import { gatherHostFacts } from '../../gather/gather-facts.js';
import { lockHost } from '../../system/lock.js';
import { checkWritableRoot } from '../../system/root-dir.js';
import { removeStaleTemps } from '../../system/atomic-write.js';
import { type NetworkState, readStateLenient, statePath } from '../../system/state-store.js';
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

interface Target {
  ops: Operation[];
  disconnect: { id: string; name: string }[];
  skipped: string[];
  networkId?: string;
}

/** What destroy would remove: pure, from facts. */
export function destroyTarget(name: string, facts: HostFacts, force: boolean, state: NetworkState | undefined, corruptRecord = false): Target {
  // A corrupt record proves nothing about the shim, but it is ours and goes with the network.
  const hasState = state !== undefined || corruptRecord;
  const ops: Operation[] = [];
  const skipped: string[] = [];
  const net = facts.docker.available ? facts.docker.networks.find((n) => n.name === name) : undefined;
  let disconnect: Target['disconnect'] = [];
  if (net && !isManagedNetwork(net.labels)) {
    skipped.push(`Docker network ${name} was not created by macvlanctl; it is left alone`);
  } else if (net) {
    if (net.containers.length > 0 && !force) {
      throw new MacvlanError(
        'DOCKER_CONFLICT',
        `Docker network ${name} has ${net.containers.length} container(s) attached (${net.containers.map((c) => c.name).join(', ')}); stop them, or pass --force to disconnect them first`,
        { containers: net.containers.map((c) => c.name) },
      );
    }
    disconnect = net.containers.map((c) => ({ id: c.id, name: c.name }));
  }
  const recorded = state?.network.shim;
  // Only the record, or the labels of a Docker network that is ours, say which MAC our shim has.
  const labels = net && isManagedNetwork(net.labels) ? net.labels : undefined;
  const expected = { interface: recorded?.interface ?? labels?.[LABEL_SHIM], mac: recorded?.mac ?? labels?.[LABEL_SHIM_MAC] };
  const shim = findOwnShim(name, facts.interfaces, expected);
  const unproven = unprovenAliasHolder(name, facts.interfaces, shim, expected);
  if (unproven) skipped.push(`interface ${unproven.interface} carries the alias ${shimAlias(name)}, but nothing proves it is macvlanctl's (${unproven.why}); it is left alone`);
  if (shim) ops.push({ kind: 'ip', title: `delete shim ${shim.name} (with its address and route)`, line: `link del dev ${shim.name}`, irreversible: true });
  if (net && isManagedNetwork(net.labels)) {
    ops.push({ kind: 'docker-remove', title: `remove Docker network ${name}`, network: name, id: net.id, recreate: bodyFromExisting(net) });
  }
  const files: Operation[] = (facts.persistence?.managed ?? [])
    .filter((f) => f.network === name)
    .map((f) => ({ kind: 'file-remove', title: `remove ${f.path}`, path: f.path }));
  ops.push(...files);
  if (hasState) ops.push({ kind: 'state-remove', title: `forget the record of ${name}`, network: name });
  ops.push(...loadOperation('none', files, recorded?.interface ?? shim?.name));
  const labelled = labels?.[LABEL_SHIM];
  if (!shim && labelled && labelled !== unproven?.interface && facts.interfaces.some((i) => i.name === labelled)) {
    skipped.push(`interface ${labelled} is not macvlanctl's shim (not a macvlan with the shim's MAC ${labels?.[LABEL_SHIM_MAC] ?? '?'}); it is left alone`);
  }
  return { ops, disconnect, skipped, ...(net ? { networkId: net.id } : {}) };
}

export async function runDestroy(name: string, opts: DestroyOptions): Promise<void> {
  checkNetworkName(name, 'network name');
  const waitMs = lockWaitMs(opts.lockWait);
  // Without root, the reason is that (sudo), not the unwritable /run that follows from it.
  requireNetAdmin('destroy');
  checkWritableRoot(opts.root);
  const lock = await lockHost(`destroy ${name}`, { root: opts.root, waitMs });
  try {
    const facts = await gatherHostFacts({ root: opts.root, dockerHost: opts.dockerHost, planning: [] });
    requireDocker(facts);
    const record = readStateLenient(opts.root, name);
    if (record.corrupt) log(`note: the record of ${name} at ${String(record.corrupt.details.path)} is corrupt (${String(record.corrupt.details.why)}); it is removed with the rest`);
    const target = destroyTarget(name, facts, opts.force === true, record.state, record.corrupt !== undefined);
    for (const s of target.skipped) log(`note: ${s}`);
    if (target.ops.length === 0) {
      throw new MacvlanError(
        'NOT_FOUND',
        `nothing named ${name} is managed by macvlanctl on this host (no record, no labelled Docker network, no shim with the recorded MAC)${target.skipped.length ? `; ${target.skipped.join('; ')}` : ''}`,
        { skipped: target.skipped },
      );
    }
    const lines = [
      ...target.disconnect.map((c) => `  - disconnect container ${c.name}`),
      ...target.ops.map((o) => `  - ${o.title}`),
    ];
    (opts.json ? process.stderr : process.stdout).write(`Destroy ${name}:\n${lines.join('\n')}\n`);
    if (!opts.yes) await (await import('../confirm.js')).confirm(`Destroy ${name}?`, opts.yes, 'destroy');
    const docker = await connectDocker(opts.dockerHost);
    try {
      for (const c of target.disconnect) {
        await docker.disconnectContainer(target.networkId!, c.id, { force: true });
        log(`  ✓ disconnected ${c.name}`);
      }
    } catch (e) {
      docker.close();
      throw e;
    }
    const ports = realPorts(docker, opts.root);
    const report = await whileInterruptible((signal) => runOperations(target.ops, ports, { command: 'destroy', signal, settleMs: dockerSettleMs() }), { finish: 'destroy' }).finally(() =>
      docker.close(),
    );
    // A record write cut short by SIGKILL leaves its temporary file even where no record was made.
    removeStaleTemps(statePath(opts.root, name));
    const result: DestroyResult = { name, removed: report.done, disconnected: target.disconnect.map((c) => c.name), skipped: target.skipped };
    if (opts.json) process.stdout.write(jsonEnvelope('destroy', result));
    else process.stdout.write(`Destroyed ${name}.\n`);
  } finally {
    lock.release();
  }
}
