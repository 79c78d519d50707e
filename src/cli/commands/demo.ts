/**
 * `macvlanctl demo`: the main job, shown on a sandbox LAN built from network
 * namespaces (src/lab): a router and one Docker host with its own dockerd.
 *
 *   1. the usual manual setup: a macvlan network without a shim, and a container
 *      on it, which reaches the router but not its own host;
 *   2. macvlanctl plan + apply, after which host and container reach each other;
 *   3. status, then destroy, and the sandbox is removed.
 *
 * Everything happens inside the sandbox's namespaces; --root points into its
 * directory and dockerd runs with --iptables=false, so this machine's own
 * network, firewall and /etc are never touched. The sandbox is removed on
 * success, failure and Ctrl-C alike.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { type Lab, type LabHost, LAB_IMAGE, cleanupStaleLabs, createLab } from '../../lab/lab.js';
import { MacvlanError } from '../../model/errors.js';
import { run } from '../../system/exec.js';
import { colors as c } from '../colors.js';

export interface DemoOptions {
  installDeps?: boolean;
  keep?: boolean;
  cleanup?: boolean;
}

// The launcher this process was started from (bundled or not, it is bin/macvlanctl).
const BIN = realpathSync(process.argv[1] ?? 'macvlanctl');
const DEMO_PREFIX = 'mvdemo';
const NETWORK = 'demo-lan';
const HOST = '198.51.100.24';
const SHIM = '198.51.100.223';
const GATEWAY = '198.51.100.1';
const DECLARATION = [NETWORK, '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', `host=${SHIM}`];

/** Programs the sandbox needs, and the Debian package of each. */
const NEEDED: [string, string][] = [
  ['ip', 'iproute2'],
  ['dockerd', 'docker.io'],
  ['containerd', 'docker.io'],
  ['docker', 'docker.io'],
  ['busybox', 'busybox-static'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['sysctl', 'procps'],
];

const SEARCH_PATH = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin']);

function missingPackages(): string[] {
  const missing = NEEDED.filter(([bin]) => !SEARCH_PATH.some((d) => d && existsSync(join(d, bin))));
  return [...new Set(missing.map(([, pkg]) => pkg))];
}

async function preflight(opts: DemoOptions): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new MacvlanError('NOT_PERMITTED', 'macvlanctl demo needs root: it builds network namespaces and runs a private dockerd in one. Run: sudo macvlanctl demo');
  }
  let missing = missingPackages();
  if (missing.length > 0 && opts.installDeps) {
    say(c.bold(`Installing ${missing.join(' ')} with apt-get…`));
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { timeoutMs: 600_000, env });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { timeoutMs: 900_000, env });
    missing = missingPackages();
  }
  if (missing.length > 0) {
    throw new MacvlanError(
      'SYSTEM_ERROR',
      `macvlanctl demo needs these Debian packages: ${missing.join(' ')}. Install them with: apt-get install -y ${missing.join(' ')} — or run: macvlanctl demo --install-deps`,
      { missing },
    );
  }
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Runs macvlanctl inside the sandbox host, as a user on that host would, and
 * shows its stdout and stderr interleaved as they come.
 */
let inFlight: ChildProcess | undefined;

/** Stops a macvlanctl run in flight (on Ctrl-C), so nothing writes into the sandbox while it is removed. */
function stopInFlight(): Promise<void> {
  const child = inFlight;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGTERM');
  });
}

