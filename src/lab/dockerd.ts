// A private dockerd (Debian docker.io 20.10) inside a lab host's network namespace, started as
//   nsenter --net=/run/netns/NS -- unshare --mount --uts --propagation private -- \
//     sh -c 'mount -n -t tmpfs … /run && hostname NAME && exec dockerd …'
// The private mount namespace with its own /run keeps dockerd hermetic: without it dockerd 20.10 writes
// /run/docker/plugins and its containerd /run/containerd/s on the real machine, and — worse — it would
// *adopt a system containerd* if /run/containerd/containerd.sock exists (moby cmd/dockerd
// systemContainerdRunning), as on CI runners that run Docker. All of dockerd's mounts (the data-root
// self-bind, overlay2 mounts, nsfs mounts) live in that namespace and disappear with its processes.
// `--config-file` (our own, with "deprecated-key-path") keeps it from reading /etc/docker/daemon.json and
// from writing /etc/docker/key.json; --iptables=false and friends keep it off every firewall; and
// `--cgroup-parent /macvlanctl-NS` puts containers into cgroups that teardown can find, kill and remove.
// `ip netns exec` is not used: it remounts /sys and hides the cgroups from dockerd.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_IMAGE } from './busybox-image.js';
import { cgroupDirs, cgroupPids, removeCgroups } from './cgroups.js';
import { dockerRequest } from './docker-api.js';
import { netnsPids } from './netns.js';
import { SYSTEM_PATH, cmdlineOf, isAlive, kill, sleep, waitGone } from './process.js';
import { type LabState, type LabStateHost, cgroupParentFor, writeState } from './state.js';
import type { LabDocker, LabHost, LabOptions } from './types.js';

// sh script run inside the new mount + UTS namespaces: a private /run, the host's own hostname (so Swarm
// nodes and `docker info` tell the hosts apart), then dockerd ("$1" is the hostname, the rest dockerd's argv).
// `-n`: util-linux mount would otherwise create /run/mount/utab on the real /run before mounting
const DOCKERD_WRAPPER = 'mount -n -t tmpfs -o mode=0755 macvlanctl-run /run && hostname "$1" && shift && exec "$@"';

/** Where one host's dockerd keeps everything, under the lab dir. */
interface DockerdPaths {
  base: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  logFile: string;
  configFile: string;
}

function dockerdPaths(dir: string, host: LabHost): DockerdPaths {
  const base = join(dir, host.name);
  return {
    base,
    dataRoot: join(base, 'd'),
    execRoot: join(base, 'x'),
    socket: join(base, 'docker.sock'),
    logFile: join(base, 'dockerd.log'),
    configFile: join(base, 'daemon.json'),
  };
}

/**
 * Starts dockerd in `host`'s namespace and waits for /_ping. Its pid and socket are recorded in the
 * state file before it can do anything, so a crash leaves enough to find and stop it.
 */
export async function startDockerd(
  dir: string,
  host: LabHost,
  gateway: string,
  opts: Pick<LabOptions, 'dockerdArgs' | 'dockerdTimeoutMs'>,
  state: LabState,
  sh: LabStateHost,
  children: Map<string, ChildProcess>,
): Promise<LabDocker> {
  const paths = dockerdPaths(dir, host);
  const { socket, logFile } = paths;
  prepareDockerdDirs(dir, paths);
  const cgroupParent = cgroupParentFor(host.netns);
  sh.docker = { socket, logFile, cgroupParent };
  writeState(state);

  const child = spawnDockerd(dockerdArgv(host, paths, gateway, cgroupParent, opts.dockerdArgs ?? []), logFile);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start dockerd for ${host.name}`);
  child.unref();
  children.set(host.name, child);
  // nsenter, unshare and sh all exec: the pid is dockerd's
  sh.docker.pid = pid;
  writeState(state);
  const exited = exitReason(child);

  const apiVersion = await waitForPing(host.name, socket, logFile, opts.dockerdTimeoutMs ?? 30_000, exited);
  return {
    socket,
    dockerHost: `unix://${socket}`,
    pid,
    dataRoot: paths.dataRoot,
    execRoot: paths.execRoot,
    logFile,
    cgroupParent,
    apiVersion: apiVersion ?? 'unknown',
    image: LAB_IMAGE,
  };
}

/** The data and exec roots, and dockerd's own config file (written before dockerd starts). */
function prepareDockerdDirs(dir: string, { base, dataRoot, execRoot, configFile }: DockerdPaths): void {
  // containerd puts "<exec-root>/containerd/containerd.sock.ttrpc" (and docker "<exec-root>/netns/<12 hex>")
  // here; unix socket paths are limited to 107 bytes
  if (Buffer.byteLength(join(execRoot, 'containerd/containerd.sock.ttrpc')) > 100) {
    throw new Error(`lab dir ${dir} is too long for dockerd's unix sockets; set TMPDIR to a short path`);
  }
  mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
  mkdirSync(execRoot, { recursive: true, mode: 0o700 });
  // "deprecated-key-path" has no command-line flag in 20.10, only this config key; without it dockerd
  // writes its libtrust identity to /etc/docker/key.json
  writeFileSync(configFile, JSON.stringify({ 'deprecated-key-path': join(base, 'key.json') }) + '\n');
}

