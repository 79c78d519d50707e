/**
 * What apply last made of each network, kept under <root>/var/lib/macvlanctl/
 * so that status (and later doctor) can compare the host with it without the
 * declaration at hand. One JSON file per network; our own bookkeeping only.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PlannedNetwork } from '../model/plan.js';
import { VERSION } from '../version.js';
import { removeStaleTemps, writeFileAtomic } from './atomic-write.js';

export interface NetworkState {
  schemaVersion: 1;
  name: string;
  appliedAt: string;
  macvlanctlVersion: string;
  network: PlannedNetwork;
}

export function stateDir(root: string): string {
  return join(root, 'var', 'lib', 'macvlanctl');
}

export function statePath(root: string, name: string): string {
  return join(stateDir(root), `${name}.json`);
}

export function readState(root: string, name: string): NetworkState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(root, name), 'utf8')) as NetworkState;
  } catch {
    return undefined;
  }
}

export function readStateText(root: string, name: string): string | undefined {
  try {
    return readFileSync(statePath(root, name), 'utf8');
  } catch {
    return undefined;
  }
}

export function listStates(root: string): string[] {
  try {
    return readdirSync(stateDir(root))
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

/** Whether the record holds exactly this network (key order aside). */
export function recordMatches(state: NetworkState | undefined, network: PlannedNetwork): boolean {
  if (!state) return false;
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;
  return JSON.stringify(sorted(state.network)) === JSON.stringify(sorted(network));
}

export function stateText(network: PlannedNetwork, now = new Date()): string {
  const s: NetworkState = { schemaVersion: 1, name: network.name, appliedAt: now.toISOString(), macvlanctlVersion: VERSION, network };
  return `${JSON.stringify(s, null, 2)}\n`;
}

export function writeStateText(root: string, name: string, text: string): void {
  writeFileAtomic(statePath(root, name), text, 0o644);
}

export function removeState(root: string, name: string): void {
  rmSync(statePath(root, name), { force: true });
  removeStaleTemps(statePath(root, name));
}
