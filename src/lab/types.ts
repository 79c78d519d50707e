// Public types of the lab.

import type { DockerResponse } from './docker-api.js';
import type { LabDhcp, LabDhcpOptions, LabLiveHost } from './lan-extras.js';
import type { ExecOptions, ExecResult } from './process.js';

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
  /** a real DHCP server on the LAN: dnsmasq on br0 in the LAN namespace, with this pool */
  dhcp?: LabDhcpOptions;
  /** addresses that answer ARP, each on its own macvlan with its own MAC (02:11 + the address bytes) */
  liveHosts?: string[];
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
  /** the DHCP server, when LabOptions.dhcp was given */
  dhcp?: LabDhcp;
  /** the live hosts now on the LAN (LabOptions.liveHosts, then addLiveHost/removeLiveHost) */
  liveHosts: LabLiveHost[];
  /** their namespace, once there is one */
  liveNetns?: string;
  /** one more live host (a squatter), at once answering ARP */
  addLiveHost(address: string): Promise<LabLiveHost>;
  removeLiveHost(address: string): Promise<void>;
  /** milliseconds per creation step */
  timings: Record<string, number>;
  /**
   * Stop a host's dockerd as a service manager would (SIGTERM, its containers stop with it) and start it
   * again on the same data root: the events stream of a client ends, and what was made survives.
   */
  restartDocker(name: string): Promise<void>;
  /** idempotent; also safe while another destroy() is running */
  destroy(): Promise<void>;
}
