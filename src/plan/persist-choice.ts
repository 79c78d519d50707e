/**
 * The backend for one network's `persist` setting. Pure. Detection proper
 * (which manager owns the parent) is src/backends/detect.ts; without the
 * facts it needs (fixtures, callers that did not gather them) nothing about
 * persistence is planned.
 *
 * A backend apply already chose is kept, without detecting again, while its
 * files are all on the host exactly as apply wrote them and the managers'
 * configuration it was chosen on is unchanged (its fingerprint,
 * src/gather/persist-evidence.ts): the host has not moved on, and the choice
 * (reason, warnings, networkd's parent file) is the one recorded. Anything
 * else — a file of ours edited or gone, the parent's `.network` renamed, a
 * netplan renderer switch, another parent, an explicit --persist naming
 * another backend, a record written before the fingerprint existed —
 * detects afresh.
 */
import type { DesiredNetwork, PersistBackend } from '../model/desired.js';
import type { HostFacts, InterfaceFact, PersistenceFacts } from '../model/facts.js';
import { choosePersistBackend, notPersisted } from '../backends/detect.js';
import { resolveParent } from './parent.js';
import type { PersistChoice } from './plan-persistence.js';

/**
 * `detectOn`: the link whose manager is asked, when not the parent itself: a
 * VLAN parent that Docker creates is brought up at boot by whoever manages
 * its base link (the record still names the VLAN as the parent).
 */
export function persistChoiceFor(network: string, parent: InterfaceFact, requested: PersistBackend, facts: HostFacts, detectOn: InterfaceFact = parent): PersistChoice | undefined {
  const persistence = facts.persistence;
  if (!persistence) return undefined;
  if (requested === 'none') return notPersisted();
  const kept = keptChoice(network, parent.name, requested, persistence);
  if (kept) return kept;
  if (!persistence.managers) return undefined;
  return choosePersistBackend(detectOn, persistence.managers, requested, { network });
}

/** The recorded choice, when it still holds (see above); else undefined. */
export function keptChoice(network: string, parent: string, requested: PersistBackend, facts: Pick<PersistenceFacts, 'managed' | 'recorded' | 'evidence'>): PersistChoice | undefined {
  const record = facts.recorded?.[network];
  if (!record || record.parent !== parent) return undefined;
  const p = record.persistence;
  if (p.backend === 'none' || (requested !== 'auto' && requested !== p.backend)) return undefined;
  // The whole choice must be recorded (older records lack some of it), and made on the same evidence.
  if (p.warnings === undefined || p.evidence === undefined || p.evidence !== facts.evidence) return undefined;
  if (p.backend === 'networkd' && !p.parentNetworkFile) return undefined;
  const ours = facts.managed.filter((m) => m.network === network);
  const inPlace =
    p.files.every((f) => ours.some((m) => m.path === f.path && m.content === f.content && m.mode === f.mode)) &&
    (!p.enable || ours.some((m) => m.path === p.enable!.path && m.symlink === p.enable!.target));
  if (!inPlace) return undefined;
  return {
    backend: p.backend,
    reason: p.reason,
    ...(p.parentNetworkFile ? { networkd: { parentNetworkFile: p.parentNetworkFile } } : {}),
    warnings: p.warnings,
  };
}

/**
 * Whether planning `desired` needs the managers' facts, i.e. whether any
 * network would not keep its recorded backend. Gathering asks this once the
 * links are known, and skips the detection's reading when the answer is no.
 */
export function detectionNeeded(desired: readonly DesiredNetwork[], links: Pick<HostFacts, 'interfaces' | 'routes'>, persistence: Pick<PersistenceFacts, 'managed' | 'recorded' | 'evidence'>): boolean {
  return desired.some((d) => {
    if (!d.hostAccess || d.persist === 'none') return false;
    let parent: string;
    try {
      parent = resolveParent(d, links).parent.name;
    } catch {
      return true; // the plan will say what is wrong with the parent; nothing is saved by guessing here
    }
    return !keptChoice(d.name, parent, d.persist, persistence);
  });
}
