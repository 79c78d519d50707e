/**
 * Which macvlan modes can carry host access through a shim. Pure.
 *
 * The shim is a macvlan interface on the same parent as the containers, so
 * the mode decides whether the two can ever exchange frames:
 * - bridge: the kernel passes frames between them directly. The only mode that works everywhere.
 * - passthru: allows one macvlan per parent and hands it the parent's MAC
 *   and all its traffic. A shim in passthru mode takes the host's LAN away
 *   from the parent (the router and every other host become unreachable once
 *   the ARP entry ages out), so it is refused.
 * - private: the kernel drops every frame between macvlans of one parent,
 *   even frames a hairpin switch reflects back, so a shim can never reach
 *   the containers. Nothing is gained by making one: refused.
 * - vepa: frames go out to the switch and come back only if the switch
 *   reflects them (hairpin / 802.1Qbg reflective relay). That can be true, so
 *   it is allowed with a warning rather than refused.
 */
import type { MacvlanMode } from '../model/desired.js';

export type HostAccessVerdict =
  | { kind: 'ok' }
  | { kind: 'refuse'; why: string }
  | { kind: 'warn'; why: string };

export function hostAccessInMode(mode: MacvlanMode, parent: string): HostAccessVerdict {
  switch (mode) {
    case 'bridge':
      return { kind: 'ok' };
    case 'passthru':
      return {
        kind: 'refuse',
        why: `a passthru shim takes over ${parent}'s MAC address and all its traffic, which cuts this host off its LAN (the router and every other host become unreachable)`,
      };
    case 'private':
      return {
        kind: 'refuse',
        why: `in private mode the kernel drops every frame between macvlan interfaces on ${parent}, even frames the switch reflects back, so the shim could never reach the containers`,
      };
    case 'vepa':
      return {
        kind: 'warn',
        why: `in vepa mode frames between the shim and the containers go out to the switch and come back only if its port reflects them (hairpin / reflective relay); most switches do not, and then the host will not reach the containers`,
      };
  }
}

/** The way out, for messages: what to declare instead. */
export const HOST_ACCESS_MODE_FIX = 'use --mode bridge (macvlan_mode: bridge) to keep host access, or --no-host-access (host_access: false) to keep this mode without a shim';
