/**
 * Every persistence backend, in the order detection prefers them when two
 * claim the parent with evidence of the same strength (networkd, then
 * NetworkManager, then ifupdown; the systemd unit claims nothing and is the
 * fallback). Adding a backend: a folder with its index.ts implementing
 * PersistenceBackend (./backend.ts), one line here, and its name in
 * RENDER_BACKENDS (src/model/desired.ts) so that --persist accepts it.
 */
import type { ConfigurationSource, PersistenceBackend } from './backend.js';
import { ifupdown } from './ifupdown/index.js';
import { netplan } from './netplan/index.js';
import { networkd } from './networkd/index.js';
import { networkManager } from './networkmanager/index.js';
import type { RenderBackend } from './rendered-file.js';
import { systemdUnit } from './systemd-unit/index.js';

export const BACKENDS: readonly PersistenceBackend[] = [networkd, networkManager, ifupdown, systemdUnit];

/** Everything whose configuration is evidence for --persist auto: the backends, and netplan, which only generates theirs. */
export const CONFIGURATION_SOURCES: readonly ConfigurationSource[] = [...BACKENDS, netplan];

export function backendNamed(name: RenderBackend): PersistenceBackend {
  const b = BACKENDS.find((x) => x.name === name);
  if (!b) throw new Error(`no persistence backend named ${name}`);
  return b;
}

/** The backend whose running manager reads the file at this path (as on the target root), if any. */
export function backendOwning(path: string): PersistenceBackend | undefined {
  return BACKENDS.find((b) => b.owns(path));
}

/** The backend used when no manager claims the parent. */
export function fallbackBackend(): PersistenceBackend & Required<Pick<PersistenceBackend, 'fallback'>> {
  const b = BACKENDS.find((x) => x.fallback);
  if (!b?.fallback) throw new Error('no fallback persistence backend');
  return b as PersistenceBackend & Required<Pick<PersistenceBackend, 'fallback'>>;
}
