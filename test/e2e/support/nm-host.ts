/**
 * A lab host on which NetworkManager is "installed", enabled and running —
 * without touching this machine's /etc, /usr, /var/lib or /run.
 *
 * One holder process sits in the lab host's network namespace and in a
 * private mount namespace (`unshare --mount --propagation private`) where
 *
 *   - a tmpfs on DIR/layers holds the overlay upper and work directories,
 *   - /etc, /usr and /var/lib are overlayfs mounts: the machine's own tree
 *     read-only below, those tmpfs directories on top — every write lands in
 *     the tmpfs, which vanishes with the namespace (also after a crash),
 *   - /run is an empty tmpfs (a fresh boot's /run: no netns, no D-Bus socket),
 *   - /sys is the lab namespace's own sysfs, read-only (NetworkManager then
 *     does not wait for udev).
 *
 * The upper layers are seeded with what installing and enabling Debian's
 * network-manager would put there: /usr/sbin/NetworkManager and
 * /usr/bin/nmcli (wrappers around the programs scripts/fetch-tools.sh
 * unpacked into .tools/), the unit and its multi-user.target.wants link,
 * /etc/NetworkManager/NetworkManager.conf, and the caller's profiles.
 *
 * Every command (dbus-daemon, NetworkManager, nmcli, the CLI) runs in both
 * namespaces through `nsenter -t HOLDER -n -m`, with DBUS_SYSTEM_BUS_ADDRESS
 * set to a private bus whose socket lives in the tmpfs: a command that ended
 * up outside the namespace would find no bus rather than the machine's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ExecOptions, type ExecResult, type LabHost, run } from '../lab.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
export const NM_TOOLS = join(REPO, '.tools', 'root');
export const NM_DAEMON = join(NM_TOOLS, 'usr', 'sbin', 'NetworkManager');
export const NM_NMCLI = join(NM_TOOLS, 'usr', 'bin', 'nmcli');
const NM_UNIT = join(NM_TOOLS, 'lib', 'systemd', 'system', 'NetworkManager.service');
const LIBS = [join(NM_TOOLS, 'usr', 'lib', 'x86_64-linux-gnu'), join(NM_TOOLS, 'lib', 'x86_64-linux-gnu')].join(':');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What is missing on this machine for an NmHost, with the fix; empty when nothing is. */
export function nmHostMissing(): string[] {
  const out: string[] = [];
  if (!existsSync(NM_DAEMON) || !existsSync(NM_NMCLI) || !existsSync(NM_UNIT)) {
    out.push(`NetworkManager and nmcli under ${NM_TOOLS} (run scripts/fetch-tools.sh; delete .tools/ first if it is from before the daemon test)`);
  }
  if (!findDbusDaemon()) out.push('dbus-daemon (Debian: apt-get install dbus-daemon)');
  if (!readFileSync('/proc/filesystems', 'utf8').includes('\toverlay\n')) out.push('overlayfs in the kernel (modprobe overlay)');
  return out;
}

function findDbusDaemon(): string | undefined {
  return ['/usr/bin/dbus-daemon', '/bin/dbus-daemon'].find((p) => existsSync(p));
}

/** The NetworkManager.conf of the lab host. */
export const NM_CONF = [
  '[main]',
  'plugins=keyfile',
  // No "Wired connection 1" for a device without a profile.
  'no-auto-default=*',
  // Leave resolv.conf and the hostname alone (they would land in the overlay anyway).
  'dns=none',
  'rc-manager=unmanaged',
  'hostname-mode=none',
  // No polkit on the private bus: root only, which nmcli is here.
  'auth-polkit=false',
  '',
  '[keyfile]',
  'path=/etc/NetworkManager/system-connections',
  '',
  '[connectivity]',
  'enabled=false',
  '',
].join('\n');

export interface NmHostOptions {
  /** Files to put into the overlaid /etc, by path relative to /etc (mode 0600 for keyfiles, else 0644). */
  etc: Record<string, string>;
}

