/**
 * Which files make a network's host side survive a reboot, and what must
 * change on disk to get there. Pure: the backend has already been chosen
 * (src/backends/detect.ts), our files already on the host are facts, and
 * the renderers turn the planned network into file contents.
 *
 * A file that is ours (by its header) but no longer rendered — the network
 * lost host access, or moved to another backend — is deleted, so a switch
 * from ifupdown to networkd never leaves both bringing up the shim at boot.
 */
import type { PersistenceFacts } from '../model/facts.js';
import type { Change, PlannedNetwork, PlannedPersistence, Warning } from '../model/plan.js';
import { backendNamed } from '../backends/registry.js';
import type { NetworkdContext, RenderBackend } from '../backends/rendered-file.js';

export interface PersistChoice {
  backend: RenderBackend | 'none';
  /** One sentence: why this backend. */
  reason: string;
  networkd?: NetworkdContext;
  warnings: Warning[];
}

export interface PersistencePlan {
  persistence: PlannedPersistence;
  changes: Change[];
}

export function planPersistence(n: PlannedNetwork, choice: PersistChoice, facts: Pick<PersistenceFacts, 'managed' | 'selfCommand' | 'evidence'>): PersistencePlan {
  const { managed, selfCommand } = facts;
  const backend = n.shim ? choice.backend : 'none';
  const persistence: PlannedPersistence = {
    backend,
    reason: n.shim ? choice.reason : 'no host access: there is no shim to persist',
    files: [],
  };
  // Kept with the choice so that a later plan can keep it as it was, while the evidence is the same (src/plan/persist-choice.ts).
  if (backend === 'networkd' && choice.networkd) persistence.parentNetworkFile = choice.networkd.parentNetworkFile;
  if (backend !== 'none') {
    persistence.warnings = choice.warnings;
    if (facts.evidence !== undefined) persistence.evidence = facts.evidence;
  }
  if (backend !== 'none') {
    const b = backendNamed(backend);
    persistence.files = b.render(n, {
      ...(choice.networkd ? { networkd: choice.networkd } : {}),
      systemd: { command: selfCommand },
    });
    if (b.enableLink) persistence.enable = b.enableLink(n.name);
  }

  const ours = managed.filter((m) => m.network === n.name);
  const changes: Change[] = [];
  type After = Extract<Change, { kind: 'persist-file' }>['after'];
  const change = (action: Change['action'], path: string, reason: string, after?: After): Change => ({
    kind: 'persist-file',
    action,
    network: n.name,
    path,
    ...(after && action !== 'delete' ? { after } : {}),
    summary: `file ${path}`,
    reason,
  });
  const why = backend === 'none' ? '' : backendNamed(backend).loadsAtBoot;
  for (const f of persistence.files) {
    const existing = ours.find((m) => m.path === f.path);
    const after = { content: f.content, mode: f.mode };
    if (!existing) changes.push(change('create', f.path, why, after));
    else if (existing.content !== f.content || existing.mode !== f.mode) changes.push(change('update', f.path, `its content or mode differs from the plan; ${why}`, after));
    else changes.push(change('noop', f.path, 'present as planned', after));
  }
  if (persistence.enable) {
    const e = persistence.enable;
    const existing = ours.find((m) => m.path === e.path);
    const after = { linkTarget: e.target };
    changes.push(existing?.symlink === e.target ? change('noop', e.path, 'enabled', after) : change('create', e.path, `enable the unit (a symlink to ${e.target}, as systemctl enable makes)`, after));
  }
  const wanted = new Set([...persistence.files.map((f) => f.path), ...(persistence.enable ? [persistence.enable.path] : [])]);
  for (const m of ours) {
    if (!wanted.has(m.path)) {
      changes.push(change('delete', m.path, backend === 'none' ? `nothing is to be persisted (${persistence.reason})` : `not part of the ${backend} files`));
    }
  }
  return { persistence, changes };
}
