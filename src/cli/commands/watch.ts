/**
 * `macvlanctl watch [NAME…]`: the long-running healer (src/apply/watch.ts).
 * Wiring only: which networks, the ports, the Docker follower, the output,
 * and the signals. SIGTERM and SIGINT end it with exit 0 (a service manager
 * stopping it is its normal end), within a second: a repair under way is
 * given until then to finish, and then the process ends anyway (an `ip
 * -batch` already started finishes on its own).
 */
import { MacvlanError } from '../../model/errors.js';
import { checkNetworkName } from '../../config/names.js';
import type { WatchReport } from '../../apply/watch.js';
import { readState, statePath } from '../../system/state-store.js';
import { watchJsonLine, watchLine } from '../../present/watch.js';
import { requireNetAdmin } from '../preflight.js';
import { hostSidePorts } from '../ports.js';
import { lockWaitMs } from '../lock-wait.js';
import { jsonEnvelope } from '../output.js';
import { checkWritableRoot } from '../../system/root-dir.js';

export interface WatchCliOptions {
  root: string;
  dockerHost?: string;
  json?: boolean;
  /** false with --no-restart-containers */
  restartContainers?: boolean;
  /** false with --no-docker: the host side alone, as `up` */
  docker?: boolean;
  lockWait?: string;
  /** --install / --uninstall: the systemd unit instead of running. */
  install?: boolean;
  uninstall?: boolean;
}


/** How long a stopping watcher gives a repair under way. */
const STOP_GRACE_MS = 700;

export async function runWatchCommand(names: string[], opts: WatchCliOptions): Promise<void> {
  for (const n of names) checkNetworkName(n, 'argument NAME');
  // Also before --install: a unit naming a network without a record would fail at every start.
  if (!opts.uninstall) {
    for (const n of names) {
      if (!readState(opts.root, n)) throw new MacvlanError('NOT_FOUND', `no record of network ${n} at ${statePath(opts.root, n)}; run macvlanctl apply first (it writes the record)`);
    }
  }
  if (opts.install || opts.uninstall) return installOrUninstall(names, opts);
  const waitMs = lockWaitMs(opts.lockWait ?? '30');
  requireNetAdmin('watch');
  const { runWatch } = await import('../../apply/watch.js');
  const controller = new AbortController();
  const write = opts.json ? (r: WatchReport) => process.stdout.write(watchJsonLine(r)) : (r: WatchReport) => process.stdout.write(watchLine(r));
  let followDocker;
  if (opts.docker !== false) {
    const { resolveEndpoint } = await import('../../system/docker/endpoint.js');
    const { dockerFollower } = await import('../../apply/watch-docker.js');
    followDocker = dockerFollower(resolveEndpoint(opts.dockerHost), controller.signal);
  }
  const ports = { ...hostSidePorts('watch', opts.root), log: () => {} };
  let forced: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    controller.abort(sig);
    forced = setTimeout(() => {
      write({ event: 'stopped', signal: sig });
      process.exit(0);
    }, STOP_GRACE_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runWatch({
      root: opts.root,
      names,
      restartContainers: opts.restartContainers !== false,
      report: write,
      signal: controller.signal,
      ports,
      lockWaitMs: waitMs,
      ...(followDocker ? { followDocker } : {}),
    });
  } finally {
    if (forced) clearTimeout(forced);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** --install / --uninstall: write or remove macvlanctl-watch.service under --root (src/backends/systemd-unit/watch-install.ts). */
async function installOrUninstall(names: string[], opts: WatchCliOptions): Promise<void> {
  if (opts.install && opts.uninstall) throw new MacvlanError('USAGE', '--install and --uninstall exclude each other');
  if (opts.uninstall && names.length) throw new MacvlanError('USAGE', `--uninstall removes the one watch unit; it takes no network names (got ${names.join(', ')})`);
  if (opts.docker === false) throw new MacvlanError('USAGE', '--no-docker is for a watcher run by hand; the installed unit follows Docker (it waits for the engine)');
  checkWritableRoot(opts.root);
  const { installWatchUnit, uninstallWatchUnit } = await import('../../backends/systemd-unit/watch-install.js');
  const { selfCommand } = await import('../../gather/gather-facts.js');
  const lines = opts.install
    ? await installWatchUnit(opts.root, { command: selfCommand(), names, restartContainers: opts.restartContainers !== false, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}) })
    : await uninstallWatchUnit(opts.root);
  if (opts.json) process.stdout.write(jsonEnvelope('watch', { [opts.install ? 'installed' : 'uninstalled']: true, lines }));
  else for (const l of lines) process.stdout.write(`${l}\n`);
}
