// A throwaway LAN built from Linux network namespaces, with an optional real dockerd per host.
//
//   ${prefix}-lan        the "switch + router": bridge br0 holding ${subnet}.1/24 (+ 2001:db8:N::1/64)
//   ${prefix}-${name}    one namespace per Docker host: veth `eno1` (peer `p-${name}` is a port of br0),
//                        ${address}/24, default route via ${subnet}.1; no route anywhere else
//
// dockerd (Debian docker.io 20.10) runs in a host namespace, started as
//   nsenter --net=/run/netns/NS -- unshare --mount --uts --propagation private -- \
//     sh -c 'mount -n -t tmpfs … /run && hostname NAME && exec dockerd …'
// The private mount namespace with its own /run keeps dockerd hermetic: without it dockerd 20.10 writes
// /run/docker/plugins and its containerd /run/containerd/s on the real machine, and — worse — it would
// *adopt a system containerd* if /run/containerd/containerd.sock exists (moby cmd/dockerd
// systemContainerdRunning), as on CI runners that run Docker. All of dockerd's mounts (the data-root
// self-bind, overlay2 mounts, nsfs mounts) live in that namespace and disappear with its processes.
// `--config-file` (our own, with "deprecated-key-path") keeps it from reading /etc/docker/daemon.json and
// from writing /etc/docker/key.json, and `--cgroup-parent /macvlanctl-NS` puts containers into cgroups that
// destroy() can find, kill and remove.
//
// Plain Node (no vitest imports): used by the e2e tests and by `macvlanctl demo`.
// Everything the lab makes is recorded in ${os.tmpdir()}/macvlanctl-lab-${prefix}/lab.json before it is
// made, so cleanupStaleLabs() can remove what a crashed run left behind.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// ---------------------------------------------------------------------------------------------------
// Public types

export type LabSubnet = '198.51.100' | '203.0.113';

export interface LabHostSpec {
  /** short name, [a-z][a-z0-9]{0,9}; the namespace is `${prefix}-${name}` */
  name: string;
  /** IPv4 address inside the lab subnet, e.g. '198.51.100.24' */
  address: string;
}

export interface LabOptions {
  /** unique per run; [a-z][a-z0-9]{1,11}; default 'mvl' + 6 random hex digits */
  prefix?: string;
  /** default '198.51.100' */
  subnet?: LabSubnet;
  /** default one host `h1` at .24 */
  hosts?: LabHostSpec[];
  /** start a dockerd in every host namespace (with the busybox image imported); default false */
  docker?: boolean;
  /** IPv6 on the LAN (2001:db8:1::/64 for 198.51.100, 2001:db8:2::/64 for 203.0.113); default true */
  ipv6?: boolean;
  /** extra dockerd arguments (appended) */
  dockerdArgs?: string[];
  /** how long to wait for dockerd's /_ping; default 30 s */
  dockerdTimeoutMs?: number;
  /** progress lines (e.g. console.error); default silent */
  log?: (line: string) => void;
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** throw LabCommandError on a non-zero exit; default false */
  check?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface LabDocker {
  /** unix socket path */
  socket: string;
  /** `unix://${socket}`, for DOCKER_HOST */
  dockerHost: string;
  pid: number;
  dataRoot: string;
  execRoot: string;
  logFile: string;
  cgroupParent: string;
  /** Engine API version from GET /_ping (Api-Version header) */
  apiVersion: string;
  /** tag of the imported busybox image */
  image: string;
}

export interface LabHost {
  name: string;
  netns: string;
  /** /run/netns/NAME */
  netnsPath: string;
  nic: 'eno1';
  address: string;
  /** prefix length of `address` on eno1 (24) */
  prefixLength: number;
  address6?: string;
  mac: string;
  docker?: LabDocker;
  /** run a command inside the host's network namespace (nsenter --net) */
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** run the docker CLI against this host's dockerd (DOCKER_HOST set, DOCKER_CONFIG inside the lab dir) */
  dockerCli(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** one Engine API call to this host's dockerd; body is JSON-encoded */
  dockerApi(method: string, path: string, body?: unknown): Promise<DockerResponse>;
}

export interface Lab {
  prefix: string;
  /** the lab's temp dir (state, docker roots, logs) */
  dir: string;
  subnet: LabSubnet;
  lanNetns: string;
  /** router address on br0, e.g. '198.51.100.1' */
  gateway: string;
  gateway6?: string;
  /** '198.51.100.0/24' */
  cidr: string;
  cidr6?: string;
  hosts: LabHost[];
  host(name: string): LabHost;
  /** run a command inside the LAN (router/switch) namespace */
  lanExec(cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** milliseconds per creation step */
  timings: Record<string, number>;
  /** idempotent; also safe while another destroy() is running */
  destroy(): Promise<void>;
}

export interface DockerResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** body parsed as JSON when it is JSON, else undefined */
  json: unknown;
}

export class LabCommandError extends Error {
  constructor(
    readonly cmd: string[],
    readonly result: ExecResult,
  ) {
    super(`command failed (exit ${result.code}): ${cmd.join(' ')}\n${result.stderr.trim()}`);
    this.name = 'LabCommandError';
  }
}

export const LAB_IMAGE = 'macvlanctl-busybox:latest';

// ---------------------------------------------------------------------------------------------------
// Process helpers

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function run(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        env: opts.env ?? { ...process.env, PATH: process.env.PATH ?? SYSTEM_PATH },
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`cannot run ${file}: ${err.message}`));
          return;
        }
        let code = 0;
        if (err) {
          const e = err as { code?: number | null; killed?: boolean; signal?: string | null };
          code = typeof e.code === 'number' ? e.code : 128;
          if (e.killed) stderr += `\n(killed after ${opts.timeoutMs ?? 60_000} ms)`;
        }
        const result = { stdout, stderr, code };
        if (opts.check && code !== 0) reject(new LabCommandError([file, ...args], result));
        else resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

