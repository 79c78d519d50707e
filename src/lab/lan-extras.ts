// What else sits on the lab LAN besides the router and the Docker hosts: a real DHCP server (Debian's
// dnsmasq on br0, with a known pool) and "live hosts" — addresses scattered over the subnet, each on a
// macvlan child of its own with its own MAC in one namespace, so the set that answers ARP is exact.
//
// Both live in namespaces the lab records before creating them (lab.json), so Lab.destroy() and
// cleanupStaleLabs() remove them like the rest: teardown kills every process in the lab's
// namespaces (dnsmasq included) and deletes the namespaces (the live hosts with them).

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addNamespaces, ipBatch, nsExec } from './netns.js';
import { runChecked, sleep } from './process.js';

export interface LabDhcpOptions {
  /** First and last address of the pool, inside the lab subnet. */
  first: string;
  last: string;
  /** dnsmasq lease time (default 12h). */
  leaseTime?: string;
  /** dnsmasq --dhcp-sequential-ip: lowest free address first, as ISC dhcpd and Kea tend to (default: hashed). */
  sequential?: boolean;
  /** dnsmasq --no-ping: offer at once instead of ping-checking the address for 3 s first (default: ping, as shipped). */
  noPing?: boolean;
}

export interface LabDhcp {
  first: string;
  last: string;
  pid: number;
  /** dnsmasq's lease file: stays empty unless a client completes DISCOVER-OFFER-REQUEST-ACK. */
  leaseFile: string;
  logFile: string;
  /** The lease file's content now. */
  leases(): string;
}

export interface LabLiveHost {
  address: string;
  mac: string;
  /** its macvlan in the live-hosts namespace */
  ifname: string;
}

