// A throwaway LAN built from Linux network namespaces, with an optional real dockerd per host.
//
//   ${prefix}-lan        the "switch + router": bridge br0 holding ${subnet}.1/24 (+ 2001:db8:N::1/64)
//   ${prefix}-${name}    one namespace per Docker host: veth `eno1` (peer `p-${name}` is a port of br0),
//                        ${address}/24, default route via ${subnet}.1; no route anywhere else
//
// Plain Node (node: builtins only, no vitest): used by the e2e tests, the benchmarks and
// `macvlanctl demo`. Everything the lab makes is recorded in ${os.tmpdir()}/macvlanctl-lab-${prefix}/lab.json
// before it is made, so cleanupStaleLabs() can remove what a crashed run left behind.
//
//   netns.ts          namespaces, the bridge, veth pairs          dockerd.ts   a private dockerd per host
//   busybox-image.ts  the container image (docker import)         teardown.ts  destroy + cleanupStaleLabs
//   docker-api.ts     Engine API over the unix socket             state.ts     lab.json
//   cgroups.ts        cgroups and mounts left to remove           process.ts   run, pids, signals
//   fingerprint.ts    "is the host network as before?"            types.ts     public types
//   swarm.ts          a Docker Swarm across the lab's dockerds

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_IMAGE, busyboxRootfsTar, importImage } from './busybox-image.js';
import { dockerRequest } from './docker-api.js';
import { startDockerd } from './dockerd.js';
import { type LabDhcp, type LabLiveHost, addLiveHosts, createLiveNamespace, liveNetnsName, removeLiveHost, startDnsmasq } from './lan-extras.js';
import { addNamespaces, buildSwitch, nsExec, plugHost } from './netns.js';
import { SYSTEM_PATH, kill, run, waitGone } from './process.js';
import { type LabState, type LabStateHost, labDirFor, writeState } from './state.js';
import { destroyState } from './teardown.js';
import type { Lab, LabHost, LabHostSpec, LabOptions, LabSubnet } from './types.js';

export type * from './types.js';
export type { DockerResponse } from './docker-api.js';
export { LAB_IMAGE, busyboxRootfsTar } from './busybox-image.js';
export { mountsUnder } from './cgroups.js';
export { dockerRequest } from './docker-api.js';
export { hostFingerprint, stripVolatile } from './fingerprint.js';
export { netnsExists, netnsOfPid } from './netns.js';
export { type ExecOptions, type ExecResult, LabCommandError, isAlive as processAlive, run } from './process.js';
export { cleanupStaleLabs } from './teardown.js';
export { type LabSwarm, type LabSwarmNode, type LabSwarmOptions, formSwarm } from './swarm.js';
export * from './breakage.js';
export { type LabDhcp, type LabDhcpOptions, type LabLiveHost, liveHostMac } from './lan-extras.js';

const PREFIX_RE = /^[a-z][a-z0-9]{1,11}$/;
const HOST_RE = /^[a-z][a-z0-9]{0,9}$/;

function v6PrefixFor(subnet: LabSubnet): string {
  return subnet === '198.51.100' ? '2001:db8:1::' : '2001:db8:2::';
}