function runChecked(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(file, args, { ...opts, check: true });
}

/** `ip -n NS -batch -` with the given lines (one netlink command each) */
async function ipBatch(netns: string, lines: string[]): Promise<void> {
  await runChecked('ip', ['-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** true when the process exists and is not a zombie */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !isAlive(p))) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation and naming

const PREFIX_RE = /^[a-z][a-z0-9]{1,11}$/;
const HOST_RE = /^[a-z][a-z0-9]{0,9}$/;
const LAB_DIR_PREFIX = 'macvlanctl-lab-';

function labDirFor(prefix: string): string {
  return join(tmpdir(), `${LAB_DIR_PREFIX}${prefix}`);
}

function cgroupParentFor(netns: string): string {
  return `/macvlanctl-${netns}`;
}

function v6PrefixFor(subnet: LabSubnet): string {
  return subnet === '198.51.100' ? '2001:db8:1::' : '2001:db8:2::';
}

/** 02:00 + the four IPv4 bytes: stable across runs, locally administered */
function macFor(address: string): string {
  return ['02', '00', ...address.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

// ---------------------------------------------------------------------------------------------------
// State file (written before anything is created, so a crash leaves a map of what to remove)

interface LabStateHost {
  name: string;
  netns: string;
  docker?: { pid?: number; socket?: string; cgroupParent: string };
}

interface LabState {
  version: 1;
  prefix: string;
  ownerPid: number;
  createdAt: string;
  dir: string;
  netns: string[];
  hosts: LabStateHost[];
}

function writeState(state: LabState): void {
  const file = join(state.dir, 'lab.json');
  writeFileSync(file + '.tmp', JSON.stringify(state, null, 2) + '\n');
  renameSync(file + '.tmp', file); // atomic: readers never see half a file
}

function readState(dir: string): LabState | undefined {
  try {
    const s = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabState;
    return s.version === 1 ? s : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Busybox image (rootfs tarball built once per process)

let busyboxTar: Promise<Buffer> | undefined;

function findStaticBusybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox']) {
    if (!existsSync(p)) continue;
    const head = readFileSync(p).subarray(0, 8192).toString('latin1');
    if (head.includes('/ld-linux') || head.includes('/ld-musl')) {
      throw new Error(`${p} is dynamically linked; install busybox-static`);
    }
    return p;
  }
  throw new Error('busybox not found; install busybox-static');
}

/**
 * A tar of a busybox rootfs (/bin/busybox + applet symlinks from `busybox --list-full`, /etc/passwd),
 * built once per process and kept in memory (~2 MB), so no file outlives the process.
 */
export function busyboxRootfsTar(): Promise<Buffer> {
  busyboxTar ??= (async () => {
    const bin = findStaticBusybox();
    const dir = mkdtempSync(join(tmpdir(), 'macvlanctl-busybox-'));
    try {
      const root = join(dir, 'rootfs');
      for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var']) {
        mkdirSync(join(root, d), { recursive: true });
      }
      copyFileSync(bin, join(root, 'bin/busybox'));
      const { stdout } = await runChecked(bin, ['--list-full']);
      for (const rel of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
        if (rel === 'bin/busybox' || rel.includes('..')) continue;
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        try {
          symlinkSync('/bin/busybox', join(root, rel));
        } catch {
          /* duplicate applet name */
        }
      }
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
      const tar = join(dir, 'rootfs.tar');
      await runChecked('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
      return readFileSync(tar);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  busyboxTar.catch(() => {
    busyboxTar = undefined;
  });
  return busyboxTar;
}

// ---------------------------------------------------------------------------------------------------
// Engine API over a unix socket

export function dockerRequest(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  opts: { timeoutMs?: number; rawBody?: Buffer; contentType?: string } = {},
): Promise<DockerResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    } else if (opts.rawBody) {
      headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
      headers['Content-Length'] = String(opts.rawBody.length);
    }
    const req = request({ socketPath: socket, method, path, headers, timeout: opts.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.end(payload);
    else if (opts.rawBody) req.end(opts.rawBody);
    else req.end();
  });
}

async function importImage(socket: string, tar: Buffer, image: string): Promise<void> {
  const [repo, tag = 'latest'] = image.split(':');
  const q = new URLSearchParams({ fromSrc: '-', repo: repo ?? image, tag, changes: 'CMD ["/bin/sh"]' });
  const res = await dockerRequest(socket, 'POST', `/images/create?${q.toString()}`, undefined, {
    rawBody: tar,
    contentType: 'application/x-tar',
    timeoutMs: 120_000,
  });
  // the answer is a stream of JSON progress lines; failures show up as {"errorDetail":…} in a 200
  if (res.status !== 200 || res.body.includes('"errorDetail"')) {
    throw new Error(`docker import ${image}: HTTP ${res.status} ${res.body.trim()}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Lab creation

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const log = opts.log ?? (() => {});
  const prefix = opts.prefix ?? `mvl${randomBytes(3).toString('hex')}`;
  if (!PREFIX_RE.test(prefix)) throw new Error(`lab prefix ${JSON.stringify(prefix)} must match ${PREFIX_RE}`);
  const subnet: LabSubnet = opts.subnet ?? '198.51.100';
  if (subnet !== '198.51.100' && subnet !== '203.0.113') throw new Error(`lab subnet must be 198.51.100 or 203.0.113`);
  const ipv6 = opts.ipv6 ?? true;
  const specs = opts.hosts ?? [{ name: 'h1', address: `${subnet}.24` }];
  const seenNames = new Set<string>();
  const seenAddrs = new Set<string>([`${subnet}.1`]);
  for (const h of specs) {
    if (!HOST_RE.test(h.name)) throw new Error(`lab host name ${JSON.stringify(h.name)} must match ${HOST_RE}`);
    const m = /^(\d+\.\d+\.\d+)\.(\d+)$/.exec(h.address);
    const last = m ? Number(m[2]) : NaN;
    if (!m || m[1] !== subnet || !(last >= 2 && last <= 254)) {
      throw new Error(`lab host ${h.name}: address ${h.address} must be in ${subnet}.2-254`);
    }
    if (seenNames.has(h.name) || seenAddrs.has(h.address)) throw new Error(`lab host ${h.name}/${h.address}: duplicate`);
    seenNames.add(h.name);
    seenAddrs.add(h.address);
  }
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, dockerd)');

  const dir = labDirFor(prefix);
  mkdirSync(dir, { mode: 0o700 }); // throws if the prefix is in use
  const lanNetns = `${prefix}-lan`;
  const state: LabState = {
    version: 1,
    prefix,
    ownerPid: process.pid,
    createdAt: new Date().toISOString(),
    dir,
    netns: [lanNetns, ...specs.map((h) => `${prefix}-${h.name}`)],
    hosts: specs.map((h) => ({ name: h.name, netns: `${prefix}-${h.name}` })),
  };
  writeState(state);

  const timings: Record<string, number> = {};
  const children = new Map<string, ChildProcess>();
  let destroying: Promise<void> | undefined;
  const destroy = (): Promise<void> => {
    if (!destroying) {
      const t0 = Date.now();
      destroying = destroyState(state, children, log).finally(() => {
        timings.destroy = Date.now() - t0;
      });
    }
    return destroying;
  };

  const gateway = `${subnet}.1`;
  const v6 = v6PrefixFor(subnet);
  const gateway6 = ipv6 ? `${v6}1` : undefined;
  const tAll = Date.now();
  try {
    // namespaces
    let t = Date.now();
    await runChecked('ip', ['-batch', '-'], { input: state.netns.map((n) => `netns add ${n}`).join('\n') + '\n' });
    // No IPv6 duplicate address detection: link-local addresses would stay
    // "tentative" for a second or two after creation, and a test comparing the
    // host before and after would see them (and their local routes) change.
    await Promise.all(
      state.netns.map((n) =>
        runChecked('ip', ['netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']),
      ),
    );
    const lanLines = [
      'link set lo up',
      'link add br0 type bridge forward_delay 0 stp_state 0',
      `addr add ${gateway}/24 dev br0`,
      ...(ipv6 ? [`addr add ${gateway6}/64 dev br0 nodad`] : []),
      'link set br0 up',
    ];
    await ipBatch(lanNetns, lanLines);
    const hosts: LabHost[] = [];
    for (const spec of specs) {
      const netns = `${prefix}-${spec.name}`;
      const last = spec.address.split('.')[3] ?? '';
      const address6 = ipv6 ? `${v6}${last}` : undefined;
      const mac = macFor(spec.address);
      const peer = `p-${spec.name}`;
      // the veth is created inside the host namespace with its peer directly in the LAN namespace:
      // nothing ever appears in the root namespace
      await ipBatch(netns, [
        'link set lo up',
        `link add eno1 address ${mac} type veth peer name ${peer} netns ${lanNetns}`,
        `addr add ${spec.address}/24 dev eno1`,
        ...(address6 ? [`addr add ${address6}/64 dev eno1 nodad`] : []),
        'link set eno1 up',
        `route add default via ${gateway} dev eno1`,
        ...(gateway6 ? [`route add default via ${gateway6} dev eno1`] : []),
      ]);
      await ipBatch(lanNetns, [`link set ${peer} master br0`, `link set ${peer} up`]);
      hosts.push(makeHost(dir, spec, netns, mac, address6));
    }
    timings.network = Date.now() - t;
    log(`lab ${prefix}: namespaces ready in ${timings.network} ms`);

    if (opts.docker) {
      t = Date.now();
      const tarPromise = busyboxRootfsTar();
      const tTar = Date.now();
      void tarPromise.then(() => (timings.busyboxTar ??= Date.now() - tTar), () => undefined);
      // allSettled: when one dockerd fails, wait for the others to be started (and recorded) before
      // the cleanup below runs, so none is left behind
      const settled = await Promise.allSettled(
        hosts.map(async (host, i) => {
          const sh = state.hosts[i];
          if (!sh) throw new Error('internal: host state missing');
          const t0 = Date.now();
          const d = await startDockerd(dir, host, gateway, opts, state, sh, children);
          timings[`dockerd:${host.name}`] = Date.now() - t0;
          const tar = await tarPromise;
          const t1 = Date.now();
          await importImage(d.socket, tar, LAB_IMAGE);
          timings[`import:${host.name}`] = Date.now() - t1;
          host.docker = d;
          log(`lab ${prefix}: dockerd on ${host.name} up in ${timings[`dockerd:${host.name}`]} ms, image in ${timings[`import:${host.name}`]} ms`);
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      timings.docker = Date.now() - t;
    }
    timings.total = Date.now() - tAll;

    const lab: Lab = {
      prefix,
      dir,
      subnet,
      lanNetns,
      gateway,
      cidr: `${subnet}.0/24`,
      hosts,
      timings,
      host(name: string): LabHost {
        const h = hosts.find((x) => x.name === name);
        if (!h) throw new Error(`lab ${prefix} has no host ${name}`);
        return h;
      },
      lanExec: (cmd, o) => nsExec(lanNetns, cmd, o),
      destroy,
    };
    if (ipv6) {
      lab.gateway6 = gateway6;
      lab.cidr6 = `${v6}/64`;
    }
    return lab;
  } catch (err) {
    log(`lab ${prefix}: creation failed, cleaning up: ${(err as Error).message}`);
    await destroy().catch((e: unknown) => log(`lab ${prefix}: cleanup after failure: ${(e as Error).message}`));
    throw err;
  }
}

function nsExec(netns: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult> {
  if (cmd.length === 0) throw new Error('exec: empty command');
  return run('nsenter', [`--net=/run/netns/${netns}`, '--', ...cmd], opts);
}

function makeHost(dir: string, spec: LabHostSpec, netns: string, mac: string, address6: string | undefined): LabHost {
  const host: LabHost = {
    name: spec.name,
    netns,
    netnsPath: `/run/netns/${netns}`,
    nic: 'eno1',
    address: spec.address,
    prefixLength: 24,
    mac,
    exec: (cmd, o) => nsExec(netns, cmd, o),
    dockerCli(args, o) {
      if (!host.docker) throw new Error(`lab host ${spec.name} has no dockerd`);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? SYSTEM_PATH,
        HOME: process.env.HOME ?? '/root',
        DOCKER_HOST: host.docker.dockerHost,
        DOCKER_CONFIG: join(dir, 'docker-config'),
      };
      return run('docker', args, { ...o, env: { ...env, ...o?.env } });
    },
    dockerApi(method, path, body) {
      if (!host.docker) throw new Error(`lab host ${spec.name} has no dockerd`);
      return dockerRequest(host.docker.socket, method, path, body);
    },
  };
  if (address6) host.address6 = address6;
  return host;
}

// sh script run inside the new mount + UTS namespaces: a private /run, the host's own hostname (so Swarm
// nodes and `docker info` tell the hosts apart), then dockerd ("$1" is the hostname, the rest dockerd's argv).
// `-n`: util-linux mount would otherwise create /run/mount/utab on the real /run before mounting
const DOCKERD_WRAPPER = 'mount -n -t tmpfs -o mode=0755 macvlanctl-run /run && hostname "$1" && shift && exec "$@"';

async function startDockerd(
  dir: string,
  host: LabHost,
  gateway: string,
  opts: LabOptions,
  state: LabState,
  sh: LabStateHost,
  children: Map<string, ChildProcess>,
): Promise<LabDocker> {
  const base = join(dir, host.name);
  const dataRoot = join(base, 'd');
  const execRoot = join(base, 'x');
  const socket = join(base, 'docker.sock');
  const logFile = join(base, 'dockerd.log');
  const configFile = join(base, 'daemon.json');
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
  const cgroupParent = cgroupParentFor(host.netns);
  sh.docker = { socket, cgroupParent };
  writeState(state);

  const args = [
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
    ...(opts.dockerdArgs ?? []),
  ];
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('nsenter', args, {
      stdio: ['ignore', out, out],
      env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' },
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start dockerd for ${host.name}`);
  child.unref();
  children.set(host.name, child);
  // nsenter, unshare and sh all exec: the pid is dockerd's
  sh.docker.pid = pid;
  writeState(state);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  child.once('error', (e) => {
    exited = e.message;
  });

  const timeout = opts.dockerdTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeout;
  let apiVersion: string | undefined;
  for (;;) {
    if (exited) throw new Error(`dockerd on ${host.name} stopped (${exited}):\n${tail(logFile, 25)}`);
    try {
      const res = await dockerRequest(socket, 'GET', '/_ping', undefined, { timeoutMs: 2_000 });
      if (res.status === 200) {
        const v = res.headers['api-version'];
        apiVersion = Array.isArray(v) ? v[0] : v;
        break;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`dockerd on ${host.name}: no /_ping answer within ${timeout} ms:\n${tail(logFile, 25)}`);
    await sleep(50);
  }
  return {
    socket,
    dockerHost: `unix://${socket}`,
    pid,
    dataRoot,
    execRoot,
    logFile,
    cgroupParent,
    apiVersion: apiVersion ?? 'unknown',
    image: LAB_IMAGE,
  };
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------------------------------
// Teardown

/** mount points at or under `dir` in a mountinfo file (deepest first) */
export function mountsUnder(dir: string, mountinfo = '/proc/self/mountinfo'): string[] {
  let text = '';
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** cgroup directories of a cgroup parent, one per mounted hierarchy */
function cgroupDirs(parent: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    const fstype = post?.split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mnt = pre?.split(' ')[4];
    if (!mnt) continue;
    const d = join(mnt, parent);
    if (existsSync(d)) out.push(d);
  }
  return out;
}

function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  const walk = (d: string) => {
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* removed meanwhile */
    }
  };
  dirs.forEach(walk);
  return [...pids];
}

async function removeCgroups(dirs: string[]): Promise<string[]> {
  const failed: string[] = [];
  const rm = async (d: string): Promise<void> => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name));
    } catch {
      return;
    }
    for (const e of entries) await rm(e);
    for (let i = 0; ; i++) {
      try {
        rmdirSync(d);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (i >= 40) {
          failed.push(`${d}: ${code}`);
          return;
        }
        await sleep(50);
      }
    }
  };
  for (const d of dirs) await rm(d);
  return failed;
}

async function netnsPids(netns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', netns]);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((n) => n > 1 && n !== process.pid);
}

async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['-json', 'netns', 'list']);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

async function stopDocker(h: LabStateHost, child: ChildProcess | undefined, log: (l: string) => void): Promise<void> {
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
    kill(pid, 'SIGTERM');
    if (!(await waitGone([pid], 15_000))) {
      log(`dockerd ${pid} (${h.name}) ignored SIGTERM; killing`);
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

async function destroyState(state: LabState, children: Map<string, ChildProcess>, log: (l: string) => void): Promise<void> {
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  await Promise.all(state.hosts.map((h) => step(`stop dockerd ${h.name}`, () => stopDocker(h, children.get(h.name), log))));
  // processes that are still in a namespace without a dockerd (e.g. a dnsmasq a test started)
  for (const ns of state.netns) {
    await step(`kill processes in ${ns}`, async () => {
      const pids = await netnsPids(ns);
      pids.forEach((p) => kill(p, 'SIGKILL'));
      await waitGone(pids, 5_000);
    });
  }
  await step('unmount', async () => {
    for (const m of mountsUnder(state.dir)) {
      const r = await run('umount', ['-n', '-l', m]);
      if (r.code !== 0 && mountsUnder(state.dir).includes(m)) throw new Error(`umount ${m}: ${r.stderr.trim()}`);
    }
  });
  const present = new Set(await listNetns().catch(() => [] as string[]));
  for (const ns of state.netns) {
    if (!present.has(ns)) continue;
    await step(`delete netns ${ns}`, async () => {
      await runChecked('ip', ['netns', 'delete', ns]);
    });
  }
  await step('remove lab dir', async () => {
    for (let i = 0; ; i++) {
      try {
        rmSync(state.dir, { recursive: true, force: true });
        return;
      } catch (e) {
        if (i >= 20) throw e;
        await sleep(100);
      }
    }
  });
  if (errors.length) throw new Error(`lab ${state.prefix} cleanup incomplete:\n  ${errors.join('\n  ')}`);
}

/**
 * Removes what earlier runs left behind: every lab whose prefix starts with `prefix` (state dir in
 * os.tmpdir()) and whose owning process is gone, and every network namespace named `${prefix}…`
 * that no live lab claims. Labs of processes that are still running are left alone unless `force`.
 * Returns the prefixes / namespaces it removed.
 */
export async function cleanupStaleLabs(
  prefix = 'mvl',
  opts: { force?: boolean; log?: (line: string) => void } = {},
): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const removed: string[] = [];
  const claimed = new Set<string>();
  const errors: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(`${LAB_DIR_PREFIX}${prefix}`));
  } catch {
    /* no tmpdir */
  }
  for (const e of entries) {
    const dir = join(tmpdir(), e);
    const state = readState(dir) ?? {
      version: 1 as const,
      prefix: e.slice(LAB_DIR_PREFIX.length),
      ownerPid: 0,
      createdAt: '',
      dir,
      netns: [],
      hosts: [],
    };
    const ownerAlive = state.ownerPid > 0 && isAlive(state.ownerPid);
    if (ownerAlive && !opts.force) {
      state.netns.forEach((n) => claimed.add(n));
      continue;
    }
    log(`removing stale lab ${state.prefix}`);
    try {
      await destroyState(state, new Map(), log);
      removed.push(state.prefix);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  for (const ns of await listNetns()) {
    if (!ns.startsWith(prefix) || claimed.has(ns)) continue;
    const host = ns.slice(ns.lastIndexOf('-') + 1);
    log(`removing stale namespace ${ns}`);
    try {
      await destroyState(
        {
          version: 1,
          prefix: ns,
          ownerPid: 0,
          createdAt: '',
          dir: join(tmpdir(), `${LAB_DIR_PREFIX}orphan-${ns}`),
          netns: [ns],
          hosts: [{ name: host, netns: ns, docker: { cgroupParent: cgroupParentFor(ns) } }],
        },
        new Map(),
        log,
      );
      removed.push(ns);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.join('\n'));
  return removed;
}

// ---------------------------------------------------------------------------------------------------
// Fingerprint: "is this host's network exactly as before?"

const VOLATILE_KEYS = new Set([
  'stats',
  'stats64',
  'valid_life_time',
  'preferred_life_time',
  'expires',
  'hold_timer',
  'message_age_timer',
  'forward_delay_timer',
  'hello_timer',
  'tcn_timer',
  'topology_change_timer',
  'gc_timer',
  'used',
  'lastused',
]);

/** drops counters and timers from parsed `ip -json` output (pure) */
export function stripVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripVolatile);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!VOLATILE_KEYS.has(k)) out[k] = stripVolatile(v);
    }
    return out;
  }
  return value;
}

