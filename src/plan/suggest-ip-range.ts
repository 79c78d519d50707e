/**
 * The ip-range `apply --ip-range auto` would take on a scanned LAN now, for
 * `scan` to suggest: the planner itself is asked, on a trial network that is
 * never created, so the suggestion cannot drift from what apply does. Pure.
 */
import { flagsToRaw } from '../config/flags.js';
import { toDesired } from '../config/to-desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import { computePlan } from './compute-plan.js';

/** Name of the trial network whose auto range is the suggestion (never created). */
const TRIAL_NETWORK = 'macvlanctl-scan';

/** The auto ip-range the planner would carve with this scan, or why there is none. Pure. */
export function suggestIpRange(scan: LanScan, facts: HostFacts): { range?: string; note?: string } {
  try {
    const desired = toDesired(flagsToRaw(TRIAL_NETWORK, { parent: scan.parent, subnet: [scan.subnet], ipRange: ['auto'] }));
    const plan = computePlan([desired], { ...facts, lan: { scans: [scan], skipped: [] } });
    const range = plan.networks[0]?.ipRange;
    if (!range) return { note: 'the planner placed no IPv4 range' };
    const partial = scan.live === undefined ? ' (live hosts were not scanned)' : scan.dhcp === undefined ? ' (DHCP was not probed)' : '';
    return { range, note: `what apply --ip-range auto would take now: clear of the gateway, this host, live hosts, DHCP offers and pool, other Docker ranges${partial}` };
  } catch (e) {
    return { note: e instanceof MacvlanError ? e.message : String(e) };
  }
}