/** 02:00 + the four IPv4 bytes: stable across runs, locally administered */
function macFor(address: string): string {
  return ['02', '00', ...address.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** an address of the lab subnet that hosts may take (.2–.254) */
function checkLabAddress(subnet: LabSubnet, address: string, what: string): void {
  const m = /^(\d+\.\d+\.\d+)\.(\d+)$/.exec(address);
  const last = m ? Number(m[2]) : NaN;
  if (!m || m[1] !== subnet || !(last >= 2 && last <= 254)) throw new Error(`${what}: address ${address} must be in ${subnet}.2-254`);
}

function validate(subnet: LabSubnet, specs: LabHostSpec[]): void {
  if (subnet !== '198.51.100' && subnet !== '203.0.113') throw new Error(`lab subnet must be 198.51.100 or 203.0.113`);
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
}

/** What the steps of building a lab share: its names and addresses, its record, and what it started. */
interface LabContext {
  opts: LabOptions;
  log: (line: string) => void;
  prefix: string;
  subnet: LabSubnet;
  ipv6: boolean;
  dir: string;
  lanNetns: string;
  /** the router's address on br0 */
  gateway: string;
  /** the LAN's IPv6 /64 without its length, e.g. '2001:db8:1::' */
  v6: string;
  gateway6: string | undefined;
  state: LabState;
  timings: Record<string, number>;
  children: Map<string, ChildProcess>;
}

/** Builds a lab; when a step fails, removes all it made so far (lab.json names it) and rethrows. */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const log = opts.log ?? (() => {});
  const { prefix, subnet, ipv6, specs } = checkedSettings(opts);
  const { dir, lanNetns, state } = recordLab(prefix, specs);
  const timings: Record<string, number> = {};
  const children = new Map<string, ChildProcess>();
  const destroy = destroyOnce(state, children, log, timings);
  const v6 = v6PrefixFor(subnet);
  const gateway = `${subnet}.1`;
  const ctx: LabContext = { opts, log, prefix, subnet, ipv6, dir, lanNetns, gateway, v6, gateway6: ipv6 ? `${v6}1` : undefined, state, timings, children };
  const tAll = Date.now();
  try {
    const hosts = await buildNetwork(ctx, specs);
    // Live hosts and the DHCP server (src/lab/lan-extras.ts).
    const live = new LiveHosts(ctx, new Set<string>([gateway, ...specs.map((h) => h.address)]));
    await addFirstLiveHosts(ctx, live);
    const dhcp = await startDhcp(ctx);
    if (opts.docker) await startDockerds(ctx, hosts);
    timings.total = Date.now() - tAll;
    return assembleLab(ctx, hosts, live, dhcp, destroy);
  } catch (err) {
    log(`lab ${prefix}: creation failed, cleaning up: ${(err as Error).message}`);
    await destroy().catch((e: unknown) => log(`lab ${prefix}: cleanup after failure: ${(e as Error).message}`));
    throw err;
  }
}

/** The options with their defaults, all checked (and root required) before anything is made. */
function checkedSettings(opts: LabOptions): { prefix: string; subnet: LabSubnet; ipv6: boolean; specs: LabHostSpec[] } {
  const prefix = opts.prefix ?? `mvl${randomBytes(3).toString('hex')}`;
  if (!PREFIX_RE.test(prefix)) throw new Error(`lab prefix ${JSON.stringify(prefix)} must match ${PREFIX_RE}`);
  const subnet: LabSubnet = opts.subnet ?? '198.51.100';
  const ipv6 = opts.ipv6 ?? true;
  const specs = opts.hosts ?? [{ name: 'h1', address: `${subnet}.24` }];
  validate(subnet, specs);
  for (const a of opts.liveHosts ?? []) checkLabAddress(subnet, a, 'lab live host');
  if (opts.dhcp) for (const a of [opts.dhcp.first, opts.dhcp.last]) checkLabAddress(subnet, a, 'lab DHCP pool');
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, dockerd)');
  return { prefix, subnet, ipv6, specs };
}

/** The lab's directory and lab.json, naming every namespace before it exists, so teardown finds them all. */
function recordLab(prefix: string, specs: LabHostSpec[]): { dir: string; lanNetns: string; state: LabState } {
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
  return { dir, lanNetns, state };
}

/** Lab.destroy: one teardown however often it is called (also concurrently), timed into timings.destroy. */
function destroyOnce(state: LabState, children: Map<string, ChildProcess>, log: (line: string) => void, timings: Record<string, number>): () => Promise<void> {
  let destroying: Promise<void> | undefined;
  return (): Promise<void> => {
    if (!destroying) {
      const t0 = Date.now();
      destroying = destroyState(state, children, log).finally(() => {
        timings.destroy = Date.now() - t0;
      });
    }
    return destroying;
  };
}

/** The namespaces, the switch (br0 with the router's addresses) and a veth from it into each host. */
async function buildNetwork(ctx: LabContext, specs: LabHostSpec[]): Promise<LabHost[]> {
  const { prefix, lanNetns, gateway, gateway6, v6, ipv6 } = ctx;
  const t = Date.now();
  await addNamespaces(ctx.state.netns);
  await buildSwitch(lanNetns, gateway, gateway6);
  const hosts: LabHost[] = [];
  for (const spec of specs) {
    const netns = `${prefix}-${spec.name}`;
    const address6 = ipv6 ? `${v6}${spec.address.split('.')[3] ?? ''}` : undefined;
    const mac = macFor(spec.address);
    await plugHost(lanNetns, { netns, peer: `p-${spec.name}`, mac, address: spec.address, address6, gateway, gateway6 });
    hosts.push(makeHost(ctx.dir, spec, netns, mac, address6));
  }
  ctx.timings.network = Date.now() - t;
  ctx.log(`lab ${prefix}: namespaces ready in ${ctx.timings.network} ms`);
  return hosts;
}

/**
 * The lab's live hosts (addresses that answer ARP), in a namespace of their own that is made when the
 * first one is added: at creation (LabOptions.liveHosts) or later (Lab.addLiveHost).
 */
class LiveHosts {
  /** the live hosts now on the LAN: Lab.liveHosts is this array */
  readonly list: LabLiveHost[] = [];
  readonly netns: string;
  private ready: Promise<void> | undefined;
  /** numbers their interfaces (h0, h1, …) */
  private readonly counter = { n: 0 };

  /** `taken`: the addresses in use on the LAN; a live host may take none of them. */
  constructor(
    private readonly ctx: LabContext,
    private readonly taken: Set<string>,
  ) {
    this.netns = liveNetnsName(ctx.prefix);
  }

  /** whether their namespace was made (or is being made) */
  get started(): boolean {
    return this.ready !== undefined;
  }

  async add(addresses: readonly string[]): Promise<LabLiveHost[]> {
    await this.ensureNetns();
    const added = await addLiveHosts(this.netns, addresses, this.taken, this.counter);
    this.list.push(...added);
    return added;
  }