/**
 * JSON (pretty, stable) of the host namespace's links (-details), addresses, routes (v4 and v6, all
 * tables) and rules, with counters and timers removed. Equal strings mean an unchanged network.
 */
export async function hostFingerprint(host: Pick<LabHost, 'netns'>): Promise<string> {
  const ip = async (args: string[]): Promise<unknown> => {
    const r = await runChecked('ip', ['-n', host.netns, '-json', ...args]);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as unknown) : [];
  };
  const [links, addrs, routes4, routes6, rules4, rules6] = await Promise.all([
    ip(['-details', 'link', 'show']),
    ip(['-details', 'addr', 'show']),
    ip(['-4', 'route', 'show', 'table', 'all']),
    ip(['-6', 'route', 'show', 'table', 'all']),
    ip(['-4', 'rule', 'show']),
    ip(['-6', 'rule', 'show']),
  ]);
  return JSON.stringify(stripVolatile({ links, addrs, routes4, routes6, rules4, rules6 }), null, 1);
}

// ---------------------------------------------------------------------------------------------------
// Small introspection helpers for tests

/** the network-namespace inode of a pid ("net:[4026532…]"), or undefined */
export function netnsOfPid(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** true when /run/netns/NAME exists */
export function netnsExists(name: string): boolean {
  try {
    statSync(`/run/netns/${name}`);
    return true;
  } catch {
    return false;
  }
}

export { isAlive as processAlive };
