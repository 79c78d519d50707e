/**
 * What apply last made of each network, kept under <root>/var/lib/macvlanctl/
 * so that status (and later doctor) can compare the host with it without the
 * declaration at hand. One JSON file per network; our own bookkeeping only.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import type { PlannedNetwork } from '../model/plan.js';
import { VERSION } from '../version.js';
import { removeStaleTemps, writeFileAtomic } from './atomic-write.js';

export type { NetworkState } from '../model/record.js';
import type { NetworkState } from '../model/record.js';

export function stateDir(root: string): string {
  return join(root, 'var', 'lib', 'macvlanctl');
}

export function statePath(root: string, name: string): string {
  return join(stateDir(root), `${name}.json`);
}

/**
 * The record of `name`, or undefined when there is none. A record that exists
 * but cannot be read as one (cut short, edited by hand) is not "missing":
 * RECORD_CORRUPT says so, where it is, and what to do.
 */
export function readState(root: string, name: string): NetworkState | undefined {
  const path = statePath(root, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MacvlanError('RECORD_CORRUPT', `the record of ${name} at ${path} cannot be read (${(e as Error).message})`, { path });
  }
  let parsed: unknown;
  let why: string | undefined;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    why = `not JSON: ${(e as Error).message}`;
  }
  if (!why) why = recordProblem(parsed, name);
  if (why) {
    throw new MacvlanError(
      'RECORD_CORRUPT',
      `the record of ${name} at ${path} is corrupt (${why}); move it away and run macvlanctl apply for ${name} again, which writes it anew (destroy ${name} works without it)`,
      { path, network: name, why },
    );
  }
  return parsed as NetworkState;
}

/** The record lenient: a corrupt one is reported in `corrupt` instead of thrown. */
export function readStateLenient(root: string, name: string): { state?: NetworkState; corrupt?: MacvlanError } {
  try {
    const state = readState(root, name);
    return state ? { state } : {};
  } catch (e) {
    if (e instanceof MacvlanError && e.code === 'RECORD_CORRUPT') return { corrupt: e };
    throw e;
  }
}

function recordProblem(v: unknown, name: string): string | undefined {
  if (!v || typeof v !== 'object') return 'not an object';
  const r = v as Partial<NetworkState>;
  if (r.schemaVersion !== 1) return `schemaVersion ${JSON.stringify(r.schemaVersion)}, expected 1`;
  const n = r.network as Partial<PlannedNetwork> | undefined;
  if (!n || typeof n !== 'object') return 'no network in it';
  if (n.name !== name) return `it names network ${JSON.stringify(n.name)}`;
  if (typeof n.parent !== 'string') return 'the network has no parent';
  if (n.shim !== undefined && (typeof n.shim !== 'object' || typeof n.shim.interface !== 'string' || typeof n.shim.mac !== 'string' || typeof n.shim.address !== 'string')) {
    return 'its shim lacks interface, MAC or address';
  }
  return undefined;
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
