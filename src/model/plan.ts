/**
 * A plan: pure data computed from facts and desired state. `reason` and
 * `summary` are for display only; apply acts on the typed fields.
 */
import type { MacvlanMode, PersistBackend } from './desired.js';
import type { LanScanSource } from './lan.js';
import type { ErrorCode } from './errors.js';
import type { PlannedSwarm } from './swarm.js';

export type ChangeAction = 'create' | 'update' | 'replace' | 'delete' | 'noop';

/** The body of a Docker Engine `POST /networks/create`: what a network is made from (and made again from, on rollback). */
export interface DockerCreateBody {
  Name: string;
  Driver: string;
  Options: Record<string, string>;
  IPAM: { Driver: 'default'; Config: { Subnet: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }[] };
  EnableIPv6: boolean;
  Labels: Record<string, string>;
  CheckDuplicate: boolean;
  Attachable?: boolean;
  /** A swarm node's config-only network (#13): parent, slice and aux-address only, used by the swarm network. */
  ConfigOnly?: boolean;
  /** The swarm network (#13): `swarm`, made from each node's config-only network. */
  Scope?: 'swarm';
  ConfigFrom?: { Network: string };
}

/** An existing Docker network as the executor needs it: to remove it, and to make it again on rollback. */
export interface DockerNetworkState {
  id: string;
  body: DockerCreateBody;
}

/** A shim link's identity: what makes it ours and what re-creating it changes. */
export interface ShimLinkState {
  parent: string;
  mode: string;
  mac: string;
}

/**
 * Every change carries what the executor needs as structured values, like
 * Terraform's Change{Before, After}: `before` what is there now (absent on a
 * create), `after` what will be (absent on a delete). `summary` and `reason`
 * are for display only and never parsed.
 */
export type Change =
  | {
      kind: 'docker-network';
      action: ChangeAction;
      network: string;
      /** The existing network (replace, delete). */
      before?: DockerNetworkState;
      /** The network to create (create, replace). */
      after?: DockerCreateBody;
      /** On a replace: what differs, one item each (from the facts). */
      differences?: string[];
      /** On a delete with --force: the containers disconnected first. */
      disconnect?: { id: string; name: string }[];
      summary: string;
      reason: string;
    }
  | {
      kind: 'shim-link';
      action: ChangeAction;
      network: string;
      interface: string;
      /** The link as it is (replace, delete); `parent`, `mode`, `mac` as the kernel reports them. */
      before?: Partial<ShimLinkState>;
      /** The link to make (create, replace). */
      after?: ShimLinkState;
      /** On a replace: what differs ("mode vepa ≠ bridge"). */
      differences?: string[];
      summary: string;
      reason: string;
    }
  | { kind: 'shim-address'; action: ChangeAction; network: string; interface: string; address: string; summary: string; reason: string }
  | { kind: 'shim-up'; action: ChangeAction; network: string; interface: string; summary: string; reason: string }
  /** The shim's MTU set to its parent's (a macvlan starts with its parent's MTU, but does not follow it up). `before` is kept for undo. */
  | { kind: 'shim-mtu'; action: ChangeAction; network: string; interface: string; before: { mtu: number }; after: { mtu: number }; summary: string; reason: string }
  /** net.ipv4.conf.SHIM.arp_notify turned back on, so the shim is announced whenever it comes up. */
  | { kind: 'shim-arp-notify'; action: ChangeAction; network: string; interface: string; summary: string; reason: string }
  | { kind: 'shim-route'; action: ChangeAction; network: string; interface: string; destination: string; summary: string; reason: string }
  /** The shim answers neighbour solicitations for one of the host's own IPv6 addresses (src/plan/proxy-ndp.ts). */
  /**
   * `entryPresent`: on a create, the entry is there already and only proxy_ndp or forwarding is off, so
   * nothing is added, and a rollback never removes the entry it did not make.
   */
  | { kind: 'shim-proxy-ndp'; action: ChangeAction; network: string; interface: string; address: string; summary: string; reason: string; entryPresent?: true }
  /**
   * A persistence file (or the systemd unit's enable symlink), as on the target root: `after` what is
   * written (a file's content and mode, or the link's target); absent on a delete.
   */
  | {
      kind: 'persist-file';
      action: ChangeAction;
      network: string;
      path: string;
      after?: { content: string; mode: number } | { linkTarget: string };
      summary: string;
      reason: string;
    }
  /** Our record of what was applied (src/system/state-store.ts): removed by destroy. */
  /** `before.shim`: the shim the record names (the network manager is told of it when its files go). */
  | { kind: 'record'; action: ChangeAction; network: string; before?: { shim?: string }; summary: string; reason: string };

