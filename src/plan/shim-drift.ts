/**
 * How an existing shim differs from what apply makes, in the settings that
 * do not show in its addresses, state and routes: its macvlan mode, its MTU
 * and arp_notify. Pure: the planner turns the drift into changes (and so
 * apply, `up` and doctor see it), status into problems.
 */
import type { InterfaceFact } from '../model/facts.js';
import { networkOfShimAlias } from '../model/labels.js';

export interface ShimDrift {
  /** Another macvlan mode than the record's (private, vepa: the host no longer reaches its containers). */
  mode?: { have: string; want: string };
  /**
   * Another MTU than the parent's. apply makes the shim with its parent's MTU;
   * the kernel keeps a macvlan at or below its parent's, but does not raise it
   * when the parent's goes up (say to 9000): a shim below is a drift from what
   * apply set, and is set back to the parent's.
   */
  mtu?: { have: number; want: number };
  /**
   * arp_notify is off on a shim macvlanctl made (it carries our alias): it is
   * not announced by gratuitous ARP when it comes up. A shim that networkd or
   * NetworkManager made at boot (no alias) has the kernel's default, which
   * neither can change: setting it would be undone at every boot, so it is
   * not counted as drift.
   */
  arpNotifyOff?: true;
}

export function shimDrift(shim: InterfaceFact, parent: InterfaceFact | undefined, mode: string): ShimDrift {
  const drift: ShimDrift = {};
  const have = shim.macvlanMode ?? 'bridge';
  if (have !== mode) drift.mode = { have, want: mode };
  if (parent && shim.mtu !== parent.mtu) drift.mtu = { have: shim.mtu, want: parent.mtu };
  if (shim.arpNotify === false && networkOfShimAlias(shim.alias) !== undefined) drift.arpNotifyOff = true;
  return drift;
}