  async remove(address: string): Promise<void> {
    const i = this.list.findIndex((h) => h.address === address);
    if (i < 0) throw new Error(`lab ${this.ctx.prefix} has no live host ${address}`);
    await removeLiveHost(this.netns, this.list[i]!);
    this.list.splice(i, 1);
    this.taken.delete(address);
  }

  private ensureNetns(): Promise<void> {
    this.ready ??= (async () => {
      this.ctx.state.netns.push(this.netns); // recorded before it exists, so teardown finds it
      writeState(this.ctx.state);
      await createLiveNamespace(this.ctx.lanNetns, this.netns);
    })();
    return this.ready;
  }
}

async function addFirstLiveHosts(ctx: LabContext, live: LiveHosts): Promise<void> {
  if (!ctx.opts.liveHosts?.length) return;
  const t = Date.now();
  await live.add(ctx.opts.liveHosts);
  ctx.timings.liveHosts = Date.now() - t;
}

async function startDhcp(ctx: LabContext): Promise<LabDhcp | undefined> {
  if (!ctx.opts.dhcp) return undefined;
  const t = Date.now();
  const dhcp = await startDnsmasq(ctx.dir, ctx.lanNetns, ctx.gateway, ctx.opts.dhcp, ctx.children);
  ctx.timings.dhcp = Date.now() - t;
  return dhcp;
}

/** A dockerd in every host, side by side, each with the busybox image imported (its tarball is made once, meanwhile). */
async function startDockerds(ctx: LabContext, hosts: LabHost[]): Promise<void> {
  const { timings } = ctx;
  const t = Date.now();
  const tarPromise = busyboxRootfsTar();
  const tTar = Date.now();
  void tarPromise.then(() => (timings.busyboxTar ??= Date.now() - tTar), () => undefined);
  // allSettled: when one dockerd fails, wait for the others to be started (and recorded) before
  // the cleanup in createLab runs, so none is left behind
  const settled = await Promise.allSettled(hosts.map((host, i) => startHostDocker(ctx, host, ctx.state.hosts[i], tarPromise)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  timings.docker = Date.now() - t;
}

async function startHostDocker(ctx: LabContext, host: LabHost, sh: LabStateHost | undefined, tarPromise: Promise<Buffer>): Promise<void> {
  const { timings } = ctx;
  if (!sh) throw new Error('internal: host state missing');
  const t0 = Date.now();
  const d = await startDockerd(ctx.dir, host, ctx.gateway, ctx.opts, ctx.state, sh, ctx.children);
  timings[`dockerd:${host.name}`] = Date.now() - t0;
  const tar = await tarPromise;
  const t1 = Date.now();
  await importImage(d.socket, tar, LAB_IMAGE);
  timings[`import:${host.name}`] = Date.now() - t1;
  host.docker = d;
  ctx.log(`lab ${ctx.prefix}: dockerd on ${host.name} up in ${timings[`dockerd:${host.name}`]} ms, image in ${timings[`import:${host.name}`]} ms`);
}

/** The Lab handed to callers, over what createLab built. */
function assembleLab(ctx: LabContext, hosts: LabHost[], live: LiveHosts, dhcp: LabDhcp | undefined, destroy: () => Promise<void>): Lab {
  const { prefix, subnet, lanNetns } = ctx;
  const lab: Lab = {
    prefix,
    dir: ctx.dir,
    subnet,
    lanNetns,
    gateway: ctx.gateway,
    cidr: `${subnet}.0/24`,
    hosts,
    timings: ctx.timings,
    host(name: string): LabHost {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`lab ${prefix} has no host ${name}`);
      return h;
    },
    lanExec: (cmd, o) => nsExec(lanNetns, cmd, o),
    liveHosts: live.list,
    async addLiveHost(address: string): Promise<LabLiveHost> {
      checkLabAddress(subnet, address, 'lab live host');
      const [h] = await live.add([address]);
      lab.liveNetns = live.netns;
      return h!;
    },
    async removeLiveHost(address: string): Promise<void> {
      await live.remove(address);
    },
    async restartDocker(name: string): Promise<void> {
      await restartDockerd(ctx, hosts, lab.host(name));
    },
    destroy,
  };
  if (live.started) lab.liveNetns = live.netns;
  if (dhcp) lab.dhcp = dhcp;
  if (ctx.ipv6) {
    lab.gateway6 = ctx.gateway6;
    lab.cidr6 = `${ctx.v6}/64`;
  }
  return lab;
}

/** Lab.restartDocker: SIGTERM as a service manager sends, then a new dockerd on the same data root. */
async function restartDockerd(ctx: LabContext, hosts: LabHost[], host: LabHost): Promise<void> {
  const i = hosts.indexOf(host);
  const sh = ctx.state.hosts[i];
  if (!host.docker || !sh) throw new Error(`lab host ${host.name} has no dockerd`);
  const pid = host.docker.pid;
  kill(pid, 'SIGTERM');
  if (!(await waitGone([pid], 20_000))) throw new Error(`dockerd ${pid} on ${host.name} did not stop within 20 s`);
  ctx.children.delete(host.name);
  host.docker = await startDockerd(ctx.dir, host, ctx.gateway, ctx.opts, ctx.state, sh, ctx.children);
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