export type ChangeKind = Change['kind'];

export interface Warning {
  code: string;
  message: string;
  /** What to do about it. */
  fix?: string;
}

export interface PlannedFamily {
  subnet: string;
  gateway: string;
  ipRange: string;
  /** Where the ip-range came from: the user, or carved automatically. */
  ipRangeSource: 'explicit' | 'auto';
}

export interface PlannedShim {
  interface: string;
  /** IPv4 host address (/32 on the shim). */
  address: string;
  /** IPv6 host address (/128 on the shim), when the network is dual-stack. */
  address6?: string;
  /**
   * The host's own IPv6 addresses the shim answers neighbour solicitations
   * for (proxy NDP), so containers reach the host at them: as the parent had
   * them when planned (src/plan/proxy-ndp.ts says which). `up` and `apply`
   * follow the parent's addresses as they are then.
   */
  proxy6?: string[];
  mac: string;
  mode: MacvlanMode;
  /** Destinations routed through the shim: the ip-range(s), never the whole subnet. */
  routes: string[];
  /**
   * A network adopted without an ip-range (src/plan/adopt-network.ts): `routes` are the attached
   * containers' own addresses, one /32 each, which up and watch keep equal to the containers attached
   * then; `address` is the host's own address on the parent, shared.
   */
  containerRoutes?: true;
}

export interface PersistFile {
  /** Path as on the target root. */
  path: string;
  content: string;
  mode: number;
}

export interface PlannedPersistence {
  /** The backend that writes the files; `none` when nothing is persisted. */
  backend: 'networkd' | 'networkmanager' | 'ifupdown' | 'systemd' | 'none';
  /** Why this backend, in one sentence (the --persist auto detection's reason). */
  reason: string;
  files: PersistFile[];
  /** For the systemd unit: the enable symlink (path → target), as `systemctl enable` makes it. */
  enable?: { path: string; target: string };
  /** For networkd: the parent's `.network` file that our drop-in extends. */
  parentNetworkFile?: string;
  /**
   * What the detection warned about when it chose this backend. Kept with the
   * choice, so a later plan that keeps the applied backend without detecting
   * again (src/plan/persist-choice.ts) still says it.
   */
  warnings?: Warning[];
  /** Fingerprint of the managers' configuration the choice was made on (src/gather/persist-evidence.ts). */
  evidence?: string;
}

export interface PlannedNetwork {
  name: string;
  parent: string;
  mode: MacvlanMode;
  subnet: string;
  gateway: string;
  ipRange: string;
  ipRangeSource: 'explicit' | 'auto';
  /** Everything Docker is told to leave alone, `host` (the shim) included. */
  auxAddresses: Record<string, string>;
  ipv6?: PlannedFamily & { auxAddresses: Record<string, string> };
  shim?: PlannedShim;
  /**
   * The parent is the 802.1Q sub-interface `parent` = LINK.ID, which Docker's
   * macvlan driver creates with the network (and deletes with it): apply makes
   * the shim on it after the Docker network, and persistence brings it up at
   * boot before the shim. Destroy leaves it to Docker.
   */
  vlan?: { link: string; id: number };
  persist: PersistBackend;
  /** How the host side survives a reboot: the backend chosen for `persist` and the files it takes. */
  persistence?: PlannedPersistence;
  /** For a network declared in a Compose file: its project and key (Compose re-creates it on `up`), and whether it is external. */
  compose?: { project: string; key: string; external: boolean };
  /** A swarm network's part on this node (#13): which node, its config-only network, every node's slice. */
  swarm?: PlannedSwarm;
  /** Labels put on the Docker network to mark it as ours and record the shim. */
  labels: Record<string, string>;
  /** Docker `IPAM.Config[]` and driver options as they will be sent to the Engine API. */
  docker: {
    driver: 'macvlan';
    options: Record<string, string>;
    ipam: { Subnet: string; Gateway: string; IPRange: string; AuxiliaryAddresses: Record<string, string> }[];
    enableIPv6: boolean;
  };
}

/** Why the plan cannot be carried out as it stands (a refusal): shown by `plan`, and apply stops on it before changing anything. */
export interface PlanError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface Plan {
  networks: PlannedNetwork[];
  changes: Change[];
  /** Refusals found while planning that leave the rest of the plan worth showing (a Docker network that would need replacing). */
  errors?: PlanError[];
  warnings: Warning[];
  /** Things that could not be checked (e.g. Docker unreachable), shown so the user knows. */
  unchecked: string[];
  /** The LAN scans the plan looked at: taken now or from the cache, and how old (absent when none was looked at). */
  lan?: LanScanSource[];
}
