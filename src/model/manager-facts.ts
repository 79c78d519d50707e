/**
 * What `--persist auto` needs to know about the network managers under a
 * root directory, as plain data: gathered by src/gather/persist-facts.ts
 * (through a RootReader), judged by src/backends/detect.ts. Nothing here
 * reads a file.
 *
 * Paths are always as on the target root (/etc/..., never the --root
 * prefix), so messages and the renderers see the paths the host will see.
 */
import type { LinkKind } from './facts.js';
import type { Warning } from './plan.js';
import type { RenderBackend } from './desired.js';

/**
 * The parent interface as detection needs it. An InterfaceFact
 * (src/model/facts.ts) fits as it is; the optional extras make matches exact
 * where the caller knows them.
 */
export interface ParentLink {
  name: string;
  index?: number;
  /** Current MAC address, lower case with colons. */
  mac?: string;
  /** The permanent (burnt-in) MAC when it differs from `mac` (ip -json `permaddr`). */
  permanentMac?: string;
  kind?: LinkKind;
  /** linkinfo.info_kind: bridge, bond, veth, vlan, … (absent for a plain NIC). */
  infoKind?: string;
  altNames?: string[];
}

/**
 * A systemd unit as the files under the root show it:
 * - enabled: a symlink to it in some *.wants/ or *.requires/ directory;
 * - disabled: its unit file exists, nothing wants it;
 * - masked: /etc or /run has it as a symlink to /dev/null;
 * - not-installed: the root has systemd's unit directories, but not this unit;
 * - unknown: the root has no systemd unit directories at all (a tree with only
 *   configuration files, as tests and some --root uses give), so nothing can be said.
 */
export type UnitState = 'enabled' | 'disabled' | 'masked' | 'not-installed' | 'unknown';

export interface UnitFacts {
  unit: string;
  state: UnitState;
  /** The symlink or unit file that shows the state. */
  evidence?: string;
}

/** One `key=value` line of an INI-style file, where it was. */
export interface IniEntry {
  section: string;
  key: string;
  value: string;
  file: string;
  line: number;
}

/** A .network file that networkd uses (after masking), with its drop-ins. */
export interface NetworkdFile {
  /** The main file, e.g. /run/systemd/network/10-netplan-eno1.network. */
  path: string;
  /** Its drop-ins (*.conf in every NAME.network.d/), in the order networkd reads them. */
  dropIns: string[];
  /** [Match] and [Link] lines of the main file, then of the drop-ins. */
  entries: IniEntry[];
}

/** networkd's runtime state of one link: /run/systemd/netif/links/IFINDEX. */
export interface NetworkdLinkState {
  index: number;
  path: string;
  /** ADMIN_STATE: configured, configuring, unmanaged, failed, … */
  adminState?: string;
  /** NETWORK_FILE: the .network file networkd applied to the link. */
  networkFile?: string;
}

export interface NetworkdFacts {
  unit: UnitFacts;
  /** true: seen running (its process, on root /); undefined: cannot tell. */
  running?: boolean;
  /** Every .network file in networkd's order (file name, lexical). */
  files: NetworkdFile[];
  /** Files masked by an empty file or a /dev/null symlink of the same name in a directory that wins. */
  masked: string[];
  /** Which directories were looked at, as on the target root (for messages). */
  directories: string[];
  links: NetworkdLinkState[];
}

/** A NetworkManager connection profile (keyfile), reduced to what binds it to a device. */
export interface NmProfile {
  path: string;
  id?: string;
  uuid?: string;
  type?: string;
  /** connection.interface-name */
  interfaceName?: string;
  /** [match] interface-name: globs, `!` negations, `~` optional matches (nm-settings(5)). */
  matchInterfaceName?: string[];
  /** [ethernet] mac-address (lower case). */
  mac?: string;
  /** connection.autoconnect (default true). */
  autoconnect: boolean;
  /** connection.master: the profile makes the device a port of a bridge or bond. */
  master?: string;
}

/** One line of `nmcli -t -f DEVICE,STATE,CONNECTION device`. */
export interface NmDeviceState {
  device: string;
  /** connected, disconnected, unavailable, unmanaged, connecting (…), connected (externally), … */
  state: string;
  connection?: string;
}

export interface NetworkManagerFacts {
  unit: UnitFacts;
  /** The NetworkManager program under the root; undefined when the root has no /usr to tell. */
  installed?: boolean;
  running?: boolean;
  profiles: NmProfile[];
  /** From nmcli, only when the root is / and NetworkManager answered. */
  devices?: NmDeviceState[];
  /** [keyfile] unmanaged-devices as NetworkManager.conf and its conf.d files leave it, with the file that set it. */
  unmanagedDevices?: { specs: string[]; file: string };
  /** [ifupdown] managed (Debian's ifupdown plugin): false, the default, leaves interfaces in /etc/network/interfaces alone. */
  ifupdownManaged: boolean;
  /** Whether the ifupdown plugin is listed in [main] plugins. */
  ifupdownPlugin: boolean;
}

/** One stanza or directive of interfaces(5), in the order ifup reads them, sources expanded. */
export interface IfupdownEntry {
  /** auto, allow-hotplug, allow-auto, iface, mapping, source, source-directory, rename, … */
  directive: string;
  /** Interface names (auto, allow-*, iface: the first is the name), or the pattern (source). */
  args: string[];
  /** The option lines under an iface or mapping stanza. */
  options: string[];
  file: string;
  line: number;
  /** source / source-directory: the files it read, as on the target root. */
  included?: string[];
}

export interface IfupdownFacts {
  unit: UnitFacts;
  /** ifup under the root; undefined when the root has no /sbin, /usr/sbin to tell. */
  installed?: boolean;
  /** /etc/network/interfaces, when it exists. */
  interfacesFile?: string;
  entries: IfupdownEntry[];
  /** /run/network/ifstate.NAME files: the interfaces ifupdown brought up since boot. */
  upInterfaces: string[];
}

export type NetplanRenderer = 'networkd' | 'NetworkManager';

export interface NetplanDevice {
  /** The netplan ID (the key under ethernets:, bridges:, …). */
  id: string;
  /** ethernets, bridges, bonds, vlans, wifis, … */
  type: string;
  renderer?: NetplanRenderer;
  matchName?: string;
  matchMac?: string;
  setName?: string;
  file: string;
}

export interface NetplanFacts {
  /** Effective YAML files in netplan's order (/run wins over /etc over /lib for one name). */
  files: string[];
  /** network.renderer, the last file that set it. */
  renderer?: { value: NetplanRenderer; file: string };
  /** network.<type>.renderer */
  typeRenderers: Record<string, { value: NetplanRenderer; file: string }>;
  devices: NetplanDevice[];
  /** Files or parts the minimal reader could not follow. */
  problems: string[];
}

export interface ManagerFacts {
  /** The --root these were read from ('/' for the live system). */
  root: string;
  networkd: NetworkdFacts;
  networkManager: NetworkManagerFacts;
  ifupdown: IfupdownFacts;
  netplan: NetplanFacts;
  /** Whatever could not be read (permissions, malformed files): said in the plan, never fatal. */
  problems: string[];
}

/** What detection decided. Same shape as PersistChoice (src/plan/plan-persistence.ts). */
export interface PersistDecision {
  backend: RenderBackend | 'none';
  /** One sentence for the plan: why this backend. */
  reason: string;
  /** For networkd: the .network file networkd applies to the parent (the drop-in follows its name). */
  networkd?: { parentNetworkFile: string };
  warnings: Warning[];
}
