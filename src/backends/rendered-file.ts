/**
 * What renderers produce and what they need beyond the plan. Renderers are
 * pure: they return files as data and never write; src/system writes them
 * (atomically, under --root) with the mode given here.
 */

/** One persistence file, as it is to be written on the target root (mode 0o600 for NetworkManager keyfiles: NM ignores group/world-readable ones). */
export type { PersistFile as RenderedFile } from '../model/plan.js';

export { RENDER_BACKENDS, type RenderBackend } from '../model/desired.js';

export interface NetworkdContext {
  /**
   * The `.network` file that networkd applies to the parent today, wherever it
   * lives: /etc/systemd/network/10-eno1.network, or netplan's
   * /run/systemd/network/10-netplan-eno1.network. networkd looks for drop-ins
   * named after that file in every network directory, and those in /etc win,
   * so the drop-in always goes to /etc/systemd/network/<basename>.d/ (which
   * also survives netplan regenerating /run).
   */
  parentNetworkFile: string;
}

export interface SystemdContext {
  /**
   * argv prefix that runs the installed macvlanctl, the first element an
   * absolute path: ['/usr/local/bin/macvlanctl'], or
   * ['/usr/bin/node', '/opt/macvlanctl/bin/macvlanctl'].
   */
  command: string[];
}

/** Everything renderers need beyond the planned network; each backend reads only its own part. ifupdown and NetworkManager need nothing. */
export interface RenderContext {
  networkd?: NetworkdContext;
  systemd?: SystemdContext;
}
