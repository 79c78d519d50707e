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
import { type LabState, labDirFor, writeState } from './state.js';
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

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const log = opts.log ?? (() => {});
  const prefix = opts.prefix ?? `mvl${randomBytes(3).toString('hex')}`;
  if (!PREFIX_RE.test(prefix)) throw new Error(`lab prefix ${JSON.stringify(prefix)} must match ${PREFIX_RE}`);
  const subnet: LabSubnet = opts.subnet ?? '198.51.100';
  const ipv6 = opts.ipv6 ?? true;
  const specs = opts.hosts ?? [{ name: 'h1', address: `${subnet}.24` }];
  validate(subnet, specs);
  for (const a of opts.liveHosts ?? []) checkLabAddress(subnet, a, 'lab live host');
  if (opts.dhcp) for (const a of [opts.dhcp.first, opts.dhcp.last]) checkLabAddress(subnet, a, 'lab DHCP pool');
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
    let t = Date.now();
    await addNamespaces(state.netns);
    await buildSwitch(lanNetns, gateway, gateway6);
    const hosts: LabHost[] = [];
    for (const spec of specs) {
      const netns = `${prefix}-${spec.name}`;
      const address6 = ipv6 ? `${v6}${spec.address.split('.')[3] ?? ''}` : undefined;
      const mac = macFor(spec.address);
      await plugHost(lanNetns, { netns, peer: `p-${spec.name}`, mac, address: spec.address, address6, gateway, gateway6 });
      hosts.push(makeHost(dir, spec, netns, mac, address6));
    }
    timings.network = Date.now() - t;
    log(`lab ${prefix}: namespaces ready in ${timings.network} ms`);

    // Live hosts and the DHCP server (src/lab/lan-extras.ts).
    const taken = new Set<string>([gateway, ...specs.map((h) => h.address)]);
    const liveHosts: LabLiveHost[] = [];
    const liveNetns = liveNetnsName(prefix);
    const counter = { n: 0 };
    let liveReady: Promise<void> | undefined;
    const ensureLiveNetns = (): Promise<void> => {
      liveReady ??= (async () => {
        state.netns.push(liveNetns); // recorded before it exists, so teardown finds it
        writeState(state);
        await createLiveNamespace(lanNetns, liveNetns);
      })();
      return liveReady;
    };
    if (opts.liveHosts?.length) {
      t = Date.now();
      await ensureLiveNetns();
      liveHosts.push(...(await addLiveHosts(liveNetns, opts.liveHosts, taken, counter)));
      timings.liveHosts = Date.now() - t;
    }
    let dhcp: LabDhcp | undefined;
    if (opts.dhcp) {
      t = Date.now();
      dhcp = await startDnsmasq(dir, lanNetns, gateway, opts.dhcp, children);
      timings.dhcp = Date.now() - t;
    }

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
      liveHosts,
      async addLiveHost(address: string): Promise<LabLiveHost> {
        checkLabAddress(subnet, address, 'lab live host');
        await ensureLiveNetns();
        const [h] = await addLiveHosts(liveNetns, [address], taken, counter);
        liveHosts.push(h!);
        lab.liveNetns = liveNetns;
        return h!;
      },
      async removeLiveHost(address: string): Promise<void> {
        const i = liveHosts.findIndex((h) => h.address === address);
        if (i < 0) throw new Error(`lab ${prefix} has no live host ${address}`);
        await removeLiveHost(liveNetns, liveHosts[i]!);
        liveHosts.splice(i, 1);
        taken.delete(address);
      },
      async restartDocker(name: string): Promise<void> {
        const host = lab.host(name);
        const i = hosts.indexOf(host);
        const sh = state.hosts[i];
        if (!host.docker || !sh) throw new Error(`lab host ${name} has no dockerd`);
        const pid = host.docker.pid;
        kill(pid, 'SIGTERM');
        if (!(await waitGone([pid], 20_000))) throw new Error(`dockerd ${pid} on ${name} did not stop within 20 s`);
        children.delete(name);
        host.docker = await startDockerd(dir, host, gateway, opts, state, sh, children);
      },
      destroy,
    };
    if (liveReady) lab.liveNetns = liveNetns;
    if (dhcp) lab.dhcp = dhcp;
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