function macvlanctl(lab: Lab, host: LabHost, args: string[]): Promise<{ code: number }> {
  const full = [...args, '--docker-host', host.docker!.dockerHost, '--root', join(lab.dir, 'root')];
  say(c.cyan(`  $ macvlanctl ${args.join(' ')}`));
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${host.netnsPath}`, '--', process.execPath, BIN, ...full], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    inFlight = child;
    let pending = '';
    const write = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) say(`    ${l}`);
    };
    child.stdout.on('data', write);
    child.stderr.on('data', write);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending) say(`    ${pending}`);
      resolve({ code: code ?? 1 });
    });
  });
}

interface Check {
  what: string;
  expected: boolean;
  actual: boolean;
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  if (opts.cleanup) {
    const removed = await cleanupStaleLabs(DEMO_PREFIX, { force: true });
    say(removed.length ? `Removed sandbox(es): ${removed.join(', ')}` : 'No demo sandbox was left.');
    return;
  }
  const started = Date.now();
  await preflight(opts);

  let lab: Lab | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaned ??= lab ? lab.destroy() : Promise.resolve());
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C must not abort the cleanup half-way: say so and carry on.
    if (interrupted) return void process.stderr.write('still removing the sandbox…\n');
    interrupted = true;
    process.stderr.write(`\n${signal}: removing the sandbox…\n`);
    void stopInFlight()
      .then(cleanup)
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const checks: Check[] = [];
  // After Ctrl-C nothing new may start in the sandbox while it is being removed.
  const stopIfInterrupted = () => {
    if (interrupted) throw new MacvlanError('ABORTED', 'interrupted');
  };
  const check = async (what: string, expected: boolean, probe: () => Promise<boolean>, attempts = 1) => {
    stopIfInterrupted();
    let actual = false;
    for (let i = 0; i < attempts && !actual; i++) actual = await probe();
    checks.push({ what, expected, actual });
    const mark = actual === expected ? c.green('✓') : c.red('✗');
    say(`  ${mark} ${what}: ${actual ? 'reaches' : 'does not reach'}${actual === expected ? '' : c.red(` (expected: ${expected ? 'reaches' : 'does not reach'})`)}`);
  };

  try {
    say(c.bold('Building the sandbox LAN: a router (198.51.100.1) and a Docker host "h1" (eno1 = 198.51.100.24) with its own dockerd…'));
    lab = await createLab({ prefix: `${DEMO_PREFIX}${process.pid.toString(36).slice(-4)}`, docker: true, hosts: [{ name: 'h1', address: HOST }] });
    const host = lab.host('h1');
    say(`  ready in ${lab.timings.total ?? '?'} ms (namespaces ${lab.prefix}-lan and ${host.netns})`);
    const show = (args: string[]) => {
      stopIfInterrupted();
      return macvlanctl(lab!, host, args);
    };
    const containerPing = (address: string) => async () => (await host.dockerCli(['exec', 'web', 'ping', '-c', '1', '-W', '1', address])).code === 0;
    const hostPing = (address: string) => async () => (await host.exec(['busybox', 'ping', '-c', '1', '-W', '1', address])).code === 0;

    say();
    say(c.bold('1. The usual manual setup: a macvlan network, no shim'));
    const first = await show(['apply', ...DECLARATION, '--no-host-access', '--yes']);
    if (first.code !== 0) throw new MacvlanError('APPLY_FAILED', 'the first apply (without a shim) failed; see above');
    say(c.cyan(`  $ docker run -d --network ${NETWORK} --name web ${LAB_IMAGE} sleep 3600`));
    stopIfInterrupted();
    const started1 = await host.dockerCli(['run', '-d', '--network', NETWORK, '--name', 'web', LAB_IMAGE, 'sleep', '3600']);
    if (started1.code !== 0) throw new MacvlanError('SYSTEM_ERROR', `could not start the demo container: ${started1.stderr.trim()}`);
    const web = (await host.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'web'])).stdout.trim();
    say(`  container web is on the LAN at ${web}`);
    await check(`container → router ${GATEWAY}`, true, containerPing(GATEWAY));
    await check(`container → its host ${HOST}`, false, containerPing(HOST));
    await check(`host → container ${web}`, false, hostPing(web));
    say(c.dim('  The macvlan parent never passes frames between the host and its own containers.'));

    say();
    say(c.bold('2. macvlanctl adds the host shim'));
    await show(['plan', ...DECLARATION]);
    const second = await show(['apply', ...DECLARATION, '--yes']);
    if (second.code !== 0) throw new MacvlanError('APPLY_FAILED', 'apply failed; see above');
    // The failed attempts above left ARP entries being resolved; the kernel
    // re-asks on its own one-second timer, so allow a few tries.
    await check(`container → its host ${HOST}`, true, containerPing(HOST), 3);
    await check(`container → shim ${SHIM}`, true, containerPing(SHIM), 3);
    await check(`host → container ${web}`, true, hostPing(web), 3);
    await check(`container → router ${GATEWAY}`, true, containerPing(GATEWAY));

    say();
    say(c.bold('3. Status'));
    await show(['status', NETWORK]);

    if (!opts.keep) {
      say();
      say(c.bold('4. Clean up'));
      await show(['destroy', NETWORK, '--force', '--yes']);
    }
  } catch (e) {
    // Interrupted: the step in flight fails because the sandbox is going away.
    // That is not news; the signal handler exits once the sandbox is gone.
    if (interrupted) await new Promise<never>(() => {});
    throw e;
  } finally {
    if (opts.keep && lab) {
      say();
      say(c.bold('The sandbox is still running (--keep):'));
      say(`  enter the Docker host:   nsenter --net=/run/netns/${lab.prefix}-h1 bash`);
      say(`  its Docker engine:       DOCKER_HOST=${lab.hosts[0]?.docker?.dockerHost ?? '?'} docker ps`);
      say('  remove it:               macvlanctl demo --cleanup');
    } else if (!interrupted) {
      await cleanup();
      if (lab) say(c.dim(`Sandbox removed in ${lab.timings.destroy ?? '?'} ms.`));
    }
    if (!interrupted) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
  if (interrupted) return new Promise<void>(() => {}); // the signal handler exits once the sandbox is gone

  const wrong = checks.filter((x) => x.expected !== x.actual);
  say();
  say(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${checks.length - wrong.length} of ${checks.length} checks as expected.`);
  if (wrong.length > 0) {
    throw new MacvlanError('APPLY_FAILED', `the demo did not go as expected: ${wrong.map((w) => w.what).join('; ')}`, { failed: wrong });
  }
}