export interface NmHost {
  dir: string;
  holderPid: number;
  busAddress: string;
  /** The lab host, but every exec runs inside the private mount namespace, with the private bus. */
  host: LabHost;
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  nmcli(args: string[]): Promise<ExecResult>;
  /** Starts NetworkManager and waits until its startup is complete. */
  startNetworkManager(): Promise<void>;
  /** SIGTERM to NetworkManager's own pid (it leaves the devices configured, as on a service restart). */
  stopNetworkManager(): Promise<void>;
  nmPid(): number | undefined;
  /** NetworkManager's log (all runs). */
  log(): string;
  /** What the mount namespace shows at a path, and the mount's type there. */
  mountType(path: string): string | undefined;
  /** Stops NetworkManager, dbus-daemon and the holder (each by its own pid); removes the directory. */
  close(): Promise<void>;
}

function alive(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

async function stopProc(p: ChildProcess | undefined): Promise<void> {
  if (!p || !alive(p)) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  if (alive(p)) {
    p.kill('SIGKILL');
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  }
}

/** The first line a child prints on stdout (or its exit, as an error). */
function firstLine(p: ChildProcess, what: string, log: () => string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms\n${log()}`)), ms);
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code})\n${log()}`));
    });
  });
}

function seed(dir: string, rel: string, content: string, mode: number): void {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

function wrapper(program: string): string {
  return `#!/bin/sh\nLD_LIBRARY_PATH="${LIBS}" exec "${program}" "$@"\n`;
}

export async function createNmHost(h: LabHost, opts: NmHostOptions): Promise<NmHost> {
  const missing = nmHostMissing();
  if (missing.length) throw new Error(`the NetworkManager daemon test needs: ${missing.join('; ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'mvl-nm-'));
  const layers = join(dir, 'layers');
  const seedDir = join(dir, 'seed');
  mkdirSync(layers);
  // /usr: the programs and the unit, as the package installs them.
  seed(seedDir, 'usr/sbin/NetworkManager', wrapper(NM_DAEMON), 0o755);
  seed(seedDir, 'usr/bin/nmcli', wrapper(NM_NMCLI), 0o755);
  seed(seedDir, 'usr/lib/systemd/system/NetworkManager.service', readFileSync(NM_UNIT, 'utf8'), 0o644);
  // /etc: enabled (systemctl enable's link), its configuration, the caller's files.
  mkdirSync(join(seedDir, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
  symlinkSync('/lib/systemd/system/NetworkManager.service', join(seedDir, 'etc/systemd/system/multi-user.target.wants/NetworkManager.service'));
  seed(seedDir, 'etc/NetworkManager/NetworkManager.conf', NM_CONF, 0o644);
  mkdirSync(join(seedDir, 'etc/NetworkManager/conf.d'), { recursive: true });
  mkdirSync(join(seedDir, 'etc/NetworkManager/system-connections'), { recursive: true });
  chmodSync(join(seedDir, 'etc/NetworkManager/system-connections'), 0o700);
  for (const [rel, content] of Object.entries(opts.etc)) seed(join(seedDir, 'etc'), rel, content, rel.endsWith('.nmconnection') ? 0o600 : 0o644);

  const bus = join(layers, 'bus');
  const busAddress = `unix:path=${join(bus, 'system_bus_socket')}`;
  const overlay = (target: string, name: string) =>
    `mkdir ${layers}/${name} ${layers}/${name}/upper ${layers}/${name}/work && ` +
    (existsSync(join(seedDir, name)) ? `cp -a ${seedDir}/${name}/. ${layers}/${name}/upper/ && ` : '') +
    `mount -t overlay overlay -o lowerdir=${target},upperdir=${layers}/${name}/upper,workdir=${layers}/${name}/work ${target}`;
  const script = [
    'set -e',
    `mount -t tmpfs -o mode=700 tmpfs ${layers}`,
    overlay('/etc', 'etc'),
    overlay('/usr', 'usr'),
    overlay('/var/lib', 'var-lib'),
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mount -t sysfs -o ro sysfs /sys',
    `mkdir -m 755 ${bus}`,
    'echo ready',
    'exec sleep 2147483647',
  ].join('\n');
  const holder = spawn('nsenter', [`--net=${h.netnsPath}`, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let holderErr = '';
  holder.stderr!.on('data', (d) => (holderErr += d));
  let dbus: ChildProcess | undefined;
  let nm: ChildProcess | undefined;
  let nmLog = '';
  let dbusLog = '';

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${SYSTEM_PATH}:${process.env.PATH ?? ''}`, DBUS_SYSTEM_BUS_ADDRESS: busAddress, LC_ALL: 'C' });
  const enter = (pid: number) => ['-t', String(pid), '-n', '-m', '--'];

  const close = async (): Promise<void> => {
    await stopProc(nm);
    await stopProc(dbus);
    await stopProc(holder);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await firstLine(holder, 'the mount namespace holder', () => holderErr, 10_000);
    const holderPid = holder.pid!;
    const mountType = (path: string): string | undefined => {
      // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPEROPTS; the last mount at a point wins.
      let type: string | undefined;
      for (const line of readFileSync(`/proc/${holderPid}/mountinfo`, 'utf8').split('\n')) {
        const f = line.split(' ');
        const sep = f.indexOf('-');
        if (f[4] === path && sep > 0) type = f[sep + 1];
      }
      return type;
    };
    // The guard every later command relies on: nothing below may reach the machine's own trees.
    const expected: Record<string, string> = { '/etc': 'overlay', '/usr': 'overlay', '/var/lib': 'overlay', '/run': 'tmpfs', [layers]: 'tmpfs' };
    for (const [p, t] of Object.entries(expected)) {
      if (mountType(p) !== t) throw new Error(`the private mount namespace has ${mountType(p) ?? 'nothing'} at ${p}, not ${t}: refusing to go on`);
    }

    const exec = (cmd: string[], o: ExecOptions = {}): Promise<ExecResult> => {
      if (!alive(holder)) return Promise.reject(new Error('the mount namespace holder is gone: refusing to run outside it'));
      return run('nsenter', [...enter(holderPid), ...cmd], { ...o, env: { ...env(), ...o.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress } });
    };

    writeFileSync(
      join(dir, 'dbus.conf'),
      [
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">',
        '<busconfig>',
        '  <type>system</type>',
        `  <listen>${busAddress}</listen>`,
        '  <auth>EXTERNAL</auth>',
        // No <servicedir>: nothing is started on demand (no polkit, no nm-dispatcher).
        '  <policy context="default">',
        '    <allow user="root"/>',
        '    <allow own="*"/>',
        '    <allow send_destination="*"/>',
        '    <allow receive_sender="*"/>',
        '  </policy>',
        '</busconfig>',
        '',
      ].join('\n'),
    );
    dbus = spawn('nsenter', [...enter(holderPid), findDbusDaemon()!, `--config-file=${join(dir, 'dbus.conf')}`, '--nofork', '--print-address'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env(),
    });
    dbus.stderr!.on('data', (d) => (dbusLog += d));
    const addr = await firstLine(dbus, 'dbus-daemon', () => dbusLog, 10_000);
    if (!addr.startsWith(busAddress)) throw new Error(`dbus-daemon listens on ${addr}, not ${busAddress}`);

    const nmcli = (args: string[]) => exec(['nmcli', ...args], { timeoutMs: 15_000 });
    const self: NmHost = {
      dir,
      holderPid,
      busAddress,
      host: { ...h, exec },
      exec,
      nmcli,
      mountType,
      nmPid: () => (nm && alive(nm) ? nm.pid : undefined),
      log: () => nmLog,
      async startNetworkManager() {
        if (nm && alive(nm)) throw new Error('NetworkManager is already running');
        nmLog += `--- NetworkManager started at ${new Date().toISOString()}\n`;
        nm = spawn('nsenter', [...enter(holderPid), '/usr/sbin/NetworkManager', '--no-daemon', '--debug', '--log-level=INFO', '--config=/etc/NetworkManager/NetworkManager.conf'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: env(),
        });
        nm.stdout!.on('data', (d) => (nmLog += d));
        nm.stderr!.on('data', (d) => (nmLog += d));
        const end = Date.now() + 20_000;
        for (;;) {
          if (!alive(nm)) throw new Error(`NetworkManager exited (${nm.exitCode ?? nm.signalCode})\n${nmLog}`);
          const r = await nmcli(['-t', '-f', 'RUNNING,STARTUP', 'general']).catch(() => undefined);
          if (r?.code === 0 && r.stdout.trim() === 'running:started') return;
          if (Date.now() > end) throw new Error(`NetworkManager did not finish starting in 20 s\n${nmLog}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      },
      async stopNetworkManager() {
        await stopProc(nm);
      },
      close,
    };
    return self;
  } catch (e) {
    await close();
    throw e;
  }
}