/** nsenter's argv: into the host's network namespace, then unshare and DOCKERD_WRAPPER, then dockerd. */
function dockerdArgv(host: LabHost, paths: DockerdPaths, gateway: string, cgroupParent: string, extraArgs: string[]): string[] {
  const { dataRoot, execRoot, socket, configFile } = paths;
  return [
    `--net=${host.netnsPath}`,
    '--',
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    DOCKERD_WRAPPER,
    'sh',
    host.name,
    'dockerd',
    '--data-root', dataRoot,
    '--exec-root', execRoot,
    '--host', `unix://${socket}`,
    '--pidfile', join(execRoot, 'dockerd.pid'),
    '--config-file', configFile,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
    '--cgroup-parent', cgroupParent,
    '--dns', gateway,
    '--shutdown-timeout', '3',
    ...extraArgs,
  ];
}

/** Spawns nsenter with `args`, its output appended to `logFile`. */
function spawnDockerd(args: string[], logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  try {
    return spawn('nsenter', args, {
      stdio: ['ignore', out, out],
      // DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: a swarm task whose image is already local starts at once
      // instead of first trying the registry (unreachable here: ~30 s per task before the fallback)
      env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
    });
  } finally {
    closeSync(out);
  }
}

/** Why `child` is gone ('exit 1', a signal, a spawn error), or undefined while it runs. */
function exitReason(child: ChildProcess): () => string | undefined {
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  child.once('error', (e) => {
    exited = e.message;
  });
  return () => exited;
}

/**
 * Polls dockerd's /_ping until it answers 200, and returns the API version it names. Fails, with the
 * end of dockerd's log, when dockerd exits first or `timeout` ms pass.
 */
async function waitForPing(
  name: string,
  socket: string,
  logFile: string,
  timeout: number,
  exited: () => string | undefined,
): Promise<string | undefined> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const reason = exited();
    if (reason) throw new Error(`dockerd on ${name} stopped (${reason}):\n${tail(logFile, 25)}`);
    try {
      const res = await dockerRequest(socket, 'GET', '/_ping', undefined, { timeoutMs: 2_000 });
      if (res.status === 200) {
        const v = res.headers['api-version'];
        return Array.isArray(v) ? v[0] : v;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`dockerd on ${name}: no /_ping answer within ${timeout} ms:\n${tail(logFile, 25)}`);
    await sleep(50);
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** what a file gained after byte `from` (at most 64 KiB of it), '' when it cannot be read */
function readFrom(file: string, from: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(Math.max(0, Math.min(65_536, fstatSync(fd).size - from)));
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Stops a host's dockerd (containers first), then kills whatever is left in its cgroups and namespace
 * (containerd, shims, container processes) and removes the cgroups.
 */
export async function stopDockerd(h: LabStateHost, child: ChildProcess | undefined, log: (l: string) => void): Promise<void> {
  const d = h.docker;
  if (!d) return;
  const pid = d.pid;
  // only signal the pid if it still is *our* dockerd (pids get reused after a crash)
  const socket = d.socket;
  const ours = pid !== undefined && socket !== undefined && isAlive(pid) && cmdlineOf(pid).some((a) => a.includes(socket));
  if (ours && pid !== undefined && socket !== undefined) {
    // containers first: a container whose init ignores SIGTERM (sleep as pid 1) would hold the
    // daemon's shutdown for --shutdown-timeout
    try {
      const list = await dockerRequest(socket, 'GET', '/containers/json?all=1', undefined, { timeoutMs: 5_000 });
      const ids = Array.isArray(list.json) ? (list.json as { Id: string }[]).map((c) => c.Id) : [];
      await Promise.all(
        ids.map((id) =>
          dockerRequest(socket, 'DELETE', `/containers/${id}?force=1&v=1`, undefined, { timeoutMs: 15_000 }).catch(() => undefined),
        ),
      );
    } catch {
      /* daemon not answering: it is killed below */
    }
    const logFile = d.logFile;
    const logStart = logFile === undefined ? 0 : sizeOf(logFile);
    kill(pid, 'SIGTERM');
    // After "Daemon shutdown complete" dockerd 20.10 only waits for its
    // containerd to exit, polling once a second: everything worth keeping is
    // done by then (and the lab dir is deleted anyway), so stop waiting there.
    const shutDown = () => logFile !== undefined && readFrom(logFile, logStart).includes('Daemon shutdown complete');
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && !shutDown() && Date.now() < deadline) await sleep(25);
    if (isAlive(pid)) {
      if (!shutDown()) log(`dockerd ${pid} (${h.name}) ignored SIGTERM; killing`);
      kill(pid, 'SIGKILL');
      await waitGone([pid], 5_000);
    }
  }
  child?.removeAllListeners();
  // whatever is left: container processes (by cgroup), containerd and shims (by network namespace)
  for (let round = 0; round < 3; round++) {
    const left = [...cgroupPids(cgroupDirs(d.cgroupParent)), ...(await netnsPids(h.netns))];
    if (left.length === 0) break;
    log(`killing leftover processes of ${h.name}: ${left.join(' ')}`);
    left.forEach((p) => kill(p, 'SIGKILL'));
    await waitGone(left, 5_000);
  }
  const failed = await removeCgroups(cgroupDirs(d.cgroupParent));
  if (failed.length) throw new Error(`cannot remove cgroups: ${failed.join(', ')}`);
}
