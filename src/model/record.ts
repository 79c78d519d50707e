/**
 * The record apply keeps of each network it made (under
 * <root>/var/lib/macvlanctl/): what status, destroy and up compare the host
 * with when the declaration is not at hand. Read and written by
 * src/system/state-store.ts.
 */
import type { PlannedNetwork } from './plan.js';

export interface NetworkState {
  schemaVersion: 1;
  name: string;
  appliedAt: string;
  macvlanctlVersion: string;
  network: PlannedNetwork;
}
