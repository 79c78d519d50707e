/**
 * One persistence backend: everything macvlanctl knows about one network
 * manager, behind one interface, so that nothing outside src/backends names
 * a manager's paths or decides by its name. One folder per backend
 * (networkd/, networkmanager/, ifupdown/, systemd-unit/), its index.ts the
 * implementation, and src/backends/registry.ts the list of them.
 *
 * render, owns and claims are pure (they take facts, return data). load does
 * I/O (it tells the running manager), so it lives in the backend's own
 * load.ts, which index.ts imports only when load is called: the pure part
 * imports no fs or child_process, and a plan never loads that code.
 *
 * netplan is not a backend: it writes no file of ours and runs nothing at
 * boot; it only generates networkd's or NetworkManager's configuration. So it
 * is a ConfigurationSource (its files are evidence for --persist auto), and
 * the networkd and NetworkManager claims read its facts.
 */
import type { ManagerFacts, ParentLink } from '../model/manager-facts.js';
import type { PlannedNetwork, Warning } from '../model/plan.js';
import type { RenderBackend, RenderContext, RenderedFile } from './rendered-file.js';

/** How strong a claim's evidence is: what the running manager reports, what its files say, or that it takes every Ethernet device nothing else configures. */
export type ClaimStrength = 'runtime' | 'config' | 'default';

/** A manager's claim that it brings the parent up at boot. */
export interface Claim {
  backend: RenderBackend;
  strength: ClaimStrength;
  /** The evidence, for the reason sentence: "(…)". */
  because: string;
  networkd?: { parentNetworkFile: string };
  warnings: Warning[];
}

/** What one manager says about the parent: a claim, or why not. */
export interface Finding {
  claim?: Claim;
  /** Why this manager does not (or cannot) manage the parent; set when there is no claim. */
  why?: string;
  /** The manager looks as if it should, but something stops it (disabled, Unmanaged=yes): worth a warning. */
  blocked?: boolean;
}

/** What apply asks a backend to tell its running manager. Paths are as on the target root. */
export interface LoadRequest {
  root: string;
  backend: RenderBackend | 'none';
  written: string[];
  removed: string[];
  /** The network's shim, when it has one. */
  shim?: string;
}

/** The manager's own configuration, as on the target root: what --persist auto decides from (src/gather/persist-evidence.ts fingerprints it). */
export interface ConfigurationEvidence {
  files: readonly string[];
  /** Their top-level entries count. */
  dirs: readonly string[];
}

/** Anything whose configuration decides which backend persists a network. */
export interface ConfigurationSource {
  name: string;
  evidence: ConfigurationEvidence;
}

/** Where our own files of a backend may sit (as on the target root), found there by their managed header. */
export interface OwnFileDir {
  dir: string;
  /** Its `*.d` folders hold files of ours too (networkd's drop-ins in <parent's .network>.d/). */
  dropInFolders?: boolean;
}

/** A symlink that enables one of our files (systemd's WantedBy=), recognised by what it points to. */
export interface EnableLinks {
  dir: string;
  /** The network a link of this name would enable, or undefined when the name is not ours. */
  networkOf(name: string): string | undefined;
  /** Where a link of this name must point to be ours. */
  target(name: string): string;
}

export interface PersistenceBackend extends ConfigurationSource {
  name: RenderBackend;
  /** For messages: "NetworkManager". */
  label: string;
  /** How a claim reads in the plan, "<label> <claimVerb> eno1 (…)": "manages" unless set. */
  claimVerb?: string;
  /** How the shim comes back at boot, for the plan: "systemd-networkd creates the shim at boot". */
  loadsAtBoot: string;
  ownFiles: { dirs: readonly OwnFileDir[]; enableLinks?: EnableLinks };
  /** Whether the running manager reads this file (so apply tells it when the file is written or removed). */
  owns(path: string): boolean;
  /** The files that persist the network's host side; none without a shim. Pure. */
  render(n: PlannedNetwork, ctx: RenderContext): RenderedFile[];
  /** A symlink to create after the files (systemctl enable), when the backend needs one. */
  enableLink?(network: string): { path: string; target: string };
  /**
   * The files rendered again from a recorded network and its recorded files
   * alone (doctor: would this macvlanctl write them differently?), or
   * undefined when the record does not tell enough.
   */
  renderAgain(n: PlannedNetwork, recorded: readonly RenderedFile[]): RenderedFile[] | undefined;
  /** Whether this manager brings the parent up at boot, and on what evidence. Pure. Absent: the backend never claims a parent (the systemd unit, the fallback). */
  claims?(parent: ParentLink, facts: ManagerFacts): Finding;
  /** Warnings once this backend is chosen (its files would not be read at boot as they should). Pure. */
  warningsWhenChosen?(parent: ParentLink, facts: ManagerFacts, network: string): Warning[];
  /** For an explicit --persist naming this backend when it has no claim: the reason it works anyway, or why it cannot. Absent: it cannot. Pure. */
  acceptUnclaimed?(parent: ParentLink, facts: ManagerFacts): { reason: string } | { why: string };
  /** Set on the one backend used when no manager claims the parent (the systemd unit): the reason sentences. */
  fallback?: { reason(parent: string): string; explicitReason: string };
  /** Tells the running manager what was written and removed of its files; lines for the user. Best effort, never throws. */
  load(req: LoadRequest): Promise<string[]>;
}
