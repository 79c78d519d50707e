/**
 * `macvlanctl doctor`: what its checks are given and what they say. Every
 * check is a pure function from one network's gathered facts to a result;
 * the I/O (ip, Docker, the LAN probe, pings) is done before, in
 * src/doctor/gather.ts, so that each check can be tested with fixture facts.
 */
import type { NetworkStatus } from '../plan/network-status.js';
import type { DockerNetworkFact, HostFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import type { PlannedNetwork } from '../model/plan.js';
import type { NetworkState } from '../model/record.js';
import type { FleetView } from '../plan/swarm-fleet.js';

/** fail: something is broken now (doctor exits 1); warn: works, but worth fixing; skip: could not or need not be checked. */
export type Verdict = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable, for scripts: `parent`, `parent-wireless`, `lan-macvlan-frames`, … */
  id: string;
  /** What is checked, for people. */
  title: string;
  verdict: Verdict;
  /** What was found, in one sentence. */
  detail: string;
  /** What to do about it (absent when there is nothing to do). */
  fix?: string;
  /** Structured findings for --json (the squatters, the offers in the range, …). */
  data?: Record<string, unknown>;
}

/** A neighbour table entry of the host for one address on one interface (`ip -json neigh show to A dev IF`). */
export interface NeighbourFact {
  state: string[];
  mac?: string;
}

/**
 * What the LAN probe saw: the scan from a macvlan child of the parent in a
 * namespace of its own (src/probe), plus the gateway asked again on its own
 * when the sweep did not hear it, and the host's own neighbour entry for the
 * gateway on the parent (asked through the parent's own MAC).
 */
export type LanProbeFacts =
  | { done: false; reason: string; fix?: string }
  | {
      done: true;
      scan: LanScan;
      /** The gateway probed (IPv4). */
      gateway: string;
      /** The gateway's answer to the probe macvlan (from the sweep or a re-probe), if any. */
      gatewayAnswer?: { mac: string };
      /** How many times the probe macvlan asked the gateway (the sweep counts as one). */
      gatewayAsked: number;
      /** The host's own entry for the gateway on the parent, after the host asked it too; undefined when there is none. */
      parentNeighbour?: NeighbourFact;
    };

/** Host ↔ one container: pinged from the shim's address and from the host's own address on the parent. */
export interface ContainerReach {
  name: string;
  address: string;
  /** host (shim address) → container → back. */
  fromShim: boolean;
  /**
   * host (its own address on the parent) → container → back: the container's
   * answer goes to the host's main address, the way the container reaches the
   * host. Undefined when it could not be tried (no ping, no address on the parent).
   */
  fromHost?: boolean;
  /** The host address used for fromHost. */
  hostAddress?: string;
  /** The same over IPv6, for a dual-stack network's container (absent when it has no IPv6 address or no shim address6). */
  address6?: string;
  fromShim6?: boolean;
  fromHost6?: boolean;
  hostAddress6?: string;
}

/** Everything the checks of one network read. */
export interface DoctorNetworkFacts {
  name: string;
  host: HostFacts;
  /** The network as status sees it (src/plan/network-status.ts describeNetwork). */
  status: NetworkStatus;
  /** Docker's network of that name, when Docker answered and has it. */
  docker?: DockerNetworkFact;
  /** What apply last made of it (<root>/var/lib/macvlanctl/NAME.json). */
  record?: NetworkState;
  /** With -f: the network as the declaration plans it against the host now, or why it could not be planned. */
  declared?: { network: PlannedNetwork } | { error: string };
  /** The LAN probe; done: false with --no-scan, without CAP_NET_ADMIN, or when the scan failed. */
  lan: LanProbeFacts;
  /** Host ↔ container probes; undefined when they were not run (no shim up, or nothing to reach). */
  reach?: ContainerReach[];
  /** The command line that repairs things, e.g. `sudo macvlanctl up mynet` (with --root when not /). */
  commands: { up: string; apply: string };
  /** A swarm network's fleet (#13), seen from a manager: its findings become the swarm-* checks. */
  fleet?: FleetView;
}

export type Check = (f: DoctorNetworkFacts) => CheckResult;

export interface DoctorNetworkReport {
  name: string;
  ok: boolean;
  checks: CheckResult[];
}

export interface DoctorReport {
  ok: boolean;
  counts: Record<Verdict, number>;
  networks: DoctorNetworkReport[];
}