/** The MAC of a live host: 02:11 + the four address bytes (apart from the Docker hosts' 02:00 + …). */
export function liveHostMac(address: string): string {
  return ['02', '11', ...address.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** The namespace of the live hosts: `--` cannot come from a host name, so it never collides with one. */
export function liveNetnsName(prefix: string): string {
  return `${prefix}--live`;
}

/** dnsmasq in the LAN namespace, bound to br0, answering DHCP only (no DNS: --port=0). */
export async function startDnsmasq(dir: string, lanNetns: string, gateway: string, o: LabDhcpOptions, children: Map<string, ChildProcess>): Promise<LabDhcp> {
  const leaseFile = join(dir, 'dnsmasq.leases');
  const logFile = join(dir, 'dnsmasq.log');
  const args = [
    `--net=/run/netns/${lanNetns}`,
    '--',
    'dnsmasq',
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=br0',
    '--bind-interfaces',
    `--dhcp-range=${o.first},${o.last},255.255.255.0,${o.leaseTime ?? '12h'}`,
    `--dhcp-option=option:router,${gateway}`,
    `--dhcp-option=option:dns-server,${gateway}`,
    `--dhcp-leasefile=${leaseFile}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    `--log-facility=${logFile}`,
    '--log-dhcp',
    ...(o.sequential ? ['--dhcp-sequential-ip'] : []),
    ...(o.noPing ? ['--no-ping'] : []),
  ];
  // nsenter execs dnsmasq: the child's pid is dnsmasq's. Its stderr goes to a
  // file and the child is unref'd, as dockerd's: a pipe to us would keep this
  // process alive for as long as dnsmasq runs (demo --keep would never return).
  const errFile = join(dir, 'dnsmasq.stderr');
  const errFd = openSync(errFile, 'w');
  const child = spawn('nsenter', args, { stdio: ['ignore', 'ignore', errFd] });
  closeSync(errFd);
  child.unref();
  children.set('dnsmasq', child);
  const stderrText = () => {
    try {
      return readFileSync(errFile, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 5_000;
  for (;;) {
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {
      // not yet written
    }
    if (/sockets bound exclusively to interface br0/.test(log)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dnsmasq did not start in ${lanNetns}: ${stderrText().trim() || log.trim() || 'no output'} (is dnsmasq-base installed?)`);
    }
    await sleep(20);
  }
  return {
    first: o.first,
    last: o.last,
    pid: child.pid!,
    leaseFile,
    logFile,
    leases: () => {
      try {
        return readFileSync(leaseFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/**
 * The live-hosts namespace: a veth `lan0` plugged into br0, each address on a macvlan child of lan0
 * with its own MAC, as a /32. arp_ignore=1: each child answers ARP only for its own address (by
 * default every interface of a namespace answers for all of its addresses, and the scan would see
 * several MACs per address).
 *
 * IPv6 likewise: use_oif_addrs_only=1 (set as the default before any child exists) makes a child
 * answer from its own addresses only — otherwise a child with just a link-local address would
 * answer an echo from a sibling's global address, with its own MAC. lan0 itself has IPv6 off: it
 * is the wire, not a host, and would otherwise answer an all-nodes echo from its link-local address.
 */
export async function createLiveNamespace(lanNetns: string, netns: string): Promise<void> {
  await addNamespaces([netns]);
  await runChecked('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.use_oif_addrs_only=1']);
  await ipBatch(netns, ['link set lo up', `link add lan0 type veth peer name p--live netns ${lanNetns}`, 'link set lan0 up']);
  await ipBatch(lanNetns, ['link set p--live master br0', 'link set p--live up']);
  await runChecked('ip', [
    'netns',
    'exec',
    netns,
    'sysctl',
    '-q',
    '-w',
    'net.ipv4.conf.all.arp_ignore=1',
    'net.ipv4.conf.all.arp_announce=2',
    'net.ipv6.conf.lan0.disable_ipv6=1',
  ]);
}

/** Only the documentation prefix, so a lab can never claim a real network's addresses. */
function checkDocAddress6(text: string, what: string): void {
  if (!/^2001:0?db8:[0-9a-f:]*$/i.test(text)) throw new Error(`${what}: ${text} is not in 2001:db8::/32`);
}

/**
 * Gives a live host IPv6 addresses (each /64, without DAD). Every child of the live namespace has a
 * link-local address of its own already; one without a global address, and without a route (see
 * routeLiveHost6), stays silent to an echo from a global address, as an IPv4-only host on a real LAN does.
 */
export async function addLiveAddresses6(netns: string, host: LabLiveHost, addresses: readonly string[]): Promise<void> {
  for (const a of addresses) checkDocAddress6(a, `lab live host ${host.address}`);
  await ipBatch(netns, addresses.map((a) => `addr add ${a}/64 dev ${host.ifname} nodad`));
}

/**
 * A route to `cidr` through one live host's own interface: a host with IPv6 on but no address in
 * `cidr` then answers an echo from there (from its link-local address, or from an address of another
 * prefix), as a host with a default route does on a real LAN.
 */
export async function routeLiveHost6(netns: string, host: LabLiveHost, cidr: string): Promise<void> {
  checkDocAddress6(cidr.split('/')[0] ?? '', `lab live host ${host.address} route`);
  await ipBatch(netns, [`route add ${cidr} dev ${host.ifname} metric ${2048 + Number(host.ifname.slice(1))}`]);
}

export async function addLiveHosts(netns: string, addresses: readonly string[], taken: Set<string>, next: { n: number }): Promise<LabLiveHost[]> {
  const hosts: LabLiveHost[] = [];
  const lines: string[] = [];
  for (const address of addresses) {
    if (taken.has(address)) throw new Error(`lab live host ${address}: the address is already taken on the lab LAN`);
    taken.add(address);
    const ifname = `h${next.n++}`;
    const mac = liveHostMac(address);
    lines.push(`link add link lan0 name ${ifname} address ${mac} type macvlan mode bridge`, `addr add ${address}/32 dev ${ifname}`, `link set ${ifname} up`);
    hosts.push({ address, mac, ifname });
  }
  if (lines.length) await ipBatch(netns, lines);
  return hosts;
}

export async function removeLiveHost(netns: string, host: LabLiveHost): Promise<void> {
  await nsExec(netns, ['ip', 'link', 'del', host.ifname], { check: true });
}
