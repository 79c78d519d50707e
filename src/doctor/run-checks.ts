/** Every check, in the order they are shown, and the report they make. Pure. */
import { dockerSettingsCheck } from './checks/docker-settings.js';
import { dhcpCheck } from './checks/lan-dhcp.js';
import { macvlanFramesCheck } from './checks/lan-macvlan-frames.js';
import { squattersCheck } from './checks/lan-squatters.js';
import { parentCheck, parentWirelessCheck } from './checks/parent.js';
import { persistenceCheck } from './checks/persistence.js';
import { reachCheck } from './checks/reach.js';
import { shimCheck } from './checks/shim.js';
import { fleetChecks } from './checks/swarm-fleet.js';
import type { Check, DoctorNetworkFacts, DoctorNetworkReport, DoctorReport, Verdict } from './types.js';

export const CHECKS: readonly Check[] = [
  parentCheck,
  parentWirelessCheck,
  macvlanFramesCheck,
  dockerSettingsCheck,
  shimCheck,
  reachCheck,
  squattersCheck,
  dhcpCheck,
  persistenceCheck,
];

export function checkNetwork(f: DoctorNetworkFacts, checks: readonly Check[] = CHECKS): DoctorNetworkReport {
  // a swarm network on a manager: one check per fleet finding kind (#13)
  const results = [...checks.map((c) => c(f)), ...(f.fleet ? fleetChecks(f.fleet) : [])];
  return { name: f.name, ok: !results.some((r) => r.verdict === 'fail'), checks: results };
}

export function doctorReport(networks: DoctorNetworkReport[]): DoctorReport {
  const counts: Record<Verdict, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const n of networks) for (const c of n.checks) counts[c.verdict]++;
  return { ok: counts.fail === 0, counts, networks };
}
