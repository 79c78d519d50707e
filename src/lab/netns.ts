// Network namespaces: create the LAN (a bridge as switch + router) and plug hosts into it with veth
// pairs, run commands inside, list and inspect. Every `ip` call names its namespace (`ip -n`, or a veth
// created inside the host namespace with its peer moved straight into the LAN namespace), so nothing
// ever appears in the root namespace.

import { randomBytes } from 'node:crypto';
import { readlinkSync, statSync } from 'node:fs';
import { type ExecOptions, type ExecResult, run, runChecked } from './process.js';

/** `ip -n NS -batch -` with the given lines (one netlink command each) */
export async function ipBatch(netns: string, lines: string[]): Promise<void> {
  await runChecked('ip', ['-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** run a command inside a named network namespace (nsenter --net; mounts and /sys stay the machine's) */
export function nsExec(netns: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult> {
  if (cmd.length === 0) throw new Error('exec: empty command');
  return run('nsenter', [`--net=/run/netns/${netns}`, '--', ...cmd], opts);
}

/** `ip netns add` for every name, with IPv6 duplicate address detection off in each */
export async function addNamespaces(names: string[]): Promise<void> {
  await runChecked('ip', ['-batch', '-'], { input: names.map((n) => `netns add ${n}`).join('\n') + '\n' });
  // No IPv6 duplicate address detection: link-local addresses would stay
  // "tentative" for a second or two after creation, and a test comparing the
  // host before and after would see them (and their local routes) change.
  await Promise.all(
    names.map((n) =>
      runChecked('ip', ['netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']),
    ),
  );
}

/** A random locally administered unicast MAC. */
function randomRouterMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** the switch + router: bridge br0 in the LAN namespace, holding the gateway address(es) */
export async function buildSwitch(lanNetns: string, gateway: string, gateway6: string | undefined): Promise<void> {
  await ipBatch(lanNetns, [
    'link set lo up',
    // A MAC of its own, as a router has: a bridge without one takes its lowest port's and changes it
    // when ports come and go (a live host plugged in later), and the gateway's MAC tells LANs apart.
    `link add br0 address ${randomRouterMac()} type bridge forward_delay 0 stp_state 0`,
    `addr add ${gateway}/24 dev br0`,
    ...(gateway6 ? [`addr add ${gateway6}/64 dev br0 nodad`] : []),
    'link set br0 up',
  ]);
}

export interface HostPort {
  netns: string;
  /** veth peer name in the LAN namespace, a port of br0 */
  peer: string;
  mac: string;
  address: string;
  address6?: string | undefined;
  gateway: string;
  gateway6?: string | undefined;
}

/** a host namespace with `eno1` (veth) plugged into br0, its address(es) and a default route */
export async function plugHost(lanNetns: string, p: HostPort): Promise<void> {
  await ipBatch(p.netns, [
    'link set lo up',
    `link add eno1 address ${p.mac} type veth peer name ${p.peer} netns ${lanNetns}`,
    `addr add ${p.address}/24 dev eno1`,
    ...(p.address6 ? [`addr add ${p.address6}/64 dev eno1 nodad`] : []),
    'link set eno1 up',
    `route add default via ${p.gateway} dev eno1`,
    ...(p.gateway6 ? [`route add default via ${p.gateway6} dev eno1`] : []),
  ]);
  await ipBatch(lanNetns, [`link set ${p.peer} master br0`, `link set ${p.peer} up`]);
}

/** pids of processes in a namespace (never 1 or this process) */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', netns]);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((n) => n > 1 && n !== process.pid);
}

export async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['-json', 'netns', 'list']);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

export async function deleteNetns(name: string): Promise<void> {
  await runChecked('ip', ['netns', 'delete', name]);
}

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
